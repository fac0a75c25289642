"""Start solutions for the maximal covering model: greedy, then tabu search.

HiGHS proves MCLP optima quickly up to a few thousand demand groups, but on
larger models its root node can take minutes, and until it branches it only
improves the incumbent it was given. These heuristics give it a strong one.

The tabu search moves by swaps: close one open site and open one closed
site. For ``count[g]``, the number of open sites that cover group ``g``, the
change in covered weight of swapping open ``i`` for closed ``j`` is

    gain[j] - loss[i] + both[i, j]

where ``gain[j]`` is the uncovered weight ``j`` covers, ``loss[i]`` the
weight only ``i`` covers, and ``both[i, j]`` the weight only ``i`` covers
that ``j`` also covers. All three come from sparse products, so one step
scores every swap at once. The search takes the best swap that is not tabu,
even one that loses weight, and forbids reopening a closed site for a
random number of steps. After a run of steps without improvement it
restarts from the best cover with a random kick.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

# Step counts chosen on random instances of 1,000 x 100 to 10,000 x 500
# points x sites in a 100 x 100 square (the benchmark's MCLP cases).
STALL_STEPS_PER_CLOSED_SITE = 3
"""Steps without a new best cover before a restart, per closed site."""

MAX_RESTARTS = 4
"""Restarts without a new best cover before the search stops."""

KICK_SWAPS = 6
"""Random swaps applied to the best cover at a restart."""

MAX_ROUNDS = 8
"""Independent tabu searches, with seeds 0, 1, ..., that ``best_cover`` runs."""

CLOSE_GAP = 0.005
"""Relative gap to the upper bound below which the search leaves the rest to
HiGHS: a round stops at its first restart and no further round starts.

HiGHS closed gaps of 0.2% within seconds on the benchmark's 5,000 x 300
case, while on its 10,000 x 500 case (gap 1.3% after one round) only more
rounds improved the cover."""


def greedy_cover(
    cover: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray
) -> np.ndarray:
    """Return a boolean site vector: fixed sites, then the largest gains.

    Greedy maximum coverage reaches at least 1 - 1/e of the optimum, a
    standard bound for submodular objectives.
    """
    chosen = np.zeros(cover.shape[1], dtype=bool)
    chosen[fixed] = True
    covered = cover[:, chosen].any(axis=1)
    while chosen.sum() < p:
        gains = (weights * ~covered) @ cover
        gains[chosen] = -1.0
        site = int(np.argmax(gains))
        chosen[site] = True
        covered |= cover[:, site]
    return chosen


def best_cover(
    cover: np.ndarray,
    weights: np.ndarray,
    p: int,
    fixed: np.ndarray,
    seconds: float,
    upper_bound: float | None = None,
) -> np.ndarray:
    """Return the best boolean site vector of several tabu searches.

    Each round is a tabu search from the greedy cover with its own seed, so
    the rounds end in different local optima on hard models. ``upper_bound``
    is a bound on the covered weight, such as the LP relaxation's value
    (default: all the weight). The rounds stop when a cover reaches the
    bound, when one round has ended within ``CLOSE_GAP`` of it, when two
    rounds have reached the same best covered weight, after ``MAX_ROUNDS``
    or after ``seconds``, whichever comes first.
    """
    deadline = time.perf_counter() + seconds
    total = float(weights.sum())
    bound = total if upper_bound is None else min(float(upper_bound), total)
    tolerance = 1e-9 * max(total, 1.0)
    start = greedy_cover(cover, weights, p, fixed)
    best, best_value, hits = start, _covered_weight(cover, weights, start), 0
    for seed in range(MAX_ROUNDS):
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or hits >= 2 or best_value >= bound - tolerance:
            break
        if seed > 0 and bound - best_value <= CLOSE_GAP * bound:
            break
        found = tabu_cover(
            cover,
            weights,
            start,
            fixed,
            remaining,
            seed=seed,
            upper_bound=bound,
            good_enough=(1.0 - CLOSE_GAP) * bound,
        )
        value = _covered_weight(cover, weights, found)
        if value > best_value + tolerance:
            best, best_value, hits = found, value, 1
        elif value > best_value - tolerance:
            hits += 1
    return best


def _covered_weight(cover: np.ndarray, weights: np.ndarray, chosen: np.ndarray) -> float:
    return float(weights[cover[:, chosen].any(axis=1)].sum())


class _SwapScores:
    """The sparse cover matrix and the swap scores for one open set."""

    def __init__(self, cover: np.ndarray, weights: np.ndarray) -> None:
        self.groups, self.sites = cover.shape
        self.matrix = sparse.csr_array(cover.astype(np.float64))
        self.columns = np.ascontiguousarray(cover.T.astype(np.int64))
        self.weights = weights
        self.nonzero_group, self.nonzero_site = np.nonzero(cover)

    def counts(self, open_sites: np.ndarray) -> np.ndarray:
        return self.columns[open_sites].sum(axis=0)

    def score(self, open_sites: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Return the weight change of every swap, open sites by all sites.

        Row ``a`` is for closing ``open_sites[a]``. Columns of open sites
        are ``-inf`` because opening an open site is no swap.
        """
        opened = open_sites.size
        gain = (self.weights * (count == 0)) @ self.matrix
        single = count == 1
        # For a group covered once, the position (in open_sites) of the one
        # open site that covers it: the product sums exactly one term.
        position = np.zeros(self.sites)
        position[open_sites] = np.arange(1, opened + 1)
        owner = (self.matrix @ position).astype(np.int64) - 1
        loss = np.bincount(owner[single], weights=self.weights[single], minlength=opened)
        keep = single[self.nonzero_group]
        group = self.nonzero_group[keep]
        both = np.bincount(
            owner[group] * self.sites + self.nonzero_site[keep],
            weights=self.weights[group],
            minlength=opened * self.sites,
        ).reshape(opened, self.sites)
        delta = gain[None, :] - loss[:, None] + both
        delta[:, open_sites] = -np.inf
        return delta


