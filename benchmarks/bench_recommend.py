"""Benchmark team recommendation (500 teams, 10,000 open incidents) and the replay.

Run from the repository root:

    .venv/bin/python benchmarks/bench_recommend.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crisishub_bench \\
        .venv/bin/python benchmarks/bench_recommend.py

Without DATABASE_URL the benchmark uses a new temporary SQLite file. With
it, the database must be empty of teams (create a fresh one). It measures:

* the in-memory ``recommend()`` call on a 500-team snapshot, per incident,
  next to a naive plain-Python baseline (haversine loop and sort), and
  checks that both pick the same top team for every incident;
* the end-to-end ``recommend_teams(incident)``, which builds the snapshot
  from the database on every call;
* ``build_team_snapshot()`` alone;
* the replay's events per second: the shipped January 2006 events,
  repeated ``--replay-repeat`` times a month apart (or the CSV given with
  ``--replay-events``), replayed with 7 teams, once with the bulk writes
  the replay uses and once through the per-call services, with the ratio.
  Each replay runs in a separate process on its own empty database. That
  is a temporary SQLite file, or with PostgreSQL a sibling database
  ``<name>_replay`` that is created and dropped. ``--replay-only`` skips
  the recommendation measurements.

This file is not a test: pytest collects only tests/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

# Sacramento County bounding box in WGS 84 degrees.
LATITUDE_RANGE = (38.1, 38.7)
LONGITUDE_RANGE = (-121.6, -121.1)

# Team statuses and their shares in the generated fleet. Roughly 60% of the
# fleet is free, so about 300 of 500 teams are candidates per incident.
TEAM_STATUS_SHARES = {
    "available": 0.60,
    "assigned": 0.06,
    "en_route": 0.06,
    "on_scene": 0.10,
    "transporting": 0.03,
    "at_destination": 0.02,
    "out_of_service": 0.05,
    "off_duty": 0.08,
}
# Share of teams with no reported position, so the snapshot falls back to
# the station's position.
NO_POSITION_SHARE = 0.05
# Share of teams marked inactive (left out of the snapshot).
INACTIVE_SHARE = 0.02
STATION_COUNT = 12
# Past responses spread over the last 24 hours; about half fall inside the
# 12-hour workload window.
PAST_ASSIGNMENT_COUNT = 1500
# Member languages other than English, with their shares among members.
MEMBER_SECOND_LANGUAGE_SHARES = {
    "es": 0.25, "zh": 0.04, "vi": 0.04, "ru": 0.03, "tl": 0.03, "hmn": 0.03,
    "pa": 0.03, "uk": 0.01, "fa": 0.01, "ar": 0.01, "ase": 0.01,
}


def _configure_database(database_url: str | None) -> str | None:
    """Point Django at DATABASE_URL or a new SQLite file; return its folder."""
    directory = None
    if not database_url:
        directory = tempfile.mkdtemp(prefix="crisishub-bench-")
        database_url = f"sqlite:///{directory}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault(
        "CRISISHUB_DATA_DIR", directory or tempfile.mkdtemp(prefix="crisishub-bench-")
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
    return directory


def _weighted(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(*LATITUDE_RANGE), rng.uniform(*LONGITUDE_RANGE)


def _member_languages(rng: random.Random) -> list[str]:
    languages = ["en"]
    for language, share in MEMBER_SECOND_LANGUAGE_SHARES.items():
        if rng.random() < share:
            languages.append(language)
    return languages


def populate(team_count: int, incident_count: int, seed: int) -> None:
    """Bulk-create stations, teams with members, past work and open incidents."""
    from django.db import transaction

    rng = random.Random(seed)
    now = _now()
    with transaction.atomic():
        stations = _create_stations(rng)
        teams = _create_teams(rng, team_count, stations, now)
        _create_past_assignments(rng, teams, now)
        _create_open_incidents(rng, incident_count, now)


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def _create_stations(rng: random.Random) -> list:
    from crisishub.core.models import Station

    rows = []
    for index in range(STATION_COUNT):
        lat, lon = _random_point(rng)
        rows.append(Station(name=f"Bench station {index + 1}", latitude=lat, longitude=lon))
    Station.objects.bulk_create(rows)
    return list(Station.objects.order_by("pk"))


def _create_teams(rng: random.Random, count: int, stations: list, now: dt.datetime) -> list:
    from crisishub.core.models import MemberRole, Team, TeamMember

    teams = []
    member_languages = []
    for index in range(count):
        counselor, peer = _member_languages(rng), _member_languages(rng)
        member_languages.append((counselor, peer))
        station = stations[index % len(stations)]
        lat, lon = _random_point(rng)
        if rng.random() < NO_POSITION_SHARE:
            lat, lon = None, None
        teams.append(
            Team(
                name=f"B-{index + 1:04d}",
                station=station,
                status=_weighted(rng, TEAM_STATUS_SHARES),
                status_since=now - dt.timedelta(minutes=rng.uniform(0, 240)),
                last_latitude=lat,
                last_longitude=lon,
                last_position_at=now if lat is not None else None,
                languages=sorted(set(counselor) | set(peer)),
                is_active=rng.random() >= INACTIVE_SHARE,
            )
        )
    Team.objects.bulk_create(teams)
    teams = list(Team.objects.order_by("pk"))

    members = []
    for team, (counselor, peer) in zip(teams, member_languages):
        members.append(TeamMember(
            team=team, display_name=f"Counselor {team.name}",
            role=MemberRole.COUNSELOR, languages=counselor,
        ))
        members.append(TeamMember(
            team=team, display_name=f"Peer {team.name}",
            role=MemberRole.PEER, languages=peer,
        ))
    TeamMember.objects.bulk_create(members)
    return teams


def _create_contacts(rng: random.Random, count: int, now: dt.datetime) -> list:
    from crisishub.core.models import Contact
    from crisishub.replay.draws import LANGUAGE_SHARES

    contacts = []
    for _ in range(count):
        lat, lon = _random_point(rng)
        offered = now - dt.timedelta(minutes=rng.uniform(0, 24 * 60))
        contacts.append(Contact(
            source=Contact.Source.LIFELINE_988, offered_at=offered, answered_at=offered,
            preferred_language=_weighted(rng, LANGUAGE_SHARES),
            latitude=lat, longitude=lon, location_precision="block",
            in_service_area=True, created_at=offered, updated_at=offered,
        ))
    Contact.objects.bulk_create(contacts, batch_size=2000)
    return list(Contact.objects.order_by("pk"))[-count:]


def _incident_rows(contacts: list, status: str, prefix: str) -> list:
    from crisishub.core.models import Incident

    return [
        Incident(
            number=f"{prefix}{index + 1:06d}", contact=contact,
            priority=1 + index % 3, status=status, t0=contact.offered_at,
            latitude=contact.latitude, longitude=contact.longitude,
            location_precision="block", area_class="urban",
            language=contact.preferred_language, created_at=contact.offered_at,
        )
        for index, contact in enumerate(contacts)
    ]


def _create_past_assignments(rng: random.Random, teams: list, now: dt.datetime) -> None:
    """Create cleared incidents with ended assignments, for the workload count."""
    from crisishub.core.models import Assignment, Incident

    contacts = _create_contacts(rng, PAST_ASSIGNMENT_COUNT, now)
    Incident.objects.bulk_create(_incident_rows(contacts, "cleared", "BP"), batch_size=2000)
    incidents = list(Incident.objects.filter(number__startswith="BP").order_by("pk"))
    assignments = []
    for incident in incidents:
        assigned = now - dt.timedelta(minutes=rng.uniform(0, 24 * 60))
        assignments.append(Assignment(
            incident=incident, team=rng.choice(teams), active=False,
            assigned_at=assigned, ended_at=assigned + dt.timedelta(minutes=60),
        ))
    Assignment.objects.bulk_create(assignments, batch_size=2000)


def _create_open_incidents(rng: random.Random, count: int, now: dt.datetime) -> None:
    from crisishub.core.models import Incident

    contacts = _create_contacts(rng, count, now)
    Incident.objects.bulk_create(_incident_rows(contacts, "pending", "BO"), batch_size=2000)


# --- Naive baseline ------------------------------------------------------


@dataclass(frozen=True)
class NaiveTeam:
    team_id: int
    latitude: float
    longitude: float
    available: bool
    languages: frozenset[str]
    workload: int


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius_km = 6371.0088
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * radius_km * math.asin(math.sqrt(min(a, 1.0)))


def naive_recommend(
    teams: Sequence[NaiveTeam],
    latitude: float,
    longitude: float,
    language: str,
    model: Any,
    limit: int = 3,
) -> list[tuple[float, int]]:
    """Score every available team in a Python loop; return (score, id) best first."""
    from crisishub.core.recommend import (
        LANGUAGE_MISMATCH_PENALTY_MINUTES,
        WORKLOAD_PENALTY_MINUTES,
    )

    minutes_per_km = model.circuity_factor / model.speed_kmh * 60.0
    scored = []
    for team in teams:
        if not team.available:
            continue
        km = _haversine_km(team.latitude, team.longitude, latitude, longitude)
        eta = km * minutes_per_km + model.overhead_minutes
        penalty = 0.0 if language in team.languages else LANGUAGE_MISMATCH_PENALTY_MINUTES
        score = eta + penalty + team.workload * WORKLOAD_PENALTY_MINUTES
        scored.append((score, team.team_id))
    scored.sort()
    return scored[:limit]


def naive_teams(snapshot: Any) -> list[NaiveTeam]:
    """Copy a snapshot into plain Python objects for the baseline."""
    return [
        NaiveTeam(
            team_id=int(snapshot.ids[i]),
            latitude=float(snapshot.positions[i, 0]),
            longitude=float(snapshot.positions[i, 1]),
            available=bool(snapshot.available[i]),
            languages=snapshot.languages[i],
            workload=int(snapshot.workload[i]),
        )
        for i in range(len(snapshot.ids))
    ]


# --- Timing ---------------------------------------------------------------


def summarize_ns(samples_ns: list[int], unit: str) -> dict[str, float]:
    """Return count, p50, p90, p99 and max of samples, in the given unit."""
    divisor = {"us": 1e3, "ms": 1e6}[unit]
    ordered = sorted(samples_ns)

    def percentile(q: float) -> float:
        index = min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)
        return ordered[max(index, 0)] / divisor

    return {
        "count": len(ordered),
        "unit": unit,
        "p50": round(percentile(50), 2),
        "p90": round(percentile(90), 2),
        "p99": round(percentile(99), 2),
        "max": round(ordered[-1] / divisor, 2),
        "mean": round(statistics.fmean(ordered) / divisor, 2),
    }


def time_each(
    items: Sequence[Any], call: Callable[[Any], Any], clock: Callable[[], int] = time.perf_counter_ns
) -> tuple[list[int], list[Any]]:
    samples, outputs = [], []
    for item in items:
        start = clock()
        output = call(item)
        samples.append(clock() - start)
        outputs.append(output)
    return samples, outputs


def bench_in_memory(snapshot: Any, incidents: list, model: Any) -> dict[str, Any]:
    """Time recommend() and the naive baseline per incident; compare top teams."""
    from crisishub.core.recommend import recommend

    points = [(i.latitude, i.longitude, i.language) for i in incidents]
    baseline_teams = naive_teams(snapshot)

    def ours(point):
        return recommend(snapshot, point[0], point[1], point[2])

    def naive(point):
        return naive_recommend(baseline_teams, point[0], point[1], point[2], model)

    # Warm-up: fills the per-language masks and the interpreter's caches.
    time_each(points[:500], ours)
    time_each(points[:500], naive)
    ours_ns, ours_out = time_each(points, ours)
    naive_ns, naive_out = time_each(points, naive)
    # CPU time of this thread per call: what the call costs without the
    # waits while other processes hold the CPU, which wall-clock p99 includes.
    ours_cpu_ns, _ = time_each(points, ours, clock=time.thread_time_ns)
    return {
        "recommend": summarize_ns(ours_ns, "us"),
        "recommend_cpu_time": summarize_ns(ours_cpu_ns, "us"),
        "naive": summarize_ns(naive_ns, "us"),
        "ratio_ours_over_naive": _ratios(ours_ns, naive_ns),
        "agreement": _compare_top(ours_out, naive_out),
    }


def _ratios(ours_ns: list[int], naive_ns: list[int]) -> dict[str, float]:
    ours = summarize_ns(ours_ns, "us")
    naive = summarize_ns(naive_ns, "us")
    return {key: round(ours[key] / naive[key], 3) for key in ("p50", "p99", "mean")}


def _compare_top(ours: list, naive: list) -> dict[str, int]:
    """Count incidents where both pick the same top team, and real mismatches.

    A different pick whose two scores agree within 1e-9 minutes is a tie
    broken by floating-point rounding, counted apart from mismatches.
    """
    same = ties = mismatches = 0
    for our_list, naive_list in zip(ours, naive):
        if not our_list and not naive_list:
            same += 1
            continue
        if our_list and naive_list and our_list[0].team_id == naive_list[0][1]:
            same += 1
            continue
        naive_scores = dict((team_id, score) for score, team_id in naive_list)
        if our_list and our_list[0].team_id in naive_scores and math.isclose(
            naive_scores[our_list[0].team_id], naive_list[0][0], abs_tol=1e-9
        ):
            ties += 1
        else:
            mismatches += 1
    return {"incidents": len(ours), "same_top_team": same, "float_ties": ties, "mismatches": mismatches}


def bench_end_to_end(incidents: list, count: int) -> dict[str, Any]:
    from crisishub.core.services.dispatch import recommend_teams

    sample = incidents[:count]
    time_each(sample[:20], recommend_teams)
    samples, _ = time_each(sample, recommend_teams)
    return summarize_ns(samples, "ms")


def bench_snapshot(repeats: int) -> dict[str, Any]:
    from crisishub.core.services.dispatch import build_team_snapshot

    build_team_snapshot()
    samples, _ = time_each(range(repeats), lambda _: build_team_snapshot())
    return summarize_ns(samples, "ms")


# --- Machine and report ---------------------------------------------------


# --- Replay throughput ------------------------------------------------------


def tiled_events(repeat: int) -> list:
    """Return the shipped events, repeated ``repeat`` times 31 days apart."""
    from crisishub.replay.cli import default_events
    from crisishub.replay.types import ReplayEvent

    shipped = default_events()
    return [
        ReplayEvent(
            f"{event.event_id}-{round_number}",
            event.occurred_at + dt.timedelta(days=31 * round_number),
            event.latitude, event.longitude, event.kind,
        )
        for round_number in range(repeat)
        for event in shipped
    ]


def replay_events(args: argparse.Namespace) -> list:
    """Return the events to replay: ``--replay-events`` or the tiled shipped events."""
    if args.replay_events:
        from pathlib import Path

        from crisishub.replay.cli import read_events

        return read_events(Path(args.replay_events), keep_outside=True)
    return tiled_events(args.replay_repeat)


def replay_worker(args: argparse.Namespace) -> int:
    """Time one replay on the empty database in DATABASE_URL; print JSON."""
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    from crisishub.core.setup import load_reference_data
    from crisishub.replay.cli import default_stations
    from crisishub.replay.engine import Replay

    logging.getLogger("crisishub").setLevel(logging.WARNING)
    call_command("migrate", interactive=False, verbosity=0)
    load_reference_data()
    events = replay_events(args)
    replay = Replay(events, default_stations(), 7, args.seed, bulk=args.replay_mode == "bulk")
    started = time.perf_counter()
    result = replay.run()
    seconds = time.perf_counter() - started
    json.dump({
        "mode": args.replay_mode,
        "events": len(events),
        "dispatched": result.dispatched,
        "seconds": round(seconds, 2),
        "events_per_second": round(len(events) / seconds, 1),
        "database": database_description(),
    }, sys.stdout)
    return 0


def bench_replay(args: argparse.Namespace) -> dict[str, Any]:
    """Time the bulk replay and the per-call services replay; return both and the ratio."""
    bulk = bench_replay_mode(args, "bulk")
    services = bench_replay_mode(args, "services")
    if bulk["dispatched"] != services["dispatched"]:
        raise RuntimeError(
            f"The bulk replay dispatched {bulk['dispatched']} teams and the per-call replay "
            f"{services['dispatched']}; they must agree."
        )
    return {
        **bulk,
        "services": services,
        "speedup": round(services["seconds"] / bulk["seconds"], 1),
    }


def bench_replay_mode(args: argparse.Namespace, mode: str) -> dict[str, Any]:
    """Run :func:`replay_worker` in a new process on a fresh database."""
    import subprocess

    from django.db import connection

    env = dict(os.environ)
    drop = None
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        name = f"{settings['NAME']}_replay"
        drop = _create_postgres_database(settings, name)
        env["DATABASE_URL"] = (
            f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
        )
        directory = None
    else:
        directory = tempfile.mkdtemp(prefix="crisishub-bench-replay-")
        env["DATABASE_URL"] = f"sqlite:///{directory}/replay.sqlite3"
    try:
        output = subprocess.run(
            [sys.executable, __file__, "--replay-worker", "--replay-mode", mode,
             "--replay-repeat", str(args.replay_repeat), "--seed", str(args.seed),
             *(["--replay-events", args.replay_events] if args.replay_events else [])],
            env=env, check=True, capture_output=True, text=True, timeout=1800,
        ).stdout
    finally:
        if drop is not None:
            drop()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
    return json.loads(output)


def _create_postgres_database(settings: dict, name: str) -> Callable[[], None]:
    """Create an empty database next to the benchmark's; return its dropper."""
    import psycopg

    admin_url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return drop


