"""Tests for the dispatch services: timeline, intervals, area class,
no-team reasons, law enforcement and team recommendation."""

from __future__ import annotations

import numpy as np
import pytest
from django.test import override_settings

from crisishub.core import recommend as recommend_module
from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import (
    Assignment, Facility, Incident, IncidentEvent, LawEnforcement, NoTeamReason, Team, TeamStatus,
)
from crisishub.core.recommend import TeamSnapshot, recommend
from crisishub.core.services import dispatch
from crisishub.core.services.intake import LocationInput
from crisishub.datapack import load_tracts
from crisishub.rules.travel import EARTH_RADIUS_KM, StraightLineTravelModel

pytestmark = pytest.mark.django_db

SAN_FRANCISCO = (37.7749, -122.4194)


def kinds(incident) -> list[str]:
    return list(incident.events.order_by("occurred_at", "id").values_list("kind", flat=True))


def run_full_response(incident, team, at, *, assigned, en_route, on_scene, transporting=None,
                      at_destination=None, cleared):
    dispatch.do_assign_team(incident.pk, team.pk, actor="dispatcher-test", at=at(assigned))
    dispatch.do_record_status(incident.pk, "en_route", actor="team-test", at=at(en_route))
    dispatch.do_record_status(incident.pk, "on_scene", actor="team-test", at=at(on_scene))
    if transporting is not None:
        dispatch.do_record_status(incident.pk, "transporting", actor="team-test", at=at(transporting))
        dispatch.do_record_status(incident.pk, "at_destination", actor="team-test", at=at(at_destination))
    dispatch.do_record_status(incident.pk, "cleared", actor="team-test", at=at(cleared))
    incident.refresh_from_db()
    return incident


# --- Timeline ---------------------------------------------------------------


def test_timeline_records_each_step_with_actor(make_incident, fleet, at):
    incident = make_incident()

    run_full_response(
        incident, fleet[0], at, assigned=4, en_route=6.5, on_scene=21.5,
        transporting=66.5, at_destination=81.5, cleared=101.5,
    )

    assert kinds(incident) == [
        "requested", "assigned", "en_route", "on_scene", "transporting", "at_destination", "cleared",
    ]
    events = list(incident.events.order_by("occurred_at", "id"))
    assert events[0].actor_label == "test"
    assert events[1].actor_label == "dispatcher-test"
    assert events[1].team == fleet[0]
    assert [e.occurred_at for e in events] == [at(m) for m in (0, 4, 6.5, 21.5, 66.5, 81.5, 101.5)]
    assert incident.status == "cleared"
    assert not Assignment.objects.filter(active=True).exists()
    fleet[0].refresh_from_db()
    assert fleet[0].status == TeamStatus.AVAILABLE


def test_timeline_event_cannot_change(make_incident):
    incident = make_incident()
    event = incident.events.get()
    event.kind = "cleared"

    with pytest.raises(PermissionError, match="append-only"):
        event.save()
    assert incident.events.get().kind == "requested"


def test_timeline_event_cannot_delete(make_incident):
    incident = make_incident()

    with pytest.raises(PermissionError, match="append-only"):
        incident.events.get().delete()
    assert incident.events.count() == 1


def test_timeline_queryset_update_delete_rejected(make_incident):
    incident = make_incident()

    with pytest.raises(PermissionError, match="append-only"):
        IncidentEvent.objects.filter(incident=incident).update(kind="cleared")
    with pytest.raises(PermissionError, match="append-only"):
        IncidentEvent.objects.filter(incident=incident).delete()
    assert kinds(incident) == ["requested"]


def test_status_cannot_go_back(make_incident, fleet, at):
    incident = make_incident()
    dispatch.do_assign_team(incident.pk, fleet[0].pk, at=at(1))
    dispatch.do_record_status(incident.pk, "on_scene", at=at(10))

    with pytest.raises(Conflict, match="already on_scene"):
        dispatch.do_record_status(incident.pk, "en_route", at=at(11))
    assert kinds(incident) == ["requested", "assigned", "on_scene"]


