"""Follow-up after a contact, and closed-loop referrals to the directory.

A *follow-up task* is the call center's duty to reach a person again
within 72 hours of the contact or field encounter ending. Each *attempt*
records one try and its outcome. A *referral* sends the person to a directory facility
and tracks it from requested to accepted or rejected, then completed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisishub.audit.registry import audited
from crisishub.core.models import Contact, Facility, Incident


class TaskReason(models.TextChoices):
    MOBILE_RESPONSE = "mobile_response", _("Mobile response")
    RISK_LEVEL = "risk_level", _("Risk level moderate or higher")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ESCALATED = "escalated", _("Escalated to a supervisor")
    COMPLETED = "completed", _("Completed")
    UNREACHED = "unreached", _("Closed without reaching the person")


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    MESSAGE_LEFT = "message_left", _("Message left")
    UNABLE_TO_REACH = "unable_to_reach", _("Unable to reach")
    WRONG_CONTACT_INFO = "wrong_contact_info", _("Wrong contact information")
    DECLINED = "declined", _("Declined")
    REACHED_SUPPORT_PERSON = "reached_support_person", _("Reached a support person")


# Outcomes that end the task: the person, or someone supporting them, was
# reached, or the person declined follow-up.
FINAL_OUTCOMES = frozenset({
    AttemptOutcome.REACHED, AttemptOutcome.REACHED_SUPPORT_PERSON, AttemptOutcome.DECLINED,
})
# Statuses in which attempts may still be recorded.
ACTIVE_STATUSES = (TaskStatus.OPEN, TaskStatus.ESCALATED)


@audited()
class FollowUpTask(models.Model):
    """One follow-up owed to the person of a closed contact."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="follow_up_tasks")
    reason = models.CharField(max_length=16, choices=TaskReason.choices)
    risk_level = models.CharField(max_length=10, blank=True)
    # High risk: C-SSRS level "high" or imminent risk. Such a task escalates
    # to a supervisor instead of closing unreached.
    high_risk = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # When the contact or its last field encounter ended, whichever is later.
    ended_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    # The protocol in force when the task was created.
    max_attempts = models.PositiveSmallIntegerField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact"], name="one_follow_up_task_per_contact"),
        ]

    def __str__(self) -> str:
        return f"Follow-up {self.pk} for contact {self.contact_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@audited(redact=("note",))
class FollowUpAttempt(models.Model):
    """One try at reaching the person, with its outcome."""

    task = models.ForeignKey(FollowUpTask, on_delete=models.PROTECT, related_name="attempts")
    outcome = models.CharField(max_length=24, choices=AttemptOutcome.choices)
    note = models.TextField(blank=True)
    attempted_at = models.DateTimeField()
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"Attempt {self.pk} on follow-up {self.task_id}: {self.outcome}"


class ReferralStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    COMPLETED = "completed", _("Completed")


# Allowed moves: the status a referral must have for each target status.
REFERRAL_TRANSITIONS = {
    ReferralStatus.ACCEPTED: ReferralStatus.REQUESTED,
    ReferralStatus.REJECTED: ReferralStatus.REQUESTED,
    ReferralStatus.COMPLETED: ReferralStatus.ACCEPTED,
}

ACCEPTED_WITHIN = dt.timedelta(days=7)
COMPLETED_WITHIN = dt.timedelta(days=30)


@audited(redact=("note", "rejection_reason"))
class Referral(models.Model):
    """A referral of the person to a directory facility, tracked to completion."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="referrals")
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.REQUESTED
    )
    note = models.CharField(max_length=300, blank=True)
    requested_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | Q(rejected_at__isnull=False),
                name="referral_rejected_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | Q(accepted_at__isnull=False, completed_at__isnull=False),
                name="referral_completed_after_acceptance",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} to facility {self.facility_id}"

    @property
    def accepted_within_7_days(self) -> bool | None:
        """Whether the facility accepted within 7 days; None while that is still open."""
        return window_met(self.requested_at, self.accepted_at, ACCEPTED_WITHIN, self.rejected_at)

    @property
    def completed_within_30_days(self) -> bool | None:
        """Whether the referral completed within 30 days; None while that is still open."""
        return window_met(self.requested_at, self.completed_at, COMPLETED_WITHIN, self.rejected_at)


def window_met(start, end, limit, rejected_at, now=None) -> bool | None:
    """Return whether ``end`` came within ``limit`` of ``start``.

    None means the window is still open: no end yet, no rejection, and
    ``limit`` not yet passed at ``now``.
    """
    from django.utils import timezone

    if end is not None:
        return end - start <= limit
    if rejected_at is not None:
        return False
    now = now or timezone.now()
    return None if now - start <= limit else False
