"""Demand by hour of week: counts, scaling, and heat map and curve plots.

A profile is a 7 x 24 array of counts (row 0 = Monday, column = hour of
day in local time) plus the number of weeks those counts cover, so it can
be scaled to any weekly volume.
"""

from __future__ import annotations

import csv
import logging
import os
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HOURS_PER_WEEK = 168
DEFAULT_TIME_ZONE = "America/Los_Angeles"
# Below two events per hour of week on average, most hours hold zero or one
# event, so the shape mostly shows where the few events fell.
MIN_EVENTS_FOR_SHAPE = 2 * HOURS_PER_WEEK
DAYS_PER_YEAR = 365.25

TORONTO_SOURCE = (
    "Toronto Police Service, Persons in Crisis Calls for Service Attended, "
    "City of Toronto Open Data (Open Government Licence - Toronto), extract"
)
TORONTO_NOTE = (
    "Borrowed profile: the hour-of-week shape of crisis calls in Toronto, "
    "not this county's data. Replace it with local call timestamps "
    "(--timestamps) when they exist."
)


MAX_WEEKLY_VOLUME = 10_000_000.0
"""Largest weekly volume a profile may be scaled to. Ten million calls a week
is far above any crisis line, and it keeps the staffing search short."""


@dataclass(frozen=True)
class DemandProfile:
    """Counts by hour of week and the number of weeks they cover."""

    counts: np.ndarray
    weeks: float
    source: str
    note: str = ""

    @property
    def weekly_volume(self) -> float:
        """Mean count per week in the source data."""
        return float(self.counts.sum()) / self.weeks

    def shares(self) -> np.ndarray:
        """Return each hour's share of the week (7 x 24, sums to 1)."""
        total = self.counts.sum()
        if total <= 0:
            raise ValueError("the profile has no counts: pass at least one event")
        return self.counts / total

    def per_hour(self, weekly_volume: float | None = None) -> np.ndarray:
        """Return the expected count in each hour of one week (7 x 24).

        Without ``weekly_volume`` the source's own weekly mean is used.
        """
        volume = self.weekly_volume if weekly_volume is None else weekly_volume
        if not 0 <= volume <= MAX_WEEKLY_VOLUME:
            raise ValueError(
                f"invalid weekly volume {volume:g}: use 0 to {MAX_WEEKLY_VOLUME:,.0f}"
            )
        return self.shares() * volume


def toronto_profile() -> DemandProfile:
    """Load the borrowed Toronto crisis-call profile from the data pack."""
    from crisishub import datapack

    try:
        counts = datapack.load_hour_of_week_profile()
        metadata = datapack.load_hour_of_week_metadata()
    except FileNotFoundError as error:
        raise ValueError(
            f"the data pack has no hour-of-week profile ({error}): reinstall "
            "crisishub, or pass --timestamps"
        ) from None
    days = (metadata.last_date - metadata.first_date).days + 1
    return DemandProfile(
        counts=np.asarray(counts, dtype=float),
        weeks=days / 7.0,
        source=f"{TORONTO_SOURCE} {metadata.first_date} to {metadata.last_date}",
        note=TORONTO_NOTE,
    )


def profile_from_arrays(
    day_of_week: Iterable[int],
    hour: Iterable[int],
    weeks: float = 1.0,
    source: str = "arrays",
) -> DemandProfile:
    """Build a profile from one day-of-week (0 = Monday) and hour per event.

    ``weeks`` is the span the events cover, used to compute weekly means.
    """
    days = np.asarray(list(day_of_week), dtype=np.int64)
    hours = np.asarray(list(hour), dtype=np.int64)
    if days.shape != hours.shape:
        raise ValueError(
            f"day_of_week has {days.size} values but hour has {hours.size}: "
            "pass one of each per event"
        )
    if days.size and (days.min() < 0 or days.max() > 6):
        raise ValueError("invalid day_of_week: use 0 (Monday) to 6 (Sunday)")
    if hours.size and (hours.min() < 0 or hours.max() > 23):
        raise ValueError("invalid hour: use 0 to 23")
    if not weeks > 0:
        raise ValueError(f"invalid weeks {weeks}: use a span above 0")
    counts = np.zeros((7, 24))
    np.add.at(counts, (days, hours), 1.0)
    return DemandProfile(counts=counts, weeks=float(weeks), source=source)


