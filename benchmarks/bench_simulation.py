"""Benchmark the what-if simulation against an equivalent minimal SimPy model.

Run in the benchmark venv, which has SimPy installed::

    .venv-bench/bin/python benchmarks/bench_simulation.py

Both sides simulate the same M/M/14 call center (200 calls an hour, that is
10 per half hour as in the Erlang C ground truth, exponential 3-minute
handle times, first come first served, no abandonment) until a given number
of callers has arrived. crisishub runs ``simulation.simulate`` end to end,
arrival drawing included; SimPy runs the smallest process model that
records each caller's wait. The script checks both wait probabilities
against the exact Erlang C value and prints callers per second and the
ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from importlib.metadata import version

import numpy as np

from crisishub.planning import erlang
from crisishub.planning import simulation as sim

CALLS_PER_HOUR = 200.0
AGENTS = 14
AHT = 3.0  # minutes


def ours(callers: int, seed: int) -> tuple[float, float, int]:
    days = callers / (CALLS_PER_HOUR * 24.0)
    config = sim.SimulationConfig(
        calls_per_hour=np.full(168, CALLS_PER_HOUR),
        counselors=AGENTS,
        handle_time=sim.exponential(AHT),
        days=days,
    )
    start = time.perf_counter()
    summary = sim.simulate(config, replications=1, seed=seed)
    seconds = time.perf_counter() - start
    count = int(summary["offered_calls"]["mean"])
    return seconds, summary["wait_probability"]["mean"], count


def peer(callers: int, seed: int) -> tuple[float, float, int]:
    import random

    import simpy

    random.seed(seed)
    environment = simpy.Environment()
    counselors = simpy.Resource(environment, capacity=AGENTS)
    waited = [0, 0]  # callers who waited, callers served

    def caller():
        arrived = environment.now
        with counselors.request() as request:
            yield request
            if environment.now > arrived:
                waited[0] += 1
            waited[1] += 1
            yield environment.timeout(random.expovariate(1.0 / AHT))

    def source():
        rate = CALLS_PER_HOUR / 60.0
        for _ in range(callers):
            yield environment.timeout(random.expovariate(rate))
            environment.process(caller())

    environment.process(source())
    start = time.perf_counter()
    environment.run()
    seconds = time.perf_counter() - start
    return seconds, waited[0] / waited[1], waited[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--callers", type=int, nargs="+", default=[100_000, 1_000_000],
        help="Caller counts to simulate (default 100000 1000000).",
    )
    args = parser.parse_args()
    exact = float(erlang.erlang_c(AGENTS, CALLS_PER_HOUR * AHT / 60.0))
    ours(1000, 0)  # import and warm up outside the timing
    rows = []
    for callers in args.callers:
        our_seconds, our_wait, our_count = ours(callers, 1)
        peer_seconds, peer_wait, peer_count = peer(callers, 1)
        our_rate = our_count / our_seconds
        peer_rate = peer_count / peer_seconds
        rows.append({
            "callers": callers,
            "crisishub_callers": our_count,
            "simpy_callers": peer_count,
            "exact_wait_probability": exact,
            "crisishub_wait_probability": our_wait,
            "simpy_wait_probability": peer_wait,
            "crisishub_seconds": our_seconds,
            "simpy_seconds": peer_seconds,
            "crisishub_callers_per_second": our_rate,
            "simpy_callers_per_second": peer_rate,
            "ratio": our_rate / peer_rate,
        })
    report = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "simpy": version("simpy"),
        "cases": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
