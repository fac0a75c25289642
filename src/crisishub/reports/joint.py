"""Joint suppression of a quarter: its month tables, its quarter table and
the tables that share their row totals.

A quarter's table is the sum of its three month tables, so a published
quarter count minus two published month counts gives the third month. The
tables of one group (for example outcomes, law enforcement and language of
field encounters) split the same people, so they publish the same row
totals. This module suppresses all of these tables together, from the
quarter's own counts only, so the month and quarter reports of a quarter
publish the same numbers whichever range a request names.

The check is linear algebra on every published number of the quarter
rather than the graph argument of ``suppression``, because the month axis
and the shared totals make the equations more than one two-way table.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from crisishub.reports.suppression import SMALL_COUNT_MAX, Position, SuppressedTable, suppress

Counts = Sequence[Sequence[int]]
# (table index g, part index k, extended-grid position); the last part is the quarter.
Key = tuple[int, int, Position]

# An entry of the reduced matrix below this is taken as zero. The
# equations have coefficients 0, 1 and -1, so true non-zero entries are
# ratios of small integers, far above it.
TOLERANCE = 1e-9


def suppress_quarter(tables: Sequence[Sequence[Counts]]) -> list[list[SuppressedTable]]:
    """Suppress linked tables for each month of a quarter and for the quarter.

    ``tables[g][k]`` holds the counts of table g in month k. Every table of
    every month has the same rows, and the tables of a month have the same
    row sums. Returns ``results[g][k]`` for k over the months and then the
    quarter (their element-wise sum).

    Raises ValueError if the tables' shapes or row sums disagree.
    """
    counts = [_with_whole(parts) for parts in tables]
    _check_linked(counts)
    forced: list[list[set[Position]]] = [[set() for _ in parts] for parts in counts]
    while True:
        results = [
            [suppress(part, force=forced[g][k]) for k, part in enumerate(parts)]
            for g, parts in enumerate(counts)
        ]
        additions = _linked_totals(results) or _month_lines(results) or _recomputable(results)
        if not additions:
            return results
        for g, k, position in additions:
            forced[g][k].add(position)


def _with_whole(parts: Sequence[Counts]) -> list[list[list[int]]]:
    if not parts:
        raise ValueError("A quarter needs at least one month table.")
    shape = (len(parts[0]), len(parts[0][0]) if parts[0] else 0)
    for k, part in enumerate(parts):
        if (len(part), len(part[0]) if part else 0) != shape or any(len(row) != shape[1] for row in part):
            raise ValueError(f"Month table {k} is not {shape[0]} x {shape[1]} like month table 0.")
    months = [[list(row) for row in part] for part in parts]
    whole = [[sum(part[i][j] for part in parts) for j in range(shape[1])] for i in range(shape[0])]
    return [*months, whole]


def _check_linked(counts: list[list[list[list[int]]]]) -> None:
    for g, parts in enumerate(counts):
        if len(parts) != len(counts[0]):
            raise ValueError(f"Table {g} has {len(parts) - 1} months, but table 0 has {len(counts[0]) - 1}.")
        for k, part in enumerate(parts):
            sums = [sum(row) for row in part]
            expected = [sum(row) for row in counts[0][k]]
            if sums != expected:
                raise ValueError(f"Linked tables must have the same row totals; table {g} part {k} has {sums}, table 0 has {expected}.")


def _linked_totals(results: list[list[SuppressedTable]]) -> list[Key]:
    """Return the totals to suppress so every table of a part hides the same row totals."""
    found: list[Key] = []
    for k in range(len(results[0])):
        hidden_rows = {
            i for parts in results for i, total in enumerate(parts[k].row_totals) if not total.published
        }
        hide_grand = any(not parts[k].grand_total.published for parts in results)
        for g, parts in enumerate(results):
            rows, columns = parts[k].shape
            for i in hidden_rows:
                if parts[k].row_totals[i].published:
                    found.append((g, k, (i, columns)))
            if hide_grand and parts[k].grand_total.published:
                found.append((g, k, (rows, columns)))
    return found


def _month_lines(results: list[list[SuppressedTable]]) -> list[Key]:
    """Return a complement for each month line with a small hidden sum.

    A month line is one entry of a table across the months and the quarter.
    With the quarter published, the quarter minus the published months is
    the sum of the hidden months, which needs to exceed 10 per hidden month
    as in ``suppression``.
    """
    found: list[Key] = []
    for g, parts in enumerate(results):
        whole = parts[-1]
        rows, columns = whole.shape
        for i in range(rows + 1):
            for j in range(columns + 1):
                if not whole.entry((i, j)).published:
                    continue
                hidden = [part.entry((i, j)) for part in parts[:-1] if not part.entry((i, j)).published]
                if hidden and sum(e.value for e in hidden) <= SMALL_COUNT_MAX * len(hidden):
                    found.append(_complement_on_month_line(results, g, (i, j)))
    return found


def _complement_on_month_line(results: list[list[SuppressedTable]], g: int, position: Position) -> Key:
    """Choose a published entry of the month line: a non-zero month, then the smallest value."""
    parts = results[g]
    candidates = [
        (part.entry(position).value == 0, k == len(parts) - 1, part.entry(position).value, k)
        for k, part in enumerate(parts)
        if part.entry(position).published
    ]
    if candidates:
        return g, min(candidates)[3], position
    return _any_published(results)


def _any_published(results: list[list[SuppressedTable]]) -> Key:
    candidates = []
    for g, parts in enumerate(results):
        for k, part in enumerate(parts):
            rows, columns = part.shape
            for i in range(rows + 1):
                for j in range(columns + 1):
                    entry = part.entry((i, j))
                    if entry.published:
                        candidates.append((entry.value == 0, entry.value, g, k, (i, j)))
    if not candidates:
        raise ValueError("Every entry is suppressed, yet one is still recomputable.")
    _zero, _value, g, k, position = min(candidates)
    return g, k, position


def recomputable(results: list[list[SuppressedTable]]) -> list[Key]:
    """Return the suppressed entries that the published entries of all the
    tables determine exactly, in a fixed order."""
    keys, matrix = _equations(results)
    hidden = [n for n, (g, k, position) in enumerate(keys) if not results[g][k].entry(position).published]
    if not hidden:
        return []
    return sorted(keys[hidden[c]] for c in determined_columns(matrix[:, hidden]))


def determined_columns(matrix: np.ndarray) -> list[int]:
    """Return the columns c for which the unit vector e_c lies in the row
    space of ``matrix``: the unknowns its equations fix.

    Gauss-Jordan elimination with partial pivoting brings the matrix to
    reduced row echelon form. Unknown c is fixed exactly when c is a pivot
    column and its pivot row is zero in every other column. Element-wise
    numpy steps are used instead of an SVD, whose threaded BLAS calls were
    slow on a busy machine.
    """
    reduced = matrix.astype(float)
    height, width = reduced.shape
    pivots: list[tuple[int, int]] = []
    row = 0
    for column in range(width):
        if row == height:
            break
        best = row + int(np.argmax(np.abs(reduced[row:, column])))
        if abs(reduced[best, column]) < TOLERANCE:
            continue
        reduced[[row, best]] = reduced[[best, row]]
        reduced[row] /= reduced[row, column]
        factors = reduced[:, column].copy()
        factors[row] = 0.0
        reduced -= np.outer(factors, reduced[row])
        pivots.append((row, column))
        row += 1
    found = []
    for pivot_row, column in pivots:
        others = np.abs(reduced[pivot_row]) >= TOLERANCE
        others[column] = False
        if not others.any():
            found.append(column)
    return found


def _recomputable(results: list[list[SuppressedTable]]) -> list[Key]:
    # One complement per month line of a recomputable entry. Each iteration
    # adds at least one entry, and a table has finitely many, so the loop
    # in suppress_quarter ends.
    lines = {(g, position) for g, _k, position in recomputable(results)}
    return sorted({_complement_on_month_line(results, g, position) for g, position in sorted(lines)})


def _equations(results: list[list[SuppressedTable]]) -> tuple[list[Key], np.ndarray]:
    """Return every entry of every table and part, and one row per linear
    equation between them: row sums, column sums, month sums and shared
    row totals."""
    keys: list[Key] = []
    for g, parts in enumerate(results):
        for k, part in enumerate(parts):
            rows, columns = part.shape
            keys.extend((g, k, (i, j)) for i in range(rows + 1) for j in range(columns + 1))
    index = {key: n for n, key in enumerate(keys)}
    equations: list[dict[int, int]] = []
    for g, parts in enumerate(results):
        for k, part in enumerate(parts):
            rows, columns = part.shape
            for i in range(rows + 1):
                equation = {index[(g, k, (i, j))]: 1 for j in range(columns)}
                equation[index[(g, k, (i, columns))]] = -1
                equations.append(equation)
            for j in range(columns + 1):
                equation = {index[(g, k, (i, j))]: 1 for i in range(rows)}
                equation[index[(g, k, (rows, j))]] = -1
                equations.append(equation)
        rows, columns = parts[0].shape
        months = len(parts) - 1
        for i in range(rows + 1):
            for j in range(columns + 1):
                equation = {index[(g, k, (i, j))]: 1 for k in range(months)}
                equation[index[(g, months, (i, j))]] = -1
                equations.append(equation)
    for g in range(1, len(results)):
        for k, part in enumerate(results[g]):
            rows, columns = part.shape
            first_columns = results[0][k].shape[1]
            for i in range(rows + 1):
                equations.append({
                    index[(g, k, (i, columns))]: 1,
                    index[(0, k, (i, first_columns))]: -1,
                })
    matrix = np.zeros((len(equations), len(keys)))
    for row, equation in enumerate(equations):
        for column, coefficient in equation.items():
            matrix[row, column] = coefficient
    return keys, matrix


@functools.lru_cache(maxsize=512)
def _suppress_quarter_frozen(tables: tuple) -> list[list[SuppressedTable]]:
    return suppress_quarter(tables)


def suppress_quarter_cached(tables: Sequence[Sequence[Counts]]) -> list[list[SuppressedTable]]:
    """Return ``suppress_quarter(tables)``, reusing the result for counts
    seen before in this process. The results are immutable."""
    frozen = tuple(tuple(tuple(tuple(row) for row in part) for part in parts) for parts in tables)
    return [list(parts) for parts in _suppress_quarter_frozen(frozen)]
