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
# Upper bounds that keep one replay to minutes, not hours. A fleet of 100
# teams is over ten times the county's 7 vans; 10,000 events are about a
# year of a county program's mobile-response requests.
MAX_TEAMS = 100
MAX_EVENTS = 10_000
MAX_STATIONS = 100
MAX_SPAN = dt.timedelta(days=366)
MAX_SEED = 2**32 - 1
# Event times must fall in this range (the replay's clock adds minutes to
# them, which fails near the end of year 9999).
EARLIEST_EVENT = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
LATEST_EVENT = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
# Replays with more events than this also report progress when stderr is
# not a terminal, in steps of a tenth.
PIPED_PROGRESS_EVENTS = 500


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events", type=Path,
        help="CSV of events with columns event_id, occurred_at (ISO 8601 with offset), "
        "lat, lon (default: the shipped January 2006 Sacramento crisis events).",
    )
    parser.add_argument(
        "--teams", type=int, default=DEFAULT_TEAMS,
        help=f"Number of mobile teams, 1 to {MAX_TEAMS} (default 7).",
    )
    parser.add_argument(
        "--stations", type=Path,
        help="CSV of stations with columns name, lat, lon (default: the demo stations).",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help=f"Seed for every drawn value, 0 to {MAX_SEED} (default 1).",
    )
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


def _open_csv(path: Path, kind: str):
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"Cannot open {kind} file {path}: {error.strerror}.") from None
    return handle


def _rows(reader: csv.DictReader, path: Path):
    """Yield (line, row), turning a decoding error into an InputError."""
    try:
        for line, row in enumerate(reader, start=2):
            yield line, row
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: the file is not UTF-8 text ({error.reason}); save it as UTF-8 (CSV UTF-8)."
        ) from None
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}: invalid CSV: {error}.") from None


def _fieldnames(reader: csv.DictReader, path: Path) -> set[str]:
    try:
        return set(reader.fieldnames or [])
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: the file is not UTF-8 text ({error.reason}); save it as UTF-8 (CSV UTF-8)."
        ) from None


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

    handle = _open_csv(path, "events")
    events = []
    seen: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        missing = {"event_id", "occurred_at", "lat", "lon"} - _fieldnames(reader, path)
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                             "the header must have event_id, occurred_at, lat, lon.")
        for line, row in _rows(reader, path):
            if len(events) >= MAX_EVENTS:
                raise InputError(
                    f"{path}: more than {MAX_EVENTS} events; split the file into replays of at most "
                    f"{MAX_EVENTS} events."
                )
            try:
                occurred = dt.datetime.fromisoformat(row["occurred_at"])
            except (TypeError, ValueError):
                raise InputError(f"{path}:{line}: invalid occurred_at {row['occurred_at']!r}; "
                                 "use ISO 8601 like 2006-01-01T05:22:00-08:00.") from None
            if occurred.tzinfo is None:
                raise InputError(f"{path}:{line}: occurred_at {row['occurred_at']!r} has no UTC offset; add one.")
            if not EARLIEST_EVENT <= occurred < LATEST_EVENT:
                raise InputError(f"{path}:{line}: occurred_at {row['occurred_at']!r} is outside the years "
                                 "1970 to 2099; fix the date.")
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
    first = min(events, key=lambda e: e.occurred_at)
    last = max(events, key=lambda e: e.occurred_at)
    if last.occurred_at - first.occurred_at > MAX_SPAN:
        raise InputError(
            f"{path}: the events span {first.occurred_at.date()} ({first.event_id}) to "
            f"{last.occurred_at.date()} ({last.event_id}), more than {MAX_SPAN.days} days; "
            "replay at most one year at a time."
        )
    return events


