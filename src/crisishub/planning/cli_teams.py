"""``crisishub plan teams``: mobile teams needed by hour of week."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from crisishub.planning import erlang
from crisishub.planning import profile as demand
from crisishub.planning._output import emit
from crisishub.planning.teams import TeamTimes, teams_needed

# Planning estimate: about 230 crisis episodes per 100,000 people a year
# need an in-person response (Crisis Resource Need Calculator).
EPISODES_PER_PERSON_YEAR = 230 / 100_000
SACRAMENTO_POPULATION = 1_585_055  # 2020 Census, Sacramento County
# Upper bounds keep a run to a few seconds. 100,000 requests a week is about
# 57 times the estimate above for 40 million people (1,763 a week).
MAX_WEEKLY_REQUESTS = 100_000.0
MAX_POPULATION = 100_000_000.0
MAX_MINUTES = 1_440.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Teams needed in each hour of week so that the probability that a "
        "mobile request waits for a free team stays under a target (Erlang C, "
        "teams as servers). The hourly shape is the borrowed Toronto profile "
        "unless --timestamps gives local request times."
    )
    parser.add_argument("--timestamps", metavar="FILE", help="CSV of request timestamps.")
    parser.add_argument("--column", default="timestamp", help="Timestamp column name.")
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument(
        "--weekly-requests",
        type=float,
        help=f"Mobile requests per week, 0 to {MAX_WEEKLY_REQUESTS:,.0f}.",
    )
    volume.add_argument(
        "--population",
        type=float,
        help="Population served, 0 to 100,000,000; requests = 230 per 100,000 "
        f"people a year (default: {SACRAMENTO_POPULATION:,}, Sacramento County 2020).",
    )
    parser.add_argument("--travel", type=float, default=30.0, help="Mean travel minutes (default: 30).")
    parser.add_argument(
        "--on-scene", type=float, default=60.0, help="Mean minutes on scene (default: 60)."
    )
    parser.add_argument(
        "--transport-share",
        type=float,
        default=0.3,
        help="Share of responses with a transport (default: 0.3).",
    )
    parser.add_argument(
        "--transport", type=float, default=45.0, help="Mean transport minutes (default: 45)."
    )
    parser.add_argument(
        "--max-wait-probability",
        type=float,
        default=0.1,
        help="Target probability that a request waits for a team (default: 0.1).",
    )
    parser.add_argument(
        "--min-teams", type=int, default=1, help="Teams on duty in every hour (default: 1)."
    )
    parser.add_argument("--format", choices=("json", "table"), default="json")


def _weekly_requests(args: argparse.Namespace) -> float:
    if args.weekly_requests is not None:
        if not 0 <= args.weekly_requests <= MAX_WEEKLY_REQUESTS:
            raise ValueError(
                f"invalid --weekly-requests {args.weekly_requests:g}: use 0 to "
                f"{MAX_WEEKLY_REQUESTS:,.0f}"
            )
        return args.weekly_requests
    population = SACRAMENTO_POPULATION if args.population is None else args.population
    if not 0 <= population <= MAX_POPULATION:
        raise ValueError(f"invalid --population {population:g}: use 0 to {MAX_POPULATION:,.0f}")
    return demand.weekly_from_annual(population * EPISODES_PER_PERSON_YEAR)


def _result(args: argparse.Namespace) -> dict:
    if not 0 <= args.min_teams <= 10_000:
        raise ValueError(f"invalid --min-teams {args.min_teams}: use 0 to 10,000")
    for option in ("travel", "on_scene", "transport"):
        value = getattr(args, option)
        if not 0 <= value <= MAX_MINUTES:
            flag = "--" + option.replace("_", "-")
            raise ValueError(f"invalid {flag} {value:g}: use 0 to {MAX_MINUTES:g} minutes")
    times = TeamTimes(args.travel, args.on_scene, args.transport_share, args.transport)
    if args.timestamps:
        values = demand.read_timestamps_csv(args.timestamps, args.column)
        shape = demand.profile_from_timestamps(values, source=args.timestamps)
    else:
        shape = demand.toronto_profile()
    requests = shape.per_hour(_weekly_requests(args)).ravel()
    found = teams_needed(requests, times, args.max_wait_probability)
    teams = np.maximum(found.agents, args.min_teams)
    load = found.load
    metrics = erlang.erlang_c_metrics(np.maximum(teams, 1), load, times.busy_minutes, 0.0)
    hours = [
        {
            "day": demand.DAYS[h // 24],
            "hour": h % 24,
            "requests": float(requests[h]),
            "load_erlangs": float(load[h]),
            "teams": int(teams[h]),
            "wait_probability": float(metrics.wait_probability[h]) if teams[h] else None,
            "busy_fraction": float(metrics.occupancy[h]) if teams[h] else None,
        }
        for h in range(requests.size)
    ]
    return {
        "source": shape.source,
        "note": shape.note,
        "weekly_requests": float(requests.sum()),
        "busy_minutes_per_request": times.busy_minutes,
        "max_teams": int(teams.max()),
        "team_hours_per_week": int(teams.sum()),
        "hours": hours,
    }


def run(args: argparse.Namespace) -> int:
    try:
        result = _result(args)
    except (ValueError, OSError) as error:
        print(f"crisishub plan teams: error: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        emit(result, "json")
        return 0
    for key in ("source", "note", "weekly_requests", "busy_minutes_per_request"):
        print(f"{key}: {result[key]}")
    print(f"max_teams: {result['max_teams']}")
    emit(result["hours"], "table")
    return 0