def test_destination_needs_transport_first(make_incident, fleet, at):
    incident = make_incident()
    dispatch.do_assign_team(incident.pk, fleet[0].pk, at=at(1))

    with pytest.raises(Conflict, match="after transporting"):
        dispatch.do_record_status(incident.pk, "at_destination", at=at(5))


def test_invalid_field_status_rejected(make_incident):
    incident = make_incident()

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_record_status(incident.pk, "teleported")

    assert raised.value.errors[0].field == "status"
    assert "'teleported'" in raised.value.errors[0].message


# --- Interval metrics, checked against hand-computed minutes ----------------


def test_intervals_with_transport(make_incident, fleet, at):
    incident = make_incident()
    run_full_response(
        incident, fleet[0], at, assigned=4, en_route=6.5, on_scene=21.5,
        transporting=66.5, at_destination=81.5, cleared=101.5,
    )

    intervals = dispatch.compute_intervals(incident)

    assert intervals == {
        "call_processing": 4.0,      # assigned 4 - T0 0
        "turnout": 2.5,              # en route 6.5 - assigned 4
        "travel": 15.0,              # on scene 21.5 - en route 6.5
        "response": 17.5,            # on scene 21.5 - assigned 4
        "t0_to_on_scene": 21.5,      # on scene 21.5 - T0 0
        "on_scene": 80.0,            # cleared 101.5 - on scene 21.5
        "transport": 15.0,           # at destination 81.5 - transporting 66.5
        "committed": 97.5,           # cleared 101.5 - assigned 4
    }


def test_intervals_without_transport(make_incident, fleet, at):
    incident = make_incident()
    run_full_response(incident, fleet[0], at, assigned=1.25, en_route=3, on_scene=33, cleared=78)

    intervals = dispatch.compute_intervals(incident)

    assert intervals["call_processing"] == 1.25
    assert intervals["turnout"] == 1.75
    assert intervals["travel"] == 30.0
    assert intervals["response"] == 31.75
    assert intervals["t0_to_on_scene"] == 33.0
    assert intervals["on_scene"] == 45.0
    assert intervals["transport"] is None
    assert intervals["committed"] == 76.75


def test_intervals_after_reassignment(make_incident, fleet, at):
    incident = make_incident()
    dispatch.do_assign_team(incident.pk, fleet[0].pk, at=at(5))
    dispatch.do_record_status(incident.pk, "en_route", at=at(7))
    dispatch.do_unassign(incident.pk, reason="van broke down", at=at(9))
    run_full_response(incident, fleet[1], at, assigned=12, en_route=14, on_scene=30, cleared=60)

    intervals = dispatch.compute_intervals(incident)

    # Counted from the second assignment at minute 12; the first team's
    # en route at minute 7 is ignored.
    assert intervals["call_processing"] == 12.0
    assert intervals["turnout"] == 2.0
    assert intervals["travel"] == 16.0
    assert intervals["response"] == 18.0
    assert intervals["t0_to_on_scene"] == 30.0
    assert intervals["on_scene"] == 30.0
    assert intervals["committed"] == 48.0
    assert kinds(incident).count("assigned") == 2
    assert kinds(incident).count("unassigned") == 1


def test_intervals_pending_all_none(make_incident):
    incident = make_incident()

    assert set(dispatch.compute_intervals(incident).values()) == {None}


# --- Urban and rural class --------------------------------------------------


def tract(geoid: str):
    return next(t for t in load_tracts() if t.geoid == geoid)


@pytest.mark.parametrize(
    ("geoid", "expected_class", "standard"),
    [
        ("06067000100", "urban", 60),   # downtown Sacramento
        ("06067009403", "urban", 60),   # 2077 people on 32.7473 sq mi
        ("06067009800", "rural", 120),  # 2183 people on 45.0495 sq mi
        ("06067007101", "rural", 120),  # 218 people on 29.2499 sq mi
    ],
)
def test_incident_area_class_by_density(make_incident, geoid, expected_class, standard):
    row = tract(geoid)
    hand_density = row.population / row.land_sqmi

    incident = make_incident(latitude=row.lat, longitude=row.lon)

    assert (hand_density < 50) == (expected_class == "rural")
    assert incident.tract_geoid == geoid
    assert incident.area_class == expected_class
    assert incident.standard_minutes == standard


