"""The hub operations a replay performs, in two implementations.

:class:`ServiceCalls` calls the per-request services the consoles and the
API use: one transaction, and one audited save per row, per call.
:class:`BulkCalls` applies the same service rules (the ``build_*``,
``check_*`` and ``apply_*`` functions) to rows held in memory and writes
them with :class:`~crisishub.replay.bulk.BulkWriter`. Both write the same
rows and the same audit entries for the same replay, and the replay is
judged on the same decisions.
"""

from __future__ import annotations

import bisect
import datetime as dt

from crisishub.core.models import (
    Assignment, Contact, Disposition, Facility, Incident, IncidentEvent, IncidentStatus,
    LocationPrecision, NoTeamReason, Screening, Team, TeamStatus, TriageDecision,
)
from crisishub.core.recommend import TeamSnapshot
from crisishub.core.services import dispatch, intake, teams, triage
from crisishub.replay.bulk import BulkWriter
from crisishub.replay.draws import CSSRS_ANSWERS, EventDraws
from crisishub.replay.types import ReplayEvent

ACTOR = "replay"


def _location(event: ReplayEvent) -> intake.LocationInput:
    return intake.LocationInput(
        latitude=event.latitude, longitude=event.longitude,
        precision=LocationPrecision.BLOCK, text=event.event_id,
    )


class ServiceCalls:
    """Each operation is one call to the per-request services."""

    def start(self) -> None:
        pass

    def finish(self) -> None:
        pass

    def create_contact(self, event: ReplayEvent, draws: EventDraws, at: dt.datetime, answered: dt.datetime) -> Contact:
        return intake.do_create_contact(
            source=Contact.Source.LIFELINE_988, offered_at=at, answered_at=answered,
            preferred_language=draws.language, location=_location(event),
            external_reference=event.event_id, at=at,
        )

    def record_screening(self, contact: Contact, draws: EventDraws, at: dt.datetime) -> Screening:
        return triage.do_record_screening(contact, cssrs_answers=CSSRS_ANSWERS[draws.risk], at=at)

    def decide_triage(self, contact: Contact, screening: Screening, draws: EventDraws, at: dt.datetime) -> TriageDecision:
        return triage.do_decide_triage(contact, screening, at=at, attempt_in_progress=draws.attempt_in_progress)

    def request_mobile_response(self, contact: Contact, decision: TriageDecision, at: dt.datetime) -> Incident:
        return dispatch.do_request_mobile_response(contact, decision=decision, actor=ACTOR, at=at)

    def team_snapshot(self, at: dt.datetime) -> TeamSnapshot:
        return dispatch.build_team_snapshot(at)

    def incident(self, incident_id: int) -> Incident:
        return Incident.objects.get(pk=incident_id)

    def assign_team(self, incident_id: int, team_id: int, at: dt.datetime) -> None:
        dispatch.do_assign_team(incident_id, team_id, actor=ACTOR, at=at)

    def record_no_team(self, incident_id: int, reason: str, detail: str, at: dt.datetime) -> None:
        dispatch.do_record_no_team(incident_id, reason, detail=detail, actor=ACTOR, at=at)

    def record_status(self, incident_id: int, status: str, at: dt.datetime) -> None:
        dispatch.do_record_status(incident_id, status, actor=ACTOR, at=at)

    def team_position(self, team_id: int) -> tuple[float, float]:
        team = Team.objects.only("last_latitude", "last_longitude").get(pk=team_id)
        return team.last_latitude, team.last_longitude

    def incident_position(self, incident_id: int) -> tuple[float, float]:
        incident = Incident.objects.only("latitude", "longitude").get(pk=incident_id)
        return incident.latitude, incident.longitude

    def close_out(self, incident_id: int, **fields) -> None:
        dispatch.do_close_out(incident_id, actor=ACTOR, **fields)

    def move_team(self, team_id: int, latitude: float, longitude: float, at: dt.datetime) -> None:
        teams.do_update_team_position(Team.objects.get(pk=team_id), latitude, longitude, at=at)


