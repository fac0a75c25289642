"""Replay crisis events through the hub's services in simulated time.

Each event becomes a contact, a screening, a triage decision by the active
matrix and, where the matrix calls for one, a mobile response that the
same dispatch services assign, move through its statuses and clear. The
clock is simulated: every service call gets the simulated time as ``at``.

By default the replay applies the services' rules to rows in memory and
writes them, with their audit entries, in bulk in one transaction
(:class:`~crisishub.replay.hub.BulkCalls`). ``bulk=False`` calls the
per-request services instead, one transaction per call, as the consoles
do; both write the same rows and print the same report.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from django.db import connection, transaction

from crisishub.audit.context import acting_as
from crisishub.core import events as live_events
from crisishub.core.errors import Conflict
from crisishub.core.models import (
    Facility, IncidentStatus, NoTeamReason, Path, Station, Team, TeamStatus,
)
from crisishub.core.services import dispatch
from crisishub.replay.draws import DRAWN_FIELDS, REAL_FIELDS, EventDraws, draw_for_events
from crisishub.replay.hub import ACTOR, BulkCalls, ServiceCalls
from crisishub.replay.types import ReplayEvent, StationSpec

logger = logging.getLogger(__name__)

# Databases whose id sequences BulkCalls can read and advance.
BULK_VENDORS = ("sqlite", "postgresql")


@dataclass
class _IncidentState:
    incident_id: int
    number: str
    t0: dt.datetime
    priority: int
    area_class: str
    language: str
    draws: EventDraws
    team_id: int | None = None
    on_scene_at: dt.datetime | None = None
    done: bool = False


@dataclass
class ReplayResult:
    events: int = 0
    contacts: int = 0
    mobile_requests: int = 0
    dispatched: int = 0
    no_team: dict[str, int] = field(default_factory=dict)
    response_minutes: list[float] = field(default_factory=list)
    within: dict[str, list[bool]] = field(default_factory=lambda: {"urban": [], "rural": []})
    language_concordant: list[bool] = field(default_factory=list)
    law_enforcement: list[bool] = field(default_factory=list)
    busy_minutes: dict[str, float] = field(default_factory=dict)
    span_minutes: float = 0.0


class Replay:
    """One replay run; call :meth:`run` once."""

    def __init__(
        self,
        events: Sequence[ReplayEvent],
        stations: Sequence[StationSpec],
        team_count: int,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
        bulk: bool = True,
    ):
        if team_count < 1:
            raise ValueError(f"Invalid team count {team_count}: the fleet needs at least 1 team.")
        if not stations:
            raise ValueError("No stations given: pass at least one station.")
        self.events = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
        self.stations = list(stations)
        self.team_count = team_count
        self.seed = seed
        self.progress = progress
        self.bulk = bulk and connection.vendor in BULK_VENDORS
        self.rng = np.random.default_rng(seed)
        self.result = ReplayResult()
        self._queue: list = []
        self._sequence = itertools.count()
        self._pending: list[_IncidentState] = []
        self._states: dict[int, _IncidentState] = {}
        self._busy_since: dict[int, dt.datetime] = {}

    # -- setup ------------------------------------------------------------

    def _create_fleet(self, start: dt.datetime) -> None:
        from crisishub.core.services.teams import do_create_team
        from crisishub.core.setup import DEMO_TEAMS

        station_rows = [
            Station.objects.get_or_create(
                name=s.name, defaults={"latitude": s.latitude, "longitude": s.longitude}
            )[0]
            for s in self.stations
        ]
        for index in range(self.team_count):
            _, _, (counselor, peer) = DEMO_TEAMS[index % len(DEMO_TEAMS)]
            do_create_team(
                name=f"R-{index + 1:03d}",
                station=station_rows[index % len(station_rows)],
                members=[
                    {"display_name": f"Counselor {index + 1}", "role": "counselor", "languages": counselor[1]},
                    {"display_name": f"Peer {index + 1}", "role": "peer", "languages": peer[1]},
                ],
                status=TeamStatus.AVAILABLE, at=start,
            )
        self.team_names = dict(Team.objects.values_list("pk", "name"))
        self.team_home = {
            team.pk: (team.station.latitude, team.station.longitude)
            for team in Team.objects.select_related("station")
        }
        self.destinations = [
            (f.pk, f.latitude, f.longitude)
            for f in Facility.objects.filter(
                is_active=True, kind__in=["mental_health_urgent_care", "emergency_department"]
            ).exclude(latitude=None)
        ]

    # -- event loop -------------------------------------------------------

    def _schedule(self, at: dt.datetime, action: str, payload) -> None:
        heapq.heappush(self._queue, (at, next(self._sequence), action, payload))

    def run(self) -> ReplayResult:
        if not self.events:
            raise ValueError("The events file has no events.")
        start = self.events[0].occurred_at
        draws = draw_for_events(len(self.events), self.rng)
        live_events.set_enabled(False)
        try:
            with acting_as(label=ACTOR):
                if self.bulk:
                    # One transaction: BulkCalls assigns ids in memory, which
                    # needs the tables to itself, and a failed replay leaves
                    # nothing behind.
                    with transaction.atomic():
                        last = self._run_events(start, draws)
                else:
                    last = self._run_events(start, draws)
        finally:
            live_events.set_enabled(True)
        self.result.events = len(self.events)
        self.result.span_minutes = max((last - start).total_seconds() / 60.0, 1e-9)
        return self.result

    def _run_events(self, start: dt.datetime, draws: list[EventDraws]) -> dt.datetime:
        """Create the fleet, play every event; return the last state change."""
        self._create_fleet(start)
        self.hub = BulkCalls([pk for pk, _, _ in self.destinations]) if self.bulk else ServiceCalls()
        self.hub.start()
        for event, event_draws in zip(self.events, draws):
            self._schedule(event.occurred_at, "call", (event, event_draws))
        last = start
        handled = 0
        while self._queue:
            at, _, action, payload = heapq.heappop(self._queue)
            acted = getattr(self, f"_on_{action}")(at, payload)
            # A timeout for an incident that already has a team
            # changes nothing and does not extend the span.
            if acted is not False:
                last = max(last, at)
            if action == "call":
                handled += 1
                if self.progress:
                    self.progress(handled, len(self.events))
        self.hub.finish()
        return last

    def _count_no_team(self, reason: str) -> None:
        self.result.no_team[reason] = self.result.no_team.get(reason, 0) + 1

    def _on_call(self, at: dt.datetime, payload) -> None:
        event, draws = payload
        answered = at + dt.timedelta(minutes=draws.answer_delay)
        t0 = answered + dt.timedelta(minutes=draws.assessment)
        contact = self.hub.create_contact(event, draws, at, answered)
        self.result.contacts += 1
        screening = self.hub.record_screening(contact, draws, t0)
        decision = self.hub.decide_triage(contact, screening, draws, t0)
        if decision.final_path != Path.MOBILE_RESPONSE:
            reason = {
                Path.EMERGENCY_911_EMS: NoTeamReason.ROUTED_TO_911_EMS,
                Path.RESOLVE_BY_PHONE: NoTeamReason.RESOLVED_BY_PHONE,
                Path.WARM_HANDOFF: "warm_handoff",
            }[decision.final_path]
            self._count_no_team(str(reason))
            return
        incident = self.hub.request_mobile_response(contact, decision, t0)
        self.result.mobile_requests += 1
        if incident.status == IncidentStatus.NO_TEAM:
            self._count_no_team(incident.no_team_reason)
            return
        state = _IncidentState(
            incident.pk, incident.number, t0, incident.priority, incident.area_class,
            incident.language, draws,
        )
        self._states[incident.pk] = state
        self._pending.append(state)
        # Waiting past the arrival standard with no free team counts as "no
        # team available"; the request is closed then.
        self._schedule(t0 + dt.timedelta(minutes=120 if state.area_class == "rural" else 60), "timeout", state)
        self._dispatch_pending(t0)

    def _dispatch_pending(self, at: dt.datetime) -> None:
        self._pending.sort(key=lambda s: (s.priority, s.t0, s.incident_id))
        while self._pending:
            snapshot = self.hub.team_snapshot(at)
            if not snapshot.available.any():
                return
            state = self._pending[0]
            incident = self.hub.incident(state.incident_id)
            recommendations = dispatch.recommend_teams(incident, limit=1, snapshot=snapshot)
            if not recommendations:
                return
            best = recommendations[0]
            try:
                self.hub.assign_team(state.incident_id, best.team_id, at)
            except Conflict:
                logger.exception("Replay assignment conflict on %s", state.number)
                return
            self._pending.pop(0)
            state.team_id = best.team_id
            self._busy_since[best.team_id] = at
            self.result.dispatched += 1
            self.result.language_concordant.append(best.language_match)
            turnout = dt.timedelta(minutes=state.draws.turnout)
            self._schedule(at + turnout, "en_route", (state, best.eta_minutes))

    def _on_timeout(self, at: dt.datetime, state: _IncidentState) -> bool:
        if state.team_id is not None or state.done:
            return False
        self._pending.remove(state)
        self.hub.record_no_team(
            state.incident_id, NoTeamReason.NO_TEAM_AVAILABLE, "no team free within the arrival standard", at,
        )
        state.done = True
        self._count_no_team(NoTeamReason.NO_TEAM_AVAILABLE)
        self.result.within[state.area_class].append(False)
        return True

    def _on_en_route(self, at: dt.datetime, payload) -> None:
        state, eta_minutes = payload
        self.hub.record_status(state.incident_id, IncidentStatus.EN_ROUTE, at)
        travel = self._travel_minutes(state)
        self._schedule(at + dt.timedelta(minutes=travel), "on_scene", state)

    def _travel_minutes(self, state: _IncidentState) -> float:
        from crisishub.core.recommend import _default_model

        team_latitude, team_longitude = self.hub.team_position(state.team_id)
        latitude, longitude = self.hub.incident_position(state.incident_id)
        return float(_default_model().minutes(team_latitude, team_longitude, latitude, longitude))

    def _on_on_scene(self, at: dt.datetime, state: _IncidentState) -> None:
        self.hub.record_status(state.incident_id, IncidentStatus.ON_SCENE, at)
        state.on_scene_at = at
        response = (at - state.t0).total_seconds() / 60.0
        self.result.response_minutes.append(response)
        standard = 120 if state.area_class == "rural" else 60
        self.result.within[state.area_class].append(response <= standard)
        self._schedule(at + dt.timedelta(minutes=state.draws.on_scene), "leave_scene", state)

    def _on_leave_scene(self, at: dt.datetime, state: _IncidentState) -> None:
        law = state.draws.law_enforcement
        self.result.law_enforcement.append(law != "none")
        if state.draws.transported and self.destinations:
            self.hub.record_status(state.incident_id, IncidentStatus.TRANSPORTING, at)
            destination_id, minutes = self._nearest_destination(state)
            self._schedule(at + dt.timedelta(minutes=minutes), "at_destination", (state, destination_id))
            return
        self._clear(at, state, destination_id=None)

    def _nearest_destination(self, state: _IncidentState) -> tuple[int, float]:
        from crisishub.core.recommend import _default_model

        latitude, longitude = self.hub.incident_position(state.incident_id)
        points = np.array([[lat, lon] for _, lat, lon in self.destinations])
        minutes = _default_model().minutes_many(points, np.array([latitude, longitude]))
        best = int(np.argmin(minutes))
        return self.destinations[best][0], float(minutes[best])

    def _on_at_destination(self, at: dt.datetime, payload) -> None:
        state, destination_id = payload
        self.hub.record_status(state.incident_id, IncidentStatus.AT_DESTINATION, at)
        self._schedule(at + dt.timedelta(minutes=state.draws.handoff), "clear", (state, destination_id))

    def _on_clear(self, at: dt.datetime, payload) -> None:
        state, destination_id = payload
        self._clear(at, state, destination_id)

    def _clear(self, at: dt.datetime, state: _IncidentState, destination_id: int | None) -> None:
        self.hub.record_status(state.incident_id, IncidentStatus.CLEARED, at)
        law = state.draws.law_enforcement
        self.hub.close_out(
            state.incident_id,
            disposition="voluntary_transport" if destination_id else "resolved_in_community",
            law_enforcement=law,
            law_enforcement_reason="" if law == "none" else "drawn by the replay",
            transport_destination_id=destination_id,
            transport_consent=True if destination_id else None,
        )
        state.done = True
        # The team drives back to its station; the replay places it there
        # at once.
        home = self.team_home[state.team_id]
        self.hub.move_team(state.team_id, home[0], home[1], at)
        name = self.team_names[state.team_id]
        busy = (at - self._busy_since.pop(state.team_id)).total_seconds() / 60.0
        self.result.busy_minutes[name] = self.result.busy_minutes.get(name, 0.0) + busy
        self._dispatch_pending(at)


def summarize(result: ReplayResult, *, seed: int, team_names: Sequence[str], matrix_version: str) -> dict:
    """Build the replay's report: what the program is judged on."""

    def share(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    response = np.array(result.response_minutes)
    percentiles = (
        {"p50": round(float(np.percentile(response, 50)), 1), "p90": round(float(np.percentile(response, 90)), 1)}
        if response.size else {"p50": None, "p90": None}
    )
    utilization = {
        name: round(result.busy_minutes.get(name, 0.0) / result.span_minutes, 4) for name in team_names
    }
    return {
        "events": result.events,
        "mobile_requests": result.mobile_requests,
        "dispatched": result.dispatched,
        "no_team": dict(sorted(result.no_team.items())),
        "response_minutes": percentiles,
        "within_standard_share": {
            "urban": share(result.within["urban"]),
            "rural": share(result.within["rural"]),
        },
        "language_concordant_share": share(result.language_concordant),
        "team_utilization": {
            "mean": round(float(np.mean(list(utilization.values()))), 4) if utilization else None,
            "by_team": utilization,
        },
        "law_enforcement_share": share(result.law_enforcement),
        "definitions": {
            "response_minutes": (
                "T0 (mobile response determined needed) to on scene, dispatched incidents; "
                "percentiles interpolate linearly between ranks"
            ),
            "within_standard_share": (
                "mobile requests in the service area reached within 60 min (urban) or 120 min "
                "(rural) of T0; a request that got no team counts as missed"
            ),
            "language_concordant_share": "dispatched incidents whose team speaks the person's language",
            "team_utilization": (
                "minutes from assignment to clear, over the replay span (first event to the "
                "last state change)"
            ),
            "law_enforcement_share": "dispatched incidents with any law-enforcement involvement",
        },
        "seed": seed,
        "teams": len(team_names),
        "matrix_version": matrix_version,
        "fields": {"real": REAL_FIELDS, "drawn": DRAWN_FIELDS},
    }