def test_rural_threshold_between_48_and_64():
    assert round(2183 / 45.0495, 2) == 48.46
    assert tract("06067009800").rural is True
    assert round(2077 / 32.7473, 2) == 63.43
    assert tract("06067009403").rural is False


# --- Reasons no team was sent -----------------------------------------------


def test_outside_county_closed_no_team(make_incident):
    incident = make_incident(latitude=SAN_FRANCISCO[0], longitude=SAN_FRANCISCO[1])

    assert incident.status == "no_team"
    assert incident.no_team_reason == NoTeamReason.OUTSIDE_SERVICE_AREA
    assert incident.no_team_detail
    assert incident.area_class == ""
    assert kinds(incident) == ["requested", "no_team"]


def test_unknown_location_stays_pending(make_contact, at):
    contact = make_contact(location=LocationInput(unknown_reason="caller hung up before giving a place"))

    incident = dispatch.do_request_mobile_response(contact, priority=1, at=at(0))

    assert incident.status == "pending"
    assert incident.no_team_reason == ""
    assert incident.latitude is None
    assert dispatch.recommend_teams(incident) == []
    assert kinds(incident) == ["requested"]


def test_unknown_location_dispatcher_records_no_team(make_contact, at):
    contact = make_contact(location=LocationInput(unknown_reason="caller hung up before giving a place"))
    incident = dispatch.do_request_mobile_response(contact, priority=1, at=at(0))

    closed = dispatch.do_record_no_team(incident.pk, NoTeamReason.LOCATION_UNKNOWN, at=at(5))

    assert closed.status == "no_team"
    assert closed.no_team_reason == NoTeamReason.LOCATION_UNKNOWN


@pytest.mark.parametrize(
    "reason",
    [r for r in NoTeamReason.values if r not in ("outside_service_area", "location_unknown", "duplicate")],
)
def test_record_each_no_team_reason(make_incident, reason):
    incident = make_incident()

    dispatch.do_record_no_team(incident.pk, reason, detail="stated by the dispatcher")

    incident.refresh_from_db()
    assert incident.status == "no_team"
    assert incident.no_team_reason == reason
    event = incident.events.get(kind="no_team")
    assert event.detail == {"reason": reason, "detail": "stated by the dispatcher"}


def test_no_team_other_needs_detail(make_incident):
    incident = make_incident()

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_record_no_team(incident.pk, "other")

    assert raised.value.errors[0].field == "detail"
    incident.refresh_from_db()
    assert incident.status == "pending"


def test_no_team_invalid_reason(make_incident):
    incident = make_incident()

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_record_no_team(incident.pk, "too_busy")

    assert "'too_busy'" in raised.value.errors[0].message
    assert "no_team_available" in raised.value.errors[0].fix


def test_no_team_after_assignment_conflict(make_incident, fleet):
    incident = make_incident()
    dispatch.do_assign_team(incident.pk, fleet[0].pk)

    with pytest.raises(Conflict, match="not pending"):
        dispatch.do_record_no_team(incident.pk, "person_declined")


def test_duplicate_recorded_as_no_team(make_incident):
    original = make_incident()
    second = make_incident()

    dispatch.do_attach_duplicate(second.pk, original.pk)

    second.refresh_from_db()
    assert second.no_team_reason == NoTeamReason.DUPLICATE
    assert second.duplicate_of == original
    assert original.number in second.no_team_detail


# --- Law-enforcement involvement ----------------------------------------------