def tabu_cover(
    cover: np.ndarray,
    weights: np.ndarray,
    start: np.ndarray,
    fixed: np.ndarray,
    seconds: float,
    *,
    seed: int = 0,
    max_restarts: int = MAX_RESTARTS,
    upper_bound: float | None = None,
    good_enough: float | None = None,
) -> np.ndarray:
    """Return the best boolean site vector found by swaps from ``start``.

    Fixed sites stay open. The search stops when a cover reaches
    ``upper_bound`` (default: all the weight), after ``max_restarts``
    restarts without a better cover or after ``seconds``, whichever comes
    first, or at the first restart once a cover reaches ``good_enough``.
    It never returns a cover worse than ``start``. The same inputs
    and seed give the same result unless the time limit stops the search.
    """
    deadline = time.perf_counter() + seconds
    rng = np.random.default_rng(seed)
    scores = _SwapScores(cover, weights)
    current = np.flatnonzero(start)
    closed_count = scores.sites - current.size
    locked = np.isin(current, fixed)
    if closed_count == 0 or locked.all():
        return start.copy()

    # A closed site may not reopen for a random 20 to 40 steps (fewer on
    # small models, so most closed sites stay free), and an opened site may
    # not close again for 2 to 4 steps. Tenures of 3 to 8 steps stalled at
    # worse covers on the benchmark's largest case.
    tenure_low = max(1, min(20, closed_count // 4))
    tenure_high = 2 * tenure_low + 1
    stall_steps = max(100, STALL_STEPS_PER_CLOSED_SITE * closed_count)
    count = scores.counts(current)
    value = float(weights[count > 0].sum())
    best, best_value = current.copy(), value
    total = float(weights.sum())
    bound = total if upper_bound is None else min(float(upper_bound), total)
    tolerance = 1e-9 * max(total, 1.0)
    if best_value >= bound - tolerance:
        return start.copy()
    tabu_until = np.zeros(scores.sites, dtype=np.int64)
    step = last_better = restarts = 0

    while restarts <= max_restarts and time.perf_counter() < deadline:
        step += 1
        if step - last_better > stall_steps:
            if good_enough is not None and best_value >= good_enough:
                break
            restarts += 1
            current = _kick(best, locked, scores.sites, rng)
            count = scores.counts(current)
            value = float(weights[count > 0].sum())
            tabu_until[:] = 0
            last_better = step
        delta = scores.score(current, count)
        delta[locked, :] = -np.inf
        allowed = delta.copy()
        allowed[:, tabu_until > step] = -np.inf
        allowed[tabu_until[current] > step, :] = -np.inf
        # A tabu move is still allowed when it gives a new best cover.
        aspiration = value + delta > best_value + tolerance
        allowed[aspiration] = delta[aspiration]
        top = allowed.max()
        if not np.isfinite(top):
            tabu_until[:] = 0
            continue
        ties = np.argwhere(allowed >= top - tolerance)
        position, site = ties[rng.integers(len(ties))]
        closed_site = current[position]
        count += scores.columns[site] - scores.columns[closed_site]
        current[position] = site
        value += float(delta[position, site])
        tabu_until[closed_site] = step + rng.integers(tenure_low, tenure_high)
        tabu_until[site] = step + rng.integers(2, 5)
        if value > best_value + tolerance:
            best, best_value = current.copy(), value
            last_better = step
            restarts = 0
            if best_value >= bound - tolerance:
                break

    chosen = np.zeros(scores.sites, dtype=bool)
    chosen[best] = True
    return chosen


def _kick(
    best: np.ndarray, locked: np.ndarray, sites: int, rng: np.random.Generator
) -> np.ndarray:
    """Return ``best`` with a few unlocked open sites swapped for closed ones."""
    current = best.copy()
    movable = np.flatnonzero(~locked)
    closed = np.setdiff1d(np.arange(sites), best)
    swaps = min(KICK_SWAPS, movable.size, closed.size)
    current[rng.choice(movable, swaps, replace=False)] = rng.choice(
        closed, swaps, replace=False
    )
    return current
