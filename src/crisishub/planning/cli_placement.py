"""``crisishub plan placement``: where to station mobile crisis teams.

With ``--costs`` the command reads a cost matrix CSV (first row site ids,
first column demand point ids). Without it, demand points are the county's
census tracts weighted by population, candidate sites are tract centres
and/or facilities, and costs are straight-line travel minutes.

Exit codes: 0 on success (also when the time limit stopped the solver with a
solution, which ``status`` and ``gap`` report), 1 when the model has no
solution (some point out of reach of every site, or none found in time), 2 on
invalid input.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from crisishub.planning import location
from crisishub.planning._output import emit
from crisishub.planning.costs import CostFileError, CostMatrix, read_cost_matrix
from crisishub.planning.costs import read_weights

log = logging.getLogger(__name__)

MODELS = ("mclp", "lscp", "pmedian", "pcenter", "mexclp")
NEEDS_P = frozenset({"mclp", "pmedian", "pcenter", "mexclp"})
NEEDS_RADIUS = frozenset({"mclp", "lscp", "mexclp"})

URBAN_STANDARD_MINUTES = 60.0
RURAL_STANDARD_MINUTES = 120.0
"""California Medi-Cal mobile crisis arrival standards (DHCS BHIN 23-025),
counted from the moment the call center decides a mobile response is needed.
A tract is rural below 50 people per square mile."""


class UsageError(ValueError):
    """Invalid command-line input; the command exits with code 2."""


@dataclass(frozen=True, eq=False)
class Instance:
    """Inputs for one model run."""

    costs: CostMatrix
    weights: np.ndarray | None
    population: np.ndarray | None
    radius: float | np.ndarray | None
    unit: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the placement options to ``parser``."""
    parser.description = __doc__.split("\n\n")[0]
    parser.add_argument("--model", required=True, choices=MODELS, help="Model to solve.")
    parser.add_argument(
        "--costs",
        metavar="FILE",
        help="Cost matrix CSV: first row site ids, first column demand point ids, "
        "cells travel time or distance ('inf' for no route). Default: the county "
        "data pack with straight-line travel minutes.",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="Weights CSV with rows 'point id, weight' (header optional). Only "
        "with --costs; default weight 1 per point.",
    )
    parser.add_argument(
        "--population",
        metavar="FILE",
        help="Population CSV with rows 'point id, people' (header optional), "
        "reported as covered_population. Only with --costs; the data pack uses "
        "tract population.",
    )
    parser.add_argument("--p", type=int, help="Number of sites (teams for mexclp).")
    parser.add_argument(
        "--radius",
        type=float,
        help="Coverage radius in the cost unit. Needed by mclp, lscp and mexclp "
        "with --costs. Data pack default: 60 minutes for urban tracts, 120 for "
        "rural ones.",
    )
    parser.add_argument(
        "--busy-fraction",
        type=float,
        metavar="Q",
        help="mexclp: probability that a team is busy, at least 0 and below 1.",
    )
    parser.add_argument(
        "--max-teams-per-site",
        type=int,
        metavar="N",
        help="mexclp: most teams one site may hold (default --p).",
    )
    parser.add_argument(
        "--fixed-sites",
        metavar="IDS",
        help="Comma-separated site ids that every solution must open.",
    )
    parser.add_argument(
        "--candidates",
        choices=("tracts", "facilities", "both"),
        help="Data pack candidate sites: tract centres, open facilities or both "
        "(default both). Not with --costs, whose columns are the sites.",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=location.DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"Solver time limit in seconds (default {location.DEFAULT_TIME_LIMIT:g}).",
    )
    parser.add_argument(
        "--assignment",
        action="store_true",
        help="Also print each demand point's nearest selected site (null when "
        "no selected site has a route to it).",
    )
    parser.add_argument(
        "--format", choices=("json", "table"), default="table", help="Output format."
    )


class _ProgressLine:
    """Draw the solver's best objective, bound and gap on a terminal."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.drawn = 0.0

    def __call__(self, state: location.SolveProgress) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.5:
            return
        self.drawn = now
        gap = f"{100.0 * state.gap:.2f}%" if math.isfinite(state.gap) else "-"
        sys.stderr.write(
            f"\r{self.model}: {state.seconds:.1f} s, best {state.objective:.6g}, "
            f"bound {state.bound:.6g}, gap {gap}   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Solve the requested model and print the result; return the exit code."""
    progress = _ProgressLine(args.model)
    try:
        _check_arguments(args)
        instance = _load_instance(args)
        if sys.stderr.isatty():
            with location.report_progress(progress):
                result = _solve(args, instance)
            progress.close()
        else:
            result = _solve(args, instance)
    except (UsageError, CostFileError) as error:
        return _fail(str(error), 2)
    except (location.CoverageInfeasibleError, location.TooFewSitesError) as error:
        return _fail(str(error), 1)
    except ValueError as error:
        return _fail(str(error), 2)
    except location.PlacementError as error:
        return _fail(str(error), 1)
    emit(_summary(result, instance, args), args.format)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"crisishub plan placement: error: {message}", file=sys.stderr)
    return code


def _check_arguments(args: argparse.Namespace) -> None:
    if args.model in NEEDS_P and args.p is None:
        raise UsageError(f"--model {args.model} needs --p, the number of sites")
    if args.model in NEEDS_RADIUS and args.radius is None and args.costs:
        raise UsageError(
            f"--model {args.model} with --costs needs --radius, in the cost unit"
        )
    if args.model == "mexclp" and args.busy_fraction is None:
        raise UsageError("--model mexclp needs --busy-fraction, for example 0.3")
    if args.population and not args.costs:
        raise UsageError(
            "--population works only with --costs; the data pack has tract population"
        )
    if args.weights and not args.costs:
        raise UsageError(
            "--weights works only with --costs; the data pack weights tracts by "
            "population"
        )
    if args.candidates and args.costs:
        raise UsageError(
            "--candidates works only with the data pack; with --costs the "
            "candidate sites are the cost file's columns, so drop --candidates "
            "or --costs"
        )
    if args.time_limit is not None and not args.time_limit > 0:
        raise UsageError(f"--time-limit is {args.time_limit:g}; give a positive value")


