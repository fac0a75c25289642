"""Small-cell suppression of count tables for public reports.

The rules follow the CalHHS Data De-identification Guidelines. A count from
1 to 10 is suppressed (primary suppression) and a true zero is shown.
Further cells are suppressed so that no suppressed count can be worked out
from the published cells and totals (complementary suppression). A rate is
published only when its numerator and denominator are both published.

A table has R rows and C columns of counts, a total for each row, a total
for each column and a grand total. This module works on the *extended
grid* of (R + 1) x (C + 1) entries: entry (i, j) with i < R and j < C is a
cell, (i, C) is the total of row i, (R, j) is the total of column j, and
(R, C) is the grand total. With the totals negated, every row and every
column of the extended grid sums to zero, so the grid is a complete
bipartite graph between its R + 1 row lines and C + 1 column lines with
one edge per entry.

Two attacks are checked after every added suppression:

* Exact recomputation. The published entries fix a system of linear
  equations in the suppressed ones. Its solutions differ by flows around
  cycles of suppressed entries, so a suppressed entry is determined
  exactly if and only if it lies on no cycle: if it is a bridge of the
  graph of suppressed entries. Requiring each line to have 0 or at least
  2 suppressed entries is not enough, because two protected blocks joined
  by a single suppressed entry satisfy that rule and the joining entry is
  still a bridge.
* Small sums. The public can subtract a line's published entries from its
  published total and learn the sum of its suppressed entries. If that sum
  is at most 10 per suppressed entry, all of them could be small counts
  and the sum narrows them down: a row "10, 10, 10" with total 30 shows
  each is 10, and "10, 9" with total 19 shows each is 9 or 10. Each line
  with a published total therefore needs a suppressed sum above
  10 times its number of suppressed entries.

NOTE: bounds from combining several lines are not audited. A public that
knows every suppressed count is at least 1 can combine lines to narrow a
count: in 3,000 random test tables, 20 of 15,959 primary cells narrowed to
fewer than 5 possible values, and none to a single value.

Complementary entries are chosen deterministically from the line that
needs one: a published non-zero entry whose crossing line already has a
suppressed entry (so it can close a cycle) if there is one, a cell before
the line's total, and the smallest value, then the lowest index. A
published zero is chosen only when nothing else is left. No ages appear in these
tables, so the guidelines' grouping of ages 90 and over does not apply.

A zero is shown only where it tells nothing about a suppressed count. When
every non-zero entry of a line (its total aside) is suppressed, a
published zero beside them would show that everyone in the line falls in
the suppressed entries (a row "emergency department *, other 0, none 0"
shows that all its people were taken to an emergency department), so such
zeros are suppressed too. The lines of totals follow the same rule, so a
suppressed row total hides the zero row totals beside it. A zero whose
crossing line has a published total of 0 stays, because that total
already shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PUBLISHED = "published"
PRIMARY = "primary"
COMPLEMENTARY = "complementary"

# Counts from SMALL_COUNT_MIN to SMALL_COUNT_MAX are suppressed.
SMALL_COUNT_MIN = 1
SMALL_COUNT_MAX = 10

Position = tuple[int, int]


def is_small_count(value: int) -> bool:
    """Return whether a count needs primary suppression."""
    return SMALL_COUNT_MIN <= value <= SMALL_COUNT_MAX


@dataclass(frozen=True)
class Entry:
    """One cell or total with its suppression status."""

    value: int
    status: str

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def public_value(self) -> int | None:
        """The count, or None where it is suppressed."""
        return self.value if self.published else None


@dataclass(frozen=True)
class SuppressedTable:
    """A count table after suppression.

    ``value`` fields keep the true counts for the hub's own checks; public
    output must read ``public_value``, ``row_share`` and ``column_share``.
    """

    cells: tuple[tuple[Entry, ...], ...]
    row_totals: tuple[Entry, ...]
    column_totals: tuple[Entry, ...]
    grand_total: Entry

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_totals), len(self.column_totals)

    def entry(self, position: Position) -> Entry:
        """Return the entry at an extended-grid position (see the module notes)."""
        rows, columns = self.shape
        i, j = position
        if i == rows and j == columns:
            return self.grand_total
        if i == rows:
            return self.column_totals[j]
        if j == columns:
            return self.row_totals[i]
        return self.cells[i][j]

    def suppressed_positions(self, status: str | None = None) -> set[Position]:
        """Return the extended-grid positions suppressed (with ``status``, if given)."""
        rows, columns = self.shape
        return {
            (i, j)
            for i in range(rows + 1)
            for j in range(columns + 1)
            if not self.entry((i, j)).published
            and (status is None or self.entry((i, j)).status == status)
        }

    def row_share(self, row: int, column: int) -> float | None:
        """Return cell / row total, or None unless both are published and the total is non-zero.

        ``row`` may be R, the row of column totals, which gives column
        total / grand total.
        """
        rows, columns = self.shape
        return _share(self.entry((row, column)), self.entry((row, columns)))

    def column_share(self, row: int, column: int) -> float | None:
        """Return cell / column total, under the same rule as ``row_share``."""
        rows, columns = self.shape
        return _share(self.entry((row, column)), self.entry((rows, column)))


def _share(numerator: Entry, denominator: Entry) -> float | None:
    if not (numerator.published and denominator.published) or denominator.value == 0:
        return None
    return numerator.value / denominator.value


def suppress(
    counts: Sequence[Sequence[int]],
    *,
    force_row_totals: Iterable[int] = (),
    force_grand_total: bool = False,
    force: Iterable[Position] = (),
) -> SuppressedTable:
    """Suppress a table of counts and its totals.

    ``counts`` is a list of R rows of C non-negative integers, R >= 1 and
    C >= 1; the totals are computed from it. ``force_row_totals`` and
    ``force_grand_total`` suppress those totals as complementary even if
    they are large, so that tables sharing row totals can be suppressed
    alike (see ``suppress_linked``). ``force`` suppresses any extended-grid
    positions the same way, for tables that share entries with others.

    Raises ValueError for an empty or ragged table, a negative count or a
    forced position outside the grid.
    """
    grid = _extended_grid(counts)
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    status: dict[Position, str] = {}
    for i in range(rows + 1):
        for j in range(columns + 1):
            if is_small_count(grid[i][j]):
                status[(i, j)] = PRIMARY
    for i in force_row_totals:
        if not 0 <= i < rows:
            raise ValueError(f"Invalid row index {i} in force_row_totals: the table has {rows} rows.")
        status.setdefault((i, columns), COMPLEMENTARY)
    if force_grand_total:
        status.setdefault((rows, columns), COMPLEMENTARY)
    for i, j in force:
        if not (0 <= i <= rows and 0 <= j <= columns):
            raise ValueError(f"Invalid position {(i, j)} in force: the extended grid is {rows + 1} x {columns + 1}.")
        status.setdefault((i, j), COMPLEMENTARY)

    # Hiding a revealing zero can leave it recomputable or make a small
    # sum, and a new complement can make other zeros revealing, so both
    # rules repeat until neither adds an entry. Entries are only added,
    # so this ends.
    while True:
        needs_complement = _first_unprotected_line(grid, status)
        if needs_complement is not None:
            status[_choose_complement(grid, status, needs_complement)] = COMPLEMENTARY
            continue
        zeros = revealing_zeros(grid, status)
        if not zeros:
            break
        for position in zeros:
            status[position] = COMPLEMENTARY

    def entry(i: int, j: int) -> Entry:
        return Entry(grid[i][j], status.get((i, j), PUBLISHED))

    return SuppressedTable(
        cells=tuple(tuple(entry(i, j) for j in range(columns)) for i in range(rows)),
        row_totals=tuple(entry(i, columns) for i in range(rows)),
        column_totals=tuple(entry(rows, j) for j in range(columns)),
        grand_total=entry(rows, columns),
    )


def suppress_linked(tables: Sequence[Sequence[Sequence[int]]]) -> list[SuppressedTable]:
    """Suppress tables that share their row totals and grand total.

    Tables that split the same rows of a population into different columns
    publish the same row totals. A total suppressed in one table must be
    suppressed in all of them, or the others would give it away, so the
    tables are suppressed again with the union of suppressed totals forced
    until no table adds one.

    Raises ValueError if the tables' row totals differ.
    """
    if not tables:
        return []
    sums = [[sum(row) for row in table] for table in tables]
    if any(row_sums != sums[0] for row_sums in sums[1:]):
        raise ValueError("Linked tables must have the same row totals; got " + repr(sums) + ".")
    forced_rows: set[int] = set()
    forced_grand = False
    while True:
        results = [
            suppress(table, force_row_totals=forced_rows, force_grand_total=forced_grand)
            for table in tables
        ]
        rows_now = {
            i for result in results for i, total in enumerate(result.row_totals) if not total.published
        }
        grand_now = any(not result.grand_total.published for result in results)
        if rows_now == forced_rows and grand_now == forced_grand:
            return results
        forced_rows, forced_grand = rows_now, grand_now


def _extended_grid(counts: Sequence[Sequence[int]]) -> list[list[int]]:
    if not counts or not counts[0]:
        raise ValueError("A table needs at least one row and one column of counts.")
    width = len(counts[0])
    grid: list[list[int]] = []
    for i, row in enumerate(counts):
        if len(row) != width:
            raise ValueError(f"Row {i} has {len(row)} counts, but row 0 has {width}; give every row the same columns.")
        for j, value in enumerate(row):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Invalid count {value!r} at row {i}, column {j}: use a non-negative integer.")
        grid.append([*row, sum(row)])
    column_totals = [sum(row[j] for row in grid) for j in range(width + 1)]
    grid.append(column_totals)
    return grid


def revealing_zeros(grid: Sequence[Sequence[int]], hidden: Iterable[Position]) -> set[Position]:
    """Return the published zeros that would show who is in a line's suppressed entries.

    In a line with a suppressed non-zero entry and no published non-zero
    entry (the line's own total aside), every published zero is revealing,
    unless its crossing line has a published total of 0, which shows the
    zero anyway.
    """
    hidden = set(hidden)
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    found: set[Position] = set()
    lines: list[Line] = [("row", i) for i in range(rows + 1)] + [("column", j) for j in range(columns + 1)]
    for line in lines:
        total = _line_total(line, rows, columns)
        members = [p for p in _line_positions(line, rows, columns) if p != total]
        nonzero = [p for p in members if grid[p[0]][p[1]] != 0]
        if not any(p in hidden for p in nonzero) or not all(p in hidden for p in nonzero):
            continue
        for i, j in members:
            if (i, j) in hidden or grid[i][j] != 0:
                continue
            crossing_total = (rows, j) if line[0] == "row" else (i, columns)
            shown_elsewhere = crossing_total != (i, j) and crossing_total not in hidden
            if shown_elsewhere and grid[crossing_total[0]][crossing_total[1]] == 0:
                continue
            found.add((i, j))
    return found


# A line of the extended grid: ("row", i) or ("column", j).
Line = tuple[str, int]


def _line_positions(line: Line, rows: int, columns: int) -> list[Position]:
    kind, index = line
    if kind == "row":
        return [(index, j) for j in range(columns + 1)]
    return [(i, index) for i in range(rows + 1)]


def _line_total(line: Line, rows: int, columns: int) -> Position:
    kind, index = line
    return (index, columns) if kind == "row" else (rows, index)


def _first_unprotected_line(grid: list[list[int]], status: dict[Position, str]) -> tuple[Line, Position | None] | None:
    """Return the first line that needs another suppressed entry, with the
    bridge entry that caused it (None for a small-sum failure), or None."""
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    bridges = find_bridges(status.keys())
    if bridges:
        row_counts: dict[int, int] = {}
        column_counts: dict[int, int] = {}
        for i, j in status:
            row_counts[i] = row_counts.get(i, 0) + 1
            column_counts[j] = column_counts.get(j, 0) + 1

        # Extend a bridge from the line where it is the only suppressed
        # entry, so the new entry can close a cycle. A bridge between two
        # protected blocks has no such line and is extended along its row.
        def order(position: Position) -> tuple[int, Position]:
            alone = row_counts[position[0]] == 1 or column_counts[position[1]] == 1
            return (0 if alone else 1), position

        i, j = min(bridges, key=order)
        line: Line = ("column", j) if row_counts[i] > 1 and column_counts[j] == 1 else ("row", i)
        return line, (i, j)
    lines: list[Line] = [("row", i) for i in range(rows + 1)] + [("column", j) for j in range(columns + 1)]
    for line in lines:
        total = _line_total(line, rows, columns)
        if total in status:
            continue
        hidden = [p for p in _line_positions(line, rows, columns) if p != total and p in status]
        if hidden and sum(grid[i][j] for i, j in hidden) <= SMALL_COUNT_MAX * len(hidden):
            return line, None
    return None


def _choose_complement(grid: list[list[int]], status: dict[Position, str], problem: tuple[Line, Position | None]) -> Position:
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    line, bridge = problem
    candidate_lines = [line]
    if bridge is not None:
        i, j = bridge
        candidate_lines.append(("column", j) if line[0] == "row" else ("row", i))
    for candidate_line in candidate_lines:
        choice = _smallest_published(grid, status, candidate_line)
        if choice is not None:
            return choice
    # Both lines are fully suppressed yet the entry is a bridge: widen to
    # the whole grid, which ends with every entry suppressed at worst.
    published = [
        (grid[i][j] == 0, grid[i][j], (i, j))
        for i in range(rows + 1)
        for j in range(columns + 1)
        if (i, j) not in status
    ]
    return min(published)[2]


def _smallest_published(grid: list[list[int]], status: dict[Position, str], line: Line) -> Position | None:
    rows, columns = len(grid) - 1, len(grid[0]) - 1
    total = _line_total(line, rows, columns)
    candidates = [p for p in _line_positions(line, rows, columns) if p not in status]
    if not candidates:
        return None

    def closes_cycle(position: Position) -> bool:
        i, j = position
        if line[0] == "row":
            return any(p[1] == j for p in status)
        return any(p[0] == i for p in status)

    # Prefer non-zero entries, then one whose crossing line already has a
    # suppressed entry (it can close a cycle), then a cell over the line's
    # total, then the smallest value and the lowest index. Zeros come last,
    # because a true zero should stay visible.
    def preference(position: Position) -> tuple[bool, bool, bool, int, Position]:
        value = grid[position[0]][position[1]]
        return value == 0, not closes_cycle(position), position == total, value, position

    return min(candidates, key=preference)


def find_bridges(positions: Iterable[Position]) -> set[Position]:
    """Return the positions that are bridges of the bipartite graph whose
    vertices are the grid's row and column lines and whose edges are
    ``positions``: exactly the suppressed entries the public can recompute."""
    adjacency: dict[tuple[str, int], list[tuple[tuple[str, int], Position]]] = {}
    for i, j in positions:
        adjacency.setdefault(("row", i), []).append((("column", j), (i, j)))
        adjacency.setdefault(("column", j), []).append((("row", i), (i, j)))

    discovered: dict[tuple[str, int], int] = {}
    low: dict[tuple[str, int], int] = {}
    bridges: set[Position] = set()
    counter = 0
    for root in sorted(adjacency):
        if root in discovered:
            continue
        discovered[root] = low[root] = counter
        counter += 1
        # Iterative depth-first search: (vertex, edge used to reach it, next neighbour index).
        stack: list[tuple[tuple[str, int], Position | None, int]] = [(root, None, 0)]
        while stack:
            vertex, via, index = stack.pop()
            neighbours = adjacency[vertex]
            if index < len(neighbours):
                stack.append((vertex, via, index + 1))
                neighbour, edge = neighbours[index]
                if edge == via:
                    continue
                if neighbour in discovered:
                    low[vertex] = min(low[vertex], discovered[neighbour])
                else:
                    discovered[neighbour] = low[neighbour] = counter
                    counter += 1
                    stack.append((neighbour, edge, 0))
                continue
            if via is not None:
                parent = ("column", via[1]) if vertex[0] == "row" else ("row", via[0])
                low[parent] = min(low[parent], low[vertex])
                if low[vertex] > discovered[parent]:
                    bridges.add(via)
    return bridges
