"""Lagrangian bound and site closing for the p-median model.

Every instance here is small enough to enumerate, so the checks compare
against the true optimum: the bound never exceeds it, and no site that the
bound closes belongs to any optimal solution.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crisishub.planning import lagrangian, location


def enumerate_optima(weighted: np.ndarray, p: int, fixed: tuple[int, ...] = ()):
    """Return the optimal cost and every optimal site set, by enumeration."""
    sites = weighted.shape[1]
    costs = {}
    for combo in itertools.combinations(range(sites), p):
        if not set(fixed) <= set(combo):
            continue
        costs[combo] = float(weighted[:, list(combo)].min(axis=1).sum())
    best = min(costs.values())
    return best, [combo for combo, cost in costs.items() if cost <= best + 1e-9]


def random_weighted(seed: int, points: int = 40, sites: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    demand = rng.random((points, 2)) * 100
    candidates = rng.random((sites, 2)) * 100
    distance = np.sqrt(((demand[:, None] - candidates[None]) ** 2).sum(axis=2))
    return rng.integers(1, 20, points)[:, None] * distance


@pytest.mark.parametrize("seed", range(8))
def test_bound_never_passes_optimum(seed):
    weighted = random_weighted(seed)
    p = 3
    optimum, optima = enumerate_optima(weighted, p)
    start = np.array([0, 1, 2])
    reduction = lagrangian.reduce_sites(weighted, p, np.array([], dtype=int), start, 10.0)
    assert reduction.lower_bound <= optimum + 1e-6
    assert reduction.best_cost >= optimum - 1e-6
    for combo in optima:
        assert not reduction.closed[list(combo)].any()


@pytest.mark.parametrize("seed", range(8))
def test_bound_closes_most_sites(seed):
    """The point of the bound: on these instances it leaves few sites."""
    weighted = random_weighted(seed, points=60, sites=14)
    start = np.array([0, 1, 2, 3])
    reduction = lagrangian.reduce_sites(weighted, 4, np.array([], dtype=int), start, 10.0)
    assert reduction.closed.sum() >= 5


def test_bound_keeps_fixed_sites_open():
    weighted = random_weighted(3)
    fixed = np.array([7])
    optimum, optima = enumerate_optima(weighted, 3, fixed=(7,))
    start = np.array([0, 1, 7])
    reduction = lagrangian.reduce_sites(weighted, 3, fixed, start, 10.0)
    assert not reduction.closed[7]
    assert 7 in reduction.best_sites
    assert reduction.lower_bound <= optimum + 1e-6
    for combo in optima:
        assert not reduction.closed[list(combo)].any()


def test_bound_with_unreachable_pairs():
    weighted = random_weighted(5)
    weighted[:10, :6] = np.inf
    optimum, optima = enumerate_optima(weighted, 3)
    start = np.array(optima[0])
    reduction = lagrangian.reduce_sites(weighted, 3, np.array([], dtype=int), start, 10.0)
    assert np.isfinite(reduction.lower_bound)
    assert reduction.lower_bound <= optimum + 1e-6
    for combo in optima:
        assert not reduction.closed[list(combo)].any()


def test_bound_with_nothing_to_choose():
    weighted = random_weighted(6, sites=4)
    reduction = lagrangian.reduce_sites(
        weighted, 4, np.array([], dtype=int), np.arange(4), 10.0
    )
    assert not reduction.closed.any()
    assert reduction.best_cost == pytest.approx(weighted.min(axis=1).sum())


@pytest.mark.parametrize("seed", range(6))
def test_pmedian_matches_enumeration(seed):
    """The MILP on the sites left after the bound still finds the optimum."""
    rng = np.random.default_rng(100 + seed)
    costs = rng.integers(1, 60, (50, 13)).astype(float)
    weights = rng.integers(0, 9, 50).astype(float)
    weighted = weights[:, None] * costs
    optimum, _ = enumerate_optima(weighted[weights > 0], 4)
    result = location.solve_pmedian(costs, 4, weights)
    assert result.status == "Optimal"
    assert result.objective == pytest.approx(optimum)
    assert result.details["sites_left_after_bound"] <= 13


@pytest.mark.parametrize("seed", range(6))
def test_closing_against_better_cost_keeps_optima(seed):
    """Closing again with the optimum's cost closes more, never an optimal site."""
    weighted = random_weighted(40 + seed, points=50, sites=13)
    optimum, optima = enumerate_optima(weighted, 4)
    start = np.array([0, 1, 2, 3])
    reduction = lagrangian.reduce_sites(weighted, 4, np.array([], dtype=int), start, 10.0)

    closed = reduction.closed_against(optimum)

    assert closed.sum() >= reduction.closed.sum()
    assert (closed | ~reduction.closed).all()
    for combo in optima:
        assert not closed[list(combo)].any()