def _load_instance(args: argparse.Namespace) -> Instance:
    if args.costs:
        costs = read_cost_matrix(args.costs)
        weights = read_weights(args.weights, costs.points) if args.weights else None
        population = (
            read_weights(args.population, costs.points, kind="population")
            if args.population
            else None
        )
        return Instance(costs, weights, population, args.radius, "cost unit")
    return _datapack_instance(args.candidates or "both", args.radius)


def _datapack_instance(candidates: str, radius: float | None) -> Instance:
    """Build tracts × candidate sites in straight-line travel minutes."""
    from crisishub import datapack
    from crisishub.rules.travel import StraightLineTravelModel

    tracts = datapack.load_tracts()
    origins = np.array([(tract.lat, tract.lon) for tract in tracts])
    site_ids: list[str] = []
    site_points: list[tuple[float, float]] = []
    if candidates in ("tracts", "both"):
        site_ids += [f"tract {tract.geoid}" for tract in tracts]
        site_points += [(tract.lat, tract.lon) for tract in tracts]
    if candidates in ("facilities", "both"):
        facilities = [f for f in datapack.load_facilities() if f.is_open]
        site_ids += [facility.name for facility in facilities]
        site_points += [(facility.lat, facility.lon) for facility in facilities]

    # NOTE: one urban-speed straight-line model for every trip; rural trips
    # are usually faster per km, so rural travel minutes are overestimates.
    minutes = StraightLineTravelModel().matrix(np.array(site_points), origins).T
    population = np.array([tract.population for tract in tracts], dtype=float)
    if radius is None:
        radius = np.where(
            [tract.rural for tract in tracts],
            RURAL_STANDARD_MINUTES,
            URBAN_STANDARD_MINUTES,
        )
    costs = CostMatrix(tuple(t.geoid for t in tracts), tuple(site_ids), minutes)
    return Instance(costs, population, population, radius, "minutes")


def _solve(args: argparse.Namespace, instance: Instance) -> location.PlacementResult:
    fixed = _fixed_sites(args.fixed_sites)
    common: dict[str, Any] = {
        "fixed_sites": fixed,
        "population": instance.population,
        "time_limit": args.time_limit,
    }
    solvers: dict[str, Callable[[], location.PlacementResult]] = {
        "mclp": lambda: location.solve_mclp(
            instance.costs, args.p, instance.radius, instance.weights, **common
        ),
        "lscp": lambda: location.solve_lscp(
            instance.costs, instance.radius, instance.weights, **common
        ),
        "pmedian": lambda: location.solve_pmedian(
            instance.costs, args.p, instance.weights, radius=instance.radius, **common
        ),
        "pcenter": lambda: location.solve_pcenter(
            instance.costs, args.p, instance.weights, radius=instance.radius, **common
        ),
        "mexclp": lambda: location.solve_mexclp(
            instance.costs,
            args.p,
            instance.radius,
            args.busy_fraction,
            instance.weights,
            max_teams_per_site=args.max_teams_per_site,
            **common,
        ),
    }
    result = solvers[args.model]()
    log.info(
        "placement %s: status %s, objective %g, %.2f s",
        args.model,
        result.status,
        result.objective,
        result.seconds,
    )
    return result


def _fixed_sites(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(site.strip() for site in text.split(",") if site.strip())


def _summary(
    result: location.PlacementResult, instance: Instance, args: argparse.Namespace
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model": result.model,
        "objective": result.objective,
        "sites": list(result.sites),
        "status": result.status,
        "gap": result.gap,
        "seconds": round(result.seconds, 3),
        "demand_points": len(instance.costs.points),
        "candidate_sites": len(instance.costs.sites),
        "cost_unit": instance.unit,
        "total_weight": result.total_weight,
    }
    if result.model == "mexclp":
        data["site_counts"] = result.site_counts
        data["expected_covered_weight"] = result.objective
    optional = {
        "radius": _radius_text(instance.radius),
        "covered_weight": result.covered_weight,
        "covered_points": result.covered_points,
        "uncovered_points": (
            list(result.uncovered_points) if result.covered_points is not None else None
        ),
        "total_population": result.total_population,
        "covered_population": result.covered_population,
        "mean_cost": result.mean_cost,
        "max_cost": result.max_cost,
    }
    data |= {key: value for key, value in optional.items() if value is not None}
    if args.assignment:
        data["assignment"] = result.assignment or _nearest_sites(result, instance.costs)
    return data


def _nearest_sites(
    result: location.PlacementResult, costs: CostMatrix
) -> dict[str, str | None]:
    """Map each point to its nearest selected site, or None with no route to one.

    The covering models (mclp, lscp, mexclp) return no assignment of their own.
    """
    chosen = list(result.site_indices)
    sub = costs.values[:, chosen]
    nearest = np.argmin(sub, axis=1)
    reachable = np.isfinite(sub.min(axis=1))
    return {
        point: costs.sites[chosen[k]] if ok else None
        for point, k, ok in zip(costs.points, nearest, reachable)
    }


def _radius_text(radius: float | np.ndarray | None) -> float | str | None:
    if radius is None or np.ndim(radius) == 0:
        return radius
    return (
        f"{URBAN_STANDARD_MINUTES:g} urban / {RURAL_STANDARD_MINUTES:g} rural tracts"
    )