def database_description() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        version = cursor.fetchone()[0]
    return {"vendor": connection.vendor, "version": version}


def machine_description() -> dict[str, Any]:
    import numpy

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "sqlite_library": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def print_replay(replay: dict[str, Any] | None) -> None:
    if replay is None:
        print("replay: skipped")
        return
    services = replay["services"]
    print(
        f"replay: {replay['events']} events in {replay['seconds']} s = "
        f"{replay['events_per_second']} events/s ({replay['dispatched']} dispatched)"
    )
    print(
        f"replay through per-call services: {services['seconds']} s = "
        f"{services['events_per_second']} events/s; bulk is {replay['speedup']}x faster"
    )


def print_report(report: dict[str, Any]) -> None:
    print(f"database: {report['database']['vendor']} {report['database']['version']}")
    if "fleet" not in report:
        print(f"load average at start: {report['load_average']}")
        print_replay(report["replay"])
        return
    print(f"fleet: {report['fleet']}")
    print(f"setup seconds: {report['setup_seconds']}")
    for name in ("recommend", "recommend_cpu_time", "naive"):
        print(f"{name:>18} per incident: {_format_stats(report['in_memory'][name])}")
    print(f"ratio ours/naive: {report['in_memory']['ratio_ours_over_naive']}")
    print(f"top-team agreement: {report['in_memory']['agreement']}")
    print(f"end-to-end recommend_teams: {_format_stats(report['end_to_end'])}")
    print(f"build_team_snapshot: {_format_stats(report['snapshot_build'])}")
    print(f"load average at start: {report['load_average']}")
    print_replay(report["replay"])
    p99 = report["in_memory"]["recommend"]["p99"]
    verdict = "met" if p99 < 2000 else "MISSED"
    print(f"target recommend() p99 < 2 ms: {verdict} ({p99} us)")


