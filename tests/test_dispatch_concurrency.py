"""Assignment under real concurrency: threads on separate database
connections race, and exactly one assignment survives.

These run on whichever database the suite uses: SQLite (a file, where
IMMEDIATE transactions serialize writers) and PostgreSQL (row locks).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from crisishub.core.errors import Conflict
from crisishub.core.models import Assignment, IncidentEvent, Team, TeamStatus
from crisishub.core.services import dispatch

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRES_REASON = "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME"

# Rounds per race; each round builds fresh incidents.
ROUNDS = 4


def connection_identity() -> object:
    """Return the server process id on PostgreSQL, else the driver connection."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    return id(connection.connection)


def race(*calls):
    """Run each call in its own thread, released together by a barrier.

    Returns, per call, its result or the exception it raised, and the
    identity of the database connection each thread used.
    """
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    identities: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            identities[index] = connection_identity()
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing thread did not finish within 60 s"
    return results, identities


@pytest.fixture
def slow_locks(monkeypatch):
    """Hold the team row lock for 0.2 s, so the rival request arrives while
    the first transaction is still open."""
    original = dispatch._lock_team

    def lock_then_wait(team_id):
        team = original(team_id)
        time.sleep(0.2)
        return team

    monkeypatch.setattr(dispatch, "_lock_team", lock_then_wait)


def assert_one_winner(results):
    conflicts = [r for r in results if isinstance(r, Conflict)]
    winners = [r for r in results if isinstance(r, Assignment)]
    others = [r for r in results if not isinstance(r, (Conflict, Assignment))]
    assert others == []
    assert len(winners) == 1
    assert len(conflicts) == len(results) - 1
    return winners[0], conflicts


def assert_file_database():
    """Threads share an SQLite test database only when it is a file."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        assert ":memory:" not in name
        assert "mode=memory" not in name


@pytest.mark.parametrize("widen_window", [False, True], ids=["plain", "lock-held"])
def test_one_team_two_incidents(make_incident, fleet, request, widen_window):
    if widen_window:
        request.getfixturevalue("slow_locks")
    assert_file_database()
    team = fleet[0]
    for _ in range(ROUNDS):
        first, second = make_incident(), make_incident()

        results, identities = race(
            lambda: dispatch.do_assign_team(first.pk, team.pk, actor="dispatcher-a"),
            lambda: dispatch.do_assign_team(second.pk, team.pk, actor="dispatcher-b"),
        )

        assert identities[0] != identities[1]
        winner, (conflict,) = assert_one_winner(results)
        assert "not available" in conflict.message or "a moment ago" in conflict.message
        assert Assignment.objects.filter(team=team, active=True).count() == 1
        statuses = sorted(
            type(first).objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
        )
        assert statuses == ["assigned", "pending"]
        assert IncidentEvent.objects.filter(
            incident__in=[first, second], kind="assigned"
        ).count() == 1
        team.refresh_from_db()
        assert team.status == TeamStatus.ASSIGNED
        # Free the team for the next round.
        dispatch.do_cancel_incident(winner.incident_id, reason="test round over")


@pytest.mark.parametrize("widen_window", [False, True], ids=["plain", "lock-held"])
def test_two_dispatchers_one_incident(make_incident, fleet, request, widen_window):
    if widen_window:
        request.getfixturevalue("slow_locks")
    for round_number in range(ROUNDS):
        incident = make_incident()
        team_a, team_b = fleet[2 * round_number % len(fleet)], fleet[(2 * round_number + 1) % len(fleet)]

        results, identities = race(
            lambda: dispatch.do_assign_team(incident.pk, team_a.pk, actor="dispatcher-a"),
            lambda: dispatch.do_assign_team(incident.pk, team_b.pk, actor="dispatcher-b"),
        )

        assert identities[0] != identities[1]
        winner, (conflict,) = assert_one_winner(results)
        assert "already assigned" in conflict.message or "a moment ago" in conflict.message
        assert Assignment.objects.filter(incident=incident, active=True).count() == 1
        incident.refresh_from_db()
        assert incident.team_id == winner.team_id
        loser_id = team_b.pk if winner.team_id == team_a.pk else team_a.pk
        assert Team.objects.get(pk=loser_id).status == TeamStatus.AVAILABLE
        assert incident.events.filter(kind="assigned").count() == 1
        dispatch.do_cancel_incident(incident.pk, reason="test round over")


def test_four_dispatchers_two_teams_two_incidents(make_incident, fleet):
    """Every pairing races at once; each team and each incident ends with
    at most one active assignment."""
    incidents = [make_incident(), make_incident()]
    teams = fleet[:2]
    calls = [
        (lambda i=i, t=t: dispatch.do_assign_team(i.pk, t.pk))
        for i in incidents for t in teams
    ]

    results, identities = race(*calls)

    assert len(set(identities)) == 4
    assert all(isinstance(r, (Assignment, Conflict)) for r in results)
    active = Assignment.objects.filter(active=True)
    assert 1 <= active.count() <= 2
    assert active.values("team").distinct().count() == active.count()
    assert active.values("incident").distinct().count() == active.count()
    assert sum(isinstance(r, Assignment) for r in results) == active.count()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason=POSTGRES_REASON)
def test_postgres_assignment_waits_on_row_lock(make_incident, fleet):
    """A dispatcher holding the team row (SELECT ... FOR UPDATE) makes a
    rival assignment wait until it commits, then see the new status."""
    incident = make_incident()
    team = fleet[0]
    locked = threading.Event()
    release = threading.Event()

    def hold_team_lock():
        try:
            with transaction.atomic():
                row = Team.objects.select_for_update().get(pk=team.pk)
                locked.set()
                release.wait(timeout=10)
                row.status = TeamStatus.OUT_OF_SERVICE
                row.save(update_fields=["status"])
        finally:
            connection.close()

    holder = threading.Thread(target=hold_team_lock)
    holder.start()
    assert locked.wait(timeout=10)
    outcome: list[object] = []

    def assign():
        try:
            outcome.append(dispatch.do_assign_team(incident.pk, team.pk))
        except Conflict as error:
            outcome.append(error)
        finally:
            connection.close()

    started = time.monotonic()
    rival = threading.Thread(target=assign)
    rival.start()
    time.sleep(0.3)
    still_waiting = rival.is_alive()
    release.set()
    holder.join(timeout=10)
    rival.join(timeout=10)

    assert still_waiting
    assert time.monotonic() - started >= 0.3
    assert len(outcome) == 1
    assert isinstance(outcome[0], Conflict)
    assert "out_of_service" in outcome[0].message
    assert Assignment.objects.count() == 0
