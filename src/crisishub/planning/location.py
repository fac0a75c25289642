"""Facility location models for stationing mobile crisis teams.

Every model is an integer program solved with HiGHS (``highspy``) to proven
optimality, with ``mip_rel_gap`` 0, unless the time limit stops it first. The
result then says so in ``status`` and gives the remaining ``gap``.

- :func:`solve_mclp`: maximal covering, the weight within ``radius`` of ``p``
  sites (Church and ReVelle, 1974).
- :func:`solve_lscp`: set covering, the fewest sites that put every demand
  point within ``radius`` (Toregas et al., 1971).
- :func:`solve_pmedian`: ``p`` sites with the least total weighted cost
  (Hakimi, 1964; ReVelle and Swain, 1970).
- :func:`solve_pcenter`: ``p`` sites with the least maximum cost.
- :func:`solve_mexclp`: Daskin's maximum expected covering (1983). ``p`` teams,
  several per site allowed, each busy with probability ``q``.

Costs are a :class:`~crisishub.planning.costs.CostMatrix` or a 2-D array with
one row per demand point and one column per candidate site. ``inf`` marks a
pair with no route.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import highspy
import numpy as np
from scipy import sparse

from crisishub.planning import cover_search, lagrangian
from crisishub.planning.costs import CostMatrix

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 300.0
"""Seconds HiGHS may spend on one model before it stops with a gap."""

HEURISTIC_SHARE = 0.25
"""Share of an MCLP or p-median time limit that the start heuristic may use."""

MAX_WEIGHT_TOTAL = 1e15
"""Largest sum of weights (or population) accepted. HiGHS treats objective
coefficients of 1e20 or more as infinite, and a p-median coefficient is a
weight times a cost, so larger weights make it return no solution.
NOTE: weights under this bound with costs above about 1e5 can still reach it."""

OPTIMAL = "Optimal"
TIME_LIMIT = "Time limit reached"

Radius = float | Sequence[float] | np.ndarray


class PlacementError(RuntimeError):
    """The solver returned no usable solution."""


class CoverageInfeasibleError(ValueError):
    """Some demand points have no candidate site within the radius."""

    def __init__(self, points: Sequence[str], needed_radius: float) -> None:
        self.points = tuple(points)
        self.needed_radius = needed_radius
        shown = ", ".join(self.points[:10])
        more = f" and {len(self.points) - 10} more" if len(self.points) > 10 else ""
        super().__init__(
            f"{len(self.points)} demand points have no candidate site within the "
            f"radius: {shown}{more}. Raise the radius to at least "
            f"{needed_radius:g} or add candidate sites near those points"
        )


class TooFewSitesError(ValueError):
    """No ``p`` candidate sites have a route (finite cost) to every point."""

    def __init__(self, p: int, needed: int | None) -> None:
        self.p = p
        self.needed = needed
        routes = "give the points with few routes a finite cost to more sites"
        if needed is None:
            message = (
                f"found no set of {p} candidate sites with a route (a finite "
                "cost, not inf) to every demand point within the time limit. "
                f"Raise p or the time limit, or {routes}"
            )
        else:
            message = (
                f"no set of {p} candidate sites has a route (a finite cost, not "
                "inf) to every demand point; the fewest sites that do are "
                f"{needed}. Raise p to at least {needed}, or {routes}"
            )
        super().__init__(message)


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """Solution of one location model."""

    model: str
    objective: float
    """Covered weight (MCLP), site count (LSCP), total weighted cost
    (p-median), maximum cost (p-center) or expected covered weight (MEXCLP)."""
    sites: tuple[str, ...]
    site_indices: tuple[int, ...]
    site_counts: dict[str, int]
    """Teams per selected site: 1 except in MEXCLP."""
    status: str
    """HiGHS model status, for example ``Optimal`` or ``Time limit reached``."""
    gap: float
    """Relative MIP gap HiGHS reports; 0 when the optimum is proven."""
    seconds: float
    """Wall time, model building included."""
    total_weight: float
    radius: float | None = None
    """Coverage radius, or None when there is none or it varies by point."""
    covered_weight: float | None = None
    covered_points: int | None = None
    uncovered_points: tuple[str, ...] = ()
    total_population: float | None = None
    covered_population: float | None = None
    assignment: dict[str, str] | None = None
    """Demand point id to the id of its nearest selected site."""
    mean_cost: float | None = None
    """Weighted mean cost from each point to its assigned site."""
    max_cost: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def optimal(self) -> bool:
        """True when HiGHS proved the solution optimal."""
        return self.status == OPTIMAL

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-ready values."""
        data = asdict(self)
        data["sites"] = list(self.sites)
        data["site_indices"] = list(self.site_indices)
        data["uncovered_points"] = list(self.uncovered_points)
        return data


@dataclass(frozen=True, eq=False)
class _Problem:
    costs: np.ndarray
    points: tuple[str, ...]
    sites: tuple[str, ...]
    weights: np.ndarray
    population: np.ndarray | None
    fixed: np.ndarray
    """Indices of sites that every solution must open."""


@dataclass(frozen=True, eq=False)
class _Solution:
    status: str
    values: np.ndarray
    gap: float
    objective: float
    reduced_costs: np.ndarray | None = None
    """Column duals of an LP solve; None for a MIP."""


# --- HiGHS -----------------------------------------------------------------


@dataclass(frozen=True)
class SolveProgress:
    """State of a running HiGHS solve, passed to a progress callback."""

    seconds: float
    objective: float
    """Best objective found so far; inf or -inf before the first one."""
    bound: float
    gap: float


_progress: ContextVar[Callable[[SolveProgress], None] | None] = ContextVar(
    "placement_progress", default=None
)


@contextmanager
def report_progress(callback: Callable[[SolveProgress], None]) -> Iterator[None]:
    """Call ``callback`` periodically from every HiGHS solve in this block.

    HiGHS calls it from its MIP interrupt check, many times a second, so
    the callback should return quickly and rate-limit its own output.
    """
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


