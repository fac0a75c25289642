"""Follow-up tasks and referrals: creation, attempts, escalation, lifecycle.

Every write goes through audited models, so each change lands in the audit
trail with its actor. Invalid input raises InvalidInput, and a state that
forbids the change raises Conflict. In both cases nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from crisishub.core.errors import Conflict, InvalidInput, NotFound
from crisishub.core.models import Contact, Facility, Incident, IncidentEvent
from crisishub.followup.models import (
    ACCEPTED_WITHIN, ACTIVE_STATUSES, COMPLETED_WITHIN, FINAL_OUTCOMES, REFERRAL_TRANSITIONS,
    AttemptOutcome, FollowUpAttempt, FollowUpTask, Referral, ReferralStatus, TaskReason,
    TaskStatus, window_met,
)
from crisishub.rules.cssrs import RiskLevel

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_DUE_HOURS = 72
# C-SSRS levels that call for follow-up, and the level that escalates.
FOLLOW_UP_RISK_LEVELS = (RiskLevel.MODERATE.value, RiskLevel.HIGH.value)
HIGH_RISK_LEVEL = RiskLevel.HIGH.value


def _positive_setting(name: str, default: int) -> int:
    value = getattr(settings, name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"{name} is {value!r}; set it to a whole number of at least 1.")
    return value


def check_protocol_settings(app_configs=None, **kwargs) -> list[Error]:
    """Report invalid protocol settings at startup (a Django system check).

    Tasks are created while a contact closes, so a bad value found only
    then would fail the close after the contact was saved.
    """
    errors = []
    for name, default in (("FOLLOWUP_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
                          ("FOLLOWUP_DUE_HOURS", DEFAULT_DUE_HOURS)):
        try:
            _positive_setting(name, default)
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id="followup.E001"))
    return errors


def max_attempts() -> int:
    """Attempts allowed before a task escalates or closes unreached (setting FOLLOWUP_MAX_ATTEMPTS)."""
    return _positive_setting("FOLLOWUP_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)


def due_window() -> dt.timedelta:
    """Maximum time from the end of the contact to the follow-up (setting FOLLOWUP_DUE_HOURS)."""
    return dt.timedelta(hours=_positive_setting("FOLLOWUP_DUE_HOURS", DEFAULT_DUE_HOURS))


# --- Creating tasks -----------------------------------------------------------

def follow_up_reason(contact: Contact) -> tuple[str, str, bool] | None:
    """Return (reason, risk level, high risk) when the contact needs follow-up, else None.

    Every contact with a mobile response needs one, and so does every
    contact whose latest screening is moderate or high or that was marked
    at imminent risk.
    """
    screening = contact.screenings.order_by("-created_at", "-id").first()
    risk_level = screening.risk_level if screening is not None else ""
    imminent = contact.imminent_risk or bool(screening and screening.imminent_risk)
    high_risk = imminent or risk_level == HIGH_RISK_LEVEL
    if contact.incidents.exists():
        return TaskReason.MOBILE_RESPONSE, risk_level, high_risk
    if imminent or risk_level in FOLLOW_UP_RISK_LEVELS:
        return TaskReason.RISK_LEVEL, risk_level, high_risk
    return None


def encounter_end(contact: Contact) -> dt.datetime | None:
    """Return when the contact, or its last cleared field encounter, ended."""
    cleared = (
        IncidentEvent.objects.filter(incident__contact=contact, kind=IncidentEvent.Kind.CLEARED)
        .order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    )
    ends = [end for end in (contact.ended_at, cleared) if end is not None]
    return max(ends) if ends else None


def ensure_task(contact: Contact, *, at: dt.datetime | None = None) -> FollowUpTask | None:
    """Create the contact's follow-up task if it needs one and has none yet.

    Called when the contact closes; calling it again returns the existing task.
    """
    if contact.status != Contact.Status.CLOSED:
        return None
    existing = FollowUpTask.objects.filter(contact=contact).first()
    if existing is not None:
        return existing
    needed = follow_up_reason(contact)
    if needed is None:
        return None
    reason, risk_level, high_risk = needed
    now = at or timezone.now()
    ended = encounter_end(contact) or now
    try:
        with transaction.atomic():
            task = FollowUpTask.objects.create(
                contact=contact, reason=reason, risk_level=risk_level, high_risk=high_risk,
                ended_at=ended, due_at=ended + due_window(), max_attempts=max_attempts(),
                created_at=now,
            )
    except IntegrityError:
        # A concurrent save of the same closed contact created it first.
        return FollowUpTask.objects.get(contact=contact)
    logger.info("Follow-up task %s created for contact %s, due %s", task.pk, contact.pk, task.due_at)
    return task


def extend_for_cleared_encounter(incident: Incident, cleared_at: dt.datetime) -> None:
    """Restart an active task's due window from a field encounter that ended after the task's end time."""
    task = FollowUpTask.objects.filter(contact_id=incident.contact_id, status__in=ACTIVE_STATUSES).first()
    if task is None or cleared_at <= task.ended_at:
        return
    task.ended_at = cleared_at
    task.due_at = cleared_at + due_window()
    task.save(update_fields=["ended_at", "due_at"])


# --- Attempts and escalation -----------------------------------------------

def check_outcome(outcome: str) -> None:
    if outcome not in AttemptOutcome.values:
        raise InvalidInput.for_field(
            "outcome", f"Invalid outcome {outcome!r}.",
            f"Use one of: {', '.join(AttemptOutcome.values)}.",
        )


def record_attempt(
    task_id: int, outcome: str, *, note: str = "", actor=None, at: dt.datetime | None = None,
) -> FollowUpAttempt:
    """Record one attempt and move the task on.

    A final outcome (reached, reached a support person, declined) completes
    the task. Once the attempts reach the task's maximum without one, a
    high-risk task escalates to supervisors and any other closes unreached.
    """
    check_outcome(outcome)
    now = at or timezone.now()
    with transaction.atomic():
        task = _lock_task(task_id)
        if task.status not in ACTIVE_STATUSES:
            raise Conflict(
                f"Follow-up task {task.pk} is {task.status}, so no attempt can be added; "
                "open an active task from the queue."
            )
        attempt = FollowUpAttempt.objects.create(
            task=task, outcome=outcome, note=note.strip(), attempted_at=now,
            attempted_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _advance(task, outcome, now)
    return attempt


def _lock_task(task_id: int) -> FollowUpTask:
    task = FollowUpTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound(f"Follow-up task {task_id} not found.")
    return task


def _advance(task: FollowUpTask, outcome: str, now: dt.datetime) -> None:
    if outcome in FINAL_OUTCOMES:
        task.status = TaskStatus.COMPLETED
        task.closed_at = now
        task.save(update_fields=["status", "closed_at"])
        return
    if task.attempts.count() < task.max_attempts or task.status == TaskStatus.ESCALATED:
        return
    if task.high_risk:
        _escalate(task, now, f"{task.max_attempts} attempts without reaching the person")
    else:
        task.status = TaskStatus.UNREACHED
        task.closed_at = now
        task.save(update_fields=["status", "closed_at"])


def _escalate(task: FollowUpTask, now: dt.datetime, reason: str) -> None:
    task.status = TaskStatus.ESCALATED
    task.escalated_at = now
    task.escalation_reason = reason[:200]
    task.save(update_fields=["status", "escalated_at", "escalation_reason"])
    logger.warning("Follow-up task %s escalated: %s", task.pk, reason)


def escalate_overdue(*, at: dt.datetime | None = None) -> int:
    """Escalate open high-risk tasks whose due time passed; return how many."""
    now = at or timezone.now()
    count = 0
    overdue = FollowUpTask.objects.filter(status=TaskStatus.OPEN, high_risk=True, due_at__lt=now)
    for task_id in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            task = FollowUpTask.objects.select_for_update().get(pk=task_id)
            if task.status == TaskStatus.OPEN:
                _escalate(task, now, "due time passed without reaching the person")
                count += 1
    return count


# --- Referrals ------------------------------------------------------------

def create_referral(
    contact: Contact, facility_id: Any, *, incident_id: Any = None, note: str = "",
    actor=None, at: dt.datetime | None = None,
) -> Referral:
    """Refer the person of ``contact`` to a directory facility."""
    facility = Facility.objects.filter(pk=_as_id("facility", facility_id), is_active=True).first()
    if facility is None:
        raise InvalidInput.for_field(
            "facility", f"Facility {facility_id!r} not found in the active directory.",
            "Pick the facility from the directory.",
        )
    incident = None
    if incident_id not in (None, ""):
        incident = Incident.objects.filter(pk=_as_id("incident", incident_id), contact=contact).first()
        if incident is None:
            raise InvalidInput.for_field(
                "incident", f"Incident {incident_id!r} is not a response to contact {contact.pk}.",
                "Pick one of this contact's incidents, or leave it empty.",
            )
    if len(note) > 300:
        raise InvalidInput.for_field("note", "The note is longer than 300 characters.", "Shorten it.")
    return Referral.objects.create(
        contact=contact, incident=incident, facility=facility, note=note.strip(),
        requested_at=at or timezone.now(),
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _as_id(field: str, value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput.for_field(field, f"Invalid {field} id {value!r}.", "Give a whole number.") from None


def advance_referral(
    referral_id: int, status: str, *, reason: str = "", at: dt.datetime | None = None,
) -> Referral:
    """Move a referral requested -> accepted or rejected, accepted -> completed."""
    if status not in REFERRAL_TRANSITIONS:
        raise InvalidInput.for_field(
            "status", f"Invalid referral status {status!r}.",
            f"Use one of: {', '.join(REFERRAL_TRANSITIONS)}.",
        )
    if status == ReferralStatus.REJECTED and not reason.strip():
        raise InvalidInput.for_field(
            "reason", "A rejection needs the facility's reason.", "Record why the facility declined.",
        )
    now = at or timezone.now()
    with transaction.atomic():
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None:
            raise NotFound(f"Referral {referral_id} not found.")
        required = REFERRAL_TRANSITIONS[status]
        if referral.status != required:
            raise Conflict(
                f"Referral {referral.pk} is {referral.status}; it can become {status} "
                f"only from {required}."
            )
        if now < referral.requested_at:
            raise InvalidInput.for_field(
                "at", f"{now.isoformat()} is before the referral was requested.",
                "Give a time after the request.",
            )
        referral.status = status
        fields = ["status"]
        if status == ReferralStatus.ACCEPTED:
            referral.accepted_at = now
            fields.append("accepted_at")
        elif status == ReferralStatus.REJECTED:
            referral.rejected_at = now
            referral.rejection_reason = reason.strip()[:300]
            fields += ["rejected_at", "rejection_reason"]
        else:
            referral.completed_at = now
            fields.append("completed_at")
        referral.save(update_fields=fields)
    return referral


def referral_measures(referrals, *, at: dt.datetime | None = None) -> dict[str, Any]:
    """Count referrals accepted within 7 days and completed within 30 days.

    A referral whose window is still open counts in neither the numerator
    nor the denominator, so the shares cover decided referrals only.
    """
    now = at or timezone.now()
    windows = {"accepted_within_7_days": ("accepted_at", ACCEPTED_WITHIN),
               "completed_within_30_days": ("completed_at", COMPLETED_WITHIN)}
    counts = {name: [0, 0] for name in windows}  # [met, decided]
    total = 0
    for referral in referrals:
        total += 1
        for name, (field, limit) in windows.items():
            met = window_met(referral.requested_at, getattr(referral, field), limit,
                             referral.rejected_at, now)
            if met is None:
                continue
            counts[name][1] += 1
            counts[name][0] += int(met)
    measures: dict[str, Any] = {"total": total}
    for name, (met, decided) in counts.items():
        measures[name] = {"met": met, "decided": decided,
                          "share": round(met / decided, 4) if decided else None}
    return measures
