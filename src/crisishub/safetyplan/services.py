"""Changes to safety plans, each in one transaction.

Views call these after their permission checks. Every row they write is
audited by the audit trail's signals, with the person's words redacted.
"""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import Facility, Incident, Screening
from crisishub.safetyplan.models import (
    MAX_ENTRIES_PER_STEP, MAX_ENTRY_CHARS, SafetyPlan, SafetyPlanEntry, Step,
)

# The national line, offered first among the step 5 suggestions.
LIFELINE_988 = "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org"
# Directory kinds offered as step 5 suggestions, in this order.
SUGGESTED_FACILITY_KINDS = (
    Facility.Kind.MENTAL_HEALTH_URGENT_CARE,
    Facility.Kind.CRISIS_STABILIZATION,
    Facility.Kind.CRISIS_RESIDENTIAL,
)


def current_plan(contact_id: int) -> SafetyPlan | None:
    return SafetyPlan.objects.filter(contact_id=contact_id, superseded_at__isnull=True).first()


def screening_since(plan: SafetyPlan) -> Screening | None:
    """Return the newest screening of the plan's contact recorded after this
    version was written, which calls for a review, or None."""
    if not plan.is_current:
        return None
    later = Screening.objects.filter(contact_id=plan.contact_id, created_at__gt=plan.created_at)
    return later.order_by("-created_at", "-pk").first()


def staff_names(incident: Incident) -> str:
    if incident.team is None:
        return ""
    names = [member.display_name for member in incident.team.members.order_by("role", "pk")]
    return ", ".join(name for name in names if name)


@transaction.atomic
def start_plan(incident: Incident, user) -> SafetyPlan:
    """Return the contact's current plan, creating version 1 if there is none."""
    # NOTE: plans belong to a contact, so a person's later contact starts an
    # empty plan even when an earlier contact of the same Person has one.
    existing = current_plan(incident.contact_id)
    if existing is not None:
        return existing
    now = timezone.now()
    return SafetyPlan.objects.create(
        contact_id=incident.contact_id, incident=incident, team=incident.team,
        written_with=staff_names(incident), created_by=user, created_at=now, updated_at=now,
    )


def _reject_if_superseded(plan: SafetyPlan) -> None:
    if not plan.is_current:
        raise Conflict(
            _("Version %(version)s of this safety plan was replaced by a review, so it is "
              "read-only. Open the current version instead.") % {"version": plan.version}
        )


def clean_entries(step: int, texts: list[str]) -> list[str]:
    """Drop blank lines and check sizes, keeping each text as typed otherwise."""
    if step not in Step.values:
        raise InvalidInput.for_field(
            "step", _("Invalid step %(step)s.") % {"step": step}, _("Use a step from 1 to 6."))
    kept = [text for text in texts if text.strip()]
    if len(kept) > MAX_ENTRIES_PER_STEP:
        raise InvalidInput.for_field(
            "entries", _("Step %(step)s has %(count)d entries, more than %(max)d.") % {
                "step": step, "count": len(kept), "max": MAX_ENTRIES_PER_STEP},
            _("Combine some entries."))
    for text in kept:
        if len(text) > MAX_ENTRY_CHARS:
            raise InvalidInput.for_field(
                "entries", _("An entry of step %(step)s has %(count)d characters, more than "
                             "%(max)d.") % {"step": step, "count": len(text), "max": MAX_ENTRY_CHARS},
                _("Shorten the entry or split it in two."))
    return kept


def step_texts(plan: SafetyPlan, step: int) -> list[str]:
    return list(plan.entries.filter(step=step).order_by("position").values_list("text", flat=True))


def step_digest(texts: list[str]) -> str:
    """Return the SHA-256 of a step's entries, which a form sends back as
    the version it was edited from."""
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest()


class StepChanged(Conflict):
    """Another device saved the step since the form loaded it."""

    def __init__(self, message: str, stored: list[str]):
        super().__init__(message)
        self.stored = stored


@transaction.atomic
def save_step(plan: SafetyPlan, step: int, texts: list[str],
              base_digest: str | None = None) -> list[SafetyPlanEntry]:
    """Replace the entries of one step with ``texts``, in order.

    ``base_digest`` is the :func:`step_digest` of the entries the form was
    loaded with. When the stored entries no longer match it, because the
    other phone of the team saved this step meanwhile, nothing is written
    and :class:`StepChanged` carries the stored entries, so neither phone's
    lines are overwritten unseen.

    Only changed rows are written, so typing one letter changes one entry
    row (and the plan's ``updated_at``). Entries suggested from the
    directory keep their facility link while their text stays the same.
    """
    plan = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
    _reject_if_superseded(plan)
    kept = clean_entries(step, texts)
    stored = step_texts(plan, step)
    if base_digest is not None and base_digest != step_digest(stored) and kept != stored:
        raise StepChanged(
            _("Step %(step)s was changed on another device. Both versions are shown: check "
              "the lines and save again.") % {"step": step}, stored)
    existing = {entry.position: entry for entry in plan.entries.filter(step=step)}
    by_text = {entry.text: entry.facility_id for entry in existing.values()}
    # Drop rows past the new end first, so positions stay unique.
    for position in sorted(existing):
        if position >= len(kept):
            existing.pop(position).delete()
    for position, text in enumerate(kept):
        entry = existing.get(position)
        facility_id = by_text.get(text)
        if entry is None:
            SafetyPlanEntry.objects.create(
                plan=plan, step=step, position=position, text=text, facility_id=facility_id)
        elif entry.text != text or entry.facility_id != facility_id:
            entry.text = text
            entry.facility_id = facility_id
            entry.save()
    _touch(plan)
    return list(plan.entries.filter(step=step).order_by("position"))


