"""Mobile response: incidents, assignment, the timeline and close-out."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from crisishub.core import events
from crisishub.core.errors import Conflict, InvalidInput, NotFound
from crisishub.core.models import (
    Assignment, Contact, Disposition, Facility, Incident, IncidentEvent,
    IncidentStatus, LawEnforcement, NoTeamReason, Path, Team, TeamStatus,
    TriageDecision,
)
from crisishub.core.recommend import Recommendation, TeamSnapshot, penalties_from_settings, recommend

logger = logging.getLogger(__name__)

# Field statuses in the order a response moves through them. A team may
# skip forward (transport is optional) but never go back.
FIELD_SEQUENCE = [
    IncidentStatus.ASSIGNED,
    IncidentStatus.EN_ROUTE,
    IncidentStatus.ON_SCENE,
    IncidentStatus.TRANSPORTING,
    IncidentStatus.AT_DESTINATION,
    IncidentStatus.CLEARED,
]
TEAM_STATUS_FOR = {
    IncidentStatus.ASSIGNED: TeamStatus.ASSIGNED,
    IncidentStatus.EN_ROUTE: TeamStatus.EN_ROUTE,
    IncidentStatus.ON_SCENE: TeamStatus.ON_SCENE,
    IncidentStatus.TRANSPORTING: TeamStatus.TRANSPORTING,
    IncidentStatus.AT_DESTINATION: TeamStatus.AT_DESTINATION,
    IncidentStatus.CLEARED: TeamStatus.AVAILABLE,
}
OPEN_STATUSES = (
    IncidentStatus.PENDING, IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE,
    IncidentStatus.ON_SCENE, IncidentStatus.TRANSPORTING, IncidentStatus.AT_DESTINATION,
)


def _actor_label(actor) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return getattr(actor, "username", "")


def _actor_user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def new_incident_event(
    incident, kind, *, at, actor=None, team=None, latitude=None, longitude=None, detail=None
) -> IncidentEvent:
    """Return a timeline entry, not yet saved."""
    return IncidentEvent(
        incident=incident, kind=kind, team=team,
        actor=_actor_user(actor), actor_label=_actor_label(actor),
        occurred_at=at, latitude=latitude, longitude=longitude, detail=detail or {},
    )


def _add_event(incident, kind, **fields) -> IncidentEvent:
    event = new_incident_event(incident, kind, **fields)
    event.save(force_insert=True)
    return event


def incident_payload(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "priority": incident.priority,
        "t0": incident.t0.isoformat(),
        "area_class": incident.area_class,
        "standard_minutes": incident.standard_minutes,
        "language": incident.language,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "team_id": incident.team_id,
        "no_team_reason": incident.no_team_reason,
    }


def _publish(incident: Incident, event_type: str) -> None:
    groups = [events.DISPATCH_GROUP]
    if incident.team_id:
        groups.append(events.team_group(incident.team_id))
    events.publish_on_commit(event_type, incident_payload(incident), tuple(groups))


def build_incident(
    contact: Contact,
    *,
    decision: TriageDecision | None = None,
    priority: int | None = None,
    safety_notes: str = "",
    language: str | None = None,
    at: dt.datetime | None = None,
) -> tuple[Incident, "geo.Placement | None"]:
    """Validate a mobile-response request and return the incident, not yet
    saved and with a temporary number, and the contact's placement in the
    service area (None when the location is unknown).

    Give the saved incident its number with :func:`incident_number`.
    """
    now = at or timezone.now()
    if decision is not None and decision.final_path != Path.MOBILE_RESPONSE:
        raise Conflict(
            f"The triage decision chose {decision.final_path!r}, not a mobile response; "
            "record an override on the decision first."
        )
    priority = priority or (decision.final_priority if decision else None) or 2
    if priority not in (1, 2, 3):
        raise InvalidInput.for_field("priority", f"Invalid priority {priority!r}.", "Use 1, 2 or 3.")
    if not contact.has_location and not contact.location_unknown_reason.strip():
        raise InvalidInput.for_field(
            "location", "A mobile response needs a location or a recorded reason it is unknown.",
            "Set the person's location, or record why it is unknown.",
        )

    placement = None
    area_class = ""
    if contact.has_location:
        from crisishub.datapack import geo

        placement = geo.locate(contact.latitude, contact.longitude)
        if placement.in_service_area:
            area_class = "rural" if placement.rural else "urban"
    incident = Incident(
        number=f"tmp-{uuid.uuid4().hex[:14]}",
        contact=contact, triage_decision=decision, priority=priority,
        t0=now, latitude=contact.latitude, longitude=contact.longitude,
        location_precision=contact.location_precision,
        tract_geoid=(placement.tract_geoid or "") if placement else "",
        area_class=area_class,
        language=language or contact.preferred_language,
        risk_level=decision.screening.risk_level if decision else "",
        safety_notes=safety_notes, created_at=now,
    )
    return incident, placement


def incident_number(incident: Incident) -> str:
    """Return the incident's number, MR<year of T0>-<id>, once it has an id."""
    return f"MR{incident.t0.year}-{incident.pk:06d}"


