"""``crisishub plan simulate``: what-if simulation of calls and mobile teams."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from crisishub.planning import erlang
from crisishub.planning import profile as demand
from crisishub.planning import simulation as sim
from crisishub.planning._output import Progress, emit

MAX_TEAMS = 500
MAX_REPLICATIONS = 1_000
MAX_SEED = 2**32 - 1
SIMULATE_NOTE = (
    "Borrowed profile: the hour-of-week shape of crisis calls in Toronto, "
    "not this county's data. Replace it with local call timestamps "
    "(plan simulate --timestamps FILE) when they exist."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Simulate the call center and the mobile teams over a horizon, with "
        "arrivals from the hour-of-week profile (borrowed from Toronto) and "
        "request locations from the county's census tracts. Prints means "
        "with 95% t-intervals over replications (at least 2). --timestamps "
        "replaces the borrowed shape with local call times. Progress goes "
        "to stderr when it is a terminal."
    )
    horizon = parser.add_mutually_exclusive_group()
    horizon.add_argument("--weeks", type=float, help="Horizon in weeks (default: 1).")
    horizon.add_argument("--days", type=float, help="Horizon in days.")
    parser.add_argument("--teams", type=int, default=7, help="Mobile teams (default: 7).")
    parser.add_argument(
        "--counselors",
        type=int,
        help="Counselors on duty in every hour (default: an Erlang C schedule "
        "per hour of week for --service-level within 20 seconds).",
    )
    parser.add_argument(
        "--weekly-calls",
        type=float,
        help="Calls per week (default: the profile's own weekly mean).",
    )
    parser.add_argument(
        "--mobile-share",
        type=float,
        default=0.2,
        help="Share of answered calls that need a team (default: 0.2).",
    )
    parser.add_argument(
        "--aht", type=float, default=12.0, help="Mean call handle minutes (default: 12)."
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=5.0,
        help="Mean caller patience in minutes, exponential (default: 5).",
    )
    parser.add_argument(
        "--service-level",
        type=float,
        default=0.8,
        help="Target for the default counselor schedule (default: 0.8).",
    )
    parser.add_argument(
        "--on-scene", type=float, default=60.0, help="Mean minutes on scene, lognormal (default: 60)."
    )
    parser.add_argument(
        "--transport-share", type=float, default=0.3, help="Share transported (default: 0.3)."
    )
    parser.add_argument(
        "--transport",
        type=float,
        default=45.0,
        help="Mean transport minutes, exponential (default: 45).",
    )
    parser.add_argument(
        "--stations",
        metavar="FILE",
        help="CSV with lat and lon columns, one team per row in turn "
        "(default: all teams at the county Mental Health Urgent Care Clinic).",
    )
    parser.add_argument(
        "--timestamps",
        metavar="FILE",
        help="CSV of local call timestamps for the hour-of-week shape "
        "(default: the borrowed Toronto profile).",
    )
    parser.add_argument("--column", default="timestamp", help="Timestamp column name.")
    parser.add_argument(
        "--replications",
        type=int,
        default=10,
        help=f"Replications, 2 to {MAX_REPLICATIONS:,} (default: 10).",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help=f"Random seed, 0 to {MAX_SEED} (default: 0)."
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")


def _days(args: argparse.Namespace) -> float:
    if args.days is not None:
        value = args.days
    else:
        value = 7.0 * (1.0 if args.weeks is None else args.weeks)
    if not 1.0 <= value <= 366.0:
        raise ValueError(f"invalid horizon of {value} days: use 1 day to 1 year")
    return value


def _stations(path: str | None) -> np.ndarray:
    if path is None:
        from crisishub import datapack

        clinics = [
            f for f in datapack.load_facilities() if f.kind == "mental_health_urgent_care"
        ]
        if not clinics:
            raise ValueError("no urgent care clinic in the data pack: pass --stations FILE")
        return np.array([[clinics[0].lat, clinics[0].lon]])
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"stations file {file} not found: check the path")
    with file.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "lat" not in rows[0] or "lon" not in rows[0]:
        raise ValueError(f"{file} needs lat and lon columns and at least one row")
    return np.array([_station(file, line, row) for line, row in enumerate(rows, start=2)])


def _station(file: Path, line: int, row: dict) -> list[float]:
    point = []
    for column, limit in (("lat", 90.0), ("lon", 180.0)):
        text = row[column]
        try:
            value = float(text)
        except (TypeError, ValueError):
            value = float("nan")
        if not -limit <= value <= limit:
            raise ValueError(
                f"invalid {column} {text!r} in {file} line {line}: use decimal "
                f"degrees from -{limit:g} to {limit:g}"
            )
        point.append(value)
    return point


def _travel_matrix(stations: np.ndarray, points: sim.DemandPoints) -> np.ndarray:
    """Travel minutes from stations to points, at rural speed to rural tracts."""
    from crisishub.rules.travel import StraightLineTravelModel

    destinations = points.coordinates()
    urban = StraightLineTravelModel.urban().matrix(stations, destinations)
    rural = StraightLineTravelModel.rural().matrix(stations, destinations)
    return np.where(points.rural[None, :], rural, urban)


def _counselors(args, calls_per_hour: np.ndarray):
    if args.counselors is not None:
        if args.counselors < 1:
            raise ValueError(f"invalid --counselors {args.counselors}: use 1 or more")
        return args.counselors
    if not 0.0 < args.service_level < 1.0:
        raise ValueError(f"invalid --service-level {args.service_level}: use 0 to 1")
    load = erlang.offered_load(calls_per_hour, 60.0, args.aht)
    goal = erlang.StaffingGoal(target_time=20.0 / 60.0, service_level=args.service_level)
    found = erlang.required_agents(load, args.aht, goal, patience=args.patience)
    return np.maximum(found.agents, 1)


def _profile(args: argparse.Namespace) -> demand.DemandProfile:
    if args.timestamps:
        values = demand.read_timestamps_csv(args.timestamps, args.column)
        return demand.profile_from_timestamps(values, source=args.timestamps)
    borrowed = demand.toronto_profile()
    return demand.DemandProfile(borrowed.counts, borrowed.weeks, borrowed.source, SIMULATE_NOTE)


def _check_run_options(args: argparse.Namespace) -> None:
    if not 2 <= args.replications <= MAX_REPLICATIONS:
        raise ValueError(
            f"invalid --replications {args.replications}: use 2 to {MAX_REPLICATIONS:,}, "
            "because a t-interval needs at least 2 replications"
        )
    if not 0 <= args.seed <= MAX_SEED:
        raise ValueError(f"invalid --seed {args.seed}: use 0 to {MAX_SEED}")


def _config(args: argparse.Namespace, profile: demand.DemandProfile) -> sim.SimulationConfig:
    from crisishub import datapack

    for name in ("aht", "patience", "on_scene", "transport"):
        if not getattr(args, name) > 0:
            raise ValueError(f"invalid --{name.replace('_', '-')} {getattr(args, name)}: use minutes above 0")
    if not 1 <= args.teams <= MAX_TEAMS:
        raise ValueError(f"invalid --teams {args.teams}: use 1 to {MAX_TEAMS}")
    if not 0.0 <= args.mobile_share <= 1.0:
        raise ValueError(f"invalid --mobile-share {args.mobile_share}: use 0 to 1")
    if not 0.0 <= args.transport_share <= 1.0:
        raise ValueError(f"invalid --transport-share {args.transport_share}: use 0 to 1")
    if args.weekly_calls is not None and not args.weekly_calls >= 0:
        raise ValueError(f"invalid --weekly-calls {args.weekly_calls}: use 0 or more")

    calls = profile.per_hour(args.weekly_calls).ravel()
    stations = _stations(args.stations)
    points = sim.DemandPoints.from_tracts(datapack.load_tracts())
    return sim.SimulationConfig(
        calls_per_hour=calls,
        counselors=_counselors(args, calls),
        handle_time=sim.exponential(args.aht),
        days=_days(args),
        patience=sim.exponential(args.patience),
        mobile_share=args.mobile_share,
        points=points,
        stations=stations,
        team_stations=np.arange(args.teams) % len(stations),
        travel=_travel_matrix(stations, points),
        scene_time=sim.Distribution("lognormal", args.on_scene, args.on_scene / 2.0),
        transport_share=args.transport_share,
        transport_time=sim.exponential(args.transport),
    )


def _table_rows(summary: dict) -> list[dict]:
    rows = []
    for key, value in summary.items():
        if isinstance(value, dict):
            rows.append({"metric": key, **value})
    for team, value in enumerate(summary.get("team_busy_fraction", [])):
        rows.append({"metric": f"team_{team + 1}_busy_fraction", **value})
    return rows


def run(args: argparse.Namespace) -> int:
    try:
        _check_run_options(args)
        profile = _profile(args)
        config = _config(args, profile)
        with Progress(args.replications, "simulate") as progress:
            summary = sim.simulate(
                config, args.replications, args.seed, progress=progress.advance
            )
    except (ValueError, OSError) as error:
        print(f"crisishub plan simulate: error: {error}", file=sys.stderr)
        return 2
    summary = {
        "source": profile.source,
        "note": profile.note,
        "days": config.days,
        "seed": args.seed,
        **summary,
    }
    if args.format == "json":
        emit(summary, "json")
        return 0
    for key in ("note", "days", "seed", "replications"):
        print(f"{key}: {summary[key]}")
    emit(_table_rows(summary), "table")
    return 0
