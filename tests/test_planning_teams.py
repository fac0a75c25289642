"""Mobile team staffing by hour of week, checked by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from crisishub.planning import erlang
from crisishub.planning import simulation as sim
from crisishub.planning.teams import TeamTimes, teams_needed


def test_busy_minutes_formula():
    times = TeamTimes(travel=20.0, on_scene=50.0, transport_share=0.4, transport=30.0)
    assert times.busy_minutes == pytest.approx(82.0)


def test_team_times_reject_share():
    with pytest.raises(ValueError, match="transport share 1.5"):
        TeamTimes(transport_share=1.5)


def test_team_times_reject_zero_busy():
    with pytest.raises(ValueError, match="busy time is 0"):
        TeamTimes(travel=0.0, on_scene=0.0, transport_share=0.0)


def test_teams_needed_meets_target():
    requests = np.linspace(0.1, 3.0, 168)
    found = teams_needed(requests, TeamTimes(), max_wait_probability=0.1)
    assert np.all(found.wait_probability <= 0.1)


def test_teams_needed_is_minimal():
    requests = np.linspace(0.1, 3.0, 168)
    times = TeamTimes()
    found = teams_needed(requests, times, max_wait_probability=0.1)
    fewer = erlang.erlang_c(found.agents - 1, found.load)
    assert np.all(fewer > 0.1)


def test_teams_needed_load_uses_busy_time():
    found = teams_needed([2.0], TeamTimes(30.0, 60.0, 0.3, 45.0))
    assert float(found.load[0]) == pytest.approx(2.0 * 103.5 / 60.0)


def test_teams_needed_zero_requests():
    found = teams_needed([0.0, 1.0], TeamTimes())
    assert int(found.agents[0]) == 0


def test_teams_needed_rejects_target():
    with pytest.raises(ValueError, match="wait probability target 1.0"):
        teams_needed([1.0], TeamTimes(), max_wait_probability=1.0)


def test_teams_needed_rejects_negative_requests():
    with pytest.raises(ValueError, match="requests per hour"):
        teams_needed([-1.0], TeamTimes(), max_wait_probability=0.1)


def test_teams_match_simulated_wait():
    """Simulated share of requests that find no team free agrees with Erlang C.

    Busy times are exponential with the team mean and travel is zero, so
    the team pool is an M/M/n queue.
    """
    requests_per_hour = 2.0
    times = TeamTimes(travel=0.0, on_scene=90.0, transport_share=0.0)
    found = teams_needed([requests_per_hour], times, max_wait_probability=0.1)
    teams = int(found.agents[0])

    shares = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        request_times = sim.poisson_arrivals(np.full(24 * 28, requests_per_hour), rng)
        run = sim.simulate_mobile(
            request_times=request_times,
            request_points=np.zeros(request_times.size, dtype=np.int64),
            travel_to_point=np.zeros((1, 1)),
            team_stations=np.zeros(teams, dtype=np.int64),
            busy_extra=rng.exponential(times.busy_minutes, request_times.size),
            rural=np.array([False]),
        )
        counted = request_times >= 24 * 60.0
        shares.append(run.no_team_free[counted].mean())
    interval = sim.t_interval(shares)
    assert interval["ci_low"] <= float(found.wait_probability[0]) <= interval["ci_high"]
    assert interval["ci_low"] <= 0.1
