"""Counselor console views, through Django's test client."""

from __future__ import annotations

import re

import pytest

from crisishub.audit.models import AuditEntry
from crisishub.consoles.models import ContactDraft
from crisishub.core.models import (
    AddressEntry, Contact, Incident, IncidentStatus, Screening, TriageDecision,
)

HX = {"HTTP_HX_REQUEST": "true"}
# Population centre of an urban downtown Sacramento tract (06067000100).
DOWNTOWN_SACRAMENTO = (38.576594, -121.432144)
# Reno, Nevada: outside the county.
OUTSIDE_COUNTY = (39.5296, -119.8138)


@pytest.fixture
def counselor(client, personas, reference_data):
    client.force_login(personas["call_counselor"])
    return client


def start(client, key="start-key-0123456789abcdef", **fields):
    data = {"start_key": key, "source": "988_transfer", "channel": "phone",
            "caller_name": "", "caller_phone": "", "preferred_language": "en"}
    data.update(fields)
    return client.post("/counselor/start/", data)


def new_contact(client, **fields) -> Contact:
    response = start(client, **fields)
    assert response.status_code == 302
    return Contact.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def answer(client, contact, item, value, **extra):
    return client.post(f"/counselor/contacts/{contact.pk}/cssrs/",
                       {"item": item, "answer": value}, **extra)


def answer_all(client, contact, answers):
    for item, value in answers:
        response = answer(client, contact, item, value, **HX)
        assert response.status_code == 200, response.content


def assess(client, contact, **fields):
    data = {}
    for key, value in fields.items():
        data[f"assessment-{key}"] = value
    return client.post(f"/counselor/contacts/{contact.pk}/assessment/", data, **HX)


def set_location(client, contact, **fields):
    data = {f"location-{key}": value for key, value in fields.items()}
    return client.post(f"/counselor/contacts/{contact.pk}/location/", data, **HX)


# --- Start, referred contacts, access ----------------------------------------

def test_home_offers_start_form(counselor):
    response = counselor.get("/counselor/")
    assert response.status_code == 200
    assert b'id="start-contact-form"' in response.content
    assert b'name="start_key"' in response.content
    assert "no-store" in response["Cache-Control"]
    second = counselor.get("/counselor/")
    key = re.search(rb'name="start_key" value="([^"]+)"', response.content).group(1)
    assert key not in second.content


def test_double_submit_creates_one_contact(counselor):
    first = start(counselor, caller_name="Test Caller")
    second = start(counselor, caller_name="Test Caller")
    assert first.status_code == 302
    assert second["Location"] == first["Location"]
    assert Contact.objects.count() == 1
    assert ContactDraft.objects.count() == 1


def test_start_rejects_bad_phone_with_errors(counselor):
    response = start(counselor, caller_phone="12345")
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert b"has 5 digits" in response.content
    assert b'aria-invalid="true"' in response.content
    assert Contact.objects.count() == 0


def test_referred_contact_listed_and_opened(counselor, make_contact, personas):
    from crisishub.core.models import Partner
    from django.utils import timezone

    partner = Partner.objects.create(name="Test 988", token_sha256="0" * 64, created_at=timezone.now())
    referred = make_contact(partner=partner, external_reference="REF-1")
    page = counselor.get("/counselor/")
    assert f'id="open-referred-{referred.pk}"'.encode() in page.content
    response = counselor.post(f"/counselor/referred/{referred.pk}/open/")
    assert response.status_code == 302
    referred.refresh_from_db()
    assert referred.handled_by == personas["call_counselor"]
    assert ContactDraft.objects.filter(contact=referred).exists()
    page = counselor.get("/counselor/")
    assert f'id="open-referred-{referred.pk}"'.encode() not in page.content


def test_referred_screening_shown_on_open(counselor, make_contact):
    from crisishub.core.models import Partner
    from crisishub.core.services.triage import do_record_screening
    from django.utils import timezone

    partner = Partner.objects.create(name="Test 988", token_sha256="1" * 64, created_at=timezone.now())
    referred = make_contact(partner=partner)
    do_record_screening(referred, cssrs_answers={"1": True, "2": False, "6": False})
    counselor.post(f"/counselor/referred/{referred.pk}/open/")
    draft = ContactDraft.objects.get(contact=referred)
    assert draft.cssrs_answers == {"1": True, "2": False, "6": False}
    page = counselor.get(f"/counselor/contacts/{referred.pk}/").content.decode()
    assert 'id="cssrs-risk"' in page
    assert 'id="cssrs-form"' not in page