def do_request_mobile_response(
    contact: Contact,
    *,
    decision: TriageDecision | None = None,
    priority: int | None = None,
    safety_notes: str = "",
    language: str | None = None,
    actor=None,
    at: dt.datetime | None = None,
) -> Incident:
    """Open a numbered incident; T0 is now, when the need was determined.

    A contact outside the service area still gets an incident, closed at
    once as "no team sent" with that reason, so the request is counted.
    A contact whose location is unknown (with a recorded reason) gets a
    pending incident, so the dispatcher sees it and can help locate the
    person or record why no team was sent.
    """
    incident, placement = build_incident(
        contact, decision=decision, priority=priority, safety_notes=safety_notes,
        language=language, at=at,
    )
    now = incident.t0
    with transaction.atomic():
        incident.save(force_insert=True)
        incident.number = incident_number(incident)
        incident.save(update_fields=["number"])
        _add_event(incident, IncidentEvent.Kind.REQUESTED, at=now, actor=actor)
        if placement is not None and not placement.in_service_area:
            _close_no_team(incident, NoTeamReason.OUTSIDE_SERVICE_AREA, placement.reason or "", now, actor)
        _publish(incident, "incident.created")
    logger.info("Opened incident %s (priority %s) for contact %s", incident.number, incident.priority, contact.pk)
    return incident


NO_TEAM_FIELDS = ["status", "no_team_reason", "no_team_detail"]


def apply_no_team(incident: Incident, reason: str, detail: str, at: dt.datetime, actor) -> IncidentEvent:
    """Set the incident's no-team fields (:data:`NO_TEAM_FIELDS`); return
    its timeline entry. Saves nothing."""
    incident.status = IncidentStatus.NO_TEAM
    incident.no_team_reason = reason
    incident.no_team_detail = detail[:300]
    return new_incident_event(
        incident, IncidentEvent.Kind.NO_TEAM, at=at, actor=actor, detail={"reason": reason, "detail": detail}
    )


def _close_no_team(incident, reason, detail, at, actor) -> None:
    event = apply_no_team(incident, reason, detail, at, actor)
    incident.save(update_fields=NO_TEAM_FIELDS)
    event.save(force_insert=True)


def check_no_team(incident: Incident, reason: str, detail: str) -> None:
    """Raise unless a pending incident may be closed with this reason."""
    if reason not in NoTeamReason.values:
        raise InvalidInput.for_field(
            "reason", f"Invalid reason {reason!r}.", f"Use one of: {', '.join(NoTeamReason.values)}."
        )
    if reason == NoTeamReason.OTHER and not detail.strip():
        raise InvalidInput.for_field("detail", "Reason 'other' needs a description.", "Say why no team was sent.")
    if incident is not None and incident.status != IncidentStatus.PENDING:
        raise Conflict(f"Incident {incident.number} is {incident.status}, not pending.")


def do_record_no_team(incident_id: int, reason: str, *, detail: str = "", actor=None, at=None) -> Incident:
    """Close a pending incident with the reason no team was sent."""
    check_no_team(None, reason, detail)
    now = at or timezone.now()
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        check_no_team(incident, reason, detail)
        _close_no_team(incident, reason, detail, now, actor)
        _publish(incident, "incident.no_team")
    return incident


