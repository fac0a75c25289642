"""What-if simulation: queue mechanics, validation against Erlang C and A."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crisishub.planning import erlang
from crisishub.planning import simulation as sim

TARGET = 20.0 / 60.0
CALLS_PER_HOUR = 200.0  # with a 3-minute AHT: 10 Erlangs


def flat_config(**overrides) -> sim.SimulationConfig:
    values = dict(
        calls_per_hour=np.full(168, CALLS_PER_HOUR),
        counselors=14,
        handle_time=sim.exponential(3.0),
        days=7.0,
        warmup_hours=4.0,
    )
    values.update(overrides)
    return sim.SimulationConfig(**values)


def assert_inside(interval: dict, value: float, name: str) -> None:
    assert interval["ci_low"] <= value <= interval["ci_high"], (name, interval, value)


def test_fcfs_queue_hand_example():
    arrivals = np.array([0.0, 1.0, 2.0, 10.0])
    service = np.array([5.0, 5.0, 5.0, 1.0])
    waits, answered = sim.fcfs_queue(arrivals, service, servers=2)
    assert waits.tolist() == [0.0, 0.0, 3.0, 0.0]
    assert answered.all()


def test_fcfs_queue_abandon_frees_no_server():
    arrivals = np.array([0.0, 1.0, 2.0])
    service = np.array([5.0, 1.0, 1.0])
    patience = np.array([10.0, 2.0, 10.0])
    waits, answered = sim.fcfs_queue(arrivals, service, servers=1, patience=patience)
    assert answered.tolist() == [True, False, True]
    assert waits.tolist() == [0.0, 4.0, 3.0]


def test_fcfs_queue_rejects_zero_servers():
    with pytest.raises(ValueError, match="servers 0"):
        sim.fcfs_queue(np.array([0.0]), np.array([1.0]), servers=0)


def test_scheduled_queue_matches_constant():
    rng = np.random.default_rng(3)
    arrivals = np.sort(rng.random(5000) * 60.0 * 48)
    service = rng.exponential(3.0, arrivals.size)
    patience = rng.exponential(5.0, arrivals.size)
    waits, answered = sim.fcfs_queue(arrivals, service, 2, patience)
    waits_s, answered_s = sim.fcfs_queue_scheduled(
        arrivals, service, np.full(48, 2), patience
    )
    np.testing.assert_allclose(waits_s, waits)
    assert (answered_s == answered).all()


def test_scheduled_queue_waits_for_shift():
    arrivals = np.array([10.0, 70.0])
    service = np.array([1.0, 1.0])
    waits, answered = sim.fcfs_queue_scheduled(arrivals, service, np.array([0, 1, 1]))
    assert waits.tolist() == [50.0, 0.0]
    assert answered.all()


def test_scheduled_queue_finishes_call_after_shift():
    arrivals = np.array([50.0, 61.0])
    service = np.array([30.0, 1.0])
    waits, answered = sim.fcfs_queue_scheduled(arrivals, service, np.array([1, 0, 1]))
    assert waits.tolist() == [0.0, 59.0]


def test_scheduled_queue_no_staff_left():
    arrivals = np.array([10.0, 70.0])
    waits, answered = sim.fcfs_queue_scheduled(arrivals, np.ones(2), np.array([1, 0]))
    assert answered.tolist() == [True, False]


def test_poisson_arrivals_hourly_means():
    rng = np.random.default_rng(5)
    rates = np.array([1.0, 20.0, 5.0])
    counts = np.array(
        [np.histogram(sim.poisson_arrivals(rates, rng), bins=[0, 60, 120, 180])[0]
         for _ in range(400)]
    )
    means = counts.mean(axis=0)
    errors = np.sqrt(rates / 400)
    assert np.all(np.abs(means - rates) < 4 * errors)


def test_poisson_arrivals_sorted():
    times = sim.poisson_arrivals(np.full(24, 30.0), np.random.default_rng(1))
    assert np.all(np.diff(times) >= 0)


def test_hourly_rates_rejects_wrong_length():
    with pytest.raises(ValueError, match="168"):
        sim.hourly_rates(np.ones(24), 7)


def test_lognormal_distribution_moments():
    draws = sim.Distribution("lognormal", 60.0, 30.0).sample(
        np.random.default_rng(2), 200_000
    )
    assert draws.mean() == pytest.approx(60.0, rel=0.01)
    assert draws.std() == pytest.approx(30.0, rel=0.02)


def test_distribution_rejects_unknown_kind():
    with pytest.raises(ValueError, match="invalid distribution 'gamma'"):
        sim.Distribution("gamma", 1.0)


def test_busy_by_hour_matches_brute_force():
    rng = np.random.default_rng(4)
    start = rng.random(50) * 600
    end = start + rng.exponential(90, 50)
    grid = np.arange(0, 600, 0.01) + 0.005
    busy = ((grid[:, None] >= start) & (grid[:, None] < end)).sum(axis=1) * 0.01
    expected = busy.reshape(10, -1).sum(axis=1)
    np.testing.assert_allclose(sim.busy_by_hour(start, end, 10), expected, atol=0.05)


def test_t_interval_matches_scipy():
    values = [1.0, 2.0, 4.0, 7.0]
    result = sim.t_interval(values)
    low, high = stats.t.interval(
        0.95, 3, loc=np.mean(values), scale=stats.sem(values)
    )
    assert result["ci_low"] == pytest.approx(low)
    assert result["ci_high"] == pytest.approx(high)


def test_t_interval_single_value():
    assert sim.t_interval([3.0]) == {"mean": 3.0, "ci_low": 3.0, "ci_high": 3.0}


def test_simulate_same_seed_same_result():
    config = flat_config(days=1.0)
    assert sim.simulate(config, 3, seed=7) == sim.simulate(config, 3, seed=7)


def test_simulate_other_seed_differs():
    config = flat_config(days=1.0)
    first = sim.simulate(config, 3, seed=7)["wait_probability"]["mean"]
    second = sim.simulate(config, 3, seed=8)["wait_probability"]["mean"]
    assert first != second


def test_simulate_agrees_with_erlang_c():
    summary = sim.simulate(flat_config(), replications=20, seed=11)
    exact = erlang.erlang_c_metrics(14, 10.0, 3.0, TARGET)
    assert_inside(summary["wait_probability"], float(exact.wait_probability), "wait")
    assert_inside(summary["service_level"], float(exact.service_level), "sl")
    assert_inside(summary["asa_seconds"], float(exact.asa) * 60.0, "asa")


def test_simulate_agrees_with_erlang_a():
    config = flat_config(patience=sim.exponential(5.0))
    summary = sim.simulate(config, replications=20, seed=12)
    exact = erlang.erlang_a_metrics(14, 10.0, 3.0, 5.0, TARGET)
    assert_inside(summary["wait_probability"], float(exact.wait_probability), "wait")
    assert_inside(summary["service_level"], float(exact.service_level), "sl")
    assert_inside(summary["abandon_share"], float(exact.abandon_probability), "abandon")


def test_simulate_agrees_with_erlang_a_below_load():
    config = flat_config(counselors=8, patience=sim.exponential(2.0), days=2.0)
    summary = sim.simulate(config, replications=20, seed=13)
    exact = erlang.erlang_a_metrics(8, 10.0, 3.0, 2.0, TARGET)
    assert_inside(summary["service_level"], float(exact.service_level), "sl")
    assert_inside(summary["abandon_share"], float(exact.abandon_probability), "abandon")


def test_simulate_counselor_schedule():
    schedule = np.full(168, 14)
    schedule[:24] = 11
    config = flat_config(counselors=schedule, days=7.0, warmup_hours=0.0)
    constant = flat_config(days=7.0, warmup_hours=0.0)
    shifted = sim.simulate(config, 3, seed=1)["wait_probability"]["mean"]
    full = sim.simulate(constant, 3, seed=1)["wait_probability"]["mean"]
    assert shifted > full


def test_simulate_rejects_zero_replications():
    with pytest.raises(ValueError, match="replications 0"):
        sim.simulate(flat_config(), replications=0)


def two_point_config(**overrides) -> sim.SimulationConfig:
    points = sim.DemandPoints.from_arrays(
        lat=[38.5, 38.9], lon=[-121.4, -121.1], weight=[3.0, 1.0], rural=[False, True]
    )
    values = dict(
        calls_per_hour=np.full(168, 10.0),
        counselors=5,
        handle_time=sim.exponential(10.0),
        days=7.0,
        mobile_share=0.05,
        points=points,
        stations=np.array([[38.5, -121.4]]),
        team_stations=np.zeros(6, dtype=np.int64),
        travel=np.array([[10.0, 100.0]]),
        scene_time=sim.Distribution("fixed", 30.0),
    )
    values.update(overrides)
    return sim.SimulationConfig(**values)


def test_mobile_nearest_free_team():
    run = sim.simulate_mobile(
        request_times=np.array([0.0, 1.0]),
        request_points=np.array([0, 0]),
        travel_to_point=np.array([[5.0], [20.0]]),
        team_stations=np.array([1, 0]),
        busy_extra=np.array([60.0, 60.0]),
        rural=np.array([False]),
    )
    assert run.busy_team.tolist() == [1, 0]
    assert run.response.tolist() == [5.0, 20.0]


def test_mobile_waits_for_first_free_team():
    run = sim.simulate_mobile(
        request_times=np.array([0.0, 1.0]),
        request_points=np.array([0, 0]),
        travel_to_point=np.array([[5.0]]),
        team_stations=np.array([0]),
        busy_extra=np.array([60.0, 60.0]),
        rural=np.array([False]),
    )
    assert run.no_team_free.tolist() == [False, True]
    assert run.response.tolist() == [5.0, 69.0]


def test_simulate_mobile_statistics():
    summary = sim.simulate(two_point_config(), replications=4, seed=2)
    assert summary["urban_within_60_share"]["mean"] > 0.99
    assert summary["rural_within_120_share"]["mean"] > 0.99
    assert summary["response_median_minutes"]["mean"] == pytest.approx(10.0)
    assert summary["no_team_free_share"]["mean"] < 0.01
    assert len(summary["busy_fraction_by_hour"]) == 168
    assert len(summary["team_busy_fraction"]) == 6


def test_simulate_mobile_busy_fraction():
    summary = sim.simulate(two_point_config(), replications=4, seed=2)
    requests = summary["mobile_requests"]["mean"]
    busy = sum(team["mean"] for team in summary["team_busy_fraction"])
    # Urban requests take 10 + 30 minutes and rural ones 100 + 30.
    expected = requests * (0.75 * 40.0 + 0.25 * 130.0) / (7 * 24 * 60)
    assert busy == pytest.approx(expected, rel=0.1)


def test_simulate_travel_callable_matches_matrix():
    def travel(origins, destinations):
        return np.array([[10.0, 100.0]]) * np.ones((len(origins), len(destinations)))

    matrix = sim.simulate(two_point_config(), 2, seed=3)
    function = sim.simulate(two_point_config(travel=travel), 2, seed=3)
    assert matrix == function


def test_simulate_travel_model_from_rules():
    from crisishub.rules.travel import StraightLineTravelModel

    config = two_point_config(travel=StraightLineTravelModel().matrix)
    summary = sim.simulate(config, 2, seed=3)
    assert summary["response_p90_minutes"]["mean"] > 0


def test_travel_matrix_rejects_wrong_shape():
    with pytest.raises(ValueError, match="expected \\(1, 2\\)"):
        sim.travel_matrix(np.zeros((2, 2)), np.zeros((1, 2)), np.zeros((2, 2)))


def test_demand_points_from_tracts():
    from crisishub.datapack import load_tracts

    points = sim.DemandPoints.from_tracts(load_tracts())
    assert points.lat.size == 363
    assert points.rural.any()


def test_demand_points_reject_ragged():
    with pytest.raises(ValueError, match="equal"):
        sim.DemandPoints.from_arrays([1.0], [2.0, 3.0], [1.0], [False])


def test_simulate_mobile_needs_points():
    config = two_point_config(points=None)
    with pytest.raises(ValueError, match="demand points"):
        sim.simulate(config, 1)
