"""Permission matrix: each role against every screen that exists now.

Each row of ENDPOINTS names a request and the roles allowed to make it.
Every other role, and a signed-in user without a role, must get 403, and
that attempt must be in the audit trail. Add a row when a screen is added.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import Resolver404, resolve

from crisishub.audit.models import AuditEntry
from crisishub.core import roles

pytestmark = pytest.mark.django_db

C, D, T, S, A, ADMIN = (
    roles.CALL_COUNSELOR, roles.DISPATCHER, roles.TEAM_MEMBER, roles.SUPERVISOR, roles.ANALYST,
    roles.ADMINISTRATOR,
)
OUTSIDER = "outsider"
PERSONAS = (*roles.ROLES, OUTSIDER)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # "{incident}" is replaced by a pending incident's id, "{contact}" by a contact's
    allowed: frozenset[str]
    data: tuple = ()


@pytest.fixture
def personas(db):
    """One user per role plus an outsider, signed in with force_login, so no
    password is hashed."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    roles.ensure_role_groups()
    users = {}
    for persona in PERSONAS:
        user = get_user_model().objects.create(username=persona)
        if persona != OUTSIDER:
            user.groups.add(Group.objects.get(name=persona))
        users[persona] = user
    return users


def endpoint(name, path, allowed, method="get", data=()):
    return Endpoint(name, method, path, frozenset(allowed), tuple(data))


ENDPOINTS = [
    endpoint("counselor console", "/counselor/", {C, S}),
    endpoint("dispatch console", "/dispatch/", {D, S}),
    endpoint("dispatch queue", "/dispatch/queue/", {D, S}),
    endpoint("dispatch board", "/dispatch/board/", {D, S}),
    endpoint("dispatch map data", "/dispatch/map.json", {D, S}),
    endpoint("incident panel", "/dispatch/incidents/{incident}/", {D, S}),
    endpoint("record no team", "/dispatch/incidents/{incident}/no-team/", {D, S}, method="post",
             data=(("reason", "person_declined"), ("detail", "matrix test"))),
    endpoint("follow-up queue", "/followup/", {C, S}),
    endpoint("follow-up escalations", "/followup/escalations/", {S}),
    endpoint("follow-up attempt", "/followup/tasks/1/attempts/", {C, S}, method="post",
             data=(("attempt-1-outcome", "not-an-outcome"),)),
    endpoint("contact referrals", "/followup/contacts/{contact}/referrals/", {C, S}),
    endpoint("reports", "/reports/", {S, A, ADMIN}),
    endpoint("admin index", "/admin/", {S, ADMIN}),
    endpoint("admin matrices", "/admin/core/riskmatrix/", {ADMIN}),
    endpoint("admin facilities", "/admin/core/facility/", {S, ADMIN}),
    endpoint("admin teams", "/admin/core/team/", {S, ADMIN}),
    endpoint("admin stations", "/admin/core/station/", {S, ADMIN}),
    endpoint("admin staff", "/admin/auth/user/", {ADMIN}),
    endpoint("admin partners", "/admin/core/partner/", {ADMIN}),
    endpoint("admin audit trail", "/admin/audit/auditentry/", {S, ADMIN}),
]


def is_routed(path: str) -> bool:
    try:
        resolve(path.replace("{incident}", "1").replace("{contact}", "1"))
    except Resolver404:
        return False
    return True


CASES = [
    pytest.param(e, persona, id=f"{e.name}-{persona}")
    for e in ENDPOINTS
    for persona in PERSONAS
]


@pytest.mark.parametrize(("endpoint", "persona"), CASES)
def test_permission_matrix(client, personas, request, endpoint, persona):
    if not is_routed(endpoint.path):
        pytest.skip(f"{endpoint.path} is not mounted in this build")
    path = endpoint.path
    if "{incident}" in path:
        path = path.format(incident=request.getfixturevalue("make_incident")().pk)
    if "{contact}" in path:
        path = path.format(contact=request.getfixturevalue("make_contact")().pk)
    user = personas[persona]
    client.force_login(user)
    denials_before = AuditEntry.objects.filter(action="denied").count()

    response = getattr(client, endpoint.method)(path, dict(endpoint.data))

    denials = AuditEntry.objects.filter(action="denied", actor=user)
    if persona in endpoint.allowed:
        # Access was granted: the view ran, though an action's form may
        # still reject its input with a 400.
        assert response.status_code in (200, 302, 400), f"{persona} {path}: {response.status_code}"
        if response.status_code == 302:
            assert "/login" not in response["Location"]
        assert AuditEntry.objects.filter(action="denied").count() == denials_before
    else:
        assert response.status_code == 403, f"{persona} {path}: {response.status_code}"
        assert denials.count() == 1
        assert denials.get().request_path == path


@pytest.mark.parametrize("path", [e.path for e in ENDPOINTS if e.method == "get" and "{" not in e.path])
def test_anonymous_sent_to_sign_in(client, path):
    if not is_routed(path):
        pytest.skip(f"{path} is not mounted in this build")

    response = client.get(path)

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_denied_action_changes_nothing(client, personas, make_incident):
    incident = make_incident()
    client.force_login(personas[roles.ANALYST])

    response = client.post(f"/dispatch/incidents/{incident.pk}/no-team/", {"reason": "person_declined"})

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == "pending"


@pytest.mark.parametrize("persona", PERSONAS)
def test_staff_session_not_api_token(client, personas, reference_data, persona):
    client.force_login(personas[persona])

    response = client.post(
        "/api/v1/referrals", data={"priority": 2}, content_type="application/json",
        headers={"Idempotency-Key": "session-only"},
    )

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("persona", PERSONAS)
def test_openapi_public(client, personas, persona):
    client.force_login(personas[persona])

    assert client.get("/api/openapi.json").status_code == 200


def test_analyst_never_sees_person_records():
    analyst = roles.CAPABILITIES[roles.ANALYST]

    assert not any(cap.startswith(("contact.", "incident.", "screening.", "triage.")) for cap in analyst)


def test_every_role_has_capabilities():
    assert set(roles.CAPABILITIES) == set(roles.ROLES)
    for role in roles.ROLES:
        assert roles.CAPABILITIES[role], role


def test_admin_permissions_follow_capabilities(personas):
    supervisor = personas[roles.SUPERVISOR]
    administrator = personas[roles.ADMINISTRATOR]

    assert supervisor.has_perm("core.change_facility")
    assert not supervisor.has_perm("core.change_riskmatrix")
    assert administrator.has_perm("core.change_riskmatrix")
    assert administrator.has_perm("audit.view_auditentry")
    assert not administrator.has_perm("audit.change_auditentry")
    assert not personas[roles.DISPATCHER].has_perm("core.view_facility")