def _lock_incident(incident_id: int) -> Incident:
    try:
        return Incident.objects.select_for_update().get(pk=incident_id)
    except Incident.DoesNotExist:
        raise NotFound(f"Incident {incident_id} not found.") from None


def _lock_team(team_id: int) -> Team:
    try:
        return Team.objects.select_for_update().get(pk=team_id)
    except Team.DoesNotExist:
        raise NotFound(f"Team {team_id} not found.") from None


def do_assign_team(incident_id: int, team_id: int, *, actor=None, at: dt.datetime | None = None) -> Assignment:
    """Assign a team in one transaction with both rows locked.

    Two dispatchers racing for one team, or one team for two incidents,
    leave exactly one assignment: the loser gets Conflict. The partial
    unique indexes on Assignment back this up if a lock is ever missed.
    """
    now = at or timezone.now()
    try:
        with transaction.atomic():
            incident = _lock_incident(incident_id)
            team = _lock_team(team_id)
            assignment, event = apply_assignment(incident, team, now, actor)
            assignment.save(force_insert=True)
            incident.save(update_fields=ASSIGNMENT_INCIDENT_FIELDS)
            team.save(update_fields=ASSIGNMENT_TEAM_FIELDS)
            event.save(force_insert=True)
            _publish(incident, "incident.assigned")
            events.publish_on_commit("team.status", _team_payload(team))
    except IntegrityError:
        raise Conflict("The team or the incident was assigned by someone else a moment ago.") from None
    logger.info("Assigned team %s to incident %s", team_id, incident.number)
    return assignment


ASSIGNMENT_INCIDENT_FIELDS = ["team", "status"]
ASSIGNMENT_TEAM_FIELDS = ["status", "status_since"]


def apply_assignment(
    incident: Incident, team: Team, at: dt.datetime, actor
) -> tuple[Assignment, IncidentEvent]:
    """Check that both are free, then set the incident's and the team's
    fields (:data:`ASSIGNMENT_INCIDENT_FIELDS`, :data:`ASSIGNMENT_TEAM_FIELDS`).

    Returns the assignment and the timeline entry, neither saved; the
    caller saves the assignment first. Raises Conflict when the incident
    is not pending or the team is not available.
    """
    if incident.status != IncidentStatus.PENDING:
        raise Conflict(f"Incident {incident.number} is already {incident.status}.")
    if not team.is_active or team.status != TeamStatus.AVAILABLE:
        raise Conflict(f"Team {team.name} is {team.status}, not available.")
    assignment = Assignment(incident=incident, team=team, assigned_at=at, assigned_by=_actor_user(actor))
    incident.team = team
    incident.status = IncidentStatus.ASSIGNED
    team.status = TeamStatus.ASSIGNED
    team.status_since = at
    event = new_incident_event(incident, IncidentEvent.Kind.ASSIGNED, at=at, actor=actor, team=team)
    return assignment, event


def _end_assignments(incident: Incident, at: dt.datetime) -> None:
    """Close the incident's active assignment, one audited save per row."""
    for assignment in Assignment.objects.filter(incident=incident, active=True):
        assignment.active = False
        assignment.ended_at = at
        assignment.save(update_fields=["active", "ended_at"])


def _team_payload(team: Team) -> dict[str, Any]:
    from crisishub.core.services.teams import team_payload

    return team_payload(team)


def check_status(incident: Incident | None, status: str) -> None:
    """Raise unless ``status`` is a field status the incident may move to
    (only the status itself is checked when ``incident`` is None)."""
    if status not in FIELD_SEQUENCE[1:]:
        raise InvalidInput.for_field(
            "status", f"Invalid field status {status!r}.",
            f"Use one of: {', '.join(str(s) for s in FIELD_SEQUENCE[1:])}.",
        )
    if incident is None:
        return
    if incident.status not in FIELD_SEQUENCE[:-1]:
        raise Conflict(f"Incident {incident.number} is {incident.status}; no field status can follow.")
    if FIELD_SEQUENCE.index(status) <= FIELD_SEQUENCE.index(incident.status):
        raise Conflict(f"Incident {incident.number} is already {incident.status}; it cannot move to {status}.")
    if status == IncidentStatus.AT_DESTINATION and incident.status != IncidentStatus.TRANSPORTING:
        raise Conflict("A team reaches a destination only after transporting.")