@pytest.mark.parametrize("role", ["dispatcher", "team_member", "analyst", "outsider"])
def test_other_roles_get_403_audited(client, personas, reference_data, role):
    client.force_login(personas[role])
    response = client.get("/counselor/")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED,
                                     actor=personas[role]).exists()


def test_anonymous_redirected_to_login(client, db):
    response = client.get("/counselor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Autosave ----------------------------------------------------------------

def test_autosave_keeps_draft_across_reload(counselor):
    contact = new_contact(counselor)
    response = counselor.post(f"/counselor/contacts/{contact.pk}/details/", {
        "caller_relationship": "self", "channel": "phone", "caller_name": "Pat Example",
        "caller_phone": "916-555-0142", "preferred_language": "es", "service_language": "es",
        "interpreter_used": "on", "notes": "Calling from home, partly typed",
    }, **HX)
    assert response.status_code == 200
    assert b"Saved at" in response.content
    contact.refresh_from_db()
    assert contact.caller_phone == "9165550142"
    assert contact.service_language == "es"
    assert contact.interpreter_used is True
    page = counselor.get(f"/counselor/contacts/{contact.pk}/")
    assert b"Calling from home, partly typed" in page.content
    assert b'value="Pat Example"' in page.content


def test_autosave_invalid_field_keeps_others(counselor):
    contact = new_contact(counselor, caller_phone="916-555-0100")
    response = counselor.post(f"/counselor/contacts/{contact.pk}/details/", {
        "caller_relationship": "self", "channel": "phone", "caller_name": "",
        "caller_phone": "916-55", "preferred_language": "en", "notes": "kept note",
    }, **HX)
    assert response.status_code == 400
    assert b"has 5 digits" in response.content
    assert b'id="id_caller_phone_error"' in response.content
    contact.refresh_from_db()
    assert contact.notes == "kept note"
    assert contact.caller_phone == "9165550100"


def test_autosave_without_htmx_shows_summary(counselor):
    contact = new_contact(counselor)
    response = counselor.post(f"/counselor/contacts/{contact.pk}/details/", {
        "caller_relationship": "nobody", "channel": "phone", "preferred_language": "en",
    })
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert b"Select a valid choice" in response.content


def test_repeat_caller_banner_before_questions(counselor, make_contact):
    make_contact(caller_phone="916-555-0177", caller_name="Repeat Caller")
    contact = new_contact(counselor, caller_phone="(916) 555-0177")
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    assert "This caller matches 1 earlier contact" in page
    assert page.index('id="repeat-callers"') < page.index('id="screening-panel"')
    response = counselor.post(f"/counselor/contacts/{contact.pk}/details/", {
        "caller_relationship": "self", "channel": "phone", "caller_name": "repeat caller",
        "caller_phone": "", "preferred_language": "en",
    }, **HX)
    assert b"This caller matches 1 earlier contact" in response.content


# --- C-SSRS and triage ------------------------------------------------------------

def test_cssrs_one_question_with_skip_logic(counselor):
    contact = new_contact(counselor)
    page = counselor.get(f"/counselor/contacts/{contact.pk}/")
    assert b"(item 1)" in page.content
    answer_all(counselor, contact, [("1", "yes"), ("2", "no")])
    response = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/")
    # Item 2 "no" skips items 3 to 5; item 6 is next.
    assert b"(item 6)" in response.content
    assert b"(item 3)" not in response.content
    assert answer(counselor, contact, "3", "yes", **HX).status_code == 409
    answer_all(counselor, contact, [("6", "no")])
    draft = ContactDraft.objects.get(contact=contact)
    assert draft.cssrs_answers == {"1": True, "2": False, "6": False}


def test_last_cssrs_answer_focuses_assessment(counselor):
    contact = new_contact(counselor)
    middle = answer(counselor, contact, "1", "yes", **HX).content.decode()
    answer_all(counselor, contact, [("2", "no")])
    last = answer(counselor, contact, "6", "no", **HX).content.decode()
    assert 'id="cssrs-yes" class="button button--large" autofocus' in middle
    assert 'id="assessment-title" tabindex="-1" autofocus' in last
    assert "autofocus" not in last.replace('id="assessment-title" tabindex="-1" autofocus', "")


def test_cssrs_change_answer_prunes_later(counselor):
    contact = new_contact(counselor)
    answer_all(counselor, contact, [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "no"),
                                    ("5", "no"), ("6", "no")])
    answer_all(counselor, contact, [("2", "no")])
    draft = ContactDraft.objects.get(contact=contact)
    assert draft.cssrs_answers == {"1": True, "2": False, "6": False}


