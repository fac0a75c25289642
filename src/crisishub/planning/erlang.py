"""Erlang C (M/M/n) and Erlang A (M/M/n+M) queue formulas and staffing.

All functions take NumPy arrays (or scalars) and broadcast, so a week of
intervals is one call. Times share one unit, which the caller picks
(minutes in the CLI). Notation: ``load`` is the offered load in Erlangs
(arrival rate times mean handle time), ``agents`` the number of servers.

Erlang B uses the forward recursion ``B(k) = a B(k-1) / (k + a B(k-1))``,
which never overflows and stays accurate to thousands of servers. Erlang C
follows from B. Erlang A uses the Palm / Garnett-Mandelbaum-Reiman formulas
with the regularized lower incomplete gamma function, kept in log space.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc, gammaln, pdtr

logger = logging.getLogger(__name__)

# Terms of the series fallback for log P(x, y) when gammainc underflows.
_SERIES_TERMS = 400


def offered_load(calls, interval, aht):
    """Return the offered load in Erlangs: calls per interval times AHT."""
    return np.asarray(calls, dtype=float) * np.asarray(aht, dtype=float) / interval


def erlang_b(agents, load):
    """Return the Erlang B blocking probability for ``agents`` servers.

    ``agents`` must be non-negative integers. The recursion runs once up to
    the largest value and picks each entry's result on the way.
    """
    agents, load = np.broadcast_arrays(
        np.asarray(agents, dtype=np.int64), np.asarray(load, dtype=float)
    )
    result = np.ones(agents.shape)
    blocking = np.ones(agents.shape)
    for k in range(1, int(agents.max(initial=0)) + 1):
        blocking = load * blocking / (k + load * blocking)
        result = np.where(agents == k, blocking, result)
    return result


def erlang_c(agents, load):
    """Return the Erlang C wait probability, 1.0 where agents <= load.

    With no more agents than the offered load the queue has no steady
    state, so every caller waits: the value is 1, never above it.
    """
    agents = np.asarray(agents, dtype=np.int64)
    load = np.asarray(load, dtype=float)
    blocking = erlang_b(agents, load)
    return _wait_probability_c(agents, load, blocking)


def _wait_probability_c(agents, load, blocking):
    stable = agents > load
    safe_agents = np.where(stable, agents, 1)
    denominator = np.where(stable, safe_agents - load * (1.0 - blocking), 1.0)
    value = safe_agents * blocking / denominator
    return np.where(stable, np.minimum(value, 1.0), 1.0)


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state metrics of one queue model, one entry per interval.

    ``service_level`` is the share of offered calls answered within the
    target time. ``asa`` (average speed of answer) is the mean wait of
    answered calls and ``mean_wait`` the mean wait of all offered calls,
    abandoned ones included, both in the time unit of the inputs; they are
    equal for Erlang C. ``abandon_probability`` is zero for Erlang C.
    ``occupancy`` is the carried load divided by the agents (1.0 for an
    unstable Erlang C queue).
    """

    agents: np.ndarray
    load: np.ndarray
    wait_probability: np.ndarray
    service_level: np.ndarray
    asa: np.ndarray
    occupancy: np.ndarray
    abandon_probability: np.ndarray
    mean_wait: np.ndarray


def erlang_c_metrics(agents, load, aht, target_time) -> QueueMetrics:
    """Compute Erlang C metrics for ``agents`` at offered ``load``.

    ``aht`` and ``target_time`` share a time unit. Unstable intervals
    (agents <= load) get wait probability 1, service level 0, infinite ASA
    and occupancy 1.
    """
    agents, load, aht, target_time = np.broadcast_arrays(
        np.asarray(agents, dtype=np.int64),
        np.asarray(load, dtype=float),
        np.asarray(aht, dtype=float),
        np.asarray(target_time, dtype=float),
    )
    blocking = erlang_b(agents, load)
    return _metrics_c(agents, load, aht, target_time, blocking)