@pytest.mark.parametrize("category", LawEnforcement.values)
def test_close_out_law_enforcement_category(make_incident, fleet, at, category):
    incident = make_incident()
    run_full_response(incident, fleet[0], at, assigned=1, en_route=2, on_scene=20, cleared=50)
    reason = "" if category == "none" else "weapon reported on scene"

    dispatch.do_close_out(
        incident.pk, disposition="resolved_in_community",
        law_enforcement=category, law_enforcement_reason=reason,
    )

    incident.refresh_from_db()
    assert incident.law_enforcement == category
    assert incident.law_enforcement_reason == reason


def test_law_enforcement_needs_reason(make_incident, fleet, at):
    incident = make_incident()
    run_full_response(incident, fleet[0], at, assigned=1, en_route=2, on_scene=20, cleared=50)

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_close_out(incident.pk, disposition="resolved_in_community", law_enforcement="requested_by_team")

    assert raised.value.errors[0].field == "law_enforcement_reason"
    incident.refresh_from_db()
    assert incident.law_enforcement == "none"


def test_law_enforcement_invalid_category(make_incident):
    incident = make_incident()

    with pytest.raises(InvalidInput) as raised:
        dispatch.do_close_out(incident.pk, disposition="resolved_in_community", law_enforcement="swat")

    assert "'swat'" in raised.value.errors[0].message
    assert "already_on_scene" in raised.value.errors[0].fix


def test_transport_needs_destination_and_consent(make_incident, fleet, at):
    incident = make_incident()
    run_full_response(incident, fleet[0], at, assigned=1, en_route=2, on_scene=20,
                      transporting=40, at_destination=55, cleared=70)
    facility = Facility.objects.filter(kind="mental_health_urgent_care").first()

    with pytest.raises(InvalidInput) as no_consent:
        dispatch.do_close_out(incident.pk, disposition="voluntary_transport",
                              transport_destination_id=facility.pk)
    dispatch.do_close_out(incident.pk, disposition="voluntary_transport",
                          transport_destination_id=facility.pk, transport_consent=True)

    assert no_consent.value.errors[0].field == "transport_consent"
    incident.refresh_from_db()
    assert incident.transport_destination == facility


# --- Recommendation ------------------------------------------------------------

# With circuity 1, 60 km/h and no overhead, minutes equal kilometres, and
# teams due north of the person are R * radians(dlat) km away.
UNIT_MODEL = StraightLineTravelModel(circuity_factor=1.0, speed_kmh=60.0, overhead_minutes=0.0)
PERSON = (38.5, -121.4)


def km_north(dlat: float) -> float:
    return EARTH_RADIUS_KM * np.radians(dlat)


def hand_case_snapshot() -> TeamSnapshot:
    return TeamSnapshot.from_rows([
        # id, name, lat, lon, available, languages, responses this shift
        (1, "NEAR-EN", PERSON[0] + 0.02, PERSON[1], True, ["en"], 0),
        (2, "MID-ES", PERSON[0] + 0.05, PERSON[1], True, ["en", "es"], 0),
        (3, "FAR-ES-BUSY", PERSON[0] + 0.10, PERSON[1], True, ["es"], 2),
        (4, "CLOSEST-UNAVAILABLE", PERSON[0] + 0.001, PERSON[1], False, ["es"], 0),
    ])


def test_recommend_ranks_hand_case():
    # Scores in minutes: ETA + 15 without the person's language + 2 per
    # response already this shift.
    near = km_north(0.02) + 15.0      # 2.22 + 15 = 17.22
    mid = km_north(0.05)              # 5.56
    far = km_north(0.10) + 2 * 2.0    # 11.12 + 4 = 15.12

    ranked = recommend(hand_case_snapshot(), *PERSON, "es", limit=4, travel_model=UNIT_MODEL)

    assert [r.team_name for r in ranked] == ["MID-ES", "FAR-ES-BUSY", "NEAR-EN"]
    assert [r.score for r in ranked] == [round(mid, 2), round(far, 2), round(near, 2)]
    assert [r.eta_minutes for r in ranked] == [round(km_north(d), 1) for d in (0.05, 0.10, 0.02)]
    assert [r.language_match for r in ranked] == [True, True, False]
    assert [r.workload for r in ranked] == [0, 2, 0]


