"""Erlang B, C and A formulas and staffing search.

Reference values come from a direct birth-death chain with a truncated
state space, solved here independently of the module under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from crisishub.planning import erlang

TARGET = 20.0 / 60.0  # minutes


def chain_metrics(servers, arrival_rate, aht, patience, target, extra_states=400):
    """Solve M/M/n(+M) as a truncated birth-death chain.

    Returns wait probability, service level (answered within target),
    abandonment, mean wait of all calls and mean wait of answered calls.
    """
    mu = 1.0 / aht
    theta = 0.0 if patience is None else 1.0 / patience
    top = servers + extra_states
    deaths = np.array(
        [min(k, servers) * mu + max(k - servers, 0) * theta for k in range(1, top + 1)]
    )
    log_pi = np.concatenate([[0.0], np.cumsum(np.log(arrival_rate) - np.log(deaths))])
    pi = np.exp(log_pi - log_pi.max())
    pi /= pi.sum()

    waiting = pi[servers:]
    queue = np.arange(top + 1 - servers)
    wait_probability = waiting.sum()
    abandon = theta * (queue * waiting).sum() / arrival_rate
    mean_wait = (queue * waiting).sum() / arrival_rate

    # Tagged caller with j callers ahead: states j = 0..J, then served and
    # abandoned (absorbing).
    ahead = waiting.size
    generator = np.zeros((ahead + 2, ahead + 2))
    served, gone = ahead, ahead + 1
    for j in range(ahead):
        forward = servers * mu + j * theta
        if j == 0:
            generator[j, served] = servers * mu
        else:
            generator[j, j - 1] = forward
        generator[j, gone] = theta
        generator[j, j] = -(forward + theta)
    within = expm(generator * target)[:ahead, served]
    service_level = pi[:servers].sum() + (waiting * within).sum()

    transient = -generator[:ahead, :ahead]
    to_served = np.zeros(ahead)
    to_served[0] = servers * mu
    absorbed = np.linalg.solve(transient, to_served)
    weighted_time = np.linalg.solve(transient, absorbed)
    answered = 1.0 - abandon
    asa = (waiting * weighted_time).sum() / answered
    return {
        "wait_probability": wait_probability,
        "service_level": service_level,
        "abandon_probability": abandon,
        "mean_wait": mean_wait,
        "asa": asa,
    }


def test_erlang_c_ground_truth_agents():
    load = erlang.offered_load(100, 30, 3)
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8)
    found = erlang.required_agents(load, 3.0, goal)
    assert int(found.agents) == 14


def test_erlang_c_ground_truth_metrics():
    metrics = erlang.erlang_c_metrics(14, 10.0, 3.0, TARGET)
    assert round(float(metrics.service_level), 6) == 0.888350
    assert round(float(metrics.wait_probability), 6) == 0.174132
    assert round(float(metrics.asa) * 60.0, 3) == 7.836


def test_shrinkage_ground_truth_positions():
    assert int(erlang.positions_after_shrinkage(14, 0.3)) == 20


def test_shrinkage_rounds_up_partial_positions():
    assert int(erlang.positions_after_shrinkage(15, 0.3)) == 22


def test_shrinkage_rejects_one():
    with pytest.raises(ValueError, match="shrinkage 1.0"):
        erlang.positions_after_shrinkage(14, 1.0)


def test_erlang_a_ground_truth():
    metrics = erlang.erlang_a_metrics(14, 10.0, 3.0, 5.0, TARGET)
    assert round(float(metrics.abandon_probability), 6) == 0.013984
    assert round(float(metrics.service_level), 6) == 0.916792


def test_erlang_b_matches_poisson_ratio():
    for load in (1.0, 10.0, 250.0, 1000.0, 5000.0):
        agents = np.array([int(load * 0.9) + 1, int(load), int(load * 1.05) + 1])
        log_b = stats.poisson.logpmf(agents, load) - stats.poisson.logcdf(agents, load)
        np.testing.assert_allclose(erlang.erlang_b(agents, load), np.exp(log_b), rtol=1e-9)


def test_erlang_b_one_agent():
    assert float(erlang.erlang_b(1, 4.0)) == pytest.approx(4.0 / 5.0)


def test_erlang_b_zero_agents_blocks_all():
    assert float(erlang.erlang_b(0, 3.0)) == 1.0


def test_erlang_c_unstable_is_one():
    wait = erlang.erlang_c(np.arange(1, 11), 10.0)
    assert np.all(wait == 1.0)


def test_erlang_c_never_above_one():
    for load in (0.5, 9.99, 10.0, 10.01, 4999.5):
        agents = np.arange(1, int(load) + 20)
        assert np.all(erlang.erlang_c(agents, load) <= 1.0)


def test_erlang_c_unstable_metrics():
    metrics = erlang.erlang_c_metrics(10, 10.0, 3.0, TARGET)
    assert float(metrics.service_level) == 0.0
    assert math.isinf(float(metrics.asa))
    assert float(metrics.occupancy) == 1.0


@pytest.mark.parametrize(
    ("servers", "arrival_rate"), [(1, 0.2), (3, 0.8), (5, 1.2), (14, 100 / 30)]
)
def test_erlang_c_matches_chain(servers, arrival_rate):
    aht = 3.0
    expected = chain_metrics(servers, arrival_rate, aht, None, TARGET)
    metrics = erlang.erlang_c_metrics(servers, arrival_rate * aht, aht, TARGET)
    assert float(metrics.wait_probability) == pytest.approx(
        expected["wait_probability"], rel=1e-9
    )
    assert float(metrics.service_level) == pytest.approx(
        expected["service_level"], rel=1e-9
    )
    assert float(metrics.asa) == pytest.approx(expected["asa"], rel=1e-8)


@pytest.mark.parametrize(
    ("servers", "arrival_rate", "patience"),
    [(1, 0.2, 5.0), (2, 1.0, 2.0), (5, 2.5, 1.0), (14, 100 / 30, 5.0), (8, 2.0, 10.0)],
)
def test_erlang_a_matches_chain(servers, arrival_rate, patience):
    aht = 3.0
    expected = chain_metrics(servers, arrival_rate, aht, patience, TARGET)
    metrics = erlang.erlang_a_metrics(servers, arrival_rate * aht, aht, patience, TARGET)
    for name in ("wait_probability", "service_level", "abandon_probability"):
        assert float(getattr(metrics, name)) == pytest.approx(expected[name], rel=1e-9)
    assert float(metrics.mean_wait) == pytest.approx(expected["mean_wait"], rel=1e-9)
    assert float(metrics.asa) == pytest.approx(expected["asa"], rel=1e-6)


def test_erlang_a_defined_below_load():
    metrics = erlang.erlang_a_metrics(np.arange(1, 11), 10.0, 3.0, 5.0, TARGET)
    assert np.all((metrics.wait_probability > 0) & (metrics.wait_probability < 1))
    assert np.all(np.isfinite(metrics.asa))


def test_erlang_a_rejects_zero_agents():
    with pytest.raises(ValueError, match="at least 1 agent"):
        erlang.erlang_a_metrics(0, 10.0, 3.0, 5.0, TARGET)


@pytest.mark.parametrize("load", [1.0, 50.0, 1000.0, 5000.0])
def test_erlang_c_search_is_minimal(load):
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8)
    found = erlang.required_agents(load, 3.0, goal)
    agents = int(found.agents)
    below = erlang.erlang_c_metrics(agents - 1, load, 3.0, TARGET)
    assert float(found.service_level) >= 0.8
    assert float(below.service_level) < 0.8


@pytest.mark.parametrize(
    ("load", "patience", "service_level"),
    [(1.0, 5.0, 0.8), (10.0, 5.0, 0.8), (1000.0, 5.0, 0.8), (5000.0, 2.0, 0.7)],
)
def test_erlang_a_search_is_minimal(load, patience, service_level):
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=service_level)
    found = erlang.required_agents(load, 3.0, goal, patience=patience)
    agents = int(found.agents)
    below = erlang.erlang_a_metrics(max(agents - 1, 1), load, 3.0, patience, TARGET)
    assert float(found.service_level) >= service_level
    assert agents == 1 or float(below.service_level) < service_level


def test_erlang_a_search_below_load():
    """Abandonment lets a large center run with fewer agents than Erlangs."""
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8)
    found = erlang.required_agents(1000.0, 3.0, goal, patience=5.0)
    assert int(found.agents) < 1000


def test_large_load_metrics_finite():
    metrics = erlang.erlang_a_metrics(np.array([4800, 5000, 5100]), 5000.0, 3.0, 5.0, TARGET)
    for name in ("wait_probability", "service_level", "abandon_probability", "asa"):
        values = getattr(metrics, name)
        assert np.all(np.isfinite(values)), name
        assert np.all((values >= 0)), name


def test_erlang_a_many_agents_no_underflow():
    metrics = erlang.erlang_a_metrics(400, 10.0, 3.0, 5.0, TARGET)
    assert float(metrics.service_level) == pytest.approx(1.0)
    assert 0.0 <= float(metrics.wait_probability) < 1e-100


def test_search_vector_matches_scalar():
    loads = np.array([0.5, 3.0, 10.0, 42.0, 120.0])
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.9)
    for patience in (None, 4.0):
        vector = erlang.required_agents(loads, 3.0, goal, patience=patience).agents
        scalar = [
            int(erlang.required_agents(x, 3.0, goal, patience=patience).agents)
            for x in loads
        ]
        assert vector.tolist() == scalar


def test_search_zero_calls_needs_no_agents():
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8)
    found = erlang.required_agents(np.array([0.0, 10.0]), 3.0, goal)
    assert found.agents.tolist() == [0, 14]


def test_search_max_occupancy_adds_agents():
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8, max_occupancy=0.6)
    found = erlang.required_agents(10.0, 3.0, goal)
    assert int(found.agents) == 17
    assert float(found.occupancy) <= 0.6


def test_search_wait_probability_goal():
    goal = erlang.StaffingGoal(max_wait_probability=0.1)
    found = erlang.required_agents(10.0, 3.0, goal)
    assert float(found.wait_probability) <= 0.1
    assert float(erlang.erlang_c(int(found.agents) - 1, 10.0)) > 0.1


@pytest.mark.parametrize(
    ("calls", "service_level", "message"),
    [(-1.0, 0.8, "invalid calls -1.0"), (10.0, 1.0, "invalid service level 1.0")],
)
def test_validate_inputs_rejects(calls, service_level, message):
    with pytest.raises(ValueError, match=message):
        erlang.validate_inputs([calls], 30.0, 3.0, 20.0, service_level)


def test_direct_blocking_matches_recursion():
    loads = np.array([0.3, 1.0, 7.5, 120.0, 999.0, 5000.0, 5000.0, 4000.0])
    agents = np.array([1, 3, 2, 130, 1000, 5100, 2000, 3000])
    np.testing.assert_allclose(
        erlang._blocking_at(agents, loads), erlang.erlang_b(agents, loads), rtol=1e-10
    )


@pytest.mark.parametrize("patience", [None, 5.0])
def test_stable_from_1_to_5000_erlangs(patience):
    """Search results are minimal and every metric is a finite probability."""
    loads = np.geomspace(1.0, 5000.0, 40)
    goal = erlang.StaffingGoal(target_time=TARGET, service_level=0.8)
    found = erlang.required_agents(loads, 3.0, goal, patience=patience)
    for name in ("wait_probability", "service_level", "occupancy"):
        values = getattr(found, name)
        assert np.all(np.isfinite(values)), name
        assert np.all((values >= 0.0) & (values <= 1.0)), name
    assert np.all(found.service_level >= 0.8)
    below = np.maximum(found.agents - 1, 1)
    if patience is None:
        previous = erlang.erlang_c_metrics(below, loads, 3.0, TARGET)
    else:
        previous = erlang.erlang_a_metrics(below, loads, 3.0, patience, TARGET)
    assert np.all((previous.service_level < 0.8) | (found.agents == 1))
    assert np.all(np.diff(found.agents) >= 0)
