"""Lagrangian lower bounds for the p-median model, used to close sites early.

Relaxing "each point is served once" with a multiplier ``u[i]`` per point
splits the p-median into one small problem per site. With weighted costs
``wc[i, j] = w[i] * c[i, j]``, site ``j`` is worth

    rho[j] = sum_i min(0, wc[i, j] - u[i])

and the bound is ``sum(u) + (the p smallest rho, fixed sites included)``.
Every ``u`` gives a valid lower bound, and subgradient steps raise it
towards the LP bound. A bound also shows which sites no optimal solution
opens: forcing closed site ``j`` open costs at least ``rho[j]`` minus the
largest ``rho`` among the movable open sites, and if that bound exceeds a
known solution's cost, ``j`` stays closed in every optimum. The MILP then
only needs the sites that remain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_STEPS = 3000
"""Subgradient steps at most."""

STALL_STEPS = 30
"""Steps without a better bound before the step size is halved."""

MIN_STEP_FACTOR = 1e-4
"""The search stops once the step factor (starting at 2) falls below this."""


@dataclass(frozen=True)
class Reduction:
    """Outcome of the bound search."""

    lower_bound: float
    """Best Lagrangian bound on the p-median cost."""

    closed: np.ndarray
    """Boolean per site, true where no optimal solution opens the site."""

    best_sites: np.ndarray
    """Indices of the best solution seen, with cost ``best_cost``."""

    best_cost: float

    bound_sites: np.ndarray
    """Sites the relaxation opens at the best bound, a start for a local search."""

    site_bounds: np.ndarray
    """Per site, the best bound with that site forced open (closed sites only)."""

    def closed_against(self, cost: float) -> np.ndarray:
        """Return the sites no solution costing ``cost`` or less opens."""
        tolerance = 1e-9 * max(abs(cost), 1.0)
        return self.closed | (self.site_bounds > cost + tolerance)


def _total_cost(weighted: np.ndarray, sites: np.ndarray) -> float:
    return float(weighted[:, sites].min(axis=1).sum())


def reduce_sites(
    weighted: np.ndarray,
    p: int,
    fixed: np.ndarray,
    start_sites: np.ndarray,
    seconds: float,
    progress: Callable[[float, float, float], None] | None = None,
) -> Reduction:
    """Raise a Lagrangian bound and mark the sites no optimum opens.

    ``weighted`` is weight times cost, points by sites, with ``inf`` for
    pairs that have no route. ``start_sites`` is a feasible solution (``p``
    indices including ``fixed``); the sites it opens are never closed here.
    The search stops after ``MAX_STEPS`` steps, when the step factor falls
    below ``MIN_STEP_FACTOR``, when the bound meets the best cost, or after
    ``seconds``. ``progress``, when given, gets (seconds so far, best cost,
    bound) after every step.
    """
    began = time.perf_counter()
    deadline = began + seconds
    points, sites = weighted.shape
    free = np.ones(sites, dtype=bool)
    free[fixed] = False
    movable = p - fixed.size
    best_sites = np.sort(start_sites)
    best_cost = _total_cost(weighted, best_sites)
    closed = np.zeros(sites, dtype=bool)
    site_bounds = np.full(sites, -np.inf)
    if movable == 0 or movable == free.sum() or not np.isfinite(best_cost):
        return Reduction(best_cost, closed, best_sites, best_cost, best_sites, site_bounds)

    # Start from each point's cost in the known solution, which puts the
    # multipliers on the scale of the costs.
    multipliers = weighted[:, best_sites].min(axis=1)
    tolerance = 1e-9 * max(abs(best_cost), 1.0)
    lower_bound, factor, since_better = -np.inf, 2.0, 0
    bound_sites = best_sites

    for _ in range(MAX_STEPS):
        if time.perf_counter() > deadline or factor < MIN_STEP_FACTOR:
            break
        reduced = np.minimum(weighted - multipliers[:, None], 0.0)
        rho = reduced.sum(axis=0)
        order = np.flatnonzero(free)[np.argsort(rho[free], kind="stable")]
        opened = np.concatenate([fixed, order[:movable]])
        bound = float(multipliers.sum() + rho[opened].sum())

        # Opening a closed site instead of the dearest movable open one raises
        # this bound by the difference in rho. Where that passes best_cost,
        # no solution costing best_cost or less, so no optimum, opens the site.
        dearest = rho[order[movable - 1]]
        forced = np.where(free, bound + rho - dearest, -np.inf)
        forced[opened] = -np.inf
        site_bounds = np.maximum(site_bounds, forced)
        closed |= site_bounds > best_cost + tolerance
        closed[best_sites] = False

        # A better solution only lowers best_cost, so earlier closings stay
        # valid, and no closed site can be part of it.
        cost = _total_cost(weighted, np.sort(opened))
        if cost < best_cost - tolerance:
            best_cost, best_sites = cost, np.sort(opened)
        if bound > lower_bound + tolerance:
            lower_bound, since_better = bound, 0
            bound_sites = np.sort(opened)
        else:
            since_better += 1
            if since_better >= STALL_STEPS:
                factor, since_better = factor / 2.0, 0
        if progress is not None:
            progress(time.perf_counter() - began, best_cost, lower_bound)
        if lower_bound >= best_cost - tolerance:
            break

        served = (reduced[:, opened] < 0.0).sum(axis=1)
        subgradient = 1.0 - served
        norm = float(subgradient @ subgradient)
        if norm == 0.0:
            break
        multipliers = multipliers + factor * (best_cost - bound) / norm * subgradient

    return Reduction(lower_bound, closed, best_sites, best_cost, bound_sites, site_bounds)