def test_recommend_reasons_name_each_factor():
    ranked = recommend(hand_case_snapshot(), *PERSON, "es", limit=3, travel_model=UNIT_MODEL)
    mid, far, near = ranked

    assert mid.reasons == (
        "Estimated arrival 6 min (straight-line estimate)",
        "A member speaks the person's language (es)",
        "Counselor and peer on board",
    )
    assert far.reasons[-1] == "2 responses already this shift"
    assert near.reasons[1] == "No member speaks es: an interpreter is needed"


def test_recommend_reasons_in_spanish():
    from django.utils import translation

    with translation.override("es"):
        ranked = recommend(hand_case_snapshot(), *PERSON, "es", limit=3, travel_model=UNIT_MODEL)
    mid, far, near = ranked

    assert mid.reasons == (
        "Llegada estimada en 6 min (estimación en línea recta)",
        "Un miembro habla el idioma de la persona (es)",
        "Consejero y par a bordo",
    )
    assert far.reasons[-1] == "2 respuestas ya en este turno"
    assert near.reasons[1] == "Ningún miembro habla es: se necesita un intérprete"


def test_recommend_limit_and_unavailable():
    ranked = recommend(hand_case_snapshot(), *PERSON, "en", limit=2, travel_model=UNIT_MODEL)

    assert [r.team_name for r in ranked] == ["NEAR-EN", "MID-ES"]
    assert all(r.team_id != 4 for r in ranked)


def test_recommend_no_available_team():
    snapshot = TeamSnapshot.from_rows([(1, "OFF", *PERSON, False, ["en"], 0)])

    assert recommend(snapshot, *PERSON, "en", travel_model=UNIT_MODEL) == []


def test_recommend_ties_broken_by_team_id():
    snapshot = TeamSnapshot.from_rows([
        # Same latitude, equal longitude offsets east and west: equal ETAs.
        (9, "B", PERSON[0], PERSON[1] + 0.03, True, ["en"], 0),
        (3, "A", PERSON[0], PERSON[1] - 0.03, True, ["en"], 0),
    ])

    ranked = recommend(snapshot, *PERSON, "en", travel_model=UNIT_MODEL)

    assert ranked[0].score == ranked[1].score
    assert [r.team_id for r in ranked] == [3, 9]


def test_recommend_teams_service_uses_workload(make_incident, fleet, at):
    incident = make_incident(preferred_language="es")
    busy = make_incident()
    nearest = dispatch.recommend_teams(incident, limit=1)[0]
    dispatch.do_assign_team(busy.pk, nearest.team_id, at=at(1))
    dispatch.do_record_status(busy.pk, "cleared", at=at(30))

    snapshot = dispatch.build_team_snapshot(at(31))
    again = dispatch.recommend_teams(incident, limit=len(fleet), snapshot=snapshot)

    by_id = {r.team_id: r for r in again}
    assert by_id[nearest.team_id].workload == 1
    assert by_id[nearest.team_id].score == pytest.approx(
        by_id[nearest.team_id].eta_minutes + recommend_module.WORKLOAD_PENALTY_MINUTES, abs=0.06
    )


def test_recommend_teams_skips_busy_team(make_incident, fleet):
    first = make_incident()
    second = make_incident()
    best = dispatch.recommend_teams(first, limit=1)[0]
    dispatch.do_assign_team(first.pk, best.team_id)

    ranked = dispatch.recommend_teams(second, limit=len(fleet))

    assert best.team_id not in [r.team_id for r in ranked]
    assert len(ranked) == len(fleet) - 1


def test_travel_model_from_settings(make_incident, fleet):
    incident = make_incident()
    default_eta = dispatch.recommend_teams(incident, limit=1)[0].eta_minutes

    with override_settings(TRAVEL_MODEL={"speed_kmh": 20.0, "overhead_minutes": 0.0}):
        slow = dispatch.recommend_teams(incident, limit=1)[0]
    after = dispatch.recommend_teams(incident, limit=1)[0].eta_minutes

    # Half the default 40 km/h doubles the driving part of the estimate.
    assert slow.eta_minutes == pytest.approx((default_eta - 2.0) * 2, abs=0.15)
    assert after == default_eta