def _subscribe_progress(highs: highspy.Highs) -> None:
    callback = _progress.get()
    if callback is None:
        return

    def forward(event: Any) -> None:
        data = event.data_out
        callback(
            SolveProgress(
                seconds=float(data.running_time),
                objective=float(data.objective_function_value),
                bound=float(data.mip_dual_bound),
                gap=float(data.mip_gap),
            )
        )

    highs.cbMipInterrupt.subscribe(forward)


def _forward_bound_progress(seconds: float, objective: float, bound: float) -> None:
    """Pass one step of a bound search (before HiGHS starts) to the callback."""
    callback = _progress.get()
    if callback is None:
        return
    gap = abs(objective - bound) / abs(objective) if objective else math.inf
    callback(SolveProgress(seconds=seconds, objective=objective, bound=bound, gap=gap))


_banner_shown = False


def _new_highs() -> highspy.Highs:
    """Create a silent Highs instance.

    NOTE: highspy 1.16 prints a copyright banner on stdout when the first
    instance in a process is created, before any option can be set. That would
    corrupt JSON output, so stdout is pointed at /dev/null for that one call.
    """
    global _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                highs = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
    highs.setOptionValue("output_flag", False)
    return highs


def _solve_milp(
    objective: np.ndarray,
    matrix: sparse.csc_array,
    row_bounds: tuple[np.ndarray, np.ndarray],
    col_bounds: tuple[np.ndarray, np.ndarray],
    integer: np.ndarray,
    *,
    maximize: bool,
    time_limit: float,
    start: np.ndarray | None = None,
    presolve: bool = True,
) -> _Solution:
    """Pass one MILP to HiGHS as column-wise arrays and solve it.

    ``start``, when given, is a feasible value for every column that HiGHS
    takes as its first incumbent. ``presolve=False`` skips HiGHS presolve,
    which on dense covering matrices can take longer than the solve.
    """
    lp = highspy.HighsLp()
    lp.num_col_ = matrix.shape[1]
    lp.num_row_ = matrix.shape[0]
    lp.col_cost_ = np.asarray(objective, dtype=float)
    lp.col_lower_ = np.asarray(col_bounds[0], dtype=float)
    lp.col_upper_ = np.asarray(col_bounds[1], dtype=float)
    lp.row_lower_ = np.asarray(row_bounds[0], dtype=float)
    lp.row_upper_ = np.asarray(row_bounds[1], dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = matrix.shape[1]
    lp.a_matrix_.num_row_ = matrix.shape[0]
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    kinds = np.where(integer, 1, 0).astype(np.uint8)
    lp.integrality_ = [highspy.HighsVarType(int(kind)) for kind in kinds]
    if maximize:
        lp.sense_ = highspy.ObjSense.kMaximize

    highs = _new_highs()
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("time_limit", max(float(time_limit), 0.001))
    if not presolve:
        highs.setOptionValue("presolve", "off")
    _subscribe_progress(highs)
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise PlacementError("HiGHS rejected the model; this is a bug in crisishub")
    if start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = np.asarray(start, dtype=float).tolist()
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    return _read_solution(highs)


def _lp_relaxation(
    objective: np.ndarray,
    matrix: sparse.csc_array,
    row_bounds: tuple[np.ndarray, np.ndarray],
    col_bounds: tuple[np.ndarray, np.ndarray],
    time_limit: float,
) -> _Solution | None:
    """Solve the LP relaxation of a maximization; None if HiGHS stops early."""
    relaxation = _solve_milp(
        objective,
        matrix,
        row_bounds,
        col_bounds,
        np.zeros(matrix.shape[1], dtype=bool),
        maximize=True,
        time_limit=time_limit,
        presolve=False,
    )
    if relaxation.status != OPTIMAL or relaxation.reduced_costs is None:
        return None
    return relaxation


def _read_solution(highs: highspy.Highs) -> _Solution:
    model_status = highs.getModelStatus()
    text = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2
    values = np.asarray(highs.getSolution().col_value) if has_solution else np.empty(0)
    gap = float(info.mip_gap) if has_solution else math.inf
    if model_status == highspy.HighsModelStatus.kOptimal:
        gap = max(gap, 0.0) if math.isfinite(gap) else 0.0
    objective = float(info.objective_function_value) if has_solution else math.nan
    reduced_costs = None
    if info.dual_solution_status == 2:
        reduced_costs = np.asarray(highs.getSolution().col_dual)
    return _Solution(
        status=text, values=values, gap=gap, objective=objective, reduced_costs=reduced_costs
    )


def _require_solution(solution: _Solution, model: str, time_limit: float) -> None:
    if solution.values.size:
        return
    if solution.status == TIME_LIMIT:
        raise PlacementError(
            f"{model}: HiGHS found no feasible solution within the time limit of "
            f"{time_limit:g} s; raise the time limit"
        )
    raise PlacementError(f"{model}: HiGHS returned no solution ({solution.status})")


# --- input checks ------------------------------------------------------------


def _as_matrix(costs: CostMatrix | np.ndarray) -> CostMatrix:
    if isinstance(costs, CostMatrix):
        return costs
    return CostMatrix.from_array(costs)


def _check_costs(matrix: CostMatrix) -> np.ndarray:
    values = matrix.values
    if values.ndim != 2 or 0 in values.shape:
        raise ValueError(
            f"cost matrix has shape {values.shape}; it needs at least one demand "
            "point (row) and one candidate site (column)"
        )
    for mask, problem in ((np.isnan(values), "NaN"), (values < 0, "negative")):
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise ValueError(
                f"cost from point {matrix.points[i]!r} to site {matrix.sites[j]!r} "
                f"is {problem} ({values[i, j]}); costs must be zero or more, with "
                "inf for a pair with no route"
            )
    return values


def _check_vector(
    values: Sequence[float] | np.ndarray | None, name: str, points: int
) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size != points:
        raise ValueError(
            f"{name} has {array.size} values but the cost matrix has {points} "
            f"demand points (rows); pass one {name} value per row"
        )
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        raise ValueError(
            f"{name}[{bad[0]}] is {array[bad[0]]}; {name} must be finite and zero "
            "or more"
        )
    with np.errstate(over="ignore"):
        total = float(array.sum())
    if not total <= MAX_WEIGHT_TOTAL:
        raise ValueError(
            f"{name} sum to {total:.3g}, above {MAX_WEIGHT_TOTAL:.0e}; scale them "
            "down, for example to thousands"
        )
    return array


def _check_p(p: object, limit: int, what: str) -> int:
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise ValueError(f"p must be a whole number of sites, got {p!r}")
    if p < 1:
        raise ValueError(f"p is {p}; open at least 1 site")
    if p > limit:
        raise ValueError(f"p is {p} but there are only {limit} {what}; lower p")
    return int(p)


def _fixed_indices(fixed: Sequence[str | int], sites: tuple[str, ...]) -> np.ndarray:
    index = {site: j for j, site in enumerate(sites)}
    chosen: list[int] = []
    for site in fixed:
        if isinstance(site, (int, np.integer)) and not isinstance(site, bool):
            if not 0 <= site < len(sites):
                raise ValueError(
                    f"fixed site index {site} is outside 0..{len(sites) - 1}"
                )
            chosen.append(int(site))
        elif str(site) in index:
            chosen.append(index[str(site)])
        else:
            raise ValueError(
                f"fixed site {site!r} is not a candidate site; use one of the "
                "cost matrix's column ids"
            )
    return np.unique(np.array(chosen, dtype=np.int64))


def _prepare(
    costs: CostMatrix | np.ndarray,
    weights: Sequence[float] | np.ndarray | None,
    population: Sequence[float] | np.ndarray | None,
    fixed_sites: Sequence[str | int],
) -> _Problem:
    matrix = _as_matrix(costs)
    values = _check_costs(matrix)
    points = values.shape[0]
    checked = _check_vector(weights, "weights", points)
    return _Problem(
        costs=values,
        points=matrix.points,
        sites=matrix.sites,
        weights=np.ones(points) if checked is None else checked,
        population=_check_vector(population, "population", points),
        fixed=_fixed_indices(fixed_sites, matrix.sites),
    )


def _check_fixed_count(problem: _Problem, p: int) -> None:
    if problem.fixed.size > p:
        raise ValueError(
            f"{problem.fixed.size} fixed sites but p is {p}; raise p or fix fewer"
        )


def _radius_vector(radius: Radius, points: int) -> np.ndarray:
    array = np.asarray(radius, dtype=float)
    if array.ndim == 0:
        array = np.full(points, float(array))
    elif array.shape != (points,):
        raise ValueError(
            f"radius has {array.size} values but there are {points} demand points; "
            "pass one radius or one per point"
        )
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"radius must be finite and zero or more, got {radius!r}")
    return array