def test_risk_and_recommendation_shown_when_known(counselor):
    contact = new_contact(counselor)
    answer_all(counselor, contact, [("1", "yes"), ("2", "yes"), ("3", "yes")])
    partial = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/")
    assert b'id="cssrs-risk"' not in partial.content
    answer_all(counselor, contact, [("4", "yes"), ("5", "no"), ("6", "no")])
    page = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/").content.decode()
    assert 'id="cssrs-risk"' in page
    assert "High" in page
    assert 'id="recommendation-preliminary"' in page
    assert 'id="recommendation-reasons"' in page


def test_assessment_records_screening_once(counselor):
    contact = new_contact(counselor)
    answer_all(counselor, contact, [("1", "yes"), ("2", "no"), ("6", "no")])
    fields = {"desire": ["hopelessness"], "buffers": ["social_supports"]}
    assert assess(counselor, contact, **fields).status_code == 200
    assert assess(counselor, contact, **fields).status_code == 200
    assert Screening.objects.filter(contact=contact).count() == 1
    screening = Screening.objects.get(contact=contact)
    assert screening.risk_level == "low"
    assert screening.lifeline_domains["desire"] == ["hopelessness"]


def test_assessment_before_cssrs_rejected(counselor):
    contact = new_contact(counselor)
    response = assess(counselor, contact, desire=["hopelessness"])
    assert response.status_code == 409
    assert b"Finish the C-SSRS" in response.content
    assert not Screening.objects.exists()


def test_assessment_danger_factor_needs_flag(counselor):
    contact = new_contact(counselor)
    answer_all(counselor, contact, [("1", "no"), ("2", "no"), ("6", "no")])
    response = assess(counselor, contact, danger_factors=["means"])
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert b"check Danger to others too" in response.content
    assert not Screening.objects.exists()


def screened_high(client) -> Contact:
    contact = new_contact(client)
    answer_all(client, contact, [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "yes"),
                                 ("5", "yes"), ("6", "no")])
    assert assess(client, contact, desire=["hopelessness"],
                  buffers=["social_supports"]).status_code == 200
    return contact


def decide(client, contact, **fields):
    data = {f"decision-{key}": value for key, value in fields.items()}
    return client.post(f"/counselor/contacts/{contact.pk}/decision/", data, **HX)


def test_accept_recommendation(counselor):
    contact = screened_high(counselor)
    response = decide(counselor, contact, choice="accept")
    assert response.status_code == 200
    decision = TriageDecision.objects.get(contact=contact)
    assert decision.final_path == decision.recommended_path
    assert decision.override_reason == ""
    assert b'id="decision-recorded"' in response.content


def test_double_decision_records_one(counselor):
    contact = screened_high(counselor)
    assert decide(counselor, contact, choice="accept").status_code == 200
    assert decide(counselor, contact, choice="accept").status_code == 200
    assert TriageDecision.objects.filter(contact=contact).count() == 1
    override = {"choice": "override", "final_path": "warm_handoff",
                "override_reason": "Sees a therapist today"}
    assert decide(counselor, contact, **override).status_code == 200
    assert decide(counselor, contact, **override).status_code == 200
    assert TriageDecision.objects.filter(contact=contact).count() == 2


def test_override_needs_reason(counselor):
    contact = screened_high(counselor)
    response = decide(counselor, contact, choice="override", final_path="resolve_by_phone")
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert not TriageDecision.objects.exists()
    response = decide(counselor, contact, choice="override", final_path="warm_handoff",
                      override_reason="Has a therapist appointment within the hour")
    assert response.status_code == 200
    decision = TriageDecision.objects.get(contact=contact)
    assert decision.final_path == "warm_handoff"
    assert decision.is_override


# --- Location and mobile response -------------------------------------------------

def mobile_decision(client) -> Contact:
    contact = screened_high(client)
    response = decide(client, contact, choice="override", final_path="mobile_response",
                      final_priority="1", override_reason="Person asks for an in-person visit")
    assert response.status_code == 200
    return contact


