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
        "safetyplan.read_own",
        "followup.work",
    }),
    DISPATCHER: frozenset({
        "incident.view", "incident.dispatch", "team.view", "contact.view_dispatch",
        "directory.view",
    }),
    TEAM_MEMBER: frozenset({
        "incident.view_own", "incident.field_update", "directory.view",
        "safetyplan.write_own",
    }),
    SUPERVISOR: frozenset({
        "contact.view", "contact.edit", "screening.edit", "triage.decide",
        "incident.request", "incident.view", "incident.dispatch", "team.view",
        "team.manage", "contact.view_dispatch", "directory.view", "directory.edit",
        "reports.view", "planning.use", "audit.view",
        "safetyplan.read_all", "safetyplan.export",
        "followup.work", "followup.supervise",
    }),
    ANALYST: frozenset({"reports.view", "planning.use", "directory.view"}),
    ADMINISTRATOR: frozenset({
        "team.view", "team.manage", "directory.view", "directory.edit", "matrix.edit",
        "staff.manage", "audit.view", "reports.view", "planning.use",
    }),
}

ALL_CAPABILITIES = frozenset().union(*CAPABILITIES.values())

# Admin screens each capability opens, as (app label, model, actions). The
# role groups get these Django permissions, so the admin shows a supervisor
# the directory and teams and an administrator the configuration.
ADMIN_PERMISSIONS: dict[str, tuple[tuple[str, str, tuple[str, ...]], ...]] = {
    "matrix.edit": (("core", "riskmatrix", ("view", "add", "change", "delete")),),
    "directory.edit": (("core", "facility", ("view", "add", "change", "delete")),),
    "team.manage": (
        ("core", "team", ("view", "add", "change", "delete")),
        ("core", "teammember", ("view", "add", "change", "delete")),
        ("core", "station", ("view", "add", "change", "delete")),
    ),
    "staff.manage": (
        ("auth", "user", ("view", "add", "change", "delete")),
        ("auth", "group", ("view",)),
        ("core", "partner", ("view", "add", "change", "delete")),
    ),
    "audit.view": (("audit", "auditentry", ("view",)),),
}
ADMIN_CAPABILITIES = frozenset(ADMIN_PERMISSIONS)


def ensure_role_groups() -> None:
    """Create the role groups and give each the admin permissions of its capabilities."""
    from django.contrib.auth.models import Permission

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [
            (app_label, f"{action}_{model}")
            for capability in sorted(CAPABILITIES[role] & ADMIN_CAPABILITIES)
            for app_label, model, actions in ADMIN_PERMISSIONS[capability]
            for action in actions
        ]
        permissions = [
            permission
            for permission in Permission.objects.filter(
                content_type__app_label__in={app for app, _ in wanted}
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group.permissions.set(permissions)


def uses_admin(user) -> bool:
    """Return whether the user may open the administration site."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or bool(user_capabilities(user) & ADMIN_CAPABILITIES)


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
