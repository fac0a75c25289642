"""Follow-up queue, escalations and referral screens, through the test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from crisishub.audit.models import AuditEntry
from crisishub.core.models import Contact, Facility
from crisishub.core.services import triage
from crisishub.followup import services
from crisishub.followup.models import FollowUpAttempt, FollowUpTask, Referral, TaskStatus

pytestmark = pytest.mark.django_db

MODERATE = {"1": True, "2": True, "3": True, "4": False, "5": False, "6": False}
HIGH = {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False}
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def counselor(client, personas, reference_data):
    client.force_login(personas["call_counselor"])
    return client


@pytest.fixture
def supervisor(client, personas, reference_data):
    client.force_login(personas["supervisor"])
    return client


@pytest.fixture
def make_task(make_contact):
    """Close a screened contact that ended ``hours_ago``; return its task."""

    def make(answers=MODERATE, hours_ago: float = 1.0, **contact_fields) -> FollowUpTask:
        ended = timezone.now() - dt.timedelta(hours=hours_ago)
        contact = make_contact(at=ended - dt.timedelta(minutes=20), **contact_fields)
        triage.do_record_screening(contact, cssrs_answers=answers, at=ended - dt.timedelta(minutes=10))
        contact.status = Contact.Status.CLOSED
        contact.ended_at = ended
        contact.save(update_fields=["status", "ended_at"])
        return FollowUpTask.objects.get(contact=contact)

    return make


def attempt(client, task, outcome, note="", **extra):
    return client.post(f"/followup/tasks/{task.pk}/attempts/",
                       {f"attempt-{task.pk}-outcome": outcome, f"attempt-{task.pk}-note": note}, **extra)


# --- Queue --------------------------------------------------------------------

def test_queue_lists_due_soonest_first(counselor, make_task):
    later = make_task(hours_ago=1, caller_name="Later Caller")
    overdue = make_task(hours_ago=80, caller_name="Overdue Caller")
    sooner = make_task(hours_ago=30, caller_name="Sooner Caller")
    response = counselor.get("/followup/")
    assert response.status_code == 200
    html = response.content.decode()
    order = [int(n) for n in re.findall(r'id="task-(\d+)"', html)]
    assert order == [overdue.pk, sooner.pk, later.pk]
    overdue_block = html.split(f'id="task-{overdue.pk}"')[1].split('id="task-')[0]
    assert "data-overdue" in overdue_block
    assert html.count("data-overdue") == 1
    assert "Overdue Caller" in html


def test_queue_records_contact_views(counselor, make_task, personas):
    task = make_task()
    counselor.get("/followup/")
    views = AuditEntry.objects.filter(action="view", object_type="core.contact",
                                      object_id=str(task.contact_id), actor=personas["call_counselor"])
    assert views.count() == 1
    assert views.get().changes == {"fields": ["caller_name", "caller_phone"]}


def test_record_attempt_through_form(counselor, make_task, personas):
    task = make_task()
    response = attempt(counselor, task, "message_left", note="left a voicemail")
    assert response.status_code == 302
    assert response["Location"] == "/followup/"
    saved = FollowUpAttempt.objects.get(task=task)
    assert saved.outcome == "message_left"
    assert saved.note == "left a voicemail"
    assert saved.attempted_by == personas["call_counselor"]
    entry = AuditEntry.objects.get(object_type="followup.followupattempt", object_id=str(saved.pk))
    assert entry.actor == personas["call_counselor"]
    assert entry.changes["note"] == [None, "[redacted]"]


def test_reached_removes_task_from_queue(counselor, make_task):
    task = make_task()
    assert attempt(counselor, task, "reached").status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED
    assert f'id="task-{task.pk}"' not in counselor.get("/followup/").content.decode()


def test_unknown_outcome_gives_400(counselor, make_task):
    task = make_task()
    entries = AuditEntry.objects.exclude(action="view").count()
    response = attempt(counselor, task, "texted")
    assert response.status_code == 400
    assert "texted is not one of the available choices" in response.content.decode()
    assert not FollowUpAttempt.objects.exists()
    assert AuditEntry.objects.exclude(action="view").count() == entries


def test_attempt_on_closed_task_gives_409(counselor, make_task):
    task = make_task()
    attempt(counselor, task, "declined")
    response = attempt(counselor, task, "no_answer")
    assert response.status_code == 409
    assert "so no attempt can be added" in response.content.decode()
    assert FollowUpAttempt.objects.filter(task=task).count() == 1


def test_attempt_on_missing_task_gives_404(counselor, reference_data):
    response = counselor.post("/followup/tasks/999999/attempts/",
                              {"attempt-999999-outcome": "reached"})
    assert response.status_code == 404


# --- Escalations -------------------------------------------------------------

def test_overdue_high_risk_shows_to_supervisor(supervisor, make_task):
    task = make_task(HIGH, hours_ago=73)
    response = supervisor.get("/followup/escalations/")
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.ESCALATED


def test_exhausted_high_risk_escalates(counselor, make_task):
    task = make_task(HIGH)
    for outcome in ("no_answer", "message_left", "unable_to_reach"):
        assert attempt(counselor, task, outcome).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.ESCALATED


def test_supervisor_resolves_escalation(supervisor, make_task):
    task = make_task(HIGH, hours_ago=80)
    services.escalate_overdue()
    response = supervisor.post(f"/followup/tasks/{task.pk}/attempts/",
                               {f"attempt-{task.pk}-outcome": "reached_support_person",
                                "return": "escalations"})
    assert response.status_code == 302
    assert response["Location"] == "/followup/escalations/"
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_counselor_denied_escalations(counselor, personas):
    response = counselor.get("/followup/escalations/")
    assert response.status_code == 403
    denial = AuditEntry.objects.get(action="denied", actor=personas["call_counselor"])
    assert denial.object_type == "followup.escalations"


@pytest.mark.parametrize("role", ["dispatcher", "team_member", "analyst", "administrator"])
def test_other_roles_denied_attempts(client, personas, make_task, role):
    task = make_task()
    client.force_login(personas[role])
    assert attempt(client, task, "reached").status_code == 403
    assert not FollowUpAttempt.objects.exists()
    assert AuditEntry.objects.filter(action="denied", actor=personas[role],
                                     object_id=str(task.pk)).count() == 1


# --- Referrals ----------------------------------------------------------------

def test_referral_created_and_advanced(counselor, make_contact):
    contact = make_contact()
    facility = Facility.objects.filter(is_active=True).order_by("pk").first()
    page = counselor.get(f"/followup/contacts/{contact.pk}/referrals/")
    assert page.status_code == 200
    response = counselor.post(f"/followup/contacts/{contact.pk}/referrals/",
                              {"referral-facility": facility.pk, "referral-note": "walk-in tomorrow"})
    assert response.status_code == 302
    referral = Referral.objects.get(contact=contact)
    assert referral.facility == facility

    prefix = f"referral-{referral.pk}"
    accepted = counselor.post(f"/followup/referrals/{referral.pk}/status/", {f"{prefix}-status": "accepted"})
    assert accepted.status_code == 302
    completed = counselor.post(f"/followup/referrals/{referral.pk}/status/", {f"{prefix}-status": "completed"})
    assert completed.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "completed"
    page = counselor.get(f"/followup/contacts/{contact.pk}/referrals/").content.decode()
    assert "Accepted within 7 days: 1 of 1 decided" in page
    assert "Completed within 30 days: 1 of 1 decided" in page


def test_referral_bad_input_gives_400(counselor, make_contact):
    contact = make_contact()
    response = counselor.post(f"/followup/contacts/{contact.pk}/referrals/", {"referral-facility": "999999"})
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_referral_rejection_needs_reason(counselor, make_contact):
    contact = make_contact()
    facility = Facility.objects.filter(is_active=True).order_by("pk").first()
    referral = services.create_referral(contact, facility.pk)
    response = counselor.post(f"/followup/referrals/{referral.pk}/status/",
                              {f"referral-{referral.pk}-status": "rejected"})
    assert response.status_code == 400
    assert "A rejection needs the facility&#x27;s reason." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_referral_complete_before_accept_gives_409(counselor, make_contact):
    contact = make_contact()
    facility = Facility.objects.filter(is_active=True).order_by("pk").first()
    referral = services.create_referral(contact, facility.pk)
    response = counselor.post(f"/followup/referrals/{referral.pk}/status/",
                              {f"referral-{referral.pk}-status": "completed"})
    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.status == "requested"


# --- Closing in the counselor console --------------------------------------

def test_console_close_creates_task(counselor):
    start = counselor.post("/counselor/start/", {
        "start_key": "followup-start-key-0123456789", "source": "988_transfer", "channel": "phone",
        "caller_name": "", "caller_phone": "", "preferred_language": "en"})
    contact = Contact.objects.get(pk=int(start["Location"].rstrip("/").split("/")[-1]))
    triage.do_record_screening(contact, cssrs_answers=MODERATE)
    response = counselor.post(f"/counselor/contacts/{contact.pk}/close/",
                              {"close-service_language": "en"}, **HX)
    assert response.status_code == 200
    contact.refresh_from_db()
    task = FollowUpTask.objects.get(contact=contact)
    assert task.due_at == contact.ended_at + dt.timedelta(hours=72)


# --- Command -------------------------------------------------------------------

def test_due_command_escalates_and_lists(make_task):
    import json

    from django.core.management import call_command
    from io import StringIO

    overdue = make_task(HIGH, hours_ago=80)
    soon = make_task(MODERATE, hours_ago=60)
    make_task(MODERATE, hours_ago=1)  # due in 71 hours, outside the window
    output = StringIO()
    call_command("followup_due", "--hours", "24", "--format", "json", stdout=output)
    result = json.loads(output.getvalue())
    assert result["escalated_now"] == 1
    assert [row["task"] for row in result["due"]] == [overdue.pk, soon.pk]
    assert result["due"][0]["status"] == "escalated"
    assert result["due"][0]["overdue"] is True
    entry = AuditEntry.objects.filter(object_type="followup.followuptask", object_id=str(overdue.pk),
                                      action="change").get()
    assert entry.actor_label == "followup_due command"


def test_due_command_rejects_bad_hours(reference_data):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--hours -1 is out of range"):
        call_command("followup_due", "--hours", "-1")


def test_queue_in_spanish(counselor, make_task):
    make_task()
    response = counselor.get("/followup/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Registrar el intento" in html
    assert "Contacte a cada persona dentro de las 72 horas" in html


def test_queue_states_configured_window(counselor, settings, reference_data):
    settings.FOLLOWUP_DUE_HOURS = 48
    html = counselor.get("/followup/").content.decode()
    assert "Reach each person within 48 hours" in html


def test_blank_outcome_gives_400(counselor, make_task):
    task = make_task()
    response = attempt(counselor, task, "")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not FollowUpAttempt.objects.exists()


def test_referral_form_offers_next_moves(counselor, make_contact):
    contact = make_contact()
    facility = Facility.objects.filter(is_active=True).order_by("pk").first()
    referral = services.create_referral(contact, facility.pk)
    select = f'name="referral-{referral.pk}-status"'
    page = counselor.get(f"/followup/contacts/{contact.pk}/referrals/").content.decode()
    options = re.findall(r'<option value="(\w*)"', page.split(select)[1].split("</select>")[0])
    assert options == ["", "accepted", "rejected"]
    services.advance_referral(referral.pk, "accepted")
    page = counselor.get(f"/followup/contacts/{contact.pk}/referrals/").content.decode()
    options = re.findall(r'<option value="(\w*)"', page.split(select)[1].split("</select>")[0])
    assert options == ["", "completed"]


def test_contact_page_links_referrals(counselor, make_contact):
    contact = make_contact()
    page = counselor.get(f"/counselor/contacts/{contact.pk}/").content.decode()
    assert f'id="contact-referrals" href="/followup/contacts/{contact.pk}/referrals/"' in page
