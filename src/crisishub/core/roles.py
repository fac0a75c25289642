"""Staff roles and what each may see and change.

Each role is a Django group of the same name. Access checks ask for a
capability, never for a role, so the table below is the whole policy.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

CALL_COUNSELOR = "call_counselor"
DISPATCHER = "dispatcher"
TEAM_MEMBER = "team_member"
SUPERVISOR = "supervisor"
ANALYST = "analyst"
ADMINISTRATOR = "administrator"

ROLES = (CALL_COUNSELOR, DISPATCHER, TEAM_MEMBER, SUPERVISOR, ANALYST, ADMINISTRATOR)

# Capabilities. Analysts see aggregate reports and planning only, never a
# person's record.
CAPABILITIES: dict[str, frozenset[str]] = {
    CALL_COUNSELOR: frozenset({
        "contact.view", "contact.edit", "screening.edit", "triage.decide",
        "incident.request", "incident.view", "directory.view",
    }),
    DISPATCHER: frozenset({
        "incident.view", "incident.dispatch", "team.view", "contact.view_dispatch",
        "directory.view",
    }),
    TEAM_MEMBER: frozenset({
        "incident.view_own", "incident.field_update", "directory.view",
    }),
    SUPERVISOR: frozenset({
        "contact.view", "contact.edit", "screening.edit", "triage.decide",
        "incident.request", "incident.view", "incident.dispatch", "team.view",
        "team.manage", "contact.view_dispatch", "directory.view", "directory.edit",
        "reports.view", "planning.use", "audit.view",
    }),
    ANALYST: frozenset({"reports.view", "planning.use", "directory.view"}),
    ADMINISTRATOR: frozenset({
        "team.view", "team.manage", "directory.view", "directory.edit", "matrix.edit",
        "staff.manage", "audit.view", "reports.view", "planning.use",
    }),
}

ALL_CAPABILITIES = frozenset().union(*CAPABILITIES.values())


def ensure_role_groups() -> None:
    for role in ROLES:
        Group.objects.get_or_create(name=role)


def user_roles(user) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_crisishub_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._crisishub_roles = cached
    return cached


def user_capabilities(user) -> frozenset[str]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return ALL_CAPABILITIES
    caps: set[str] = set()
    for role in user_roles(user):
        caps |= CAPABILITIES[role]
    return frozenset(caps)


def has_capability(user, capability: str) -> bool:
    if capability not in ALL_CAPABILITIES:
        raise ValueError(f"Unknown capability {capability!r}; add it to CAPABILITIES first.")
    return capability in user_capabilities(user)
