"""Mobile crisis teams needed by hour of week.

Teams are the servers of an Erlang C queue with no abandonment: a request
that finds every team busy waits for the first one to free up. A team is
busy for travel + time on scene + transport share x transport time. For
each hour, the fewest teams keep the probability that a request waits
under a target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crisishub.planning import erlang


@dataclass(frozen=True)
class TeamTimes:
    """Mean durations of one mobile response, in minutes."""

    travel: float = 30.0
    on_scene: float = 60.0
    transport_share: float = 0.3
    transport: float = 45.0

    def __post_init__(self) -> None:
        for name in ("travel", "on_scene", "transport"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"invalid {name} time {value}: use minutes of 0 or more")
        if not 0.0 <= self.transport_share <= 1.0:
            raise ValueError(
                f"invalid transport share {self.transport_share}: use 0 to 1"
            )
        if self.busy_minutes <= 0:
            raise ValueError("a team's busy time is 0: set travel or on-scene minutes")

    @property
    def busy_minutes(self) -> float:
        """Mean time a team is committed to one request."""
        return self.travel + self.on_scene + self.transport_share * self.transport


def teams_needed(
    requests_per_hour, times: TeamTimes, max_wait_probability: float = 0.1
) -> erlang.QueueMetrics:
    """Return the fewest teams per hour so that P(wait) <= the target.

    ``requests_per_hour`` is any array of expected requests in each hour
    (168 for a week). Each hour is treated as its own steady state.
    """
    # NOTE: busy times often exceed an hour, so real demand spills into the
    # next hour; the steady-state answer per hour ignores that carry-over.
    if not 0.0 < max_wait_probability < 1.0:
        raise ValueError(
            f"invalid wait probability target {max_wait_probability}: use a "
            "value strictly between 0 and 1, for example 0.1"
        )
    requests = np.asarray(requests_per_hour, dtype=float)
    if np.any(~np.isfinite(requests)) or np.any(requests < 0):
        raise ValueError("invalid requests per hour: use counts of 0 or more")
    load = erlang.offered_load(requests, 60.0, times.busy_minutes)
    goal = erlang.StaffingGoal(max_wait_probability=max_wait_probability)
    return erlang.required_agents(load, times.busy_minutes, goal)