class BulkCalls:
    """The same operations on rows in memory, written in bulk at the end.

    Call :meth:`start` once the fleet exists and :meth:`finish` at the end,
    both inside the one transaction the replay runs in.
    """

    def __init__(self, destination_ids: list[int]):
        self.writer = BulkWriter(
            [Contact, Screening, TriageDecision, Incident, IncidentEvent, Assignment],
            [Contact, Incident, Assignment, Team],
        )
        self.destination_ids = destination_ids
        self.teams: dict[int, Team] = {}
        self.incidents: dict[int, Incident] = {}
        self.active_assignments: dict[int, Assignment] = {}
        # Each team's assignment times, in the order made (the replay's
        # clock never goes back).
        self.assigned_at: dict[int, list[dt.datetime]] = {}

    def start(self) -> None:
        self.writer.start()
        self.matrix = triage.get_active_matrix()
        self.facilities = Facility.objects.in_bulk(self.destination_ids)
        for team in Team.objects.select_related("station").order_by("pk"):
            self.teams[team.pk] = team
            self.assigned_at[team.pk] = []
            self.writer.track(team)
        for team_id, assigned_at in Assignment.objects.order_by("assigned_at").values_list("team_id", "assigned_at"):
            self.assigned_at[team_id].append(assigned_at)

    def finish(self) -> None:
        self.writer.finish()

    def create_contact(self, event: ReplayEvent, draws: EventDraws, at: dt.datetime, answered: dt.datetime) -> Contact:
        contact = intake.build_contact(
            source=Contact.Source.LIFELINE_988, offered_at=at, answered_at=answered,
            preferred_language=draws.language, location=_location(event),
            external_reference=event.event_id, at=at,
        )
        return self.writer.insert(contact)

    def record_screening(self, contact: Contact, draws: EventDraws, at: dt.datetime) -> Screening:
        screening = self.writer.insert(
            triage.build_screening(contact, cssrs_answers=CSSRS_ANSWERS[draws.risk], at=at)
        )
        # As do_record_screening does.
        if screening.imminent_risk and not contact.imminent_risk:
            contact.imminent_risk = True
            contact.updated_at = screening.created_at
            self.writer.update(contact, ["imminent_risk", "updated_at"])
        return screening

    def decide_triage(self, contact: Contact, screening: Screening, draws: EventDraws, at: dt.datetime) -> TriageDecision:
        decision = triage.build_triage_decision(
            contact, screening, self.matrix, at=at, attempt_in_progress=draws.attempt_in_progress,
        )
        self.writer.forget(contact)
        return self.writer.insert(decision)

    def request_mobile_response(self, contact: Contact, decision: TriageDecision, at: dt.datetime) -> Incident:
        # The steps of do_request_mobile_response, in its order.
        incident, placement = dispatch.build_incident(contact, decision=decision, at=at)
        self.writer.insert(incident)
        incident.number = dispatch.incident_number(incident)
        self.writer.update(incident, ["number"])
        now = incident.t0
        self.writer.insert(dispatch.new_incident_event(incident, IncidentEvent.Kind.REQUESTED, at=now, actor=ACTOR))
        if placement is not None and not placement.in_service_area:
            event = dispatch.apply_no_team(
                incident, NoTeamReason.OUTSIDE_SERVICE_AREA, placement.reason or "", now, ACTOR,
            )
            self.writer.update(incident, dispatch.NO_TEAM_FIELDS)
            self.writer.insert(event)
            self.writer.forget(incident)
        else:
            self.incidents[incident.pk] = incident
        return incident

    def team_snapshot(self, at: dt.datetime) -> TeamSnapshot:
        """Build what dispatch.build_team_snapshot reads from the database."""
        since = at - dispatch.WORKLOAD_WINDOW
        rows = []
        for pk, team in self.teams.items():
            if not team.is_active:
                continue
            latitude, longitude = team.last_latitude, team.last_longitude
            if latitude is None and team.station is not None:
                latitude, longitude = team.station.latitude, team.station.longitude
            if latitude is None:
                continue
            times = self.assigned_at[pk]
            workload = len(times) - bisect.bisect_left(times, since)
            rows.append((pk, team.name, latitude, longitude, team.status == TeamStatus.AVAILABLE,
                         team.languages, workload))
        return TeamSnapshot.from_rows(rows)

    def incident(self, incident_id: int) -> Incident:
        return self.incidents[incident_id]

    def assign_team(self, incident_id: int, team_id: int, at: dt.datetime) -> None:
        incident = self.writer.read(self.incidents[incident_id])
        team = self.writer.read(self.teams[team_id])
        assignment, event = dispatch.apply_assignment(incident, team, at, ACTOR)
        self.writer.insert(assignment)
        self.writer.update(incident, dispatch.ASSIGNMENT_INCIDENT_FIELDS)
        self.writer.update(team, dispatch.ASSIGNMENT_TEAM_FIELDS)
        self.writer.insert(event)
        self.active_assignments[incident_id] = assignment
        self.assigned_at[team_id].append(at)

    def record_no_team(self, incident_id: int, reason: str, detail: str, at: dt.datetime) -> None:
        incident = self.writer.read(self.incidents.pop(incident_id))
        dispatch.check_no_team(incident, reason, detail)
        event = dispatch.apply_no_team(incident, reason, detail, at, ACTOR)
        self.writer.update(incident, dispatch.NO_TEAM_FIELDS)
        self.writer.insert(event)
        self.writer.forget(incident)

    def record_status(self, incident_id: int, status: str, at: dt.datetime) -> None:
        # The steps of do_record_status, in its order.
        incident = self.writer.read(self.incidents[incident_id])
        dispatch.check_status(incident, status)
        team = self.writer.read(self.teams[incident.team_id])
        team_fields = dispatch.apply_status(incident, team, status, at)
        self.writer.update(incident, ["status"])
        self.writer.update(team, team_fields)
        if status == IncidentStatus.CLEARED:
            assignment = self.writer.read(self.active_assignments.pop(incident_id))
            assignment.active = False
            assignment.ended_at = at
            self.writer.update(assignment, ["active", "ended_at"])
            self.writer.forget(assignment)
        self.writer.insert(dispatch.new_incident_event(incident, status, at=at, actor=ACTOR, team=team))

    def team_position(self, team_id: int) -> tuple[float, float]:
        team = self.teams[team_id]
        return team.last_latitude, team.last_longitude

    def incident_position(self, incident_id: int) -> tuple[float, float]:
        incident = self.incidents[incident_id]
        return incident.latitude, incident.longitude

    def close_out(self, incident_id: int, **fields) -> None:
        # The steps of do_close_out, in its order.
        destination_id = fields.pop("transport_destination_id")
        dispatch.check_close_out(transport_destination_id=destination_id, **fields)
        destination = None
        if destination_id is not None and fields["disposition"] == Disposition.VOLUNTARY_TRANSPORT:
            destination = self.facilities[destination_id]
        incident = self.writer.read(self.incidents.pop(incident_id))
        dispatch.check_close_out_status(incident)
        dispatch.apply_close_out(incident, transport_destination=destination, **fields)
        self.writer.update(incident, dispatch.CLOSE_OUT_FIELDS)
        self.writer.forget(incident)

    def move_team(self, team_id: int, latitude: float, longitude: float, at: dt.datetime) -> None:
        team = self.writer.read(self.teams[team_id])
        teams.apply_team_position(team, latitude, longitude, at)
        self.writer.update(team, teams.POSITION_FIELDS)