def test_penalties_from_settings(make_incident, fleet):
    incident = make_incident(preferred_language="ar")

    with override_settings(RECOMMENDATION_PENALTIES={"language_penalty": 100.0}):
        ranked = dispatch.recommend_teams(incident, limit=1)

    assert ranked[0].language_match is False
    assert ranked[0].score == pytest.approx(ranked[0].eta_minutes + 100.0, abs=0.06)


def test_penalties_unknown_key_rejected(make_incident, fleet):
    incident = make_incident()

    with override_settings(RECOMMENDATION_PENALTIES={"distance_penalty": 1.0}):
        with pytest.raises(ValueError, match="distance_penalty"):
            dispatch.recommend_teams(incident)


def test_travel_constants_named_estimates():
    import inspect

    from crisishub.rules import travel

    source = inspect.getsource(travel)
    assert "ESTIMATES" in source
    for name in ("CIRCUITY_FACTOR", "URBAN_SPEED_KMH", "RURAL_SPEED_KMH", "OVERHEAD_MINUTES"):
        assert isinstance(getattr(travel, name), float)
    assert isinstance(UNIT_MODEL, travel.TravelTimeModel)


# --- Assignment rules (single thread) ----------------------------------------


def test_assign_unavailable_team_conflict(make_incident, fleet):
    incident = make_incident()
    team = fleet[0]
    Team.objects.filter(pk=team.pk).update(status=TeamStatus.OFF_DUTY)

    with pytest.raises(Conflict, match="off_duty"):
        dispatch.do_assign_team(incident.pk, team.pk)
    assert Assignment.objects.count() == 0


def test_assign_missing_incident_not_found(fleet):
    from crisishub.core.errors import NotFound

    with pytest.raises(NotFound, match="999999"):
        dispatch.do_assign_team(999999, fleet[0].pk)


def test_second_active_assignment_blocked_by_index(make_incident, fleet, at):
    from django.db import IntegrityError, transaction

    first = make_incident()
    second = make_incident()
    Assignment.objects.create(incident=first, team=fleet[0], assigned_at=at(0))

    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(incident=second, team=fleet[0], assigned_at=at(0))
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(incident=first, team=fleet[1], assigned_at=at(0))
    assert Assignment.objects.filter(active=True).count() == 1



def test_recommend_tie_at_limit_lowest_id():
    rows = [
        (id_, f"T{id_}", PERSON[0], PERSON[1] + sign * 0.03, True, ["en"], 0)
        for id_, sign in ((9, 1), (5, -1), (7, 1), (3, -1))
    ]
    rows.append((1, "FAR", PERSON[0] + 0.2, PERSON[1], True, ["en"], 0))

    ranked = recommend(TeamSnapshot.from_rows(rows), *PERSON, "en", limit=1, travel_model=UNIT_MODEL)

    assert [r.team_id for r in ranked] == [3]


def test_fast_eta_matches_model():
    rng = np.random.default_rng(3)
    rows = [
        (i, f"T{i}", float(lat), float(lon), True, ["en"], 0)
        for i, (lat, lon) in enumerate(zip(rng.uniform(38.1, 38.7, 300), rng.uniform(-121.6, -121.1, 300)))
    ]
    snapshot = TeamSnapshot.from_rows(rows)
    model = StraightLineTravelModel()

    ranked = recommend(snapshot, 38.5, -121.4, "en", limit=300, travel_model=model)

    expected = model.minutes_many(snapshot.positions, np.array([38.5, -121.4]))
    by_id = {r.team_id: r.eta_minutes for r in ranked}
    assert len(by_id) == 300
    for team_id, minutes in enumerate(expected):
        assert by_id[team_id] == round(float(minutes), 1)
    assert [r.score for r in ranked] == sorted(r.score for r in ranked)
