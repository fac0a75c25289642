"""What-if discrete-event simulation of a crisis call center and its teams.

Time is in minutes from Monday 00:00 of the first simulated week. One
replication runs in two passes, which is exact for this model because
mobile requests do not feed back into the call center:

1. Calls arrive as a non-homogeneous Poisson process with a constant rate
   within each hour of week, and counselors answer them first come, first
   served. Callers hang up after an exponential patience. The queue uses a
   heap of counselor free times: caller i waits ``max(0, earliest free -
   arrival)``, so a replication is one pass over pre-drawn arrays.
2. A share of answered calls needs a mobile response, requested when the
   call ends. Each request goes to the free team with the shortest travel
   time, or, when no team is free, waits for the first team to free up.
   A team is busy for travel + time on scene + transport, and starts each
   dispatch from its station.

Results are means over replications with Student t confidence intervals.
The same seed gives the same results.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

logger = logging.getLogger(__name__)

MINUTES_PER_HOUR = 60.0
HOURS_PER_WEEK = 168
URBAN_TARGET_MINUTES = 60.0
RURAL_TARGET_MINUTES = 120.0

TravelInput = Callable[[np.ndarray, np.ndarray], np.ndarray] | np.ndarray | None


@dataclass(frozen=True)
class Distribution:
    """A positive random duration in minutes.

    ``kind`` is "exponential" (mean), "lognormal" (mean and standard
    deviation ``sd`` of the duration itself, not of its log) or "fixed".
    """

    kind: Literal["exponential", "lognormal", "fixed"]
    mean: float
    sd: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("exponential", "lognormal", "fixed"):
            raise ValueError(
                f"invalid distribution {self.kind!r}: use exponential, "
                "lognormal or fixed"
            )
        if not self.mean >= 0:
            raise ValueError(f"invalid mean {self.mean}: use minutes of 0 or more")
        if self.kind == "lognormal" and not (self.sd > 0 and self.mean > 0):
            raise ValueError(
                f"invalid lognormal mean {self.mean} and sd {self.sd}: use "
                "values above 0"
            )

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` durations."""
        if self.kind == "fixed" or self.mean == 0:
            return np.full(size, float(self.mean))
        if self.kind == "exponential":
            return rng.exponential(self.mean, size)
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2.0
        return rng.lognormal(mu, math.sqrt(sigma2), size)


def exponential(mean: float) -> Distribution:
    """Return an exponential duration with the given mean in minutes."""
    return Distribution("exponential", mean)


@dataclass(frozen=True)
class DemandPoints:
    """Where mobile requests come from: coordinates, weights, rural flags."""

    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    rural: np.ndarray

    @classmethod
    def from_arrays(cls, lat, lon, weight, rural) -> DemandPoints:
        """Build validated points from four equal-length sequences."""
        points = cls(
            np.asarray(lat, dtype=float),
            np.asarray(lon, dtype=float),
            np.asarray(weight, dtype=float),
            np.asarray(rural, dtype=bool),
        )
        sizes = {a.shape for a in (points.lat, points.lon, points.weight, points.rural)}
        if len(sizes) != 1 or points.lat.ndim != 1 or points.lat.size == 0:
            raise ValueError(
                "demand points need lat, lon, weight and rural arrays of one "
                "equal, non-zero length"
            )
        if np.any(points.weight < 0) or points.weight.sum() <= 0:
            raise ValueError("invalid demand weights: use values >= 0 with a positive sum")
        return points

    @classmethod
    def from_tracts(cls, tracts: Sequence) -> DemandPoints:
        """Build points from data-pack tracts (lat, lon, population, rural)."""
        return cls.from_arrays(
            [t.lat for t in tracts],
            [t.lon for t in tracts],
            [t.population for t in tracts],
            [t.rural for t in tracts],
        )

    def coordinates(self) -> np.ndarray:
        """Return an (n, 2) array of (lat, lon)."""
        return np.column_stack([self.lat, self.lon])