def test_response_needs_location_or_reason(counselor):
    contact = mobile_decision(counselor)
    page = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/")
    assert b'id="response-needs-location"' in page.content
    response = counselor.post(f"/counselor/contacts/{contact.pk}/response/",
                              {"response-priority": "1"}, **HX)
    assert response.status_code == 400
    assert b"needs a location or a recorded reason" in response.content
    assert not Incident.objects.exists()


def test_response_with_pin_opens_one_incident(counselor):
    contact = mobile_decision(counselor)
    lat, lon = DOWNTOWN_SACRAMENTO
    assert set_location(counselor, contact, method="map_pin", latitude=str(lat),
                        longitude=str(lon)).status_code == 200
    contact.refresh_from_db()
    assert contact.location_precision == "map_pin"
    assert contact.in_service_area is True
    for _ in range(2):
        response = counselor.post(f"/counselor/contacts/{contact.pk}/response/",
                                  {"response-priority": "1", "response-safety_notes": "Dog in yard"}, **HX)
        assert response.status_code == 200
    incident = Incident.objects.get(contact=contact)
    assert incident.status == IncidentStatus.PENDING
    assert incident.safety_notes == "Dog in yard"
    assert incident.priority == 1


def test_response_with_unknown_reason_reaches_dispatch(counselor, client, personas):
    contact = mobile_decision(counselor)
    assert set_location(counselor, contact, method="unknown",
                        unknown_reason="Caller would not say").status_code == 200
    before = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/").content.decode()
    response = counselor.post(f"/counselor/contacts/{contact.pk}/response/",
                              {"response-priority": "1"}, **HX)
    assert 'id="response-location-unknown"' in before
    assert response.status_code == 200
    incident = Incident.objects.get(contact=contact)
    assert incident.status == IncidentStatus.PENDING
    assert incident.no_team_reason == ""
    client.force_login(personas["dispatcher"])
    console = client.get("/dispatch/").content.decode()
    assert incident.number in console


def test_response_outside_county_warned_before_request(counselor):
    contact = mobile_decision(counselor)
    lat, lon = OUTSIDE_COUNTY
    set_location(counselor, contact, method="coordinates", latitude=str(lat), longitude=str(lon))
    page = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/").content.decode()
    assert 'id="response-outside"' in page
    assert "No county team will be sent." in page
    counselor.post(f"/counselor/contacts/{contact.pk}/response/", {"response-priority": "1"}, **HX)
    incident = Incident.objects.get(contact=contact)
    assert incident.status == IncidentStatus.NO_TEAM
    assert incident.no_team_reason == "outside_service_area"


def test_recommendation_warns_outside_county(counselor):
    contact = new_contact(counselor)
    lat, lon = OUTSIDE_COUNTY
    set_location(counselor, contact, method="coordinates", latitude=str(lat), longitude=str(lon))
    answer_all(counselor, contact, [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "yes"),
                                    ("5", "no"), ("6", "no")])
    page = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/").content.decode()
    assert "Mobile response" in page
    assert 'id="recommendation-outside"' in page


def test_response_panel_shows_assignment(counselor, fleet):
    from crisishub.core.models import Team
    from crisishub.core.services import dispatch as dispatch_service

    contact = mobile_decision(counselor)
    lat, lon = DOWNTOWN_SACRAMENTO
    set_location(counselor, contact, method="map_pin", latitude=str(lat), longitude=str(lon))
    counselor.post(f"/counselor/contacts/{contact.pk}/response/", {"response-priority": "1"}, **HX)
    incident = Incident.objects.get(contact=contact)
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    dispatch_service.do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    panel = counselor.get(f"/counselor/contacts/{contact.pk}/response-panel/")
    text = panel.content.decode()
    assert "live.js" in page
    assert f'data-incident-ids="{incident.pk} "' in page
    assert panel.status_code == 200
    assert text.startswith('<section class="panel" id="response-panel"')
    assert "Assigned" in text


def test_response_panel_other_roles_403(client, personas, reference_data):
    client.force_login(personas["team_member"])
    assert client.get("/counselor/contacts/1/response-panel/").status_code == 403


def test_location_typed_coordinates_validated(counselor):
    contact = new_contact(counselor)
    response = set_location(counselor, contact, method="coordinates", latitude="95", longitude="abc")
    assert response.status_code == 400
    assert b"out of range" in response.content
    assert b"is not a number" in response.content
    contact.refresh_from_db()
    assert contact.latitude is None