def _format_stats(stats: dict[str, Any]) -> str:
    unit = stats["unit"]
    return (
        f"n={stats['count']} p50={stats['p50']}{unit} p90={stats['p90']}{unit} "
        f"p99={stats['p99']}{unit} max={stats['max']}{unit} mean={stats['mean']}{unit}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=500, help="Teams to create (default 500).")
    parser.add_argument(
        "--incidents", type=int, default=10_000, help="Open incidents to create (default 10000)."
    )
    parser.add_argument(
        "--end-to-end", type=int, default=2000,
        help="Incidents timed end to end, each building its own snapshot (default 2000).",
    )
    parser.add_argument(
        "--snapshot-repeats", type=int, default=300,
        help="Times build_team_snapshot() is timed alone (default 300).",
    )
    parser.add_argument("--seed", type=int, default=7, help="Seed for the generated data (default 7).")
    parser.add_argument(
        "--replay-repeat", type=int, default=5,
        help="Copies of the 111 shipped events replayed, 31 days apart (default 5; 0 skips the replay).",
    )
    parser.add_argument(
        "--replay-events",
        help="CSV of events to replay instead of the tiled shipped events (columns event_id, "
        "occurred_at, lat, lon; events outside the county are kept).",
    )
    parser.add_argument(
        "--replay-only", action="store_true", help="Measure only the replay, not the recommendation.",
    )
    parser.add_argument("--replay-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--replay-mode", choices=("bulk", "services"), default="bulk", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replay_only and args.replay_repeat <= 0 and not args.replay_events:
        print("bench_recommend: --replay-only needs --replay-repeat 1 or more, or --replay-events FILE.",
              file=sys.stderr)
        return 2
    if args.replay_worker:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
        return replay_worker(args)
    directory = _configure_database(os.environ.get("DATABASE_URL"))
    try:
        return run(args)
    finally:
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from crisishub.core.models import Incident, Team
    from crisishub.core.recommend import _default_model
    from crisishub.core.services.dispatch import build_team_snapshot

    call_command("migrate", interactive=False, verbosity=0)
    if args.replay_only:
        return _report(args, {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "load_average": [round(value, 2) for value in os.getloadavg()],
            "machine": machine_description(),
            "database": database_description(),
            "replay": bench_replay(args),
        })
    if Team.objects.exists():
        print(
            "bench_recommend: the database already has teams; point DATABASE_URL at an "
            "empty database or unset it to use a temporary SQLite file.",
            file=sys.stderr,
        )
        return 2

    started = time.perf_counter()
    populate(args.teams, args.incidents, args.seed)
    setup_seconds = round(time.perf_counter() - started, 2)

    incidents = list(Incident.objects.filter(status="pending").order_by("pk"))
    snapshot = build_team_snapshot()
    report = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        # 1, 5 and 15 minute load averages: other work inflates wall-clock p99.
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "machine": machine_description(),
        "database": database_description(),
        "fleet": {
            "teams": args.teams,
            "in_snapshot": int(len(snapshot.ids)),
            "available": int(snapshot.available.sum()),
            "open_incidents": len(incidents),
        },
        "setup_seconds": setup_seconds,
        "in_memory": bench_in_memory(snapshot, incidents, _default_model()),
        "end_to_end": bench_end_to_end(incidents, args.end_to_end),
        "snapshot_build": bench_snapshot(args.snapshot_repeats),
        "replay": bench_replay(args) if args.replay_repeat > 0 or args.replay_events else None,
    }
    return _report(args, report)


def _report(args: argparse.Namespace, report: dict[str, Any]) -> int:
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
