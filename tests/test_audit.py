"""Tests for the audit trail: every create, change, delete and view of a
person's record writes an entry that cannot be edited or deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from crisishub.api.auth import create_partner
from crisishub.audit.context import acting_as
from crisishub.audit.models import AuditEntry
from crisishub.audit.registry import registered_models
from crisishub.audit.signals import REDACTED
from crisishub.core import access
from crisishub.core.models import (
    Assignment, Contact, Facility, Incident, Partner, Person, RiskMatrix, Screening, Station, Team,
    TeamMember, TriageDecision,
)
from crisishub.core.services import dispatch, intake, triage

pytestmark = pytest.mark.django_db

MODERATE_ANSWERS = {"1": True, "2": True, "3": True, "4": False, "5": False, "6": False}

# Models whose rows hold a person's data, staff, configuration or dispatch
# decisions; each must be under the audit trail.
EXPECTED_AUDITED = {
    Person, Partner, Contact, Screening, RiskMatrix, TriageDecision, Station, Team, TeamMember,
    Incident, Assignment, Facility, get_user_model(),
}


def entries(instance, action=None):
    found = AuditEntry.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
    if action is not None:
        found = found.filter(action=action)
    return list(found.order_by("id"))


@pytest.fixture
def full_flow(fleet, make_contact, at, personas):
    """Run one contact from intake to a cleared response, as staff would."""
    with acting_as(user=personas["call_counselor"]):
        contact = make_contact(caller_name="Test Caller", caller_phone="916-555-0102")
        intake.do_link_person(contact)
        screening = triage.do_record_screening(contact, cssrs_answers=MODERATE_ANSWERS, at=at(5))
        decision = triage.do_decide_triage(contact, screening, at=at(6))
        incident = dispatch.do_request_mobile_response(contact, decision=decision, at=at(6))
    with acting_as(user=personas["dispatcher"]):
        dispatch.do_assign_team(incident.pk, fleet[0].pk, at=at(8))
    with acting_as(user=personas["team_member"]):
        dispatch.do_record_status(incident.pk, "on_scene", at=at(30))
        dispatch.do_record_status(incident.pk, "cleared", at=at(70))
    create_partner("Audit Test 988")
    return {"contact": contact, "incident": incident, "decision": decision}


def test_registry_covers_expected_models():
    assert EXPECTED_AUDITED <= set(registered_models())


def test_every_row_has_create_entry(full_flow):
    for model in EXPECTED_AUDITED:
        rows = list(model.objects.all())
        assert rows, f"the flow created no {model.__name__} rows"
        created = set(
            AuditEntry.objects.filter(object_type=model._meta.label_lower, action="create")
            .values_list("object_id", flat=True)
        )
        missing = [row.pk for row in rows if str(row.pk) not in created]
        assert missing == [], f"{model.__name__} rows without a create entry: {missing}"


def test_create_entry_who_what_when(make_contact, personas):
    before = timezone.now()

    with acting_as(user=personas["call_counselor"]):
        contact = make_contact(caller_name="Test Caller", caller_phone="916-555-0103")

    (entry,) = entries(contact, "create")
    assert entry.actor == personas["call_counselor"]
    assert entry.object_type == "core.contact"
    assert before <= entry.occurred_at <= timezone.now()
    assert entry.changes["source"] == [None, "988_transfer"]
    assert entry.changes["caller_phone"] == [None, REDACTED]
    assert entry.changes["caller_name"] == [None, REDACTED]


def test_change_entry_lists_changed_fields(make_contact, personas):
    contact = make_contact()

    with acting_as(user=personas["supervisor"]):
        contact.channel = "text"
        contact.caller_phone = "916-555-0104"
        contact.save()

    (entry,) = entries(contact, "change")
    assert set(entry.changes) == {"channel", "caller_phone"}
    assert entry.changes["channel"] == ["phone", "text"]
    assert entry.changes["caller_phone"] == [REDACTED, REDACTED]
    assert entry.actor == personas["supervisor"]


def test_unchanged_save_writes_nothing(make_contact):
    contact = make_contact()
    count = AuditEntry.objects.count()

    contact.save()

    assert AuditEntry.objects.count() == count


def test_person_view_recorded(make_contact, personas):
    contact = make_contact()
    person = intake.do_link_person(contact)
    supervisor = personas["supervisor"]

    with acting_as(user=supervisor):
        access.access_contact_by_id(supervisor, contact.pk, fields=["person"])

    assert entries(contact, "view")[0].changes == {"fields": ["person"]}
    (person_view,) = entries(person, "view")
    assert person_view.actor == supervisor
    assert person_view.message == f"via contact {contact.pk}"


def test_delete_entry(reference_data, personas):
    station = Station.objects.create(name="Audit Station", latitude=38.5, longitude=-121.4)
    station_id = station.pk

    with acting_as(user=personas["administrator"]):
        station.delete()

    (entry,) = AuditEntry.objects.filter(object_type="core.station", object_id=str(station_id), action="delete")
    assert entry.actor == personas["administrator"]
    assert entry.object_repr == "Audit Station"


def test_queryset_delete_audited(reference_data):
    Station.objects.create(name="Bulk A", latitude=38.5, longitude=-121.4)
    Station.objects.create(name="Bulk B", latitude=38.6, longitude=-121.4)

    Station.objects.filter(name__startswith="Bulk").delete()

    deleted = AuditEntry.objects.filter(object_type="core.station", action="delete")
    assert sorted(deleted.values_list("object_repr", flat=True)) == ["Bulk A", "Bulk B"]


def test_service_actor_label(make_incident):
    incident = make_incident()

    (entry,) = entries(incident, "create")
    assert entry.actor is None
    assert entry.actor_label == "system"


def test_partner_referral_label(client, reference_data):
    _, token = create_partner("Label Test 988")
    body = {"location": {"latitude": 38.5766, "longitude": -121.4321, "precision": "device"}, "priority": 2}

    client.post("/api/v1/referrals", data=body, content_type="application/json",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "audit-1"})

    contact = Contact.objects.get()
    (entry,) = entries(contact, "create")
    assert entry.actor_label == "partner:Label Test 988"


def test_assignment_changes_audited(full_flow, personas):
    assignment = Assignment.objects.get()

    created = entries(assignment, "create")[0]
    ended = entries(assignment, "change")[0]

    assert created.actor == personas["dispatcher"]
    assert set(ended.changes) == {"active", "ended_at"}
    assert ended.changes["active"] == [True, False]
    assert ended.actor == personas["team_member"]


def test_matrix_deactivation_audited(reference_data):
    old = RiskMatrix.objects.get(is_active=True)
    document = dict(old.document, version="example-copy-2")

    triage.do_install_matrix(document, activate=True)

    (entry,) = entries(old, "change")
    assert entry.changes == {"is_active": [True, False]}


def test_role_group_change_audited(db):
    from django.contrib.auth.models import Group

    from crisishub.core import roles

    roles.ensure_role_groups()
    user = get_user_model().objects.create_user("audited-user", password="x" * 16)

    user.groups.add(Group.objects.get(name=roles.DISPATCHER))
    user.groups.remove(Group.objects.get(name=roles.DISPATCHER))

    changes = [e.changes for e in entries(user, "change")]
    assert {"groups": {"added": ["dispatcher"]}} in changes
    assert {"groups": {"removed": ["dispatcher"]}} in changes


def test_password_change_redacted(db):
    user = get_user_model().objects.create_user("pw-user", password="first-password-1")

    user.set_password("second-password-2")
    user.save()

    (entry,) = entries(user, "change")
    assert entry.changes == {"password": [REDACTED, REDACTED]}
    assert "second-password-2" not in str(AuditEntry.objects.values_list("changes", flat=True))


# --- Views of a person's record ---------------------------------------------


def test_contact_view_recorded(make_contact, personas):
    contact = make_contact()
    counselor = personas["call_counselor"]

    with acting_as(user=counselor, request_path="/counselor/contacts/1/"):
        access.access_contact_by_id(counselor, contact.pk, fields=["caller_name", "caller_phone"])

    (entry,) = entries(contact, "view")
    assert entry.actor == counselor
    assert entry.changes == {"fields": ["caller_name", "caller_phone"]}
    assert entry.request_path == "/counselor/contacts/1/"


def test_incident_view_recorded(make_incident, personas):
    incident = make_incident()
    dispatcher = personas["dispatcher"]

    with acting_as(user=dispatcher):
        access.access_incident_by_id(dispatcher, incident.pk, fields=["safety_notes"])

    (entry,) = entries(incident, "view")
    assert entry.actor == dispatcher
    assert entry.changes == {"fields": ["safety_notes"]}


def test_denied_view_recorded_not_viewed(make_contact, personas):
    contact = make_contact()
    analyst = personas["analyst"]

    with acting_as(user=analyst), pytest.raises(PermissionDenied):
        access.access_contact_by_id(analyst, contact.pk)

    assert entries(contact, "view") == []
    (denied,) = entries(contact, "denied")
    assert denied.actor == analyst
    assert "contact.view" in denied.message


def test_dispatch_panel_view_over_http(client, make_incident, personas):
    incident = make_incident()
    client.force_login(personas["dispatcher"])
    url = f"/dispatch/incidents/{incident.pk}/"

    response = client.get(url)

    assert response.status_code == 200
    (entry,) = entries(incident, "view")
    assert entry.actor == personas["dispatcher"]
    assert entry.request_path == url
    assert "safety_notes" in entry.changes["fields"]


def test_denied_panel_over_http(client, make_incident, personas):
    incident = make_incident()
    client.force_login(personas["analyst"])

    response = client.get(f"/dispatch/incidents/{incident.pk}/")

    assert response.status_code == 403
    assert entries(incident, "view") == []
    denied = AuditEntry.objects.get(action="denied")
    assert denied.actor == personas["analyst"]
    assert denied.request_path == f"/dispatch/incidents/{incident.pk}/"


def test_admin_change_audited_with_request(admin_client, reference_data):
    admin_user = get_user_model().objects.get(username="admin")
    facility = Facility.objects.filter(kind="mental_health_urgent_care").first()
    url = f"/admin/core/facility/{facility.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}
    data["hours"] = "Mon-Fri 9:00-17:00"
    data["languages"] = '["en", "es"]'
    for name in ("emergency_services", "transport_consent"):
        if name in data and data[name] == "":
            data[name] = "unknown"
    data = {k: v for k, v in data.items() if v is not False}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content[:2000]
    (entry,) = entries(facility, "change")
    assert entry.actor == admin_user
    assert entry.request_path == url
    assert entry.changes["hours"][1] == "Mon-Fri 9:00-17:00"


# --- Entries are append-only --------------------------------------------------


@pytest.fixture
def one_entry(make_contact):
    make_contact()
    return AuditEntry.objects.filter(object_type="core.contact").first()


def test_entry_save_rejected(one_entry):
    one_entry.message = "edited"

    with pytest.raises(PermissionError, match="append-only"):
        one_entry.save()
    assert AuditEntry.objects.get(pk=one_entry.pk).message == ""


def test_entry_delete_rejected(one_entry):
    with pytest.raises(PermissionError, match="append-only"):
        one_entry.delete()
    assert AuditEntry.objects.filter(pk=one_entry.pk).exists()


def test_entry_bulk_update_rejected(one_entry):
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.filter(pk=one_entry.pk).update(message="edited")
    assert AuditEntry.objects.get(pk=one_entry.pk).message == ""


def test_entry_bulk_delete_rejected(one_entry):
    count = AuditEntry.objects.count()

    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.count() == count


def test_admin_cannot_edit_or_delete(admin_client, one_entry):
    base = "/admin/audit/auditentry/"
    count = AuditEntry.objects.count()
    last_pk = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()

    change = admin_client.post(f"{base}{one_entry.pk}/change/", {"message": "edited"})
    delete = admin_client.post(f"{base}{one_entry.pk}/delete/", {"post": "yes"})
    add = admin_client.post(f"{base}add/", {"message": "forged"})
    bulk = admin_client.post(base, {"action": "delete_selected", "_selected_action": [one_entry.pk], "post": "yes"})

    assert change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    assert b"delete_selected" not in admin_client.get(base).content
    # The delete action is not offered, so the bulk request deletes nothing.
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.get(pk=one_entry.pk).message == ""
    # Entries written before the requests are all still there.
    assert AuditEntry.objects.filter(pk__lte=last_pk).count() == count


def test_admin_can_read_entries(admin_client, one_entry):
    response = admin_client.get(f"/admin/audit/auditentry/{one_entry.pk}/change/")

    assert response.status_code == 200
    assert b"core.contact" in response.content


def test_entry_times_monotonic(full_flow):
    times = list(AuditEntry.objects.order_by("id").values_list("occurred_at", flat=True))

    assert times == sorted(times)
    assert times[-1] - times[0] < dt.timedelta(minutes=5)