def _metrics_c(agents, load, aht, target_time, blocking) -> QueueMetrics:
    wait = _wait_probability_c(agents, load, blocking)
    stable = agents > load
    spare = np.where(stable, agents - load, 1.0)
    service_level = np.where(
        stable, 1.0 - wait * np.exp(-spare * target_time / aht), 0.0
    )
    asa = np.where(stable, wait * aht / spare, np.inf)
    occupancy = np.where(stable, load / np.maximum(agents, 1), 1.0)
    return QueueMetrics(
        agents=agents,
        load=load,
        wait_probability=wait,
        service_level=service_level,
        asa=asa,
        occupancy=occupancy,
        abandon_probability=np.zeros(agents.shape),
        mean_wait=asa,
    )


def _log_gammainc(shape, value):
    """Return log P(shape, value), the regularized lower incomplete gamma.

    Where ``gammainc`` underflows (shape far above value) the series
    ``P = value**shape e**-value / Gamma(shape + 1) * sum_j value**j /
    ((shape + 1) ... (shape + j))`` is summed in log space instead.
    """
    out_shape = np.broadcast_shapes(np.shape(shape), np.shape(value))
    shape, value = np.broadcast_arrays(
        np.atleast_1d(np.asarray(shape, dtype=float)),
        np.atleast_1d(np.asarray(value, dtype=float)),
    )
    with np.errstate(divide="ignore"):
        result = np.log(gammainc(shape, value))
    tiny = ~np.isfinite(result) & (value > 0)
    if np.any(tiny):
        x = shape[tiny]
        y = value[tiny]
        steps = np.arange(1, _SERIES_TERMS + 1)[:, None]
        log_terms = np.cumsum(np.log(y) - np.log(x + steps), axis=0)
        log_sum = np.logaddexp.reduce(
            np.vstack([np.zeros((1, x.size)), log_terms]), axis=0
        )
        result[tiny] = x * np.log(y) - y - gammaln(x + 1.0) + log_sum
    return result.reshape(out_shape)


def _metrics_a(agents, arrival_rate, aht, patience, target_time, blocking):
    """Erlang A metrics from Erlang B values already computed for agents.

    With ``x = n mu / theta`` and ``y = lambda / theta`` (theta = 1 /
    patience), the queue-to-idle mass ratio is ``A = x e**y y**-x gamma(x,
    y)``, the wait probability ``A B / (1 + (A - 1) B)``, and the offered
    wait of a waiting caller has the tail ``P(x, y e**-theta t) / P(x, y)``.
    """
    n = agents.astype(float)
    theta = 1.0 / patience
    x = n / (aht * theta)
    y = arrival_rate / theta
    log_p = _log_gammainc(x, y)
    log_a = y - x * np.log(y) + gammaln(x + 1.0) + log_p
    with np.errstate(divide="ignore"):
        log_ab = log_a + np.log(blocking)
        wait = 1.0 / (1.0 + np.exp(np.log1p(-blocking) - log_ab))

    load = arrival_rate * aht
    rho = load / n
    # exp(log_a) overflows to inf for long patience, where 1 / inf = 0 is right.
    with np.errstate(over="ignore"):
        abandon_given_wait = 1.0 / (rho * np.exp(log_a)) + 1.0 - 1.0 / rho
    abandon_given_wait = np.clip(abandon_given_wait, 0.0, 1.0)
    abandon = wait * abandon_given_wait

    # Answered within t, given a wait: the integral of the offered-wait
    # density times the chance the caller is still there, exp(-theta v).
    reduced = y * np.exp(-theta * target_time)
    log_p1_full = _log_gammainc(x + 1.0, y)
    log_p1_reduced = _log_gammainc(x + 1.0, reduced)
    answered_within = (
        (x / y)
        * np.exp(log_p1_full - log_p)
        * -np.expm1(np.minimum(log_p1_reduced - log_p1_full, 0.0))
    )
    service_level = (1.0 - wait) + wait * answered_within

    return QueueMetrics(
        agents=agents,
        load=load,
        wait_probability=wait,
        service_level=service_level,
        asa=_answered_wait_a(x, y, theta, wait, abandon, log_p, log_p1_full),
        occupancy=load * (1.0 - abandon) / n,
        abandon_probability=abandon,
        mean_wait=abandon * patience,
    )


