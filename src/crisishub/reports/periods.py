"""Report date ranges and their months or quarters, in the hub's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

GROUPINGS = ("month", "quarter")
# About ten years, which keeps a monthly report to a few hundred rows.
MAX_RANGE_DAYS = 3660


class ReportInputError(ValueError):
    """A report request the user can fix, with a message naming the value."""


def parse_date(text: str, name: str) -> dt.date:
    """Parse a YYYY-MM-DD date. ``name`` is the option or field it came from."""
    try:
        return dt.date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ReportInputError(
            f"Invalid {name} date {text!r}: use YYYY-MM-DD, for example 2026-01-31."
        ) from None


@dataclass(frozen=True)
class ReportRange:
    """Days from ``start`` to ``end``, both included, grouped by month or quarter."""

    start: dt.date
    end: dt.date
    grouping: str = "month"

    def __post_init__(self) -> None:
        if self.grouping not in GROUPINGS:
            raise ReportInputError(
                f"Invalid grouping {self.grouping!r}: use one of {', '.join(GROUPINGS)}."
            )
        if self.end < self.start:
            raise ReportInputError(
                f"The end date {self.end.isoformat()} is before the start date "
                f"{self.start.isoformat()}: give an end on or after the start."
            )
        if (self.end - self.start).days > MAX_RANGE_DAYS:
            raise ReportInputError(
                f"The range {self.start.isoformat()} to {self.end.isoformat()} is longer than "
                f"{MAX_RANGE_DAYS} days: split it into shorter reports."
            )

    def bounds(self, tzinfo: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """Return the aware start and the exclusive aware end of the range."""
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tzinfo)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tzinfo)
        return start, end

    def period_of(self, day: dt.date) -> dt.date:
        """Return the first day of the month or quarter that contains ``day``."""
        if self.grouping == "month":
            return day.replace(day=1)
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)

    def periods(self) -> list[dt.date]:
        """Return the first days of the months or quarters the range touches."""
        step = 1 if self.grouping == "month" else 3
        first = self.period_of(self.start)
        found = []
        while first <= self.end:
            found.append(first)
            month = first.month - 1 + step
            first = dt.date(first.year + month // 12, month % 12 + 1, 1)
        return found

    def period_label(self, first: dt.date) -> str:
        if self.grouping == "month":
            return f"{first.year}-{first.month:02d}"
        return f"{first.year} Q{(first.month - 1) // 3 + 1}"
