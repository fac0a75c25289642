"""Mobile teams: composition rules, status and position."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Iterable

from django.db import transaction
from django.utils import timezone

from crisishub.core import events
from crisishub.core.errors import InvalidInput
from crisishub.core.models import Language, MemberRole, Station, Team, TeamMember, TeamStatus

logger = logging.getLogger(__name__)

# Words that mark a law-enforcement member; such a team is rejected because
# the program's teams are never police. A role matches when any of its words
# is listed ("Police Officer", "sheriff's deputy") or it contains "law enforcement".
LAW_ENFORCEMENT_WORDS = frozenset({
    "police", "officer", "sheriff", "sheriffs", "deputy", "cop", "trooper", "marshal",
    "constable", "chp",
})


def is_law_enforcement_role(role: str) -> bool:
    words = re.findall(r"[a-z]+", role.lower().replace("'", ""))
    joined = " ".join(words)
    return bool(LAW_ENFORCEMENT_WORDS.intersection(words)) or "law enforcement" in joined \
        or "peace officer" in joined


def validate_members(members: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Check that members are exactly one counselor and one peer."""
    members = list(members)
    for index, member in enumerate(members):
        role = str(member.get("role", "")).strip().lower()
        if is_law_enforcement_role(role):
            raise InvalidInput.for_field(
                f"members[{index}].role",
                f"Role {member.get('role')!r} is law enforcement; mobile crisis teams never include police.",
                "Staff the team with a mental health counselor and a peer.",
            )
        if role not in MemberRole.values:
            raise InvalidInput.for_field(
                f"members[{index}].role", f"Invalid role {member.get('role')!r}.",
                f"Use one of: {', '.join(MemberRole.values)}.",
            )
        for language in member.get("languages", []):
            if language not in Language.values:
                raise InvalidInput.for_field(
                    f"members[{index}].languages", f"Unknown language code {language!r}.",
                    f"Use one of: {', '.join(Language.values)}.",
                )
        if not str(member.get("display_name", "")).strip():
            raise InvalidInput.for_field(
                f"members[{index}].display_name", "A team member needs a name.",
                "Give the member's display name.",
            )
    roles = sorted(str(m["role"]).strip().lower() for m in members)
    if roles != [MemberRole.COUNSELOR, MemberRole.PEER]:
        raise InvalidInput.for_field(
            "members",
            f"A team must be one counselor and one peer; got {roles or 'no members'}.",
            "List exactly one member with role 'counselor' and one with role 'peer'.",
        )
    return members


def do_create_team(
    *,
    name: str,
    members: Iterable[dict[str, Any]],
    vehicle: str = "",
    station: Station | None = None,
    status: str = TeamStatus.AVAILABLE,
    shift_start: dt.time | None = None,
    shift_end: dt.time | None = None,
    at: dt.datetime | None = None,
) -> Team:
    now = at or timezone.now()
    members = validate_members(members)
    if not name.strip():
        raise InvalidInput.for_field("name", "A team needs a name.", "Give the team's call sign.")
    if Team.objects.filter(name=name.strip()).exists():
        raise InvalidInput.for_field(
            "name", f"A team named {name.strip()!r} already exists.", "Give the team another call sign."
        )
    languages = sorted({lang for m in members for lang in m.get("languages", [])})
    with transaction.atomic():
        team = Team.objects.create(
            name=name.strip(), vehicle=vehicle, station=station, status=status,
            status_since=now, shift_start=shift_start, shift_end=shift_end,
            languages=languages,
            last_latitude=station.latitude if station else None,
            last_longitude=station.longitude if station else None,
            last_position_at=now if station else None,
        )
        for member in members:
            TeamMember.objects.create(
                team=team, user=member.get("user"),
                display_name=str(member["display_name"]).strip(),
                role=str(member["role"]).strip().lower(),
                languages=list(member.get("languages", [])),
            )
    logger.info("Created team %s (%s)", team.pk, team.name)
    return team


def do_set_team_status(team: Team, status: str, *, at: dt.datetime | None = None) -> Team:
    """Set a team's status outside an incident (on or off duty, out of service)."""
    if status not in TeamStatus.values:
        raise InvalidInput.for_field(
            "status", f"Invalid team status {status!r}.", f"Use one of: {', '.join(TeamStatus.values)}."
        )
    now = at or timezone.now()
    team.status = status
    team.status_since = now
    team.save(update_fields=["status", "status_since"])
    events.publish_on_commit("team.status", team_payload(team))
    return team


POSITION_FIELDS = ["last_latitude", "last_longitude", "last_position_at"]


def apply_team_position(team: Team, latitude: float, longitude: float, at: dt.datetime) -> None:
    """Check the position and set the team's :data:`POSITION_FIELDS`; saves nothing."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput.for_field(
            "position", f"Position {latitude!r}, {longitude!r} is out of range.",
            "Send decimal degrees.",
        )
    team.last_latitude = latitude
    team.last_longitude = longitude
    team.last_position_at = at


def do_update_team_position(team: Team, latitude: float, longitude: float, *, at: dt.datetime | None = None) -> Team:
    apply_team_position(team, latitude, longitude, at or timezone.now())
    team.save(update_fields=POSITION_FIELDS)
    events.publish_on_commit("team.position", team_payload(team))
    return team


def team_payload(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "status": team.status,
        "status_since": team.status_since.isoformat(),
        "languages": team.languages,
        "latitude": team.last_latitude,
        "longitude": team.last_longitude,
    }
