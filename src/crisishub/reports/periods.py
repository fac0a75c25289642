"""Report date ranges and their months or quarters, in the hub's time zone.

A report covers whole calendar periods only: it starts on the first day of
a month (or quarter) and ends on the last day of one. Each period is then
published the same way in every report that contains it, so two reports
cannot be subtracted to reveal the records of a few days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

GROUPINGS = ("month", "quarter")
# About ten years, which keeps a monthly report to a few hundred rows.
MAX_RANGE_DAYS = 3660
# Accepted dates. The bounds keep date arithmetic (the day after the end,
# 90 days before the start) inside the range of datetime.date.
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


class ReportInputError(ValueError):
    """A report request the user can fix, with a message naming the value."""


def parse_date(text: str, name: str) -> dt.date:
    """Parse a YYYY-MM-DD date from MIN_DATE to MAX_DATE. ``name`` is the
    option or field it came from."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ReportInputError(
            f"Invalid {name} date {text!r}: use YYYY-MM-DD, for example 2026-01-31."
        ) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise ReportInputError(
            f"The {name} date {day.isoformat()} is out of range: use a date from "
            f"{MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}."
        )
    return day


def period_start(day: dt.date, grouping: str) -> dt.date:
    """Return the first day of the month or quarter that contains ``day``."""
    if grouping == "month":
        return day.replace(day=1)
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_period_start(first: dt.date, grouping: str) -> dt.date:
    """Return the first day of the period after the one starting on ``first``."""
    month = first.month - 1 + (1 if grouping == "month" else 3)
    return dt.date(first.year + month // 12, month % 12 + 1, 1)


def period_end(day: dt.date, grouping: str) -> dt.date:
    """Return the last day of the month or quarter that contains ``day``."""
    return next_period_start(period_start(day, grouping), grouping) - dt.timedelta(days=1)


def last_complete_period_end(today: dt.date, grouping: str) -> dt.date:
    """Return the last day of the latest month or quarter that ended before ``today``."""
    return period_start(today, grouping) - dt.timedelta(days=1)


def _unit(grouping: str) -> str:
    return "month" if grouping == "month" else "quarter"


@dataclass(frozen=True)
class ReportRange:
    """Whole months or quarters from ``start`` to ``end``, both days included.

    Raises ReportInputError unless ``start`` is the first day and ``end``
    the last day of a period of ``grouping``.
    """

    start: dt.date
    end: dt.date
    grouping: str = "month"

    def __post_init__(self) -> None:
        if self.grouping not in GROUPINGS:
            raise ReportInputError(
                f"Invalid grouping {self.grouping!r}: use one of {', '.join(GROUPINGS)}."
            )
        for day in (self.start, self.end):
            if not MIN_DATE <= day <= MAX_DATE:
                raise ReportInputError(
                    f"The date {day.isoformat()} is out of range: use a date from "
                    f"{MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}."
                )
        if self.end < self.start:
            raise ReportInputError(
                f"The end date {self.end.isoformat()} is before the start date "
                f"{self.start.isoformat()}: give an end on or after the start."
            )
        unit = _unit(self.grouping)
        first = period_start(self.start, self.grouping)
        if self.start != first:
            after = next_period_start(first, self.grouping)
            raise ReportInputError(
                f"The start date {self.start.isoformat()} is not the first day of a {unit}: "
                f"reports cover whole {unit}s, so start on {first.isoformat()} or {after.isoformat()}."
            )
        last = period_end(self.end, self.grouping)
        if self.end != last:
            before = period_start(self.end, self.grouping) - dt.timedelta(days=1)
            raise ReportInputError(
                f"The end date {self.end.isoformat()} is not the last day of a {unit}: "
                f"reports cover whole {unit}s, so end on {before.isoformat()} or {last.isoformat()}."
            )
        if (self.end - self.start).days > MAX_RANGE_DAYS:
            raise ReportInputError(
                f"The range {self.start.isoformat()} to {self.end.isoformat()} is longer than "
                f"{MAX_RANGE_DAYS} days: split it into shorter reports."
            )

    def check_complete(self, today: dt.date) -> None:
        """Raise ReportInputError if the range reaches a period that has not ended by ``today``.

        A period still in progress would be published again with more
        records later, and the two versions could be subtracted.

        NOTE: a record entered or corrected after its period ended changes
        that period too, and nothing stops a reader from subtracting the
        versions before and after.
        """
        latest = last_complete_period_end(today, self.grouping)
        if self.end > latest:
            unit = _unit(self.grouping)
            raise ReportInputError(
                f"The end date {self.end.isoformat()} is in a {unit} that has not ended yet: "
                f"end on {latest.isoformat()} or earlier."
            )

    def bounds(self, tzinfo: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """Return the aware start and the exclusive aware end of the range."""
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tzinfo)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tzinfo)
        return start, end

    def period_of(self, day: dt.date) -> dt.date:
        """Return the first day of the month or quarter that contains ``day``."""
        return period_start(day, self.grouping)

    def periods(self) -> list[dt.date]:
        """Return the first days of the months or quarters in the range."""
        first = self.start
        found = []
        while first <= self.end:
            found.append(first)
            first = next_period_start(first, self.grouping)
        return found

    def quarters(self) -> list[dt.date]:
        """Return the first days of the quarters the range touches."""
        first = period_start(self.start, "quarter")
        found = []
        while first <= self.end:
            found.append(first)
            first = next_period_start(first, "quarter")
        return found

    def period_label(self, first: dt.date) -> str:
        if self.grouping == "month":
            return f"{first.year}-{first.month:02d}"
        return f"{first.year} Q{(first.month - 1) // 3 + 1}"
