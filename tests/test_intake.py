"""Tests for call intake: contact validation, service area and repeat calls."""

from __future__ import annotations

import pytest

from crisishub.core.errors import InvalidInput
from crisishub.core.models import Contact, Incident, IncidentEvent
from crisishub.core.services import dispatch, intake
from crisishub.core.services.intake import LocationInput
from crisishub.datapack import load_tracts

SAN_FRANCISCO = (37.7749, -122.4194)

pytestmark = pytest.mark.django_db


def field_error(error: InvalidInput):
    """Return the single FieldError of an InvalidInput."""
    assert len(error.errors) == 1
    return error.errors[0]


@pytest.mark.parametrize(
    ("fields", "field", "fix_word"),
    [
        ({"source": "carrier_pigeon"}, "source", "988_transfer"),
        ({"channel": "fax"}, "channel", "phone"),
        ({"caller_relationship": "neighbor"}, "caller_relationship", "third_party"),
        ({"preferred_language": "klingon"}, "preferred_language", "es"),
    ],
)
def test_contact_invalid_choice_names_field(make_contact, fields, field, fix_word):
    with pytest.raises(InvalidInput) as raised:
        make_contact(**fields)

    error = field_error(raised.value)
    assert error.field == field
    assert repr(next(iter(fields.values()))) in error.message
    assert fix_word in error.fix
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    ("location", "field"),
    [
        (LocationInput(latitude=91.0, longitude=-121.4, precision="device"), "location.latitude"),
        (LocationInput(latitude=38.5, longitude=-181.0, precision="device"), "location.longitude"),
        (LocationInput(latitude=float("nan"), longitude=-121.4, precision="device"), "location.latitude"),
        (LocationInput(latitude=38.5, precision="device"), "location.longitude"),
        (LocationInput(longitude=-121.4, precision="device"), "location.latitude"),
        (LocationInput(latitude=38.5, longitude=-121.4), "location.precision"),
        (LocationInput(latitude=38.5, longitude=-121.4, precision="psychic"), "location.precision"),
    ],
)
def test_contact_invalid_location_names_field(make_contact, location, field):
    with pytest.raises(InvalidInput) as raised:
        make_contact(location=location)

    error = field_error(raised.value)
    assert error.field == field
    assert error.fix
    assert Contact.objects.count() == 0


def test_contact_answer_before_offer_rejected(make_contact, at):
    with pytest.raises(InvalidInput) as raised:
        make_contact(offered_at=at(10), answered_at=at(5))

    error = field_error(raised.value)
    assert error.field == "answered_at"
    assert "offered_at" in error.fix


def test_contact_in_county_in_service_area(make_contact):
    contact = make_contact()

    assert contact.in_service_area is True


def test_contact_outside_county_not_in_service_area(make_contact):
    contact = make_contact(*SAN_FRANCISCO)

    assert contact.in_service_area is False


def test_contact_without_location_area_unknown(make_contact):
    contact = make_contact(location=LocationInput(unknown_reason="caller would not say"))

    assert contact.in_service_area is None
    assert contact.location_unknown_reason == "caller would not say"


def test_set_location_updates_service_area(make_contact, at):
    contact = make_contact(location=LocationInput(unknown_reason="not yet asked"))

    intake.do_set_contact_location(
        contact, LocationInput(*SAN_FRANCISCO, precision="address"), at=at(3)
    )

    contact.refresh_from_db()
    assert contact.in_service_area is False
    assert contact.location_precision == "address"
    assert contact.updated_at == at(3)


def test_mobile_request_needs_location_or_reason(make_contact, at):
    contact = make_contact(location=LocationInput())

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_request_mobile_response(contact, priority=2, at=at(1))

    assert field_error(raised.value).field == "location"
    assert Incident.objects.count() == 0


def test_mobile_request_unknown_location_pending(make_contact, at):
    contact = make_contact(location=LocationInput(unknown_reason="call dropped"))

    incident = dispatch.do_request_mobile_response(contact, priority=2, at=at(1))

    assert incident.status == "pending"
    assert incident.no_team_reason == ""


