"""What the dispatcher console shows: the queue, the team board, alerts.

The check-in watcher lives here too. There is no background worker: the
board fragment calls :func:`overdue_checkins` on every render, and
``dispatch.js`` re-checks each on-scene team's due time once a second, so
an overdue team is flagged within a second even if nothing else changes.
A team's emergency alert arrives at once as a ``team.emergency`` event and
stays on the board, read back from the incident timeline, until the team
checks in again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Max, Q
from django.utils.translation import gettext as _

from crisishub.core.models import (
    Incident, IncidentEvent, IncidentStatus, Team, TeamStatus,
)
from crisishub.core.services.dispatch import OPEN_STATUSES

# Shares of the response standard at which the timer changes colour.
WARNING_SHARE = 0.75
CRITICAL_SHARE = 0.90

# Statuses before the team reaches the person; the standard runs until then.
STANDARD_RUNNING = (
    IncidentStatus.PENDING, IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE,
)
# Team statuses in which the on-scene check-in timer runs.
CHECKIN_STATUSES = (TeamStatus.ON_SCENE,)


@dataclass(frozen=True)
class Timer:
    """Minutes since T0 against the incident's response standard."""

    elapsed_minutes: float
    standard_minutes: int
    state: str  # "ok", "warning", "critical" or "missed"

    @property
    def label(self) -> str:
        labels = {
            "ok": _("on track"),
            "warning": _("approaching the standard"),
            "critical": _("about to miss the standard"),
            "missed": _("standard missed"),
        }
        return labels[self.state]


def timer_state(elapsed_minutes: float, standard_minutes: int) -> str:
    """Classify a wait: ok, warning at 75%, critical at 90%, missed past 100%."""
    share = elapsed_minutes / standard_minutes
    if share > 1.0:
        return "missed"
    if share >= CRITICAL_SHARE:
        return "critical"
    if share >= WARNING_SHARE:
        return "warning"
    return "ok"


def incident_timer(incident: Incident, now: dt.datetime) -> Timer:
    elapsed = max(0.0, (now - incident.t0).total_seconds() / 60.0)
    standard = incident.standard_minutes
    return Timer(round(elapsed, 1), standard, timer_state(elapsed, standard))


@dataclass(frozen=True)
class QueueRow:
    incident: Incident
    timer: Timer | None


def pending_queue(now: dt.datetime) -> list[QueueRow]:
    """Return pending incidents, highest priority first, then longest waiting."""
    incidents = (
        Incident.objects.filter(status=IncidentStatus.PENDING)
        .order_by("priority", "t0", "pk")
    )
    return [QueueRow(incident, incident_timer(incident, now)) for incident in incidents]


def active_incidents(now: dt.datetime) -> list[QueueRow]:
    """Return incidents a team is working, with the timer until on scene."""
    incidents = (
        Incident.objects.filter(status__in=OPEN_STATUSES)
        .exclude(status=IncidentStatus.PENDING)
        .select_related("team")
        .order_by("priority", "t0", "pk")
    )
    rows = []
    for incident in incidents:
        running = incident.status in STANDARD_RUNNING
        rows.append(QueueRow(incident, incident_timer(incident, now) if running else None))
    return rows


@dataclass(frozen=True)
class OverdueCheckin:
    team: Team
    due_at: dt.datetime
    minutes_overdue: float


def checkin_due_at(team: Team) -> dt.datetime | None:
    """Return when an on-scene team's next check-in is due, else None."""
    if team.status not in CHECKIN_STATUSES:
        return None
    last = team.last_checkin_at or team.status_since
    return last + dt.timedelta(minutes=settings.CHECKIN_INTERVAL_MINUTES)


def overdue_checkins(now: dt.datetime, teams: list[Team] | None = None) -> list[OverdueCheckin]:
    """Return on-scene teams whose check-in is overdue at ``now``."""
    if teams is None:
        teams = list(Team.objects.filter(is_active=True, status__in=CHECKIN_STATUSES))
    overdue = []
    for team in teams:
        due = checkin_due_at(team)
        if due is not None and now > due:
            minutes = round((now - due).total_seconds() / 60.0, 1)
            overdue.append(OverdueCheckin(team, due, minutes))
    return overdue


def open_emergencies(teams: list[Team]) -> dict[int, dt.datetime]:
    """Map team id to the time of its emergency alert not yet followed by a
    check-in, for teams on an open incident."""
    team_ids = [team.pk for team in teams]
    rows = (
        IncidentEvent.objects.filter(
            team_id__in=team_ids,
            incident__status__in=OPEN_STATUSES,
            incident__team_id=F("team_id"),
        )
        .values("team_id")
        .annotate(
            emergency=Max("occurred_at", filter=Q(kind=IncidentEvent.Kind.EMERGENCY)),
            checkin=Max("occurred_at", filter=Q(kind=IncidentEvent.Kind.CHECK_IN)),
        )
    )
    alerts = {}
    for row in rows:
        emergency, checkin = row["emergency"], row["checkin"]
        if emergency is not None and (checkin is None or checkin < emergency):
            alerts[row["team_id"]] = emergency
    return alerts


@dataclass(frozen=True)
class TeamCard:
    team: Team
    minutes_in_status: float
    incident: Incident | None
    checkin_due_at: dt.datetime | None
    checkin_overdue: bool
    emergency_at: dt.datetime | None


def team_cards(now: dt.datetime, team_id: int | None = None) -> list[TeamCard]:
    """Build the board: every active team, or only ``team_id``."""
    teams = Team.objects.filter(is_active=True).order_by("name")
    if team_id is not None:
        teams = teams.filter(pk=team_id)
    teams = list(teams)
    current = {
        incident.team_id: incident
        for incident in Incident.objects.filter(
            team__in=teams, status__in=OPEN_STATUSES
        ).exclude(status=IncidentStatus.PENDING)
    }
    emergencies = open_emergencies(teams)
    cards = []
    for team in teams:
        due = checkin_due_at(team)
        cards.append(
            TeamCard(
                team=team,
                minutes_in_status=round((now - team.status_since).total_seconds() / 60.0, 1),
                incident=current.get(team.pk),
                checkin_due_at=due,
                checkin_overdue=due is not None and now > due,
                emergency_at=emergencies.get(team.pk),
            )
        )
    return cards


def map_features(now: dt.datetime) -> dict:
    """Return teams and open incidents with a position, for the map."""
    teams = [
        {
            "id": team.pk, "name": team.name, "status": team.status,
            "status_label": team.get_status_display(),
            "latitude": team.last_latitude, "longitude": team.last_longitude,
        }
        for team in Team.objects.filter(is_active=True, last_latitude__isnull=False)
    ]
    incidents = [
        {
            "id": incident.pk, "number": incident.number, "priority": incident.priority,
            "status": incident.status, "status_label": incident.get_status_display(),
            "latitude": incident.latitude, "longitude": incident.longitude,
        }
        for incident in Incident.objects.filter(
            status__in=OPEN_STATUSES, latitude__isnull=False
        )
    ]
    return {"at": now.isoformat(), "teams": teams, "incidents": incidents}


def county_outline() -> list[list[float]]:
    """Return the county boundary as [latitude, longitude] pairs for Leaflet."""
    from crisishub import datapack

    return [[lat, lon] for lon, lat in datapack.load_boundary()]
