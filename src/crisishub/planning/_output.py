"""Shared output for the ``crisishub plan`` subcommands.

``emit`` prints a result as JSON or as a plain text table. ``Progress``
reports progress on stderr, but only when stderr is a terminal, so piped
and captured runs stay quiet.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any, Literal

import numpy as np

Format = Literal["json", "table"]


def _plain(value: Any) -> Any:
    """Convert NumPy scalars and arrays, and non-finite floats, for JSON."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return _float_cell(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _float_cell(value: float) -> str:
    """Format a float for a table without losing the digits of large values.

    Whole numbers print in full with thousands separators, large fractional
    values with 2 decimals, and the rest with 6 significant digits.
    """
    size = abs(value)
    if size < 1e15 and value.is_integer():
        return f"{value:,.0f}"
    if 1e5 <= size < 1e15:
        return f"{value:,.2f}"
    return f"{value:.6g}"


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells))
        for i, column in enumerate(columns)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for line in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    return "\n".join(lines)


def emit(
    result: dict | list[dict], fmt: Format = "json", stream: IO[str] | None = None
) -> None:
    """Print ``result`` to ``stream`` (stdout by default) as JSON or a table.

    A dict prints as a two-column table of key and value. A list of dicts
    prints as one row per dict, with the union of their keys as columns.
    """
    stream = sys.stdout if stream is None else stream
    data = _plain(result)
    if fmt == "json":
        json.dump(data, stream, indent=2)
        stream.write("\n")
        return
    if fmt != "table":
        raise ValueError(f"invalid format {fmt!r}: use 'json' or 'table'")
    if isinstance(data, dict):
        rows = [{"field": key, "value": value} for key, value in data.items()]
    else:
        rows = list(data)
    stream.write(_table(rows) + "\n" if rows else "(no rows)\n")


class Progress:
    """Context manager that draws a progress line on stderr.

    It writes nothing unless stderr is a terminal. Call ``advance(n)`` as
    work completes.
    """

    def __init__(self, total: int, label: str, stream: IO[str] | None = None):
        self.total = max(int(total), 1)
        self.label = label
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self._enabled = bool(getattr(self._stream, "isatty", lambda: False)())
        self._last_draw = 0.0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def advance(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total)
        self._draw(force=self.done == self.total)

    def _draw(self, force: bool = False) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        percent = 100.0 * self.done / self.total
        self._stream.write(
            f"\r{self.label}: {self.done}/{self.total} ({percent:.0f}%)"
        )
        self._stream.flush()

    def __exit__(self, *exc_info: object) -> None:
        if self._enabled:
            self._stream.write("\n")
            self._stream.flush()