def _radius_label(radius: np.ndarray) -> float | None:
    return float(radius[0]) if np.all(radius == radius[0]) else None


def _coverage(costs: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Return the boolean matrix of (point, site) pairs within the radius."""
    return costs <= radius[:, None]


# --- shared result pieces ----------------------------------------------------


def _base_fields(
    model: str, problem: _Problem, chosen: np.ndarray, counts: np.ndarray | None
) -> dict[str, Any]:
    indices = np.flatnonzero(chosen)
    if counts is None:
        counts = chosen.astype(int)
    return {
        "model": model,
        "sites": tuple(problem.sites[j] for j in indices),
        "site_indices": tuple(int(j) for j in indices),
        "site_counts": {problem.sites[j]: int(counts[j]) for j in indices},
        "total_weight": float(problem.weights.sum()),
        "total_population": (
            None if problem.population is None else float(problem.population.sum())
        ),
    }


def _coverage_fields(
    problem: _Problem, covered: np.ndarray, radius: np.ndarray
) -> dict[str, Any]:
    population = problem.population
    return {
        "radius": _radius_label(radius),
        "covered_weight": float(problem.weights[covered].sum()),
        "covered_points": int(covered.sum()),
        "uncovered_points": tuple(
            problem.points[i] for i in np.flatnonzero(~covered)
        ),
        "covered_population": (
            None if population is None else float(population[covered].sum())
        ),
    }


def _assignment_fields(problem: _Problem, chosen: np.ndarray) -> dict[str, Any]:
    open_sites = np.flatnonzero(chosen)
    sub = problem.costs[:, open_sites]
    nearest = open_sites[np.argmin(sub, axis=1)]
    cost = sub.min(axis=1)
    total = float(problem.weights.sum())
    weighted = float(problem.weights @ cost) if np.all(np.isfinite(cost)) else math.inf
    return {
        "assignment": {
            point: problem.sites[j] for point, j in zip(problem.points, nearest)
        },
        "mean_cost": weighted / total if total > 0 else math.nan,
        "max_cost": float(cost.max()),
        "details": {"total_cost": weighted},
    }


def _site_bounds(problem: _Problem, upper: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    sites = len(problem.sites)
    lower = np.zeros(sites)
    lower[problem.fixed] = 1.0
    return lower, np.full(sites, upper)


def _elapsed(start: float) -> float:
    return time.perf_counter() - start


def _milp_result(
    model: str,
    problem: _Problem,
    solution: _Solution,
    chosen: np.ndarray,
    start: float,
    **fields: Any,
) -> PlacementResult:
    counts = fields.pop("counts", None)
    return PlacementResult(
        **_base_fields(model, problem, chosen, counts),
        status=solution.status,
        gap=solution.gap,
        seconds=_elapsed(start),
        **fields,
    )


def _optional_coverage(
    problem: _Problem, chosen: np.ndarray, radius: Radius | None
) -> dict[str, Any]:
    if radius is None:
        return {}
    radius_values = _radius_vector(radius, len(problem.points))
    covered = _coverage(problem.costs, radius_values)[:, chosen].any(axis=1)
    return _coverage_fields(problem, covered, radius_values)


# --- MCLP --------------------------------------------------------------------


def _mclp_model(
    group_cover: np.ndarray,
    group_weight: np.ndarray,
    p: int,
    site_lower: np.ndarray,
    site_upper: np.ndarray,
) -> tuple[np.ndarray, sparse.csc_array, tuple, tuple, np.ndarray]:
    """Build (objective, matrix, row bounds, column bounds, integer) of an MCLP.

    Columns: y_j (site j open, binary), then z_g (group g covered, in
    [0, 1]). z needs no integrality because the objective pushes it to 1
    exactly when some open site covers the group. Rows 0..count-1 are
    z_g - sum_{j covers g} y_j <= 0, and row count is sum_j y_j = p.
    """
    count, sites = group_cover.shape
    point_row, site_col = np.nonzero(group_cover)
    matrix = sparse.csc_array(
        (
            np.concatenate([-np.ones(point_row.size), np.ones(count), np.ones(sites)]),
            (
                np.concatenate([point_row, np.arange(count), np.full(sites, count)]),
                np.concatenate([site_col, sites + np.arange(count), np.arange(sites)]),
            ),
        ),
        shape=(count + 1, sites + count),
    )
    objective = np.concatenate([np.zeros(sites), group_weight])
    row_bounds = (np.append(np.full(count, -np.inf), p), np.append(np.zeros(count), p))
    col_bounds = (
        np.concatenate([site_lower, np.zeros(count)]),
        np.concatenate([site_upper, np.ones(count)]),
    )
    return objective, matrix, row_bounds, col_bounds, np.arange(sites + count) < sites


def _fix_by_reduced_cost(
    relaxation: _Solution | None, sites: int, incumbent: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (closed, opened) boolean site vectors that every optimum obeys.

    Moving a site off its LP bound lowers the LP maximum by at least the
    size of its reduced cost. Where that drops the maximum below the
    incumbent's covered weight, no solution as good as the incumbent moves
    that site, so it stays closed (at 0 in the LP) or open (at 1).
    """
    closed = np.zeros(sites, dtype=bool)
    opened = np.zeros(sites, dtype=bool)
    if relaxation is None:
        return closed, opened
    value = relaxation.values[:sites]
    cost = np.abs(relaxation.reduced_costs[:sites])
    beyond = relaxation.objective - cost < incumbent
    closed = beyond & (value < 1e-9)
    opened = beyond & (value > 1.0 - 1e-9)
    return closed, opened


def solve_mclp(
    costs: CostMatrix | np.ndarray,
    p: int,
    radius: Radius,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    fixed_sites: Sequence[str | int] = (),
    population: Sequence[float] | np.ndarray | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PlacementResult:
    """Open ``p`` sites that cover the most weight within ``radius``.

    ``radius`` is one value or one per demand point (for example 60 minutes
    for urban tracts and 120 for rural ones). Without weights every point
    counts 1.
    """
    start = time.perf_counter()
    problem = _prepare(costs, weights, population, fixed_sites)
    points, sites = problem.costs.shape
    p = _check_p(p, sites, "candidate sites")
    _check_fixed_count(problem, p)
    radius_values = _radius_vector(radius, points)
    cover = _coverage(problem.costs, radius_values)

    # Points that no site covers, or that weigh 0, cannot change the
    # objective and are left out. Points with the same set of covering sites
    # are one row with their summed weight, which changes no optimum.
    rows = np.flatnonzero(cover.any(axis=1) & (problem.weights > 0))
    groups, group_of = np.unique(
        np.packbits(cover[rows], axis=1), axis=0, return_inverse=True
    )
    count = groups.shape[0]
    group_cover = np.unpackbits(groups, axis=1, count=sites).astype(bool)
    group_weight = np.bincount(
        group_of.ravel(), weights=problem.weights[rows], minlength=count
    )

    site_lower, site_upper = _site_bounds(problem)
    model = _mclp_model(group_cover, group_weight, p, site_lower, site_upper)
    relaxation = _lp_relaxation(*model[:4], time_limit - _elapsed(start))
    bound = math.inf if relaxation is None else relaxation.objective
    integral = bool(np.all(group_weight == np.round(group_weight)))
    if integral and math.isfinite(bound):
        # Integer weights give an integer optimum, at most the bound rounded down.
        bound = math.floor(bound + 1e-6)

    # HiGHS takes the heuristic's cover as its first incumbent. On the
    # benchmark's 10,000 x 500 case its root node alone outlasts a 300 s
    # limit, so the heuristic's cover is what such a run returns.
    start_sites = cover_search.best_cover(
        group_cover,
        group_weight,
        p,
        problem.fixed,
        HEURISTIC_SHARE * time_limit,
        upper_bound=bound,
    )
    start_covered = group_cover[:, start_sites].any(axis=1)
    start_weight = float(group_weight[start_covered].sum())
    tolerance = 1e-9 * max(float(group_weight.sum()), 1.0)
    if start_weight >= bound - tolerance:
        # The cover reaches the LP bound, so it is optimal without a MIP.
        values = np.concatenate([start_sites, start_covered]).astype(float)
        solution = _Solution(status=OPTIMAL, values=values, gap=0.0, objective=start_weight)
        chosen = start_sites
    else:
        closed, opened = _fix_by_reduced_cost(relaxation, sites, start_weight + tolerance)
        keep = np.flatnonzero(~closed)
        sub_cover = group_cover[:, keep]
        reachable = sub_cover.any(axis=1)
        sub_groups, sub_of = np.unique(
            np.packbits(sub_cover[reachable], axis=1), axis=0, return_inverse=True
        )
        sub_cover = np.unpackbits(sub_groups, axis=1, count=keep.size).astype(bool)
        sub_weight = np.bincount(
            sub_of.ravel(), weights=group_weight[reachable], minlength=sub_groups.shape[0]
        )
        sub_lower = np.maximum(site_lower, opened)[keep]
        sub_start = start_sites[keep]
        solution = _solve_milp(
            *_mclp_model(sub_cover, sub_weight, p, sub_lower, site_upper[keep]),
            maximize=True,
            time_limit=time_limit - _elapsed(start),
            presolve=False,
            start=np.concatenate([sub_start, sub_cover[:, sub_start].any(axis=1)]).astype(float),
        )
        _require_solution(solution, "MCLP", time_limit)
        chosen = np.zeros(sites, dtype=bool)
        chosen[keep[solution.values[: keep.size] > 0.5]] = True

    covered = cover[:, chosen].any(axis=1)
    coverage = _coverage_fields(problem, covered, radius_values)
    return _milp_result(
        "mclp",
        problem,
        solution,
        chosen,
        start,
        objective=coverage["covered_weight"],
        **coverage,
    )


# --- LSCP --------------------------------------------------------------------


def _uncoverable_error(
    problem: _Problem, coverable: np.ndarray
) -> CoverageInfeasibleError:
    missing = np.flatnonzero(~coverable)
    nearest = problem.costs.min(axis=1)
    no_route = np.flatnonzero(~np.isfinite(nearest))
    if no_route.size:
        names = [problem.points[i] for i in no_route[:10]]
        raise ValueError(
            f"{no_route.size} demand points have no finite cost to any site, "
            f"for example {names}, so no radius covers them; give them a cost "
            "or drop them"
        )
    return CoverageInfeasibleError([problem.points[i] for i in missing], float(nearest.max()))


def solve_lscp(
    costs: CostMatrix | np.ndarray,
    radius: Radius,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    fixed_sites: Sequence[str | int] = (),
    population: Sequence[float] | np.ndarray | None = None,
    skip_uncoverable: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PlacementResult:
    """Open the fewest sites that put every demand point within ``radius``.

    Raises :class:`CoverageInfeasibleError`, listing the points, when some
    point has no candidate site within the radius. With ``skip_uncoverable``
    those points are left out and reported in ``uncovered_points`` instead,
    and ``details`` gets ``uncoverable_points`` and ``radius_to_cover_all``
    (None when some point has no route at all). It still raises when no
    point at all is within the radius. Weights only feed the reported
    covered weight.
    """
    start = time.perf_counter()
    problem = _prepare(costs, weights, population, fixed_sites)
    points, sites = problem.costs.shape
    radius_values = _radius_vector(radius, points)
    cover = _coverage(problem.costs, radius_values)
    coverable = cover.any(axis=1)
    if not coverable.any() or (not coverable.all() and not skip_uncoverable):
        raise _uncoverable_error(problem, coverable)
    details: dict[str, Any] = {}
    if not coverable.all():
        needed = float(problem.costs.min(axis=1).max())
        details = {
            "uncoverable_points": [problem.points[i] for i in np.flatnonzero(~coverable)],
            "radius_to_cover_all": needed if math.isfinite(needed) else None,
        }

    # Columns: y_j (site j open). Row r: sum_{j covers r} y_j >= 1.
    rows = np.flatnonzero(coverable)
    point_row, site_col = np.nonzero(cover[rows])
    matrix = sparse.csc_array(
        (np.ones(point_row.size), (point_row, site_col)), shape=(rows.size, sites)
    )
    solution = _solve_milp(
        np.ones(sites),
        matrix,
        (np.ones(rows.size), np.full(rows.size, np.inf)),
        _site_bounds(problem),
        np.ones(sites, dtype=bool),
        maximize=False,
        time_limit=time_limit,
        presolve=False,
    )
    _require_solution(solution, "LSCP", time_limit)

    chosen = solution.values > 0.5
    covered = cover[:, chosen].any(axis=1)
    return _milp_result(
        "lscp",
        problem,
        solution,
        chosen,
        start,
        objective=float(chosen.sum()),
        details=details,
        **_coverage_fields(problem, covered, radius_values),
    )


# --- p-median ----------------------------------------------------------------


def _check_reachable(problem: _Problem) -> None:
    unreachable = np.flatnonzero(~np.isfinite(problem.costs).any(axis=1))
    if unreachable.size:
        names = [problem.points[i] for i in unreachable[:10]]
        raise ValueError(
            f"{unreachable.size} demand points have no finite cost to any site, "
            f"for example {names}; give them a cost or drop them"
        )


def _greedy_route_cover(routes: np.ndarray, fixed: np.ndarray) -> int:
    """Return how many sites a greedy set cover opens to give every point a route."""
    reached = routes[:, fixed].any(axis=1)
    count = fixed.size
    while not reached.all():
        gains = routes[~reached].sum(axis=0)
        site = int(np.argmax(gains))
        reached |= routes[:, site]
        count += 1
    return count


def _fewest_sites_with_routes(problem: _Problem, time_limit: float) -> int | None:
    """Return the fewest sites that give every point a route, or None if unproven."""
    routes = np.isfinite(problem.costs)
    point_row, site_col = np.nonzero(routes)
    sites = routes.shape[1]
    matrix = sparse.csc_array(
        (np.ones(point_row.size), (point_row, site_col)), shape=(routes.shape[0], sites)
    )
    solution = _solve_milp(
        np.ones(sites),
        matrix,
        (np.ones(routes.shape[0]), np.full(routes.shape[0], np.inf)),
        _site_bounds(problem),
        np.ones(sites, dtype=bool),
        maximize=False,
        time_limit=time_limit,
        presolve=False,
    )
    if solution.status != OPTIMAL:
        return None
    return int((solution.values > 0.5).sum())


def _check_p_reaches_all(problem: _Problem, p: int, time_limit: float) -> None:
    """Raise :class:`TooFewSitesError` when no ``p`` sites give every point a route.

    p-median and p-center assign every point to an open site, so with inf
    costs some choices of ``p`` sites leave a point with no route at all.
    A greedy set cover settles most cases; a covering MILP settles the rest.
    """
    routes = np.isfinite(problem.costs)
    if routes.all() or _greedy_route_cover(routes, problem.fixed) <= p:
        return
    needed = _fewest_sites_with_routes(problem, time_limit)
    if needed is None or needed > p:
        raise TooFewSitesError(p, needed)


def check_p_reaches_all(
    costs: CostMatrix | np.ndarray,
    p: int,
    *,
    fixed_sites: Sequence[str | int] = (),
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> None:
    """Raise :class:`TooFewSitesError` when no ``p`` sites reach every point.

    "Reach" means a finite cost. :func:`solve_pmedian` and
    :func:`solve_pcenter` run the same check before they solve.
    """
    problem = _prepare(costs, None, None, fixed_sites)
    _check_reachable(problem)
    _check_p_reaches_all(problem, _check_p(p, problem.costs.shape[1], "candidate sites"), time_limit)


def _pmedian_pairs(problem: _Problem, p: int) -> tuple[np.ndarray, ...]:
    """Return (point row, site, cost) for the assignment variables kept.

    Any ``p`` open sites include at least one of a point's ``m - p + 1``
    nearest sites, so its nearest open site is always among them and the
    other pairs can be dropped. Points that weigh 0 get no variables.
    """
    sites = problem.costs.shape[1]
    active = np.flatnonzero(problem.weights > 0)
    width = sites - p + 1
    sub = problem.costs[active]
    if width < sites:
        nearest = np.argpartition(sub, width - 1, axis=1)[:, :width]
    else:
        nearest = np.broadcast_to(np.arange(sites), (active.size, sites))
    point_row = np.repeat(np.arange(active.size), nearest.shape[1])
    site = nearest.ravel()
    cost = sub[point_row, site]
    finite = np.isfinite(cost)
    return active, point_row[finite], site[finite], cost[finite]


def _pmedian_interchange(
    costs: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray
) -> np.ndarray:
    """Return ``p`` site indices from greedy adding then best-swap search.

    This is vertex substitution with each point's nearest and second-nearest
    open site kept, so one swap pass costs one (points x sites) array
    operation per open site. Fixed sites are never swapped out.
    The result is a start solution for HiGHS, not a proof of anything.
    """
    points = costs.shape[0]
    chosen = [int(j) for j in fixed]
    nearest = np.full(points, np.inf)
    if chosen:
        nearest = costs[:, chosen].min(axis=1)
    with np.errstate(invalid="ignore"):
        while len(chosen) < p:
            totals = weights @ np.minimum(nearest[:, None], costs)
            totals[chosen] = np.inf
            site = int(np.argmin(totals))
            chosen.append(site)
            nearest = np.minimum(nearest, costs[:, site])
    return _pmedian_swap(costs, weights, chosen, fixed)


def _pmedian_swap(
    costs: np.ndarray, weights: np.ndarray, chosen: list[int], fixed: np.ndarray
) -> np.ndarray:
    """Return ``chosen`` improved by best swaps until none lowers the cost."""
    points = costs.shape[0]
    p = len(chosen)
    chosen = list(chosen)
    with np.errstate(invalid="ignore"):
        current = float(weights @ costs[:, chosen].min(axis=1))
        movable = [k for k, j in enumerate(chosen) if j not in set(fixed.tolist())]
        rows = np.arange(points)
        for _ in range(10 * p):
            sub = costs[:, chosen]
            order = np.argsort(sub, axis=1)
            first = sub[rows, order[:, 0]]
            second = sub[rows, order[:, 1]] if p > 1 else np.full(points, np.inf)
            best_gain, best_move = 0.0, None
            for k in movable:
                without = np.where(order[:, 0] == k, second, first)
                totals = weights @ np.minimum(without[:, None], costs)
                totals[chosen] = np.inf
                site = int(np.argmin(totals))
                gain = current - float(totals[site])
                if gain > best_gain + 1e-9 * max(abs(current), 1.0):
                    best_gain, best_move = gain, (k, site)
            if best_move is None:
                break
            chosen[best_move[0]] = best_move[1]
            current -= best_gain
    return np.array(sorted(chosen), dtype=np.int64)


def _pmedian_start(
    problem: _Problem,
    active: np.ndarray,
    point_row: np.ndarray,
    site: np.ndarray,
    cost: np.ndarray,
    chosen: np.ndarray,
) -> np.ndarray | None:
    """Build a start vector (y, then x per kept pair) for the open ``chosen``."""
    candidates = np.flatnonzero(chosen[site])
    order = candidates[np.lexsort((cost[candidates], point_row[candidates]))]
    served, first = np.unique(point_row[order], return_index=True)
    if served.size != active.size:
        return None
    assign = np.zeros(point_row.size)
    assign[order[first]] = 1.0
    return np.concatenate([chosen.astype(float), assign])


def _pmedian_reduce(
    problem: _Problem, p: int, seconds: float
) -> tuple[_Problem, np.ndarray, np.ndarray]:
    """Drop the sites a Lagrangian bound proves no optimum opens.

    Returns the problem on the remaining sites, their indices in the full
    problem, and the best known solution as a boolean vector over them.
    """
    active = np.flatnonzero(problem.weights > 0)
    costs = problem.costs[active]
    weights = problem.weights[active]
    start_sites = _pmedian_interchange(costs, weights, p, problem.fixed)
    with np.errstate(invalid="ignore"):
        weighted = np.where(np.isfinite(costs), weights[:, None] * costs, np.inf)
    reduction = lagrangian.reduce_sites(
        weighted, p, problem.fixed, start_sites, seconds, progress=_forward_bound_progress
    )
    # Swaps from the relaxation's own sites often beat the greedy start, and
    # a lower cost lets the same bound close more sites.
    # NOTE: with p = 50 of the county's 381 sites the swaps end 0.2% above
    # the optimum and only about 50 sites close, so HiGHS then needs 20 to
    # 50 s; p up to 20 closes over 300 sites and solves in seconds.
    best_sites, closed = reduction.best_sites, reduction.closed
    improved = _pmedian_swap(costs, weights, list(reduction.bound_sites), problem.fixed)
    with np.errstate(invalid="ignore"):
        improved_cost = float(weights @ costs[:, improved].min(axis=1))
    if improved_cost < reduction.best_cost:
        best_sites, closed = improved, reduction.closed_against(improved_cost)
    keep = np.flatnonzero(~closed)
    position = np.full(len(problem.sites), -1)
    position[keep] = np.arange(keep.size)
    reduced = replace(
        problem,
        costs=problem.costs[:, keep],
        sites=tuple(problem.sites[j] for j in keep),
        fixed=position[problem.fixed],
    )
    chosen = np.zeros(keep.size, dtype=bool)
    chosen[position[best_sites]] = True
    return reduced, keep, chosen


def solve_pmedian(
    costs: CostMatrix | np.ndarray,
    p: int,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    fixed_sites: Sequence[str | int] = (),
    population: Sequence[float] | np.ndarray | None = None,
    radius: Radius | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PlacementResult:
    """Open ``p`` sites with the least total weighted cost to the nearest one.

    ``radius``, when given, only adds coverage figures to the result.
    """
    start = time.perf_counter()
    problem = _prepare(costs, weights, population, fixed_sites)
    sites = problem.costs.shape[1]
    p = _check_p(p, sites, "candidate sites")
    _check_fixed_count(problem, p)
    _check_reachable(problem)
    _check_p_reaches_all(problem, p, HEURISTIC_SHARE * time_limit)
    full = problem
    problem, kept_sites, best_known = _pmedian_reduce(full, p, HEURISTIC_SHARE * time_limit)
    sites = problem.costs.shape[1]
    active, point_row, site, cost = _pmedian_pairs(problem, p)

    # Columns: y_j (site open, binary), then x_e for each kept (point, site)
    # pair e (share of the point served there, in [0, 1]). Rows 0..a-1:
    # sum_e x_e = 1 per point. Rows a..a+E-1: x_e - y_j <= 0. Last row:
    # sum_j y_j = p.
    count, pairs = active.size, point_row.size
    pair = np.arange(pairs)
    matrix = sparse.csc_array(
        (
            np.concatenate([np.ones(2 * pairs), -np.ones(pairs), np.ones(sites)]),
            (
                np.concatenate(
                    [point_row, count + pair, count + pair, np.full(sites, count + pairs)]
                ),
                np.concatenate([sites + pair, sites + pair, site, np.arange(sites)]),
            ),
        ),
        shape=(count + pairs + 1, sites + pairs),
    )
    row_lower = np.concatenate([np.ones(count), np.full(pairs, -np.inf), [p]])
    row_upper = np.concatenate([np.ones(count), np.zeros(pairs), [p]])
    site_lower, site_upper = _site_bounds(problem)
    solution = _solve_milp(
        np.concatenate([np.zeros(sites), problem.weights[active[point_row]] * cost]),
        matrix,
        (row_lower, row_upper),
        (
            np.concatenate([site_lower, np.zeros(pairs)]),
            np.concatenate([site_upper, np.ones(pairs)]),
        ),
        np.arange(sites + pairs) < sites,
        maximize=False,
        time_limit=time_limit - _elapsed(start),
        start=_pmedian_start(problem, active, point_row, site, cost, best_known),
    )
    _require_solution(solution, "p-median", time_limit)

    chosen = np.zeros(len(full.sites), dtype=bool)
    chosen[kept_sites[solution.values[:sites] > 0.5]] = True
    assignment = _assignment_fields(full, chosen)
    assignment["details"]["sites_left_after_bound"] = int(kept_sites.size)
    return _milp_result(
        "pmedian",
        full,
        solution,
        chosen,
        start,
        objective=assignment["details"]["total_cost"],
        **assignment,
        **_optional_coverage(full, chosen, radius),
    )


# --- p-center ----------------------------------------------------------------


def _greedy_centers(costs: np.ndarray, p: int, fixed: np.ndarray) -> np.ndarray:
    """Pick ``p`` sites by serving the farthest point first (an upper bound)."""
    sites = costs.shape[1]
    chosen = np.zeros(sites, dtype=bool)
    chosen[fixed] = True
    if not chosen.any():
        chosen[np.argmin(costs.max(axis=0))] = True
    while chosen.sum() < p:
        farthest = np.argmax(costs[:, chosen].min(axis=1))
        order = np.argsort(costs[farthest], kind="stable")
        chosen[order[~chosen[order]][0]] = True
    return chosen


def _max_cost(costs: np.ndarray, chosen: np.ndarray) -> float:
    return float(costs[:, chosen].min(axis=1).max())


def _cover_with_p(
    problem: _Problem, radius: float, p: int, time_limit: float
) -> tuple[str, np.ndarray | None]:
    """Find ``p`` sites that put every point within ``radius``, if any exist.

    Returns ("feasible", sites), ("infeasible", None) or ("time limit", None).
    """
    points, sites = problem.costs.shape
    point_row, site_col = np.nonzero(problem.costs <= radius)
    matrix = sparse.csc_array(
        (
            np.ones(point_row.size + sites),
            (
                np.concatenate([point_row, np.full(sites, points)]),
                np.concatenate([site_col, np.arange(sites)]),
            ),
        ),
        shape=(points + 1, sites),
    )
    solution = _solve_milp(
        np.zeros(sites),
        matrix,
        (np.append(np.ones(points), p), np.append(np.full(points, np.inf), p)),
        _site_bounds(problem),
        np.ones(sites, dtype=bool),
        maximize=False,
        time_limit=time_limit,
        presolve=False,
    )
    if solution.values.size:
        return "feasible", solution.values > 0.5
    if solution.status == TIME_LIMIT:
        return "time limit", None
    return "infeasible", None


def solve_pcenter(
    costs: CostMatrix | np.ndarray,
    p: int,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    fixed_sites: Sequence[str | int] = (),
    population: Sequence[float] | np.ndarray | None = None,
    radius: Radius | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PlacementResult:
    """Open ``p`` sites with the least maximum cost to the nearest one.

    The optimum is one of the distinct costs, so a binary search over them
    asks HiGHS at each step whether ``p`` sites can cover every point within
    that cost. ``time_limit`` bounds the whole search. Weights only feed the
    reported mean cost; ``radius`` only adds coverage figures.
    """
    start = time.perf_counter()
    deadline = start + time_limit
    problem = _prepare(costs, weights, population, fixed_sites)
    values = problem.costs
    p = _check_p(p, values.shape[1], "candidate sites")
    _check_fixed_count(problem, p)
    _check_reachable(problem)
    _check_p_reaches_all(problem, p, HEURISTIC_SHARE * time_limit)

    best = _greedy_centers(values, p, problem.fixed)
    lower = float(values.min(axis=1).max())
    upper = _max_cost(values, best)
    finite = values[np.isfinite(values)]
    candidates = np.unique(finite[(finite >= lower) & (finite <= upper)])
    if not math.isfinite(upper):
        # The greedy sites leave a point with no route. Some p sites do reach
        # every point, so covering within the largest finite cost succeeds.
        outcome, chosen = _cover_with_p(
            problem, candidates[-1], p, deadline - time.perf_counter()
        )
        if chosen is None:
            raise PlacementError(
                f"p-center: found no {p} sites with a route to every demand "
                f"point within the time limit of {time_limit:g} s; raise the "
                "time limit"
            )
        best = chosen
    low, high = 0, candidates.size - 1
    status, solves = OPTIMAL, 0
    while low < high:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            status = TIME_LIMIT
            break
        middle = (low + high) // 2
        outcome, chosen = _cover_with_p(problem, candidates[middle], p, remaining)
        solves += 1
        if outcome == "infeasible":
            low = middle + 1
        elif outcome == "time limit":
            status = TIME_LIMIT
            break
        else:
            best = chosen
            high = int(np.searchsorted(candidates, _max_cost(values, best)))
    log.debug("p-center: %d covering solves, %d candidates", solves, candidates.size)

    objective = _max_cost(values, best)
    bound = float(candidates[low])
    gap = 0.0 if objective <= 0 else max(objective - bound, 0.0) / objective
    return PlacementResult(
        **_base_fields("pcenter", problem, best, None),
        objective=objective,
        status=status,
        gap=gap,
        seconds=_elapsed(start),
        **(_assignment_fields(problem, best) | {"details": {"covering_solves": solves}}),
        **_optional_coverage(problem, best, radius),
    )


# --- MEXCLP ------------------------------------------------------------------


def _check_busy_fraction(busy_fraction: float) -> float:
    q = float(busy_fraction)
    if not 0.0 <= q < 1.0:
        raise ValueError(
            f"busy fraction is {busy_fraction!r}; it is the probability that a "
            "team is busy and must be at least 0 and below 1"
        )
    return q


def _expected_coverage_columns(
    cover: np.ndarray, weights: np.ndarray, p: int, cap: int, q: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (point row, objective coefficient, rows) for the y_rk columns.

    Point r gets one column per k = 1..K_r, where K_r is the most teams that
    can reach it, with coefficient w_r (1 - q) q^(k-1). Coefficients that
    are 0 (every k > 1 when q = 0) are dropped.
    """
    rows = np.flatnonzero(cover.any(axis=1) & (weights > 0))
    levels = np.minimum(p, cover[rows].sum(axis=1) * cap)
    if q == 0.0:
        levels = np.minimum(levels, 1)
    point_row = np.repeat(np.arange(rows.size), levels)
    starts = np.repeat(np.cumsum(levels) - levels, levels)
    level = np.arange(point_row.size) - starts
    coefficient = weights[rows][point_row] * (1.0 - q) * q**level
    return point_row, coefficient, rows


def solve_mexclp(
    costs: CostMatrix | np.ndarray,
    p: int,
    radius: Radius,
    busy_fraction: float,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    max_teams_per_site: int | None = None,
    fixed_sites: Sequence[str | int] = (),
    population: Sequence[float] | np.ndarray | None = None,
    time_limit: float = DEFAULT_TIME_LIMIT,
) -> PlacementResult:
    """Station ``p`` teams to maximise the expected covered weight.

    Each team is busy with probability ``busy_fraction`` (q), independently,
    so a point with n teams within ``radius`` is covered with probability
    1 - q^n. A site may hold up to ``max_teams_per_site`` teams (default p).
    ``objective`` is sum_i w_i (1 - q^n_i); ``covered_weight`` is the weight
    with at least one team in range.
    """
    start = time.perf_counter()
    problem = _prepare(costs, weights, population, fixed_sites)
    points, sites = problem.costs.shape
    q = _check_busy_fraction(busy_fraction)
    cap = _check_cap(max_teams_per_site, p)
    p = _check_p(p, sites * cap, "team places (sites × max teams per site)")
    _check_fixed_count(problem, p)
    radius_values = _radius_vector(radius, points)
    cover = _coverage(problem.costs, radius_values)
    point_row, coefficient, rows = _expected_coverage_columns(
        cover, problem.weights, p, cap, q
    )

    # Columns: x_j (teams at site j, integer 0..cap), then y_rk (continuous in
    # [0, 1]). Row r: sum_k y_rk - sum_{j covers r} x_j <= 0. Last row:
    # sum_j x_j = p. Because the coefficients fall with k, the solver fills
    # y_r1, y_r2, ... in order, so y needs no integrality.
    count, levels = rows.size, point_row.size
    cover_row, cover_col = np.nonzero(cover[rows])
    matrix = sparse.csc_array(
        (
            np.concatenate([np.ones(levels), -np.ones(cover_row.size), np.ones(sites)]),
            (
                np.concatenate([point_row, cover_row, np.full(sites, count)]),
                np.concatenate([sites + np.arange(levels), cover_col, np.arange(sites)]),
            ),
        ),
        shape=(count + 1, sites + levels),
    )
    site_lower, site_upper = _site_bounds(problem, upper=float(cap))
    solution = _solve_milp(
        np.concatenate([np.zeros(sites), coefficient]),
        matrix,
        (np.append(np.full(count, -np.inf), p), np.append(np.zeros(count), p)),
        (
            np.concatenate([site_lower, np.zeros(levels)]),
            np.concatenate([site_upper, np.ones(levels)]),
        ),
        np.arange(sites + levels) < sites,
        maximize=True,
        time_limit=time_limit,
        presolve=False,
    )
    _require_solution(solution, "MEXCLP", time_limit)

    teams = np.rint(solution.values[:sites]).astype(int)
    in_range = cover.astype(int) @ teams
    expected = float(problem.weights @ (1.0 - q ** in_range.astype(float)))
    coverage = _coverage_fields(problem, in_range > 0, radius_values)
    return _milp_result(
        "mexclp",
        problem,
        solution,
        teams > 0,
        start,
        counts=teams,
        objective=expected,
        details={"busy_fraction": q, "teams": p, "max_teams_per_site": cap},
        **coverage,
    )


def _check_cap(max_teams_per_site: int | None, p: object) -> int:
    if max_teams_per_site is None:
        return max(int(p), 1) if isinstance(p, (int, np.integer)) else 1
    if isinstance(max_teams_per_site, bool) or max_teams_per_site < 1:
        raise ValueError(
            f"max teams per site is {max_teams_per_site!r}; allow at least 1"
        )
    return int(max_teams_per_site)
