"""Follow-up tasks and referrals, through the services on a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from crisishub.audit.models import AuditEntry
from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import Contact, Facility
from crisishub.core.services import dispatch, triage
from crisishub.followup import services
from crisishub.followup.models import (
    FollowUpAttempt, FollowUpTask, Referral, TaskReason, TaskStatus,
)

pytestmark = pytest.mark.django_db

NONE = {"1": False, "2": False, "6": False}
LOW = {"1": True, "2": False, "6": False}
MODERATE = {"1": True, "2": True, "3": True, "4": False, "5": False, "6": False}
HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
HOURS_72 = dt.timedelta(hours=72)


def close(contact: Contact, ended_at: dt.datetime) -> Contact:
    """Close the contact the way the counselor console does."""
    contact.status = Contact.Status.CLOSED
    contact.ended_at = ended_at
    contact.updated_at = ended_at
    contact.save(update_fields=["status", "ended_at", "updated_at"])
    return contact


def screened(make_contact, answers, at) -> Contact:
    contact = make_contact()
    triage.do_record_screening(contact, cssrs_answers=answers, at=at(1))
    return contact


@pytest.fixture
def high_risk_task(make_contact, at):
    contact = close(screened(make_contact, HIGH, at), at(30))
    return FollowUpTask.objects.get(contact=contact)


# --- Creation on close ------------------------------------------------------

@pytest.mark.parametrize(("answers", "expected_high"), [(MODERATE, False), (HIGH, True)])
def test_close_creates_task_due_72_hours(make_contact, at, answers, expected_high):
    contact = close(screened(make_contact, answers, at), at(30))
    task = FollowUpTask.objects.get(contact=contact)
    assert task.reason == TaskReason.RISK_LEVEL
    assert task.ended_at == at(30)
    assert task.due_at == at(30) + HOURS_72
    assert task.high_risk is expected_high
    assert task.max_attempts == 3
    assert task.status == TaskStatus.OPEN
    assert AuditEntry.objects.filter(object_type="followup.followuptask", action="create",
                                     object_id=str(task.pk)).count() == 1


@pytest.mark.parametrize("answers", [NONE, LOW])
def test_close_low_risk_makes_no_task(make_contact, at, answers):
    contact = close(screened(make_contact, answers, at), at(30))
    assert not FollowUpTask.objects.filter(contact=contact).exists()


def test_open_contact_has_no_task(make_contact, at):
    contact = screened(make_contact, HIGH, at)
    contact.notes = "still talking"
    contact.save(update_fields=["notes"])
    assert not FollowUpTask.objects.exists()


def test_second_save_keeps_one_task(make_contact, at):
    contact = close(screened(make_contact, MODERATE, at), at(30))
    contact.notes = "added after close"
    contact.save(update_fields=["notes"])
    assert FollowUpTask.objects.filter(contact=contact).count() == 1


def test_mobile_response_task_due_after_encounter(make_incident, fleet, at):
    incident = make_incident()
    contact = close(incident.contact, at(10))
    task = FollowUpTask.objects.get(contact=contact)
    assert task.reason == TaskReason.MOBILE_RESPONSE
    assert task.due_at == at(10) + HOURS_72

    dispatch.do_assign_team(incident.pk, fleet[0].pk, actor="test", at=at(12))
    dispatch.do_record_status(incident.pk, "on_scene", actor="test", at=at(40))
    dispatch.do_record_status(incident.pk, "cleared", actor="test", at=at(95))

    task.refresh_from_db()
    assert task.ended_at == at(95)
    assert task.due_at == at(95) + HOURS_72


def test_encounter_cleared_before_close(make_incident, fleet, at):
    incident = make_incident()
    dispatch.do_assign_team(incident.pk, fleet[0].pk, actor="test", at=at(2))
    dispatch.do_record_status(incident.pk, "cleared", actor="test", at=at(50))
    task = FollowUpTask.objects.get(contact=close(incident.contact, at(20)))
    assert task.due_at == at(50) + HOURS_72


def test_max_attempts_setting(settings, make_contact, at):
    settings.FOLLOWUP_MAX_ATTEMPTS = 5
    task = FollowUpTask.objects.get(contact=close(screened(make_contact, MODERATE, at), at(30)))
    assert task.max_attempts == 5


def test_invalid_max_attempts_setting(settings, make_contact, at):
    settings.FOLLOWUP_MAX_ATTEMPTS = 0
    with pytest.raises(ImproperlyConfigured, match="FOLLOWUP_MAX_ATTEMPTS is 0"):
        close(screened(make_contact, MODERATE, at), at(30))


@pytest.mark.parametrize(("name", "value"), [
    ("FOLLOWUP_MAX_ATTEMPTS", 0), ("FOLLOWUP_MAX_ATTEMPTS", "3"), ("FOLLOWUP_DUE_HOURS", -72),
])
def test_system_check_reports_bad_setting(settings, name, value):
    settings.FOLLOWUP_MAX_ATTEMPTS = 3
    setattr(settings, name, value)
    errors = services.check_protocol_settings()
    assert len(errors) == 1
    assert errors[0].msg.startswith(f"{name} is {value!r}")


def test_system_check_passes_defaults():
    assert services.check_protocol_settings() == []


# --- Attempts, outcomes, escalation ----------------------------------------

@pytest.mark.parametrize("outcome", ["reached", "reached_support_person", "declined"])
def test_final_outcome_completes_task(high_risk_task, at, outcome):
    services.record_attempt(high_risk_task.pk, outcome, note="spoke briefly", at=at(100))
    high_risk_task.refresh_from_db()
    assert high_risk_task.status == TaskStatus.COMPLETED
    assert high_risk_task.closed_at == at(100)


def test_high_risk_escalates_after_max_attempts(high_risk_task, at):
    outcomes = ["no_answer", "message_left", "wrong_contact_info"]
    for minute, outcome in enumerate(outcomes[:2]):
        services.record_attempt(high_risk_task.pk, outcome, at=at(100 + minute))
        high_risk_task.refresh_from_db()
        assert high_risk_task.status == TaskStatus.OPEN
    services.record_attempt(high_risk_task.pk, outcomes[2], at=at(110))
    high_risk_task.refresh_from_db()
    assert high_risk_task.status == TaskStatus.ESCALATED
    assert high_risk_task.escalated_at == at(110)
    assert "3 attempts" in high_risk_task.escalation_reason
    change = AuditEntry.objects.filter(object_type="followup.followuptask", action="change",
                                       object_id=str(high_risk_task.pk)).last()
    assert change.changes["status"] == ["open", "escalated"]


def test_escalated_task_can_still_be_reached(high_risk_task, at):
    for minute in range(3):
        services.record_attempt(high_risk_task.pk, "no_answer", at=at(100 + minute))
    services.record_attempt(high_risk_task.pk, "unable_to_reach", at=at(120))
    high_risk_task.refresh_from_db()
    assert high_risk_task.status == TaskStatus.ESCALATED
    services.record_attempt(high_risk_task.pk, "reached", at=at(130))
    high_risk_task.refresh_from_db()
    assert high_risk_task.status == TaskStatus.COMPLETED


def test_moderate_closes_unreached_after_max(make_contact, at):
    task = FollowUpTask.objects.get(contact=close(screened(make_contact, MODERATE, at), at(30)))
    for minute in range(3):
        services.record_attempt(task.pk, "no_answer", at=at(100 + minute))
    task.refresh_from_db()
    assert task.status == TaskStatus.UNREACHED
    assert task.escalated_at is None


def test_overdue_high_risk_escalates(high_risk_task, make_contact, at):
    moderate = FollowUpTask.objects.get(contact=close(screened(make_contact, MODERATE, at), at(30)))
    assert services.escalate_overdue(at=at(30) + HOURS_72 - dt.timedelta(minutes=1)) == 0
    assert services.escalate_overdue(at=at(31) + HOURS_72) == 1
    high_risk_task.refresh_from_db()
    moderate.refresh_from_db()
    assert high_risk_task.status == TaskStatus.ESCALATED
    assert "due time passed" in high_risk_task.escalation_reason
    assert moderate.status == TaskStatus.OPEN


def test_attempt_on_closed_task_rejected(high_risk_task, at):
    services.record_attempt(high_risk_task.pk, "reached", at=at(100))
    attempts = FollowUpAttempt.objects.count()
    entries = AuditEntry.objects.count()
    with pytest.raises(Conflict, match="is completed, so no attempt can be added"):
        services.record_attempt(high_risk_task.pk, "no_answer", at=at(101))
    assert FollowUpAttempt.objects.count() == attempts
    assert AuditEntry.objects.count() == entries


def test_unknown_outcome_rejected(high_risk_task, at):
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as raised:
        services.record_attempt(high_risk_task.pk, "texted", at=at(100))
    assert "'texted'" in raised.value.message
    assert "reached_support_person" in raised.value.errors[0].fix
    assert not FollowUpAttempt.objects.exists()
    assert AuditEntry.objects.count() == entries


# --- Referrals ---------------------------------------------------------------

@pytest.fixture
def facility(reference_data):
    return Facility.objects.filter(is_active=True).order_by("pk").first()


def test_referral_lifecycle_and_measures(make_contact, facility, at):
    contact = make_contact()
    fresh = services.create_referral(contact, facility.pk)
    assert fresh.accepted_within_7_days is None
    assert fresh.completed_within_30_days is None
    referral = services.create_referral(contact, facility.pk, note="intake call booked", at=at(0))
    assert referral.status == "requested"

    services.advance_referral(referral.pk, "accepted", at=at(0) + dt.timedelta(days=6))
    services.advance_referral(referral.pk, "completed", at=at(0) + dt.timedelta(days=29))
    referral.refresh_from_db()
    assert referral.accepted_at == at(0) + dt.timedelta(days=6)
    assert referral.completed_at == at(0) + dt.timedelta(days=29)
    assert referral.accepted_within_7_days is True
    assert referral.completed_within_30_days is True
    statuses = [entry.changes.get("status") for entry in AuditEntry.objects.filter(
        object_type="followup.referral", object_id=str(referral.pk)).order_by("id")]
    assert statuses == [[None, "requested"], ["requested", "accepted"], ["accepted", "completed"]]


def test_referral_measures_count_late_and_rejected(make_contact, facility, at):
    contact = make_contact()
    start = at(0)
    on_time = services.create_referral(contact, facility.pk, at=start)
    late = services.create_referral(contact, facility.pk, at=start)
    rejected = services.create_referral(contact, facility.pk, at=start)
    services.create_referral(contact, facility.pk, at=start)  # still undecided
    services.advance_referral(on_time.pk, "accepted", at=start + dt.timedelta(days=2))
    services.advance_referral(on_time.pk, "completed", at=start + dt.timedelta(days=10))
    services.advance_referral(late.pk, "accepted", at=start + dt.timedelta(days=8))
    services.advance_referral(late.pk, "completed", at=start + dt.timedelta(days=31))
    services.advance_referral(rejected.pk, "rejected", reason="no bed", at=start + dt.timedelta(days=1))

    measures = services.referral_measures(Referral.objects.all(), at=start + dt.timedelta(days=3))
    assert measures["total"] == 4
    assert measures["accepted_within_7_days"] == {"met": 1, "decided": 3, "share": 0.3333}
    assert measures["completed_within_30_days"] == {"met": 1, "decided": 3, "share": 0.3333}

    later = services.referral_measures(Referral.objects.all(), at=start + dt.timedelta(days=40))
    assert later["accepted_within_7_days"]["decided"] == 4
    assert later["completed_within_30_days"]["decided"] == 4


def test_referral_from_field_encounter(make_incident, facility, at):
    incident = make_incident()
    referral = services.create_referral(incident.contact, facility.pk, incident_id=incident.pk, at=at(5))
    assert referral.incident_id == incident.pk


@pytest.mark.parametrize(("status", "reason", "error"), [
    ("completed", "", Conflict),      # must be accepted first
    ("cancelled", "", InvalidInput),  # not a status
    ("rejected", "", InvalidInput),   # a rejection needs a reason
])
def test_referral_bad_transition_saves_nothing(make_contact, facility, at, status, reason, error):
    referral = services.create_referral(make_contact(), facility.pk, at=at(0))
    entries = AuditEntry.objects.count()
    with pytest.raises(error):
        services.advance_referral(referral.pk, status, reason=reason, at=at(10))
    referral.refresh_from_db()
    assert referral.status == "requested"
    assert AuditEntry.objects.count() == entries


def test_referral_to_unknown_facility(make_contact, at):
    contact = make_contact()
    with pytest.raises(InvalidInput, match="Facility 999999 not found"):
        services.create_referral(contact, 999999, at=at(0))
    assert not Referral.objects.exists()


def test_referral_with_other_contacts_incident(make_contact, make_incident, facility, at):
    other = make_incident()
    contact = make_contact()
    with pytest.raises(InvalidInput, match="is not a response to contact"):
        services.create_referral(contact, facility.pk, incident_id=other.pk, at=at(0))
    assert not Referral.objects.exists()