def _answered_wait_a(x, y, theta, wait, abandon, log_p, log_p1):
    """Mean wait of answered calls in Erlang A.

    The offered wait V of a waiting caller has the Laplace transform
    ``L(s) = y**(-s/theta) gamma(x + s/theta, y) / gamma(x, y)``, and the
    caller is answered with probability ``exp(-theta V)``, so
    ``E[V exp(-theta V)] = -L'(theta)``. That needs the derivative of
    log gamma(a, y) in the shape a, taken here by a central difference.
    """
    # NOTE: the central difference limits this value to about 1e-8
    # relative accuracy; the other Erlang A metrics are closed forms.
    a = x + 1.0
    step = 1e-4 * np.maximum(a, 1.0)
    log_forward = _log_gammainc(a + step, y) + gammaln(a + step)
    log_backward = _log_gammainc(a - step, y) + gammaln(a - step)
    shape_derivative = (log_forward - log_backward) / (2.0 * step)
    served_given_wait = (x / y) * np.exp(log_p1 - log_p)
    weighted = served_given_wait * (np.log(y) - shape_derivative) / theta
    answered = np.maximum(1.0 - abandon, 1e-300)
    return wait * weighted / answered


def erlang_a_metrics(agents, load, aht, patience, target_time) -> QueueMetrics:
    """Compute Erlang A (M/M/n+M) metrics with exponential patience.

    ``aht``, ``patience`` (mean time a caller waits before hanging up) and
    ``target_time`` share a time unit. Defined for any ``agents >= 1``,
    including fewer agents than the load. ``mean_wait``, the mean wait of
    all offered calls, equals P(abandon) times the mean patience.
    """
    agents, load, aht, patience, target_time = np.broadcast_arrays(
        np.asarray(agents, dtype=np.int64),
        np.asarray(load, dtype=float),
        np.asarray(aht, dtype=float),
        np.asarray(patience, dtype=float),
        np.asarray(target_time, dtype=float),
    )
    if np.any(agents < 1):
        raise ValueError("Erlang A needs at least 1 agent: pass agents >= 1")
    blocking = erlang_b(agents, load)
    return _metrics_a(agents, load / aht, aht, patience, target_time, blocking)


def meets_goal(metrics: QueueMetrics, goal: "StaffingGoal") -> np.ndarray:
    """Return, per interval, whether ``metrics`` meet every target set in ``goal``."""
    return _meets(metrics, goal)


def _meets(metrics: QueueMetrics, goal: StaffingGoal) -> np.ndarray:
    ok = np.ones(metrics.agents.shape, dtype=bool)
    if goal.service_level is not None:
        ok &= metrics.service_level >= goal.service_level - 1e-12
    if goal.max_wait_probability is not None:
        ok &= metrics.wait_probability <= goal.max_wait_probability + 1e-12
    if goal.max_occupancy is not None:
        ok &= metrics.occupancy <= goal.max_occupancy + 1e-12
    return ok


def _meets_c(counts, load, aht, target_time, blocking, goal: "StaffingGoal") -> np.ndarray:
    """Return ``_meets`` of the Erlang C metrics, computing only what ``goal`` needs.

    The search only tries counts above the load, so every queue here is
    stable and the guards of ``_metrics_c`` are not needed.
    """
    ok = np.ones(counts.shape, dtype=bool)
    if goal.service_level is None and goal.max_wait_probability is None:
        wait = None
    else:
        wait = np.minimum(counts * blocking / (counts - load * (1.0 - blocking)), 1.0)
    if goal.service_level is not None:
        level = 1.0 - wait * np.exp(-(counts - load) * target_time / aht)
        ok &= level >= goal.service_level - 1e-12
    if goal.max_wait_probability is not None:
        ok &= wait <= goal.max_wait_probability + 1e-12
    if goal.max_occupancy is not None:
        ok &= load / counts <= goal.max_occupancy + 1e-12
    return ok