@transaction.atomic
def add_suggestion(plan: SafetyPlan, facility_id: int | None) -> SafetyPlanEntry:
    """Append 988 (``facility_id`` None) or a directory facility to step 5."""
    plan = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
    _reject_if_superseded(plan)
    facility = None
    text = LIFELINE_988
    if facility_id is not None:
        facility = Facility.objects.filter(pk=facility_id, is_active=True).first()
        if facility is None:
            raise InvalidInput.for_field(
                "facility", _("Facility %(id)s not found in the directory.") % {"id": facility_id},
                _("Choose a facility from the list."))
        text = suggestion_text(facility)
    entries = plan.entries.filter(step=Step.PROFESSIONALS)
    if entries.filter(text=text).exists():
        return entries.get(text=text)
    position = entries.count()
    clean_entries(Step.PROFESSIONALS, [*entries.values_list("text", flat=True), text])
    entry = SafetyPlanEntry.objects.create(
        plan=plan, step=Step.PROFESSIONALS, position=position, text=text, facility=facility)
    _touch(plan)
    return entry


def suggestion_text(facility: Facility) -> str:
    parts = [facility.name]
    if facility.phone:
        parts.append(facility.phone)
    if facility.address:
        parts.append(", ".join(part for part in (facility.address, facility.city) if part))
    return " · ".join(parts)


def suggestions(plan: SafetyPlan) -> list[dict]:
    """Return the step 5 suggestions not yet on the plan: 988 first, then
    the county's urgent care and crisis facilities."""
    chosen = set(plan.entries.filter(step=Step.PROFESSIONALS).values_list("text", flat=True))
    offered = []
    if LIFELINE_988 not in chosen:
        offered.append({"facility_id": "", "text": LIFELINE_988})
    facilities = Facility.objects.filter(is_active=True, kind__in=SUGGESTED_FACILITY_KINDS)
    order = {kind: index for index, kind in enumerate(SUGGESTED_FACILITY_KINDS)}
    for facility in sorted(facilities, key=lambda f: (order[f.kind], f.name)):
        text = suggestion_text(facility)
        if text not in chosen:
            offered.append({"facility_id": str(facility.pk), "text": text})
    return offered


@transaction.atomic
def save_reason_for_living(plan: SafetyPlan, text: str) -> SafetyPlan:
    plan = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
    _reject_if_superseded(plan)
    if len(text) > MAX_ENTRY_CHARS:
        raise InvalidInput.for_field(
            "reason_for_living", _("The text has %(count)d characters, more than %(max)d.") % {
                "count": len(text), "max": MAX_ENTRY_CHARS},
            _("Shorten it."))
    plan.reason_for_living = text
    plan.updated_at = timezone.now()
    plan.save()
    return plan


@transaction.atomic
def review(plan: SafetyPlan, reason: str, user, incident: Incident | None = None) -> SafetyPlan:
    """Freeze ``plan`` and copy it into a new current version.

    Call this when the person's risk changes. The old version stays
    readable and rejects every later edit.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput.for_field(
            "review_reason", _("The reason for the review is missing."),
            _("Say what changed in the person's risk."))
    if len(reason) > 300:
        raise InvalidInput.for_field(
            "review_reason", _("The reason has %(count)d characters, more than 300.") % {
                "count": len(reason)}, _("Shorten it."))
    plan = SafetyPlan.objects.select_for_update().get(pk=plan.pk)
    _reject_if_superseded(plan)
    now = timezone.now()
    plan.superseded_at = now
    plan.save()
    incident = incident or plan.incident
    successor = SafetyPlan.objects.create(
        contact_id=plan.contact_id, incident=incident, version=plan.version + 1, previous=plan,
        reason_for_living=plan.reason_for_living,
        written_with=staff_names(incident) if incident is not None else plan.written_with,
        team=incident.team if incident is not None else plan.team,
        created_by=user, review_reason=reason, created_at=now, updated_at=now,
    )
    for entry in plan.entries.order_by("step", "position"):
        SafetyPlanEntry.objects.create(
            plan=successor, step=entry.step, position=entry.position, text=entry.text,
            facility_id=entry.facility_id)
    return successor


def _touch(plan: SafetyPlan) -> None:
    plan.updated_at = timezone.now()
    plan.save(update_fields=["updated_at"])
