"""Tests for team composition: one counselor and one peer, never police."""

from __future__ import annotations

import pytest

from crisishub.core.errors import InvalidInput
from crisishub.core.models import Team, TeamMember
from crisishub.core.services.teams import do_create_team, is_law_enforcement_role

pytestmark = pytest.mark.django_db

COUNSELOR = {"display_name": "Counselor Test", "role": "counselor", "languages": ["en", "es"]}
PEER = {"display_name": "Peer Test", "role": "peer", "languages": ["en", "vi"]}


def create(members, name="TEST-1"):
    return do_create_team(name=name, members=members)


def test_counselor_and_peer_accepted(db):
    team = create([COUNSELOR, PEER])

    assert team.members.count() == 2
    assert sorted(team.members.values_list("role", flat=True)) == ["counselor", "peer"]
    assert team.languages == ["en", "es", "vi"]


@pytest.mark.parametrize(
    ("members", "got"),
    [
        ([COUNSELOR], "['counselor']"),
        ([PEER], "['peer']"),
        ([COUNSELOR, COUNSELOR], "['counselor', 'counselor']"),
        ([PEER, PEER], "['peer', 'peer']"),
        ([COUNSELOR, PEER, PEER], "['counselor', 'peer', 'peer']"),
        ([], "no members"),
    ],
    ids=["counselor only", "peer only", "two counselors", "two peers", "three members", "empty"],
)
def test_wrong_composition_rejected(db, members, got):
    with pytest.raises(InvalidInput) as raised:
        create(members)

    error = raised.value.errors[0]
    assert error.field == "members"
    assert "one counselor and one peer" in error.message
    assert got in error.message
    assert "'counselor'" in error.fix
    assert "'peer'" in error.fix
    assert Team.objects.count() == 0
    assert TeamMember.objects.count() == 0


@pytest.mark.parametrize(
    "role",
    ["police", "Police Officer", "police_officer", "sheriff's deputy", "Deputy", "Law Enforcement",
     "peace officer", "CHP trooper", "cop"],
)
def test_police_member_rejected(db, role):
    officer = {"display_name": "Member Test", "role": role, "languages": ["en"]}

    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, PEER, officer])

    error = raised.value.errors[0]
    assert error.field == "members[2].role"
    assert repr(role) in error.message
    assert "never include police" in error.message
    assert "counselor and a peer" in error.fix
    assert Team.objects.count() == 0


def test_police_replacing_peer_rejected(db):
    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, {"display_name": "Member Test", "role": "police officer"}])

    assert raised.value.errors[0].field == "members[1].role"
    assert "law enforcement" in raised.value.errors[0].message


@pytest.mark.parametrize("role", ["counselor", "peer", "peer support", "clinician", "Policy analyst"])
def test_non_police_roles_not_flagged(role):
    assert is_law_enforcement_role(role) is False


def test_unknown_role_rejected(db):
    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, {"display_name": "Member Test", "role": "nurse"}])

    assert raised.value.errors[0].field == "members[1].role"
    assert "'nurse'" in raised.value.errors[0].message
    assert "counselor, peer" in raised.value.errors[0].fix


def test_unknown_language_rejected(db):
    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, {**PEER, "languages": ["en", "elvish"]}])

    assert raised.value.errors[0].field == "members[1].languages"
    assert "'elvish'" in raised.value.errors[0].message


def test_member_without_name_rejected(db):
    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, {**PEER, "display_name": "  "}])

    assert raised.value.errors[0].field == "members[1].display_name"


def test_duplicate_team_name_rejected(db):
    create([COUNSELOR, PEER])

    with pytest.raises(InvalidInput) as raised:
        create([COUNSELOR, PEER])

    assert raised.value.errors[0].field == "name"
    assert "'TEST-1'" in raised.value.errors[0].message
    assert Team.objects.count() == 1


def admin_team_form(station_id="", members=()):
    """Return the POST data of the admin's team form with member rows."""
    data = {
        "name": "ADMIN-1", "vehicle": "", "station": station_id, "status": "available",
        "status_since_0": "2026-01-05", "status_since_1": "10:00:00", "languages": "[]",
        "is_active": "on",
        "members-TOTAL_FORMS": str(len(members)), "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0", "members-MAX_NUM_FORMS": "1000",
    }
    for index, (name, role) in enumerate(members):
        data[f"members-{index}-display_name"] = name
        data[f"members-{index}-role"] = role
        data[f"members-{index}-languages"] = '["en"]'
    return data


def test_admin_rejects_two_peers(admin_client):
    response = admin_client.post(
        "/admin/core/team/add/", admin_team_form(members=[("Peer One", "peer"), ("Peer Two", "peer")])
    )

    assert response.status_code == 200
    assert b"A team must be one counselor and one peer" in response.content
    assert Team.objects.count() == 0


def test_admin_accepts_counselor_and_peer(admin_client):
    response = admin_client.post(
        "/admin/core/team/add/", admin_team_form(members=[("Counselor One", "counselor"), ("Peer One", "peer")])
    )

    assert response.status_code == 302
    team = Team.objects.get(name="ADMIN-1")
    assert team.members.count() == 2
    assert team.languages == ["en"]