@dataclass(frozen=True)
class StaffingGoal:
    """Targets that the minimum staffing must meet; unset ones are skipped.

    ``target_time`` is the answer-time target for ``service_level``, in the
    time unit of the AHT.
    """

    target_time: float = 0.0
    service_level: float | None = None
    max_wait_probability: float | None = None
    max_occupancy: float | None = None


def required_agents(load, aht, goal: StaffingGoal, patience=None) -> QueueMetrics:
    """Find the minimum agents per interval that meet ``goal``.

    Erlang C when ``patience`` is None, else Erlang A. The search walks up
    from the smallest agent count that can possibly meet the goal (above
    the load for Erlang C; from ``service_level * load`` for Erlang A,
    because the share answered cannot exceed agents / load), advancing the
    Erlang B recursion for all intervals at once. It returns the metrics at
    the first count that meets the goal, so it never overstaffs.
    """
    load, aht = np.broadcast_arrays(
        np.asarray(load, dtype=float), np.asarray(aht, dtype=float)
    )
    shape = load.shape
    load = load.ravel()
    aht = aht.ravel()
    patience_flat = None
    if patience is not None:
        patience_flat = np.broadcast_to(np.asarray(patience, float), shape).ravel()

    found = _search(load, aht, goal, patience_flat)
    return QueueMetrics(**{k: v.reshape(shape) for k, v in found.items()})


def _lower_bound(load, goal: StaffingGoal, erlang_a: bool) -> np.ndarray:
    if not erlang_a:
        bound = np.floor(load) + 1.0
    elif goal.service_level is not None:
        bound = np.floor(goal.service_level * load)
    else:
        bound = np.ones(load.shape)
    if goal.max_occupancy is not None and not erlang_a:
        bound = np.maximum(bound, np.ceil(load / goal.max_occupancy - 1e-9))
    return np.maximum(bound, 1.0).astype(np.int64)


RECURSION_MAX_AGENTS = 16
"""Largest agent count for which ``_blocking_at`` runs the recursion."""


def _blocking_at(agents, load):
    """Return Erlang B at a different agent count per interval.

    ``B(n, a) = p(n) / F(n)`` with the Poisson probability ``p`` and its
    distribution function ``F``, computed directly where ``F(n)`` does not
    underflow (always the case for ``n > a``). Elsewhere, far below the
    load, the forward recursion runs up to those counts.
    """
    agents = np.asarray(agents, dtype=np.int64)
    load = np.asarray(load, dtype=float)
    if agents.max(initial=0) <= RECURSION_MAX_AGENTS:
        # A few recursion steps cost fewer NumPy calls than the Poisson terms.
        return erlang_b(agents, load)
    result = np.ones(agents.shape)
    positive = load > 0
    n = agents[positive].astype(float)
    a = load[positive]
    cdf = pdtr(n, a)
    log_pmf = n * np.log(a) - a - gammaln(n + 1.0)
    direct = cdf > 1e-250
    values = np.empty(n.shape)
    values[direct] = np.exp(log_pmf[direct]) / cdf[direct]
    if not np.all(direct):
        values[~direct] = erlang_b(agents[positive][~direct], a[~direct])
    result[positive] = values
    result[~positive & (agents > 0)] = 0.0
    return result


SEARCH_WIDTH = 4
"""Agent counts an Erlang C search step tries at once, per interval."""


