"""What the dispatcher console shows: the queue, the team board, alerts.

The check-in watcher lives here too. There is no background worker: the
board fragment calls :func:`overdue_checkins` on every render, and
``dispatch.js`` re-checks each on-scene team's due time once a second, so
an overdue team is flagged within a second even if nothing else changes.
A team's emergency alert arrives at once as a ``team.emergency`` event.
It stays at the top of every dispatch console, read back from the incident
timeline, until a dispatcher acknowledges it (a note event on the same
timeline that names the emergency event). The team card shows it until the
team checks in again. The team's own phone shows the alert as waiting, and
then who acknowledged it (:func:`team_emergency`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crisishub.audit.models import AuditEntry
from crisishub.audit.signals import write_entry
from crisishub.core import events
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

    @property
    def last_checkin_at(self) -> dt.datetime:
        """The last check-in, or the arrival on scene before the first one."""
        return self.team.last_checkin_at or self.team.status_since


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


# Key in the ``detail`` of the note event that acknowledges an emergency
# alert. Its value is the id of the emergency event.
ACKNOWLEDGED_EMERGENCY_KEY = "acknowledged_emergency_id"


def unacknowledged_emergencies() -> list[IncidentEvent]:
    """Return every emergency alert no dispatcher has acknowledged yet,
    oldest first, whatever the state of its incident."""
    acknowledged = {
        detail.get(ACKNOWLEDGED_EMERGENCY_KEY)
        for detail in IncidentEvent.objects.filter(
            kind=IncidentEvent.Kind.NOTE, detail__has_key=ACKNOWLEDGED_EMERGENCY_KEY
        ).values_list("detail", flat=True)
    }
    return list(
        IncidentEvent.objects.filter(kind=IncidentEvent.Kind.EMERGENCY)
        .exclude(pk__in=[pk for pk in acknowledged if isinstance(pk, int)])
        .select_related("team", "incident")
        .order_by("occurred_at", "pk")
    )


@dataclass(frozen=True)
class TeamEmergency:
    """A team's latest emergency alert and its acknowledgement, if any."""

    alert: IncidentEvent
    acknowledgement: IncidentEvent | None


def team_emergency(team: Team) -> TeamEmergency | None:
    """Return the team's latest emergency alert while the team's phone shows it.

    An unacknowledged alert is shown until a dispatcher acknowledges it, as
    on the dispatch console. An acknowledged one is shown until the team
    checks in again or its incident is no longer open.
    """
    alert = (
        IncidentEvent.objects.filter(team=team, kind=IncidentEvent.Kind.EMERGENCY)
        .select_related("incident")
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if alert is None:
        return None
    acknowledgement = (
        IncidentEvent.objects.filter(
            incident_id=alert.incident_id, kind=IncidentEvent.Kind.NOTE,
            **{f"detail__{ACKNOWLEDGED_EMERGENCY_KEY}": alert.pk},
        )
        .order_by("occurred_at", "pk")
        .first()
    )
    if acknowledgement is None:
        return TeamEmergency(alert, None)
    checked_in_since = team.last_checkin_at is not None and team.last_checkin_at > alert.occurred_at
    if checked_in_since or alert.incident.status not in OPEN_STATUSES:
        return None
    return TeamEmergency(alert, acknowledgement)


# Minutes for which the console lists an acknowledgement under the alerts,
# so every dispatcher sees who took the emergency.
ACKNOWLEDGEMENT_SHOWN_MINUTES = 10


def recent_acknowledgements(now: dt.datetime) -> list[IncidentEvent]:
    """Return the emergency acknowledgements of the last few minutes, newest first."""
    since = now - dt.timedelta(minutes=ACKNOWLEDGEMENT_SHOWN_MINUTES)
    return list(
        IncidentEvent.objects.filter(
            kind=IncidentEvent.Kind.NOTE, detail__has_key=ACKNOWLEDGED_EMERGENCY_KEY,
            occurred_at__gte=since,
        )
        .exclude(actor__isnull=True)
        .select_related("team")
        .order_by("-occurred_at", "-pk")
    )


def acknowledge_emergency(event_id: int, user) -> IncidentEvent:
    """Record that ``user`` acknowledged emergency event ``event_id``.

    Returns the acknowledgement note, or the earlier one when another
    dispatcher acknowledged first. Raises ``IncidentEvent.DoesNotExist``
    when ``event_id`` is no emergency event. The note goes on the incident
    timeline (who and when), an audit entry is written, and every dispatch
    console hears ``team.emergency_acknowledged``.
    """
    emergency = IncidentEvent.objects.select_related("team", "incident").get(
        pk=event_id, kind=IncidentEvent.Kind.EMERGENCY
    )
    with transaction.atomic():
        # The incident row lock makes two dispatchers' clicks record one note.
        incident = Incident.objects.select_for_update().get(pk=emergency.incident_id)
        earlier = IncidentEvent.objects.filter(
            incident=incident, kind=IncidentEvent.Kind.NOTE,
            **{f"detail__{ACKNOWLEDGED_EMERGENCY_KEY}": emergency.pk},
        ).select_related("actor").first()
        if earlier is not None:
            return earlier
        note = IncidentEvent.objects.create(
            incident=incident, kind=IncidentEvent.Kind.NOTE, team=emergency.team,
            actor=user, actor_label=user.username, occurred_at=timezone.now(),
            detail={ACKNOWLEDGED_EMERGENCY_KEY: emergency.pk,
                    "text": "Emergency alert acknowledged"},
        )
        write_entry(
            AuditEntry.Action.CHANGE, incident,
            {"emergency_acknowledged": [None, emergency.pk]},
            message=f"Acknowledged the emergency alert of team "
                    f"{emergency.team.name if emergency.team else '-'} "
                    f"raised at {emergency.occurred_at.isoformat()}",
        )
        payload = {
            "id": emergency.team_id, "name": emergency.team.name if emergency.team else "",
            "incident_id": incident.pk, "emergency_event_id": emergency.pk,
        }
        events.publish_on_commit("team.emergency_acknowledged", payload)
    return note


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