def test_mobile_request_outside_area_closes_no_team(make_contact, at):
    contact = make_contact(*SAN_FRANCISCO)

    incident = dispatch.do_request_mobile_response(contact, priority=1, actor="tester", at=at(2))

    assert incident.status == "no_team"
    assert incident.no_team_reason == "outside_service_area"
    assert incident.area_class == ""
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds == [IncidentEvent.Kind.REQUESTED, IncidentEvent.Kind.NO_TEAM]


def test_mobile_request_number_and_t0(make_contact, at):
    contact = make_contact()

    incident = dispatch.do_request_mobile_response(contact, priority=3, at=at(4))

    assert incident.number == f"MR2026-{incident.pk:06d}"
    assert incident.t0 == at(4)
    assert incident.status == "pending"


def test_urban_tract_sets_urban_class(make_contact, at):
    contact = make_contact()

    incident = dispatch.do_request_mobile_response(contact, priority=2, at=at(1))

    assert incident.tract_geoid == "06067000100"
    assert incident.area_class == "urban"
    assert incident.standard_minutes == 60


def test_rural_tract_sets_rural_class(make_contact, at):
    rural = next(t for t in load_tracts() if t.rural)
    contact = make_contact(rural.lat, rural.lon)

    incident = dispatch.do_request_mobile_response(contact, priority=2, at=at(1))

    assert incident.tract_geoid == rural.geoid
    assert incident.area_class == "rural"
    assert incident.standard_minutes == 120


def test_phone_normalized_on_save(make_contact):
    contact = make_contact(caller_phone="+1 (916) 555-0142")

    assert contact.caller_phone == "9165550142"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("(916) 555-0142", "9165550142"), ("1-916-555-0142", "9165550142"), ("555 0142", "5550142")],
)
def test_normalize_phone_cases(raw, normalized):
    assert intake.normalize_phone(raw) == normalized


def test_repeat_lookup_by_phone(make_contact, at):
    first = make_contact(caller_phone="916.555.0142", offered_at=at(0))
    make_contact(caller_phone="916-555-9999", offered_at=at(5))
    current = make_contact(caller_phone="(916) 555-0142", offered_at=at(60), at=at(60))

    found = intake.find_repeat_contacts(phone="+1 916 555 0142", exclude_id=current.pk)

    assert [c.pk for c in found] == [first.pk]


def test_repeat_lookup_by_name_ignores_case(make_contact, at):
    first = make_contact(caller_name="Dana Reyes", offered_at=at(0))
    second = make_contact(caller_name="dana reyes ", offered_at=at(30))
    make_contact(caller_name="Dana Reynolds", offered_at=at(40))

    found = intake.find_repeat_contacts(name="  DANA REYES")

    assert [c.pk for c in found] == [second.pk, first.pk]


def test_repeat_lookup_phone_or_name(make_contact, at):
    by_phone = make_contact(caller_phone="9165550142", offered_at=at(0))
    by_name = make_contact(caller_name="Sam Ortiz", offered_at=at(10))

    found = intake.find_repeat_contacts(phone="916 555 0142", name="sam ortiz")

    assert {c.pk for c in found} == {by_phone.pk, by_name.pk}


def test_repeat_lookup_empty_query_finds_nothing(make_contact):
    make_contact(caller_phone="9165550142")

    assert intake.find_repeat_contacts(phone="", name="  ") == []


def test_link_person_copies_self_caller(make_contact, at):
    contact = make_contact(caller_name="Dana Reyes", caller_phone="9165550142")

    person = intake.do_link_person(contact, at=at(1))

    contact.refresh_from_db()
    assert contact.person_id == person.pk
    assert person.display_name == "Dana Reyes"
    assert person.phone_number == "9165550142"


def test_link_person_skips_third_party_details(make_contact, at):
    contact = make_contact(
        caller_name="Worried Neighbor", caller_phone="9165550100",
        caller_relationship="third_party",
    )

    person = intake.do_link_person(contact, at=at(1))

    assert person.display_name == ""
    assert person.phone_number == ""