def _parse_timestamp(value: str | datetime, row: int) -> datetime:
    if isinstance(value, datetime):
        return value
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"invalid timestamp {value!r} in row {row}: use ISO 8601, for "
            "example 2024-05-01T14:30:00"
        ) from None


def hub_time_zone() -> zoneinfo.ZoneInfo:
    """Return the hub's zone: CRISISHUB_TIME_ZONE, else America/Los_Angeles."""
    name = os.environ.get("CRISISHUB_TIME_ZONE", "").strip() or DEFAULT_TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"invalid CRISISHUB_TIME_ZONE {name!r}: use an IANA zone name, for "
            "example America/Los_Angeles"
        ) from None


def profile_from_timestamps(
    timestamps: Iterable[str | datetime],
    source: str = "timestamps",
    zone: zoneinfo.ZoneInfo | None = None,
) -> DemandProfile:
    """Build a profile from ISO 8601 timestamps, one per event.

    A timestamp with an offset (or Z) is converted to ``zone``, by default
    the hub's zone from ``hub_time_zone()``, before it is binned. A naive
    timestamp is taken as local time in that zone. The span in weeks runs
    from the first to the last local calendar day, both included. With
    fewer than ``MIN_EVENTS_FOR_SHAPE`` events the note warns that the
    shape is unreliable.
    """
    zone = hub_time_zone() if zone is None else zone
    moments = [_local(_parse_timestamp(v, i + 1), zone) for i, v in enumerate(timestamps)]
    if not moments:
        raise ValueError("no timestamps found: pass at least one event")
    dates: list[date] = [moment.date() for moment in moments]
    weeks = ((max(dates) - min(dates)).days + 1) / 7.0
    profile = profile_from_arrays(
        [moment.weekday() for moment in moments],
        [moment.hour for moment in moments],
        weeks=weeks,
        source=source,
    )
    if len(moments) >= MIN_EVENTS_FOR_SHAPE:
        return profile
    note = (
        f"Only {len(moments)} event(s): the hour-of-week shape rests on too few "
        f"points to be reliable (use at least {MIN_EVENTS_FOR_SHAPE})."
    )
    logger.warning("%s %s", source, note)
    return DemandProfile(profile.counts, profile.weeks, profile.source, note)