@dataclass(frozen=True)
class SimulationConfig:
    """Inputs of one what-if scenario.

    ``calls_per_hour`` holds 168 expected call counts, Monday 00:00 first.
    ``counselors`` is one count for every hour, or 168 counts by hour of
    week. ``stations`` is a (k, 2) array of (lat, lon) and ``team_stations``
    the station index of each team. ``travel`` is a callable
    ``travel(origins (k, 2), destinations (m, 2)) -> minutes (k, m)``, a
    precomputed (k, m) matrix, or None for no travel time. ``warmup_hours``
    of arrivals are simulated but left out of the statistics.
    """

    calls_per_hour: np.ndarray
    counselors: int | np.ndarray
    handle_time: Distribution
    days: float = 7.0
    patience: Distribution | None = None
    answer_target_minutes: float = 20.0 / 60.0
    mobile_share: float = 0.0
    points: DemandPoints | None = None
    stations: np.ndarray | None = None
    team_stations: np.ndarray | None = None
    travel: TravelInput = None
    scene_time: Distribution = field(default_factory=lambda: Distribution("fixed", 0.0))
    transport_share: float = 0.0
    transport_time: Distribution = field(
        default_factory=lambda: Distribution("fixed", 0.0)
    )
    warmup_hours: float = 0.0


def hourly_rates(calls_per_hour, days: float) -> np.ndarray:
    """Repeat 168 hour-of-week call counts over the horizon's hours."""
    rates = np.asarray(calls_per_hour, dtype=float).ravel()
    if rates.size != HOURS_PER_WEEK:
        raise ValueError(
            f"calls_per_hour has {rates.size} values: pass 168, Monday 00:00 first"
        )
    if np.any(rates < 0):
        raise ValueError("invalid calls_per_hour: use counts of 0 or more")
    hours = int(math.ceil(days * 24))
    return np.resize(rates, hours)


