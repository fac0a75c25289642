"""Benchmark the location models against spopt with its bundled CBC.

Run in the benchmark venv, which has spopt and PuLP installed::

    .venv-bench/bin/python benchmarks/bench_location.py
    .venv-bench/bin/python benchmarks/bench_location.py --sf-reference

Each MCLP case draws demand points and candidate sites uniformly in a
100 x 100 square (seed 1), with integer weights 1-99, a coverage radius of
10 and p = 10, 20 or 30 sites; the cost matrix is the Euclidean distance.
Both tools get the same matrix, and each is timed end to end, model building
plus solving. spopt runs PuLP's bundled CBC with a time limit (``--limit``,
default 300 s); a case that hits it is reported with ``capped``. pmed6 from
the OR-Library is solved by both as a p-median with p = 5.

``--sf-reference`` prints spopt's answers on its San Francisco test
instance; tests/test_planning_location.py holds them as constants.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from crisishub.planning import location, orlib
from crisishub.planning.costs import read_long_costs, read_weights

TESTS_DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CASES = [(1_000, 100, 10), (5_000, 300, 20), (10_000, 500, 30)]
RADIUS = 10.0


def mclp_instance(points: int, sites: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    demand = rng.random((points, 2)) * 100.0
    candidates = rng.random((sites, 2)) * 100.0
    costs = np.sqrt(((demand[:, None, :] - candidates[None, :, :]) ** 2).sum(axis=2))
    weights = rng.integers(1, 100, points).astype(float)
    return costs, weights


def spopt_solve(model, limit: float):
    import pulp

    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
    model.solve(solver)
    return pulp.LpStatus[model.problem.status], pulp.value(model.problem.objective)


def mclp_case(points: int, sites: int, p: int, limit: float) -> dict:
    from spopt.locate import MCLP

    costs, weights = mclp_instance(points, sites)
    start = time.perf_counter()
    ours = location.solve_mclp(costs, p, RADIUS, weights, time_limit=limit)
    our_seconds = time.perf_counter() - start

    start = time.perf_counter()
    model = MCLP.from_cost_matrix(costs, weights, service_radius=RADIUS, p_facilities=p)
    built = time.perf_counter() - start
    status, objective = spopt_solve(model, limit)
    peer_seconds = time.perf_counter() - start
    capped = peer_seconds >= limit
    return {
        "case": f"MCLP {points}x{sites}, p={p}, radius {RADIUS:g}",
        "crisishub_status": ours.status,
        "crisishub_gap": ours.gap,
        "crisishub_objective": ours.objective,
        "crisishub_seconds": our_seconds,
        "spopt_status": status,
        "spopt_objective": objective,
        "spopt_build_seconds": built,
        "spopt_seconds": peer_seconds,
        "spopt_capped": capped,
        "same_objective": bool(objective is not None and abs(objective - ours.objective) < 1e-6),
        # MCLP maximizes covered weight, so when a time limit stops either
        # solver the comparison that matters is which cover is larger.
        "crisishub_at_least_as_good": bool(
            objective is not None and ours.objective >= objective - 1e-6
        ),
        "ratio": peer_seconds / our_seconds,
    }


def pmed_case(name: str, limit: float) -> dict:
    from spopt.locate import PMedian

    instance = orlib.read_pmed(TESTS_DATA / "orlib" / f"{name}.txt")
    costs = instance.costs.values
    weights = np.ones(instance.vertices)
    start = time.perf_counter()
    ours = location.solve_pmedian(costs, instance.p, weights, time_limit=limit)
    our_seconds = time.perf_counter() - start

    start = time.perf_counter()
    model = PMedian.from_cost_matrix(costs, weights, p_facilities=instance.p)
    status, objective = spopt_solve(model, limit)
    peer_seconds = time.perf_counter() - start
    published = orlib.read_optima(TESTS_DATA / "orlib" / "pmedopt.txt")[name]
    return {
        "case": f"p-median {name}, p={instance.p}",
        "published_optimum": published,
        "crisishub_status": ours.status,
        "crisishub_objective": ours.objective,
        "crisishub_seconds": our_seconds,
        "crisishub_sites_left_after_bound": ours.details["sites_left_after_bound"],
        "spopt_status": status,
        "spopt_objective": objective,
        "spopt_seconds": peer_seconds,
        "spopt_capped": peer_seconds >= limit,
        "ratio": peer_seconds / our_seconds,
    }


def sf_reference() -> dict:
    """Solve spopt's San Francisco instance with spopt, as its tests do."""
    import pulp
    from spopt.locate import LSCP, MCLP, PCenter, PMedian

    costs = read_long_costs(
        TESTS_DATA / "spopt-sf" / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        point_column="DestinationName",
        site_column="name",
        cost_column="distance",
    )
    weights = read_weights(
        TESTS_DATA / "spopt-sf" / "SF_demand_205_centroid_uniform_weight.csv",
        costs.points,
        id_column="NAME",
        weight_column="POP2000",
    )
    matrix = costs.values
    solver = pulp.PULP_CBC_CMD(msg=False)

    def opened(model) -> list[str]:
        return sorted(costs.sites[j] for j, y in enumerate(model.fac_vars) if y.value() > 0.5)

    mclp = MCLP.from_cost_matrix(matrix, weights, service_radius=5000, p_facilities=4)
    mclp.solve(solver)
    lscp = LSCP.from_cost_matrix(matrix, 5000)
    lscp.solve(solver)
    median = PMedian.from_cost_matrix(matrix, weights, p_facilities=4)
    median.solve(solver)
    center = PCenter.from_cost_matrix(matrix, p_facilities=4)
    center.solve(solver)
    return {
        "spopt": version("spopt"),
        "pulp": version("pulp"),
        "mclp_covered": pulp.value(mclp.problem.objective),
        "mclp_sites": opened(mclp),
        "mclp_percent_covered": mclp.perc_cov,
        "lscp_sites": pulp.value(lscp.problem.objective),
        "pmedian_objective": pulp.value(median.problem.objective),
        "pmedian_mean_distance": float(median.mean_dist),
        "pmedian_sites": opened(median),
        "pcenter_objective": pulp.value(center.problem.objective),
        "pcenter_sites": opened(center),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=float, default=300.0,
        help="Time limit in seconds for each solve, both tools (default 300).",
    )
    parser.add_argument(
        "--sf-reference", action="store_true",
        help="Print spopt's answers on its San Francisco instance and stop.",
    )
    parser.add_argument(
        "--skip-largest", action="store_true", help="Leave out the 10000 x 500 case."
    )
    args = parser.parse_args()
    if args.sf_reference:
        print(json.dumps(sf_reference(), indent=2))
        return
    costs, weights = mclp_instance(50, 10)
    location.solve_mclp(costs, 2, RADIUS, weights)  # warm up imports
    cases = CASES[:-1] if args.skip_largest else CASES
    rows = [mclp_case(points, sites, p, args.limit) for points, sites, p in cases]
    rows.append(pmed_case("pmed6", args.limit))
    report = {
        "python": platform.python_version(),
        "highspy": version("highspy"),
        "spopt": version("spopt"),
        "pulp": version("pulp"),
        "time_limit_seconds": args.limit,
        "cases": rows,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
