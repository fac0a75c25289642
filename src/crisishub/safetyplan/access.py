"""Access rules for safety plans, checked on every request.

- ``safetyplan.write_own``: a member of the team assigned to the plan's
  incident writes and reviews it.
- ``safetyplan.read_own``: the call counselor who handled the contact
  reads it.
- ``safetyplan.read_all``: supervisors read every plan.
- ``safetyplan.export``: supervisors export a plan as a FHIR CarePlan.

Every denial is written to the audit trail and every read is recorded as a
view, as ``core.access`` does for contacts and incidents.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from crisishub.audit.signals import record_denied, record_view
from crisishub.core.access import require
from crisishub.core.models import TeamMember
from crisishub.core.roles import has_capability
from crisishub.safetyplan.models import SafetyPlan

OBJECT_TYPE = "safetyplan.safetyplan"
READ_CAPABILITIES = ("safetyplan.read_all", "safetyplan.read_own", "safetyplan.write_own")


def _fetch(plan_id: int) -> SafetyPlan:
    try:
        return SafetyPlan.objects.select_related(
            "contact", "incident", "incident__team", "contact__person").get(pk=plan_id)
    except (SafetyPlan.DoesNotExist, ValueError, TypeError):
        raise Http404(f"Safety plan {plan_id} not found.") from None


def on_assigned_team(user, plan: SafetyPlan) -> bool:
    """Return whether ``user`` is on the team assigned to the plan's incident."""
    incident = plan.incident
    if incident is None or incident.team_id is None:
        return False
    return TeamMember.objects.filter(team_id=incident.team_id, user=user).exists()


def can_write(user, plan: SafetyPlan) -> bool:
    return has_capability(user, "safetyplan.write_own") and on_assigned_team(user, plan)


def can_read(user, plan: SafetyPlan) -> bool:
    if has_capability(user, "safetyplan.read_all"):
        return True
    if has_capability(user, "safetyplan.read_own") and plan.contact.handled_by_id == user.pk:
        return True
    return can_write(user, plan)


def _deny(plan_id, message: str) -> None:
    record_denied(OBJECT_TYPE, str(plan_id), message)
    raise PermissionDenied(message)


def plan_for_read(user, plan_id: int) -> SafetyPlan:
    """Fetch a plan for the assigned team, the contact's counselor or a supervisor."""
    if not any(has_capability(user, cap) for cap in READ_CAPABILITIES):
        _deny(plan_id, _("Your role does not allow reading safety plans."))
    plan = _fetch(plan_id)
    if not can_read(user, plan):
        _deny(plan_id, _("Only the assigned team, the contact's counselor and supervisors "
                         "may read this safety plan."))
    record_view(plan, ["entries", "reason_for_living"])
    return plan


def plan_for_write(user, plan_id: int) -> SafetyPlan:
    """Fetch a plan for a member of the team assigned to its incident."""
    require(user, "safetyplan.write_own", OBJECT_TYPE, str(plan_id))
    plan = _fetch(plan_id)
    if not on_assigned_team(user, plan):
        _deny(plan_id, _("Only the team assigned to this incident may edit its safety plan."))
    return plan


def plan_for_export(user, plan_id: int) -> SafetyPlan:
    require(user, "safetyplan.export", OBJECT_TYPE, str(plan_id))
    plan = _fetch(plan_id)
    record_view(plan, ["fhir_careplan"])
    return plan