def test_location_outside_county_reason(counselor):
    contact = new_contact(counselor)
    lat, lon = OUTSIDE_COUNTY
    response = set_location(counselor, contact, method="coordinates", latitude=str(lat),
                            longitude=str(lon))
    assert response.status_code == 200
    assert b'id="location-outside"' in response.content
    contact.refresh_from_db()
    assert contact.in_service_area is False
    assert contact.location_precision == "coordinates"


def test_location_zip_centroid_is_coarse(counselor):
    contact = new_contact(counselor)
    response = set_location(counselor, contact, method="zip", zip_code="95814")
    assert response.status_code == 200
    assert b'id="location-coarse"' in response.content
    contact.refresh_from_db()
    assert contact.location_precision == "zip_centroid"
    assert contact.latitude is not None


def test_location_unknown_zip_rejected(counselor):
    contact = new_contact(counselor)
    response = set_location(counselor, contact, method="zip", zip_code="10001")
    assert response.status_code == 400
    assert b"10001 is not one of the county" in response.content


def test_location_from_address_index(counselor):
    entry = AddressEntry.objects.create(
        normalized="1400 BLOCK I ST", display="1400 block I St", latitude=38.579,
        longitude=-121.486, precision="block", source="test",
    )
    contact = new_contact(counselor)
    results = counselor.get(f"/counselor/contacts/{contact.pk}/addresses/",
                            {"address_query": "1400 block i st."})
    assert f'value="{entry.pk}"'.encode() in results.content
    response = set_location(counselor, contact, method="address", address_id=str(entry.pk))
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.location_precision == "block"
    assert contact.location_text == "1400 block I St"


def test_address_index_loaded_from_datapack(counselor):
    from crisishub.core.setup import load_address_index

    blocks = AddressEntry.objects.filter(source="datapack:events_2006_01")
    facilities = AddressEntry.objects.filter(source="datapack:facilities")
    count = AddressEntry.objects.count()
    assert blocks.count() > 90
    assert facilities.count() > 5
    assert load_address_index() == 0
    assert AddressEntry.objects.count() == count
    # Event entries are hundred blocks or intersections, never a house number.
    for entry in blocks:
        assert " BLOCK " in entry.normalized or "/" in entry.display, entry.display
        assert entry.precision == "block"
    entry = blocks.get(normalized="400 BLOCK 28TH ST")
    assert entry.display == "400 Block 28th St"
    assert entry.latitude == pytest.approx(38.580)


def test_address_search_finds_datapack_entries(counselor):
    contact = new_contact(counselor)
    blocks = counselor.get(f"/counselor/contacts/{contact.pk}/addresses/",
                           {"address_query": "auburn blvd"}).content.decode()
    hospital = counselor.get(f"/counselor/contacts/{contact.pk}/addresses/",
                             {"address_query": "hospital way"}).content.decode()
    assert "3500 Block Auburn Blvd" in blocks
    assert "10535 Hospital Way" in hospital
    entry = AddressEntry.objects.get(normalized="3500 BLOCK AUBURN BLVD")
    response = set_location(counselor, contact, method="address", address_id=str(entry.pk))
    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.location_precision == "block"


# --- Imminent risk and closing --------------------------------------------------

def imminent_contact(client) -> Contact:
    contact = new_contact(client)
    answer_all(client, contact, [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "yes"),
                                 ("5", "yes"), ("6", "yes"), ("6a", "yes")])
    response = assess(client, contact, desire=["hopelessness"], capability=["available_means"],
                      intent=["stated_intent"])
    assert response.status_code == 200
    assert b'id="imminent-panel"' in response.content
    contact.refresh_from_db()
    assert contact.imminent_risk
    return contact


def close(client, contact):
    return client.post(f"/counselor/contacts/{contact.pk}/close/",
                       {"close-service_language": "en"}, **HX)


def step(client, contact, name, **fields):
    data = {"imminent-step": name}
    data.update({f"imminent-{key}": value for key, value in fields.items()})
    return client.post(f"/counselor/contacts/{contact.pk}/imminent/", data, **HX)


def test_imminent_blocks_close_until_confirmed(counselor):
    contact = imminent_contact(counselor)
    response = close(counselor, contact)
    assert response.status_code == 409
    assert b"imminent risk" in response.content
    contact.refresh_from_db()
    assert contact.status == Contact.Status.OPEN
    assert step(counselor, contact, "supervisor").status_code == 200
    assert step(counselor, contact, "active_rescue").status_code == 200
    assert step(counselor, contact, "emergency_confirmed").status_code == 200
    assert close(counselor, contact).status_code == 200
    contact.refresh_from_db()
    assert contact.status == Contact.Status.CLOSED
    assert contact.supervisor_notified_at is not None
    assert ContactDraft.objects.get(contact=contact).active_rescue_at is not None