def _search(load, aht, goal, patience) -> dict[str, np.ndarray]:
    """Walk every interval up from its lower bound, all intervals at once.

    Each step evaluates the pending intervals at the next few agent counts
    (``SEARCH_WIDTH`` for Erlang C, one for Erlang A) and advances the others
    past them with the Erlang B recursion, so the number of steps follows the
    largest distance from a lower bound to the minimum, not the largest
    minimum. The steps keep only each interval's minimum count and its
    blocking probability, and the metrics are computed once at the end.
    """
    erlang_a = patience is not None
    agents = _lower_bound(load, goal, erlang_a)
    blocking = _blocking_at(agents, load)
    target = np.full(load.shape, float(goal.target_time))

    def metrics_at(index, counts, blocked):
        if erlang_a:
            return _metrics_a(
                counts, load[index] / aht[index], aht[index], patience[index],
                target[index], blocked,
            )
        return _metrics_c(counts, load[index], aht[index], target[index], blocked)

    # With no calls, no agents are needed and no caller waits.
    busy = np.flatnonzero(load > 0)
    found_agents = agents.copy()
    found_blocking = blocking.copy()
    # Erlang C tries SEARCH_WIDTH counts per step as columns of one array,
    # which cuts the number of NumPy calls; Erlang A tries one at a time.
    width = 1 if erlang_a else SEARCH_WIDTH
    index = busy
    while index.size:
        # Plain views while every interval is pending (the usual first step),
        # because fancy indexing copies.
        every = index.size == load.size
        pending_load = load if every else load[index]
        counts = (agents if every else agents[index])[:, None] + np.arange(width)
        blocked = np.empty(counts.shape)
        blocked[:, 0] = blocking if every else blocking[index]
        for column in range(1, width):
            offered = pending_load * blocked[:, column - 1]
            blocked[:, column] = offered / (counts[:, column] + offered)
        if erlang_a:
            ok = _meets(metrics_at(index, counts[:, 0], blocked[:, 0]), goal)[:, None]
        else:
            ok = _meets_c(
                counts,
                pending_load[:, None],
                (aht if every else aht[index])[:, None],
                float(goal.target_time),
                blocked,
                goal,
            )
        done = ok.any(axis=1)
        first = ok.argmax(axis=1)[done]
        hit = index[done]
        found_agents[hit] = counts[done, first]
        found_blocking[hit] = blocked[done, first]
        # The rest move past the last count tried.
        index = index[~done]
        last = blocked[~done, -1]
        agents[index] += width
        offered = load[index] * last
        blocking[index] = offered / (agents[index] + offered)

    fields = ("agents", "load", "wait_probability", "service_level", "asa")
    fields += ("occupancy", "abandon_probability", "mean_wait")
    if busy.size == load.size:
        metrics = metrics_at(busy, found_agents, found_blocking)
        return {name: getattr(metrics, name) for name in fields}
    found = {name: np.zeros(load.shape) for name in fields}
    found["agents"] = np.zeros(load.shape, dtype=np.int64)
    found["service_level"][load <= 0] = 1.0
    if busy.size:
        metrics = metrics_at(busy, found_agents[busy], found_blocking[busy])
        for name in fields:
            found[name][busy] = getattr(metrics, name)
    return found


def positions_after_shrinkage(agents, shrinkage: float):
    """Return scheduled positions: ceil(agents / (1 - shrinkage)).

    A small tolerance keeps exact quotients such as 14 / 0.7 = 20 from
    rounding up to 21 through floating-point error.
    """
    if not 0.0 <= shrinkage < 1.0:
        raise ValueError(f"invalid shrinkage {shrinkage}: use a value in [0, 1)")
    raw = np.asarray(agents, dtype=float) / (1.0 - shrinkage)
    return np.ceil(raw - 1e-9).astype(np.int64)


def validate_inputs(
    calls, interval: float, aht, target_seconds: float, service_level: float
) -> None:
    """Raise ValueError naming the first invalid staffing input and the fix."""
    calls = np.asarray(calls, dtype=float)
    if calls.size and (np.any(~np.isfinite(calls)) or np.any(calls < 0)):
        bad = calls[~np.isfinite(calls) | (calls < 0)][0]
        raise ValueError(f"invalid calls {bad}: use a count of 0 or more")
    if not interval > 0:
        raise ValueError(f"invalid interval {interval}: use minutes above 0")
    aht_values = np.asarray(aht, dtype=float)
    if np.any(~(aht_values > 0)):
        raise ValueError(f"invalid AHT {aht}: use minutes above 0")
    if not target_seconds >= 0 or math.isinf(target_seconds):
        raise ValueError(
            f"invalid target answer time {target_seconds}: use seconds of 0 or more"
        )
    if not 0.0 < service_level < 1.0:
        raise ValueError(
            f"invalid service level {service_level}: use a fraction strictly "
            "between 0 and 1, for example 0.8"
        )