def poisson_arrivals(rates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw sorted arrival times (minutes) with a constant rate per hour.

    ``rates[h]`` is the expected count in hour h. The count in each hour is
    Poisson and the times inside it uniform, which is exactly a Poisson
    process with that piecewise-constant rate.
    """
    counts = rng.poisson(rates)
    starts = np.repeat(np.arange(rates.size) * MINUTES_PER_HOUR, counts)
    times = starts + rng.random(starts.size) * MINUTES_PER_HOUR
    times.sort()
    return times


def fcfs_queue(
    arrivals: np.ndarray,
    service: np.ndarray,
    servers: int,
    patience: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a first-come first-served queue with ``servers`` servers.

    ``arrivals`` must be sorted. Returns each caller's offered wait (the
    wait until a server would take the call) and whether the call was
    answered. A caller whose offered wait exceeds its patience hangs up
    and takes no server.
    """
    if servers < 1:
        raise ValueError(f"invalid servers {servers}: use 1 or more")
    free = [0.0] * servers
    waits = [0.0] * len(arrivals)
    answered = [True] * len(arrivals)
    times = arrivals.tolist()
    durations = service.tolist()
    limits = [math.inf] * len(times) if patience is None else patience.tolist()
    replace = heapq.heapreplace
    for i, arrival in enumerate(times):
        earliest = free[0]
        if earliest <= arrival:
            replace(free, arrival + durations[i])
            continue
        wait = earliest - arrival
        waits[i] = wait
        if wait > limits[i]:
            answered[i] = False
            continue
        replace(free, earliest + durations[i])
    return np.array(waits), np.array(answered, dtype=bool)


def _next_on_duty(schedule: np.ndarray, hours: int) -> np.ndarray:
    """For each server slot and hour, the first hour >= it the slot works.

    Slot k works in hour h when ``k < schedule[h]``. A value of ``hours``
    means the slot never works again within the horizon.
    """
    slots = int(schedule.max(initial=0))
    on_duty = np.arange(slots)[:, None] < schedule[None, :hours]
    result = np.full((slots, hours + 1), hours, dtype=np.int64)
    for h in range(hours - 1, -1, -1):
        result[:, h] = np.where(on_duty[:, h], h, result[:, h + 1])
    return result


def fcfs_queue_scheduled(
    arrivals: np.ndarray,
    service: np.ndarray,
    schedule: np.ndarray,
    patience: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate the FCFS queue with an hourly number of servers.

    ``schedule[h]`` is the number of servers on duty in hour h of the
    horizon. A server finishes a call in progress when its shift ends, and
    takes no new call until it is on duty again. Returns offered waits and
    the answered flags, as ``fcfs_queue``.
    """
    hours = schedule.size
    next_on = _next_on_duty(schedule, hours)
    heap = [(0.0, slot) for slot in range(next_on.shape[0])]
    heapq.heapify(heap)
    times = arrivals.tolist()
    durations = service.tolist()
    limits = [math.inf] * len(times) if patience is None else patience.tolist()
    waits = [math.inf] * len(times)
    answered = [False] * len(times)
    for i, arrival in enumerate(times):
        while heap:
            key, slot = heap[0]
            start = key if key > arrival else arrival
            hour = min(int(start // MINUTES_PER_HOUR), hours)
            on_hour = next_on[slot, hour] if hour < hours else hours
            if on_hour == hour:
                break
            if on_hour >= hours:
                heapq.heappop(heap)
                continue
            heapq.heapreplace(heap, (on_hour * MINUTES_PER_HOUR, slot))
        if not heap:
            break
        wait = start - arrival
        waits[i] = wait
        if wait > limits[i]:
            continue
        answered[i] = True
        heapq.heapreplace(heap, (start + durations[i], slot))
    return np.array(waits), np.array(answered, dtype=bool)


@dataclass
class MobileRun:
    """Per-request and per-team results of one replication's mobile part."""

    response: np.ndarray
    rural: np.ndarray
    no_team_free: np.ndarray
    request_times: np.ndarray
    busy_start: np.ndarray
    busy_end: np.ndarray
    busy_team: np.ndarray


def travel_matrix(travel: TravelInput, stations: np.ndarray, points: np.ndarray):
    """Return station-to-point travel minutes as a (k, m) array."""
    k, m = len(stations), len(points)
    if travel is None:
        return np.zeros((k, m))
    matrix = travel(stations, points) if callable(travel) else travel
    matrix = np.asarray(matrix, dtype=float)
    if matrix.shape != (k, m):
        raise ValueError(
            f"travel matrix has shape {matrix.shape}: expected ({k}, {m}), "
            "stations by demand points"
        )
    return matrix


def simulate_mobile(
    request_times: np.ndarray,
    request_points: np.ndarray,
    travel_to_point: np.ndarray,
    team_stations: np.ndarray,
    busy_extra: np.ndarray,
    rural: np.ndarray,
) -> MobileRun:
    """Dispatch mobile requests (sorted times) to teams, first come first served.

    A request that finds no team free goes to the team that frees up first.
    ``travel_to_point`` is the (stations, points) travel matrix in minutes
    and ``busy_extra`` the time on scene plus transport of each request.
    """
    teams = len(team_stations)
    if teams < 1:
        raise ValueError("no teams: pass at least one team station")
    travel_by_team = travel_to_point[np.asarray(team_stations)].T.tolist()
    free_at = [0.0] * teams
    team_range = range(teams)
    n = len(request_times)
    response = np.empty(n)
    no_free = np.zeros(n, dtype=bool)
    start = np.empty(n)
    end = np.empty(n)
    chosen = np.empty(n, dtype=np.int64)
    times = request_times.tolist()
    points = request_points.tolist()
    extras = busy_extra.tolist()
    for i, t in enumerate(times):
        row = travel_by_team[points[i]]
        best = -1
        # The nearest free team goes; among equally near ones, the team
        # that has been free the longest.
        for j in team_range:
            if free_at[j] > t:
                continue
            if best < 0 or (row[j], free_at[j]) < (row[best], free_at[best]):
                best = j
        if best < 0:
            no_free[i] = True
            best = min(team_range, key=free_at.__getitem__)
        dispatch = max(t, free_at[best])
        on_scene = dispatch + row[best]
        free_at[best] = on_scene + extras[i]
        response[i] = on_scene - t
        start[i] = dispatch
        end[i] = free_at[best]
        chosen[i] = best
    return MobileRun(response, rural[request_points], no_free, request_times, start, end, chosen)


def busy_by_hour(start: np.ndarray, end: np.ndarray, hours: int) -> np.ndarray:
    """Return busy minutes in each hour from busy intervals [start, end).

    Uses ``F(t) = sum_i clip(t - start_i, 0, end_i - start_i)``, evaluated
    at the hour edges with sorted prefix sums, so it is O((n + hours) log n).
    """
    edges = np.arange(hours + 1) * MINUTES_PER_HOUR
    cumulative = _integrated_count(np.sort(start), edges) - _integrated_count(
        np.sort(end), edges
    )
    return np.diff(cumulative)


def _integrated_count(sorted_times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    count = np.searchsorted(sorted_times, edges, side="left")
    prefix = np.concatenate([[0.0], np.cumsum(sorted_times)])
    return count * edges - prefix[count]


def _schedule_for(config: SimulationConfig, hours: int) -> np.ndarray | None:
    counselors = np.asarray(config.counselors)
    if counselors.ndim == 0:
        if int(counselors) < 1:
            raise ValueError(f"invalid counselors {counselors}: use 1 or more")
        return None
    if counselors.size != HOURS_PER_WEEK or np.any(counselors < 0):
        raise ValueError("counselors schedule needs 168 counts of 0 or more")
    return np.resize(counselors.astype(np.int64), hours)


def _call_stats(arrivals, waits, answered, patience_given, target, warmup) -> dict:
    counted = arrivals >= warmup
    waits = waits[counted]
    answered = answered[counted]
    offered = waits.size
    if offered == 0:
        return {"offered_calls": 0}
    answered_waits = waits[answered]
    return {
        "offered_calls": float(offered),
        "wait_probability": float(np.mean(waits > 0)),
        "service_level": float(np.mean(answered & (waits <= target))),
        "abandon_share": float(1.0 - answered.mean()) if patience_given else 0.0,
        "asa_seconds": float(answered_waits.mean() * 60.0) if answered_waits.size else math.nan,
    }


def _mobile_stats(run: MobileRun, teams: int, hours: int, warmup: float) -> dict:
    counted = run.request_times >= warmup
    response = run.response[counted]
    rural = run.rural[counted]
    result: dict = {"mobile_requests": float(response.size)}
    if response.size:
        result["response_median_minutes"] = float(np.median(response))
        result["response_p90_minutes"] = float(np.percentile(response, 90))
        result["no_team_free_share"] = float(run.no_team_free[counted].mean())
    urban = response[~rural]
    rural_times = response[rural]
    if urban.size:
        result["urban_within_60_share"] = float(np.mean(urban <= URBAN_TARGET_MINUTES))
    if rural_times.size:
        result["rural_within_120_share"] = float(
            np.mean(rural_times <= RURAL_TARGET_MINUTES)
        )
    span = hours * MINUTES_PER_HOUR - warmup
    team_busy = []
    for team in range(teams):
        mine = run.busy_team == team
        start = np.clip(run.busy_start[mine], warmup, hours * MINUTES_PER_HOUR)
        end = np.clip(run.busy_end[mine], warmup, hours * MINUTES_PER_HOUR)
        team_busy.append(float((end - start).sum() / span))
    result["team_busy_fraction"] = team_busy
    per_hour = busy_by_hour(run.busy_start, run.busy_end, hours)
    first = int(math.ceil(warmup / MINUTES_PER_HOUR))
    week_hours = np.arange(first, hours) % HOURS_PER_WEEK
    totals = np.bincount(week_hours, per_hour[first:], minlength=HOURS_PER_WEEK)
    occurrences = np.bincount(week_hours, minlength=HOURS_PER_WEEK)
    with np.errstate(invalid="ignore"):
        fraction = totals / (occurrences * MINUTES_PER_HOUR * teams)
    result["busy_fraction_by_hour"] = fraction.tolist()
    return result


def run_replication(config: SimulationConfig, rng: np.random.Generator) -> dict:
    """Simulate one replication and return its statistics."""
    rates = hourly_rates(config.calls_per_hour, config.days)
    hours = rates.size
    arrivals = poisson_arrivals(rates, rng)
    service = config.handle_time.sample(rng, arrivals.size)
    patience = None if config.patience is None else config.patience.sample(rng, arrivals.size)
    schedule = _schedule_for(config, hours)
    if schedule is None:
        waits, answered = fcfs_queue(arrivals, service, int(config.counselors), patience)
    else:
        waits, answered = fcfs_queue_scheduled(arrivals, service, schedule, patience)
    warmup = config.warmup_hours * MINUTES_PER_HOUR
    result = _call_stats(
        arrivals, waits, answered, patience is not None, config.answer_target_minutes, warmup
    )
    if config.mobile_share > 0:
        ends = arrivals[answered] + waits[answered] + service[answered]
        needs_team = rng.random(ends.size) < config.mobile_share
        result |= _run_mobile(config, np.sort(ends[needs_team]), hours, warmup, rng)
    return result


def _run_mobile(config, request_times, hours, warmup, rng) -> dict:
    points = config.points
    if points is None or config.stations is None:
        raise ValueError("mobile_share > 0 needs demand points and stations")
    stations = np.asarray(config.stations, dtype=float).reshape(-1, 2)
    team_stations = (
        np.arange(len(stations))
        if config.team_stations is None
        else np.asarray(config.team_stations, dtype=np.int64)
    )
    matrix = travel_matrix(config.travel, stations, points.coordinates())
    n = request_times.size
    which = rng.choice(points.lat.size, size=n, p=points.weight / points.weight.sum())
    extra = config.scene_time.sample(rng, n)
    transported = rng.random(n) < config.transport_share
    extra = extra + np.where(transported, config.transport_time.sample(rng, n), 0.0)
    run = simulate_mobile(request_times, which, matrix, team_stations, extra, points.rural)
    return _mobile_stats(run, len(team_stations), hours, warmup)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> dict:
    """Return the mean and Student t confidence interval of ``values``.

    With one replication, or values that are all equal, the interval has
    zero width.
    """
    data = np.asarray([v for v in values if v is not None and not math.isnan(v)])
    if data.size == 0:
        return {"mean": None, "ci_low": None, "ci_high": None}
    mean = float(data.mean())
    if data.size < 2:
        return {"mean": mean, "ci_low": mean, "ci_high": mean}
    half = stats.t.ppf(0.5 + confidence / 2.0, data.size - 1) * data.std(ddof=1)
    half /= math.sqrt(data.size)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def _combine(replications: list[dict], confidence: float) -> dict:
    summary: dict = {"replications": len(replications)}
    keys: list[str] = []
    for result in replications:
        keys.extend(key for key in result if key not in keys)
    for key in keys:
        values = [r.get(key) for r in replications]
        if isinstance(values[0], list):
            columns = np.array(values, dtype=float).T
            summary[key] = [t_interval(column, confidence) for column in columns]
        else:
            summary[key] = t_interval(
                [math.nan if v is None else v for v in values], confidence
            )
    return summary


def simulate(
    config: SimulationConfig,
    replications: int = 10,
    seed: int = 0,
    confidence: float = 0.95,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Run ``replications`` independent replications and summarize them.

    Each statistic is reported as its mean with a t-interval over
    replications. Replication r draws from ``SeedSequence(seed)``'s r-th
    child, so results depend only on the seed and the inputs.
    """
    if replications < 1:
        raise ValueError(f"invalid replications {replications}: use 1 or more")
    if not 0 < config.days <= 366 * 5:
        raise ValueError(f"invalid days {config.days}: use a horizon above 0")
    children = np.random.SeedSequence(seed).spawn(replications)
    results = []
    for child in children:
        results.append(run_replication(config, np.random.default_rng(child)))
        if progress is not None:
            progress(1)
    return _combine(results, confidence)