def test_imminent_reason_not_confirmed_allows_close(counselor):
    contact = imminent_contact(counselor)
    response = step(counselor, contact, "emergency_not_confirmed")
    assert response.status_code == 400
    assert b"Record why contact by emergency services" in response.content
    assert step(counselor, contact, "least_invasive", note="Safety plan with partner").status_code == 200
    assert step(counselor, contact, "emergency_not_confirmed",
                reason="Line dropped before EMS arrived").status_code == 200
    assert close(counselor, contact).status_code == 200
    contact.refresh_from_db()
    assert contact.emergency_contact_not_confirmed_reason == "Line dropped before EMS arrived"
    assert ContactDraft.objects.get(contact=contact).least_invasive_note == "Safety plan with partner"


def test_close_records_service_language(counselor):
    contact = new_contact(counselor, preferred_language="es")
    response = counselor.post(f"/counselor/contacts/{contact.pk}/close/",
                              {"close-service_language": "es", "close-interpreter_used": "on"}, **HX)
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.status == Contact.Status.CLOSED
    assert contact.service_language == "es"
    assert contact.interpreter_used is True
    assert contact.ended_at is not None
    again = answer(counselor, contact, "1", "yes", **HX)
    assert again.status_code == 409
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    assert '<fieldset class="fieldset" disabled>' in page
    details = counselor.post(f"/counselor/contacts/{contact.pk}/details/", {
        "caller_relationship": "self", "channel": "phone", "preferred_language": "en",
        "notes": "late edit",
    }, **HX)
    assert details.status_code == 409
    contact.refresh_from_db()
    assert contact.notes == ""


def test_page_without_htmx_redirects_after_step(counselor):
    contact = new_contact(counselor)
    response = answer(counselor, contact, "1", "yes")
    assert response.status_code == 302
    assert response["Location"].endswith("#call-workflow")


# --- Unsubmitted step forms -----------------------------------------------------

def test_step_form_draft_survives_reload(counselor):
    contact = new_contact(counselor)
    answer_all(counselor, contact, [("1", "yes"), ("2", "no"), ("6", "no")])
    response = counselor.post(f"/counselor/contacts/{contact.pk}/form-drafts/assessment/", {
        "assessment-desire": ["hopelessness", "feeling_trapped"],
        "assessment-weapon_present": "on",
        "assessment-caller_safe_at_phone": "no",
        "location-latitude": "not this form",
    })
    assert response.status_code == 204
    stored = ContactDraft.objects.get(contact=contact).form_drafts
    assert stored == {"assessment": {"desire": ["hopelessness", "feeling_trapped"],
                                     "weapon_present": ["on"], "caller_safe_at_phone": ["no"]}}
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    assert re.search(r'value="hopelessness"[^>]*checked', page)
    assert re.search(r'name="assessment-weapon_present"[^>]*checked', page)
    assert re.search(r'value="no" selected', page)


def test_step_form_draft_cleared_on_submit(counselor):
    contact = new_contact(counselor)
    counselor.post(f"/counselor/contacts/{contact.pk}/form-drafts/location/", {
        "location-method": "unknown", "location-unknown_reason": "Caller is unsure",
    })
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    assert 'value="Caller is unsure"' in page
    assert set_location(counselor, contact, method="unknown",
                        unknown_reason="Caller is unsure").status_code == 200
    assert ContactDraft.objects.get(contact=contact).form_drafts == {}


def test_imminent_step_drafts_merge(counselor):
    contact = new_contact(counselor)
    url = f"/counselor/contacts/{contact.pk}/form-drafts/imminent/"
    counselor.post(url, {"imminent-step": "least_invasive", "imminent-note": "Talked with partner"})
    counselor.post(url, {"imminent-step": "emergency_not_confirmed", "imminent-reason": "No answer"})
    stored = ContactDraft.objects.get(contact=contact).form_drafts["imminent"]
    assert stored["note"] == ["Talked with partner"]
    assert stored["reason"] == ["No answer"]


def test_unknown_step_form_draft_rejected(counselor):
    contact = new_contact(counselor)
    response = counselor.post(f"/counselor/contacts/{contact.pk}/form-drafts/start/", {})
    assert response.status_code == 404
    assert b"Unknown form start" in response.content