def apply_status(
    incident: Incident, team: Team, status: str, at: dt.datetime,
    latitude: float | None = None, longitude: float | None = None,
) -> list[str]:
    """Set the incident's status and its team's matching status (and
    position, when given); return the team fields changed. Saves nothing,
    and the incident's only changed field is ``status``."""
    incident.status = status
    team.status = TEAM_STATUS_FOR[status]
    team.status_since = at
    team_fields = ["status", "status_since"]
    if latitude is not None and longitude is not None:
        team.last_latitude, team.last_longitude, team.last_position_at = latitude, longitude, at
        team_fields += ["last_latitude", "last_longitude", "last_position_at"]
    if status == IncidentStatus.ON_SCENE:
        team.last_checkin_at = at
        team_fields.append("last_checkin_at")
    return team_fields


def do_record_status(
    incident_id: int,
    status: str,
    *,
    actor=None,
    at: dt.datetime | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Incident:
    """Move an assigned incident forward one or more field statuses."""
    check_status(None, status)
    now = at or timezone.now()
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        check_status(incident, status)
        team = _lock_team(incident.team_id)
        team_fields = apply_status(incident, team, status, now, latitude, longitude)
        incident.save(update_fields=["status"])
        team.save(update_fields=team_fields)
        if status == IncidentStatus.CLEARED:
            _end_assignments(incident, now)
        _add_event(incident, status, at=now, actor=actor, team=team, latitude=latitude, longitude=longitude)
        _publish(incident, "incident.status")
        events.publish_on_commit("team.status", _team_payload(team))
    return incident


def do_unassign(incident_id: int, *, reason: str, actor=None, at=None) -> Incident:
    """Take the team off an incident (to reassign it); the incident is pending again."""
    if not reason.strip():
        raise InvalidInput.for_field("reason", "Reassignment needs a reason.", "Say why the team is taken off.")
    now = at or timezone.now()
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        if incident.status not in (IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE):
            raise Conflict(f"Incident {incident.number} is {incident.status}; only an assigned or en-route team can be taken off.")
        team = _lock_team(incident.team_id)
        _end_assignments(incident, now)
        _add_event(incident, IncidentEvent.Kind.UNASSIGNED, at=now, actor=actor, team=team, detail={"reason": reason})
        incident.status = IncidentStatus.PENDING
        incident.team = None
        incident.save(update_fields=["status", "team"])
        team.status = TeamStatus.AVAILABLE
        team.status_since = now
        team.save(update_fields=["status", "status_since"])
        _publish(incident, "incident.unassigned")
        events.publish_on_commit("team.status", _team_payload(team))
    return incident


def do_cancel_incident(incident_id: int, *, reason: str, actor=None, at=None) -> Incident:
    if not reason.strip():
        raise InvalidInput.for_field("reason", "Cancelling needs a reason.", "Say why the response is cancelled.")
    now = at or timezone.now()
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        if incident.status not in (IncidentStatus.PENDING, IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE):
            raise Conflict(f"Incident {incident.number} is {incident.status} and can no longer be cancelled.")
        team = _lock_team(incident.team_id) if incident.team_id else None
        _end_assignments(incident, now)
        incident.status = IncidentStatus.CANCELLED
        incident.cancel_reason = reason.strip()[:300]
        incident.save(update_fields=["status", "cancel_reason"])
        if team is not None:
            team.status = TeamStatus.AVAILABLE
            team.status_since = now
            team.save(update_fields=["status", "status_since"])
            events.publish_on_commit("team.status", _team_payload(team))
        _add_event(incident, IncidentEvent.Kind.CANCELLED, at=now, actor=actor, team=team, detail={"reason": reason})
        _publish(incident, "incident.cancelled")
    return incident


def do_attach_duplicate(incident_id: int, original_id: int, *, actor=None, at=None) -> Incident:
    """Mark a pending incident as a second call about an open one."""
    now = at or timezone.now()
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        original = _lock_incident(original_id)
        if incident.pk == original.pk:
            raise InvalidInput.for_field("original_id", "An incident cannot duplicate itself.", "Pick another open incident.")
        if original.status not in OPEN_STATUSES:
            raise Conflict(f"Incident {original.number} is {original.status}; attach to an open incident.")
        if incident.status != IncidentStatus.PENDING:
            raise Conflict(f"Incident {incident.number} is {incident.status}, not pending.")
        incident.duplicate_of = original
        incident.save(update_fields=["duplicate_of"])
        _close_no_team(incident, NoTeamReason.DUPLICATE, f"duplicate of {original.number}", now, actor)
        _publish(incident, "incident.duplicate")
    return incident


def do_close_out(
    incident_id: int,
    *,
    disposition: str,
    law_enforcement: str = LawEnforcement.NONE,
    law_enforcement_reason: str = "",
    transport_destination_id: int | None = None,
    transport_consent: bool | None = None,
    actor=None,
) -> Incident:
    """Record how the response ended, including any police involvement."""
    check_close_out(
        disposition=disposition, law_enforcement=law_enforcement,
        law_enforcement_reason=law_enforcement_reason,
        transport_destination_id=transport_destination_id, transport_consent=transport_consent,
    )
    destination = None
    if disposition == Disposition.VOLUNTARY_TRANSPORT:
        destination = Facility.objects.filter(pk=transport_destination_id).first()
        if destination is None:
            raise InvalidInput.for_field(
                "transport_destination", f"Facility {transport_destination_id} not found.",
                "Pick the destination from the directory.",
            )
    with transaction.atomic():
        incident = _lock_incident(incident_id)
        check_close_out_status(incident)
        apply_close_out(
            incident, disposition=disposition, law_enforcement=law_enforcement,
            law_enforcement_reason=law_enforcement_reason, transport_destination=destination,
            transport_consent=transport_consent,
        )
        incident.save(update_fields=CLOSE_OUT_FIELDS)
    return incident


CLOSE_OUT_FIELDS = [
    "disposition", "law_enforcement", "law_enforcement_reason",
    "transport_destination", "transport_consent",
]


def check_close_out(
    *,
    disposition: str,
    law_enforcement: str,
    law_enforcement_reason: str,
    transport_destination_id: int | None,
    transport_consent: bool | None,
) -> None:
    """Raise InvalidInput for a close-out that is incomplete or invalid.

    The destination's existence is the caller's check.
    """
    if disposition not in Disposition.values:
        raise InvalidInput.for_field(
            "disposition", f"Invalid disposition {disposition!r}.", f"Use one of: {', '.join(Disposition.values)}."
        )
    if law_enforcement not in LawEnforcement.values:
        raise InvalidInput.for_field(
            "law_enforcement", f"Invalid law-enforcement category {law_enforcement!r}.",
            f"Use one of: {', '.join(LawEnforcement.values)}.",
        )
    if law_enforcement != LawEnforcement.NONE and not law_enforcement_reason.strip():
        raise InvalidInput.for_field(
            "law_enforcement_reason", "Law-enforcement involvement needs a reason.",
            "Say why police were involved.",
        )
    if disposition == Disposition.VOLUNTARY_TRANSPORT:
        if transport_destination_id is None:
            raise InvalidInput.for_field(
                "transport_destination", "A voluntary transport needs a destination.",
                "Pick the destination from the directory.",
            )
        if transport_consent is not True:
            raise InvalidInput.for_field(
                "transport_consent", "A voluntary transport needs the person's recorded consent.",
                "Record that the person agreed to be transported.",
            )


def check_close_out_status(incident: Incident) -> None:
    """Raise Conflict when the incident had no encounter to close out."""
    if incident.status in (IncidentStatus.PENDING, IncidentStatus.CANCELLED, IncidentStatus.NO_TEAM):
        raise Conflict(f"Incident {incident.number} is {incident.status}; there was no encounter to close out.")


def apply_close_out(
    incident: Incident,
    *,
    disposition: str,
    law_enforcement: str,
    law_enforcement_reason: str,
    transport_destination: Facility | None,
    transport_consent: bool | None,
) -> None:
    """Set the close-out fields (:data:`CLOSE_OUT_FIELDS`); saves nothing."""
    incident.disposition = disposition
    incident.law_enforcement = law_enforcement
    incident.law_enforcement_reason = law_enforcement_reason.strip()[:300]
    incident.transport_destination = transport_destination
    incident.transport_consent = transport_consent


def do_check_in(team_id: int, *, actor=None, at=None, emergency: bool = False) -> Team:
    """Record a team's on-scene check-in, or raise its emergency alert."""
    now = at or timezone.now()
    with transaction.atomic():
        team = _lock_team(team_id)
        incident = Incident.objects.filter(team=team, status__in=OPEN_STATUSES).first()
        if not emergency:
            team.last_checkin_at = now
            team.save(update_fields=["last_checkin_at"])
        if incident is not None:
            kind = IncidentEvent.Kind.EMERGENCY if emergency else IncidentEvent.Kind.CHECK_IN
            _add_event(incident, kind, at=now, actor=actor, team=team)
        payload = _team_payload(team) | {"incident_id": incident.pk if incident else None}
        events.publish_on_commit("team.emergency" if emergency else "team.check_in", payload)
    if emergency:
        logger.warning("Emergency alert from team %s (incident %s)", team.name, incident.number if incident else "-")
    return team


# --- Recommendation -------------------------------------------------------

# A team's workload is the number of assignments it got in this window.
WORKLOAD_WINDOW = dt.timedelta(hours=12)


def build_team_snapshot(at: dt.datetime | None = None) -> TeamSnapshot:
    """Read the fleet in one query, with each team's responses this shift."""
    now = at or timezone.now()
    since = now - WORKLOAD_WINDOW
    teams = (
        Team.objects.filter(is_active=True)
        .annotate(workload=Count("assignments", filter=Q(assignments__assigned_at__gte=since)))
        .order_by("pk")
        .values_list(
            "pk", "name", "last_latitude", "last_longitude", "station__latitude",
            "station__longitude", "status", "languages", "workload",
        )
    )
    rows = []
    for pk, name, lat, lon, station_lat, station_lon, status, languages, workload in teams:
        if lat is None:
            lat, lon = station_lat, station_lon
        if lat is None:
            continue
        rows.append((pk, name, lat, lon, status == TeamStatus.AVAILABLE, languages, workload))
    return TeamSnapshot.from_rows(rows)


def recommend_teams(incident: Incident, *, limit: int = 3, snapshot: TeamSnapshot | None = None) -> list[Recommendation]:
    if incident.latitude is None:
        return []
    snapshot = snapshot or build_team_snapshot()
    return recommend(
        snapshot, incident.latitude, incident.longitude, incident.language, limit=limit,
        **penalties_from_settings(),
    )


# --- Interval metrics -----------------------------------------------------

def compute_intervals(incident: Incident, timeline: list[IncidentEvent] | None = None) -> dict[str, float | None]:
    """Minutes between timeline events, by the CAD interval definitions.

    call_processing = assigned - T0, turnout = en route - assigned,
    travel = on scene - en route, response = on scene - assigned,
    on_scene = cleared - on scene, transport = at destination -
    transporting, committed = cleared - assigned, and t0_to_on_scene.
    A reassigned incident counts from its last assignment: each later
    event is the first of its kind after that assignment.
    """
    timeline = timeline if timeline is not None else list(incident.events.all())
    assigned = None
    for event in timeline:
        if event.kind == IncidentEvent.Kind.ASSIGNED:
            assigned = event.occurred_at
    first: dict[str, dt.datetime] = {}
    for event in timeline:
        if assigned is not None and event.occurred_at >= assigned:
            first.setdefault(event.kind, event.occurred_at)

    def minutes(start, end):
        if start is None or end is None:
            return None
        return round((end - start).total_seconds() / 60.0, 2)

    t0 = incident.t0
    en_route = first.get("en_route")
    on_scene = first.get("on_scene")
    transporting = first.get("transporting")
    at_destination = first.get("at_destination")
    cleared = first.get("cleared")
    return {
        "call_processing": minutes(t0, assigned),
        "turnout": minutes(assigned, en_route),
        "travel": minutes(en_route, on_scene),
        "response": minutes(assigned, on_scene),
        "t0_to_on_scene": minutes(t0, on_scene),
        "on_scene": minutes(on_scene, cleared),
        "transport": minutes(transporting, at_destination),
        "committed": minutes(assigned, cleared),
    }