def _local(moment: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment
    return moment.astimezone(zone)


def read_timestamps_csv(path: str | Path, column: str) -> list[str]:
    """Read the non-empty values of ``column`` from a CSV file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"timestamps file {path} not found: check the path")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            found = ", ".join(reader.fieldnames or []) or "none"
            raise ValueError(
                f"column {column!r} not found in {path} (columns: {found}): "
                "pass the timestamp column with --column"
            )
        return [row[column] for row in reader if (row[column] or "").strip()]


MISSING_HOUR = "NA"
"""Hour value that means midnight in extracts such as Toronto's "persons in
crisis" calls, where hour 0 never appears and midnight calls carry NA."""


def read_date_hour_csv(
    path: str | Path, date_column: str, hour_column: str
) -> DemandProfile:
    """Build a profile from a CSV with a date column and an hour column.

    Dates are ISO ``YYYY-MM-DD``; hours are 0 to 23. An hour of ``NA`` is
    counted as midnight (hour 0), and the profile's note says how many rows
    had it.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"file {path} not found: check the path")
    days: list[int] = []
    hours: list[int] = []
    dates: list[date] = []
    midnight = 0
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        found = reader.fieldnames or []
        for column in (date_column, hour_column):
            if column not in found:
                raise ValueError(
                    f"column {column!r} not found in {path} (columns: "
                    f"{', '.join(found) or 'none'}): pass the date column with "
                    "--date-column and the hour column with --hour-column"
                )
        for line, row in enumerate(reader, start=2):
            text = (row[date_column] or "").strip()
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{path}, line {line}: invalid date {text!r} in column "
                    f"{date_column!r}; use YYYY-MM-DD"
                ) from None
            hour_text = (row[hour_column] or "").strip()
            if hour_text.upper() == MISSING_HOUR:
                hour, midnight = 0, midnight + 1
            elif hour_text.isdigit() and int(hour_text) <= 23:
                hour = int(hour_text)
            else:
                raise ValueError(
                    f"{path}, line {line}: invalid hour {hour_text!r} in column "
                    f"{hour_column!r}; use 0 to 23, or NA for midnight"
                )
            dates.append(day)
            days.append(day.weekday())
            hours.append(hour)
    if not dates:
        raise ValueError(f"{path} has no rows: add one row per event")
    weeks = ((max(dates) - min(dates)).days + 1) / 7.0
    profile = profile_from_arrays(days, hours, weeks=weeks, source=str(path))
    note = f"{midnight} rows with hour NA counted as midnight." if midnight else ""
    return DemandProfile(profile.counts, profile.weeks, profile.source, note)


def weekly_from_annual(annual: float) -> float:
    """Convert an annual volume to a weekly one (365.25 days a year)."""
    return annual * 7.0 / DAYS_PER_YEAR


def _savefig(figure, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"invalid plot file {path}: use a .png or .svg name")
    figure.savefig(path, format=path.suffix.lower()[1:], bbox_inches="tight")
    return path


def plot_heatmap(per_hour: np.ndarray, path: str | Path, title: str) -> Path:
    """Write a 7 x 24 heat map of ``per_hour`` to a PNG or SVG file."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.8))
    axes = figure.add_subplot()
    image = axes.imshow(per_hour, aspect="auto", cmap="viridis")
    axes.set_yticks(range(7), [day[:3] for day in DAYS])
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlabel("Hour of day")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="Expected calls per hour")
    return _savefig(figure, path)


def plot_curve(
    calls: np.ndarray, mobile: np.ndarray, path: str | Path, title: str
) -> Path:
    """Write the weekly curve (168 hours) of calls and mobile responses."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.8))
    axes = figure.add_subplot()
    hours = np.arange(HOURS_PER_WEEK)
    axes.plot(hours, calls.ravel(), label="Calls")
    axes.plot(hours, mobile.ravel(), label="Mobile responses")
    axes.set_xticks(range(0, HOURS_PER_WEEK, 24), [day[:3] for day in DAYS])
    axes.set_xlim(0, HOURS_PER_WEEK - 1)
    axes.set_xlabel("Hour of week")
    axes.set_ylabel("Expected per hour")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    return _savefig(figure, path)


def summarize(
    profile: DemandProfile,
    weekly_calls: float | None = None,
    mobile_share: float = 0.2,
    mobile_profile: DemandProfile | None = None,
) -> dict:
    """Return calls and mobile responses by hour of week, with provenance.

    Mobile responses are ``mobile_share`` of calls in each hour, unless a
    separate ``mobile_profile`` is given, which then sets their shape and
    weekly volume.
    """
    if not 0.0 <= mobile_share <= 1.0:
        raise ValueError(f"invalid mobile share {mobile_share}: use 0 to 1")
    calls = profile.per_hour(weekly_calls)
    if mobile_profile is None:
        mobile = calls * mobile_share
    else:
        mobile = mobile_profile.per_hour()
    hours = [
        {
            "day_of_week": day,
            "day": DAYS[day],
            "hour": hour,
            "calls": float(calls[day, hour]),
            "mobile_responses": float(mobile[day, hour]),
        }
        for day in range(7)
        for hour in range(24)
    ]
    peak = int(np.argmax(calls))
    return {
        "source": profile.source,
        "note": profile.note,
        "weekly_calls": float(calls.sum()),
        "weekly_mobile_responses": float(mobile.sum()),
        "source_weekly_volume": profile.weekly_volume,
        "peak_day": DAYS[peak // 24],
        "peak_hour": peak % 24,
        "peak_calls_per_hour": float(calls.ravel()[peak]),
        "hours": hours,
    }
