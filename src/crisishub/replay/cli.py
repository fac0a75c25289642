"""``crisishub replay``: run crisis events through the hub and report."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import math
import sys
from pathlib import Path

from crisishub.replay.types import ReplayEvent, StationSpec

DEFAULT_TEAMS = 7


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events", type=Path,
        help="CSV of events with columns event_id, occurred_at (ISO 8601 with offset), "
        "lat, lon (default: the shipped January 2006 Sacramento crisis events).",
    )
    parser.add_argument("--teams", type=int, default=DEFAULT_TEAMS, help="Number of mobile teams (default 7).")
    parser.add_argument(
        "--stations", type=Path,
        help="CSV of stations with columns name, lat, lon (default: the demo stations).",
    )
    parser.add_argument("--seed", type=int, default=1, help="Seed for every drawn value (default 1).")
    parser.add_argument("--format", choices=("json", "table"), default="table", help="Output format.")
    parser.add_argument(
        "--keep-outside", action="store_true",
        help="Keep events outside Sacramento County and count them as 'outside the service "
        "area' (default: reject an events file that has any).",
    )
    parser.add_argument(
        "--database",
        help="Database URL to replay into (default: a new temporary SQLite database).",
    )


class InputError(Exception):
    pass


def _float(row: dict, column: str, path: Path, line: int) -> float:
    try:
        value = float(row[column])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{path}:{line}: invalid or missing {column} {row.get(column)!r}; use decimal degrees.") from None
    if not math.isfinite(value):
        raise InputError(f"{path}:{line}: {column} {row[column]!r} is not a finite number.")
    return value


def read_events(path: Path, *, keep_outside: bool = False) -> list[ReplayEvent]:
    """Read and check an events CSV; errors name the file, line and value."""
    from crisishub.datapack import geo

    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"Cannot open events file {path}: {error.strerror}.") from None
    events = []
    seen: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        missing = {"event_id", "occurred_at", "lat", "lon"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                             "the header must have event_id, occurred_at, lat, lon.")
        for line, row in enumerate(reader, start=2):
            try:
                occurred = dt.datetime.fromisoformat(row["occurred_at"])
            except (TypeError, ValueError):
                raise InputError(f"{path}:{line}: invalid occurred_at {row['occurred_at']!r}; "
                                 "use ISO 8601 like 2006-01-01T05:22:00-08:00.") from None
            if occurred.tzinfo is None:
                raise InputError(f"{path}:{line}: occurred_at {row['occurred_at']!r} has no UTC offset; add one.")
            lat = _float(row, "lat", path, line)
            lon = _float(row, "lon", path, line)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(f"{path}:{line}: coordinates {lat}, {lon} are out of range; "
                                 "use decimal degrees, latitude in lat and longitude in lon.")
            event_id = (row["event_id"] or "").strip()
            if not event_id:
                raise InputError(f"{path}:{line}: event_id is empty; give every event an id.")
            if event_id in seen:
                raise InputError(f"{path}:{line}: event_id {event_id!r} repeats line {seen[event_id]}; "
                                 "event ids must be unique.")
            seen[event_id] = line
            if not keep_outside and not geo.in_county(lat, lon):
                raise InputError(
                    f"{path}:{line}: event {event_id} at {lat}, {lon} is outside Sacramento County; "
                    "fix the coordinates (lat and lon swapped?) or pass --keep-outside to count it "
                    "as outside the service area."
                )
            events.append(ReplayEvent(event_id, occurred, lat, lon, row.get("kind", "") or ""))
    if not events:
        raise InputError(f"{path}: the file has no events.")
    return events


def read_stations(path: Path) -> list[StationSpec]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"Cannot open stations file {path}: {error.strerror}.") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = {"name", "lat", "lon"} - set(reader.fieldnames or [])
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; the header must have name, lat, lon.")
        stations = [
            StationSpec(row["name"], _float(row, "lat", path, line), _float(row, "lon", path, line))
            for line, row in enumerate(reader, start=2)
        ]
    if not stations:
        raise InputError(f"{path}: the file has no stations.")
    return stations


def default_events() -> list[ReplayEvent]:
    from crisishub import datapack

    return [ReplayEvent(e.event_id, e.occurred_at, e.lat, e.lon, e.kind) for e in datapack.load_events()]


def default_stations() -> list[StationSpec]:
    from crisishub.core.setup import DEMO_STATIONS

    return [StationSpec(name, lat, lon) for name, _, lat, lon in DEMO_STATIONS]


class _Progress:
    """Progress on stderr when it is a terminal; silent when piped."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done == total or done % 10 == 0):
            end = "\n" if done == total else ""
            self.stream.write(f"\rreplayed {done}/{total} events{end}")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from crisishub.core.models import Team
    from crisishub.core.services.triage import get_active_matrix
    from crisishub.core.setup import load_reference_data
    from crisishub.replay.engine import Replay, summarize
    from django.core.management import call_command

    try:
        events = read_events(args.events, keep_outside=args.keep_outside) if args.events else default_events()
        stations = read_stations(args.stations) if args.stations else default_stations()
        if args.teams < 1:
            raise InputError(f"Invalid --teams {args.teams}: use 1 or more.")
    except InputError as error:
        print(f"crisishub replay: {error}", file=sys.stderr)
        return 2

    # The report is the output; per-record service logs would bury it.
    logging.getLogger("crisishub").setLevel(logging.WARNING)
    call_command("migrate", interactive=False, verbosity=0)
    load_reference_data()
    if Team.objects.exists():
        print("crisishub replay: the database already has teams; replay into an empty database "
              "(omit --database to use a temporary one).", file=sys.stderr)
        return 2
    replay = Replay(events, stations, args.teams, args.seed, progress=_Progress())
    result = replay.run()
    report = summarize(
        result, seed=args.seed, team_names=sorted(replay.team_names.values()),
        matrix_version=get_active_matrix().version,
    )
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(report)
    return 0


def _print_table(report: dict) -> None:
    rows = [
        ("events", report["events"]),
        ("mobile requests", report["mobile_requests"]),
        ("dispatched", report["dispatched"]),
    ]
    rows += [(f"no team: {reason}", count) for reason, count in report["no_team"].items()]
    rows += [
        ("response minutes p50", report["response_minutes"]["p50"]),
        ("response minutes p90", report["response_minutes"]["p90"]),
        ("within standard, urban", report["within_standard_share"]["urban"]),
        ("within standard, rural", report["within_standard_share"]["rural"]),
        ("language concordant", report["language_concordant_share"]),
        ("team utilization (mean)", report["team_utilization"]["mean"]),
        ("law enforcement share", report["law_enforcement_share"]),
        ("seed", report["seed"]),
        ("matrix version", report["matrix_version"]),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {'-' if value is None else value}")
    print("Real fields: " + ", ".join(report["fields"]["real"]))
    print("Drawn fields: " + ", ".join(report["fields"]["drawn"]) + " (see --format json for distributions)")