def read_stations(path: Path) -> list[StationSpec]:
    """Read and check a stations CSV; every station must be in the county."""
    from crisishub.datapack import geo

    handle = _open_csv(path, "stations")
    stations = []
    seen: dict[str, int] = {}
    with handle:
        reader = csv.DictReader(handle)
        missing = {"name", "lat", "lon"} - _fieldnames(reader, path)
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}; the header must have name, lat, lon.")
        for line, row in _rows(reader, path):
            if len(stations) >= MAX_STATIONS:
                raise InputError(f"{path}: more than {MAX_STATIONS} stations; list at most {MAX_STATIONS}.")
            name = (row["name"] or "").strip()
            if not name:
                raise InputError(f"{path}:{line}: name is empty; give every station a name.")
            if name in seen:
                raise InputError(f"{path}:{line}: station {name!r} repeats line {seen[name]}; names must be unique.")
            seen[name] = line
            lat = _float(row, "lat", path, line)
            lon = _float(row, "lon", path, line)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not geo.in_county(lat, lon):
                raise InputError(
                    f"{path}:{line}: station {name} at {lat}, {lon} is outside Sacramento County; "
                    "teams start from stations in the county, so fix the coordinates (lat and lon swapped?)."
                )
            stations.append(StationSpec(name, lat, lon))
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
    """Progress on stderr: live on a terminal. When stderr is not a
    terminal, only a long replay reports, one line per tenth."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and (done == total or done % 10 == 0):
            end = "\n" if done == total else ""
            self.stream.write(f"\rreplayed {done}/{total} events{end}")
            self.stream.flush()
        elif not self.enabled and total > PIPED_PROGRESS_EVENTS and done % max(total // 10, 1) == 0:
            self.stream.write(f"replayed {done}/{total} events\n")
            self.stream.flush()


def check_arguments(args: argparse.Namespace) -> None:
    """Raise InputError for an option outside its range."""
    if not 1 <= args.teams <= MAX_TEAMS:
        raise InputError(f"Invalid --teams {args.teams}: use 1 to {MAX_TEAMS}.")
    if not 0 <= args.seed <= MAX_SEED:
        raise InputError(f"Invalid --seed {args.seed}: use a whole number from 0 to {MAX_SEED}.")


def check_database_url(url: str) -> None:
    """Raise InputError for a --database URL that names no usable database."""
    import dj_database_url

    usage = "use postgres://USER@HOST:PORT/NAME or sqlite:////absolute/path.sqlite3"
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme not in ("postgres", "postgresql", "pgsql", "sqlite"):
        raise InputError(f"Invalid --database {_hide_password(url)}: unknown scheme {scheme!r}; {usage}.")
    try:
        config = dj_database_url.parse(url)
    except (ValueError, KeyError) as error:
        raise InputError(f"Invalid --database {_hide_password(url)}: {error}; {usage}.") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        folder = Path(config["NAME"]).parent
        if not folder.is_dir():
            raise InputError(f"Invalid --database {url}: the folder {folder} does not exist; create it first.")


def _hide_password(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def run(args: argparse.Namespace) -> int:
    from crisishub.core.models import Team
    from crisishub.core.services.triage import get_active_matrix
    from crisishub.core.setup import load_reference_data
    from crisishub.replay.engine import Replay, summarize
    from django.core.management import call_command

    from django.db import DatabaseError

    try:
        check_arguments(args)
        events = read_events(args.events, keep_outside=args.keep_outside) if args.events else default_events()
        stations = read_stations(args.stations) if args.stations else default_stations()
    except InputError as error:
        print(f"crisishub replay: {error}", file=sys.stderr)
        return 2

    # The report is the output; per-record service logs would bury it.
    logging.getLogger("crisishub").setLevel(logging.WARNING)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as error:
        shown = _hide_password(args.database or "")
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"crisishub replay: cannot use --database {shown}: {reason}. Create the database first "
              "(createdb NAME for PostgreSQL) or omit --database to use a temporary one.", file=sys.stderr)
        return 2
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
    try:
        if args.format == "json":
            json.dump(report, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            _print_table(report)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (head, say) closed the pipe; the replay itself finished.
        _silence_stdout()
    return 0


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


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
