"""Small-cell suppression: the known traps, and attacks on random tables.

The attacks do not reuse the module's graph reasoning. ``recoverable``
solves the linear equations of the published table with numpy ranks, and
``suppressed_sum`` recomputes a line's hidden sum from published numbers
only, as a reader of the public table could.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from crisishub.reports.suppression import (
    COMPLEMENTARY, PRIMARY, PUBLISHED, SuppressedTable, find_bridges, revealing_zeros, suppress,
    suppress_linked,
)


def grid_size(table: SuppressedTable) -> tuple[int, int]:
    rows, columns = table.shape
    return rows + 1, columns + 1


def equations(table: SuppressedTable) -> np.ndarray:
    """Return the table's additivity equations, one row each, over every
    extended-grid entry in row-major order."""
    height, width = grid_size(table)
    rows, columns = height - 1, width - 1

    def index(i, j):
        return i * width + j

    matrix = []
    for i in range(rows + 1):
        equation = np.zeros(height * width)
        for j in range(columns):
            equation[index(i, j)] = 1
        equation[index(i, columns)] = -1
        matrix.append(equation)
    for j in range(columns + 1):
        equation = np.zeros(height * width)
        for i in range(rows):
            equation[index(i, j)] = 1
        equation[index(rows, j)] = -1
        matrix.append(equation)
    return np.array(matrix)


def recoverable(table: SuppressedTable) -> set[tuple[int, int]]:
    """Return the suppressed entries the published numbers determine exactly."""
    height, width = grid_size(table)
    hidden = sorted(table.suppressed_positions())
    if not hidden:
        return set()
    unknown = equations(table)[:, [i * width + j for i, j in hidden]]
    rank = np.linalg.matrix_rank(unknown)
    found = set()
    for k, position in enumerate(hidden):
        unit = np.zeros((1, len(hidden)))
        unit[0, k] = 1
        if np.linalg.matrix_rank(np.vstack([unknown, unit])) == rank:
            found.add(position)
    return found


def suppressed_sums(table: SuppressedTable) -> list[tuple[str, int, int, int]]:
    """Return (line kind, index, hidden count, hidden sum) for each line
    whose total is published, computed from published numbers only."""
    rows, columns = table.shape
    found = []
    lines = [("row", i) for i in range(rows + 1)] + [("column", j) for j in range(columns + 1)]
    for kind, index in lines:
        if kind == "row":
            members = [(index, j) for j in range(columns)]
            total = table.entry((index, columns))
        else:
            members = [(i, index) for i in range(rows)]
            total = table.entry((rows, index))
        if not total.published:
            continue
        hidden = [p for p in members if not table.entry(p).published]
        if hidden:
            shown = sum(table.entry(p).public_value for p in members if table.entry(p).published)
            found.append((kind, index, len(hidden), total.public_value - shown))
    return found


def statuses(table: SuppressedTable) -> list[list[str]]:
    height, width = grid_size(table)
    return [[table.entry((i, j)).status for j in range(width)] for i in range(height)]


def assert_protected(table: SuppressedTable) -> None:
    assert recoverable(table) == set(), statuses(table)
    for kind, index, count, hidden_sum in suppressed_sums(table):
        assert hidden_sum > 10 * count, (kind, index, count, hidden_sum)


# --- The known traps ----------------------------------------------------


def test_row_of_three_tens_hides_total():
    table = suppress([[10, 10, 10], [40, 50, 60]])

    assert [e.status for e in table.cells[0]] == [PRIMARY] * 3
    # 30 = 3 x 10 would show each cell is 10, and no other cell in the row
    # can raise the hidden sum, so the row total is hidden.
    assert not table.row_totals[0].published
    assert_protected(table)


def test_row_of_three_tens_with_large_cell_keeps_total():
    table = suppress([[10, 10, 10, 45], [40, 50, 60, 70]])

    assert table.row_totals[0].published
    assert table.cells[0][3].status == COMPLEMENTARY
    assert_protected(table)


def test_pair_ten_nine_gets_third_cell():
    table = suppress([[10, 9, 50], [40, 50, 60]])

    assert table.cells[0][0].status == PRIMARY
    assert table.cells[0][1].status == PRIMARY
    # 10 + 9 = 19 with the total shown would leave each at 9 or 10.
    assert table.cells[0][2].status == COMPLEMENTARY
    assert table.row_totals[0].published
    assert_protected(table)


def test_single_small_cell_gets_complement_in_row():
    table = suppress([[4, 30, 25], [50, 60, 70]])

    assert table.cells[0][0].status == PRIMARY
    assert table.row_totals[0].published
    row_hidden = [e for e in table.cells[0] if not e.published]
    assert len(row_hidden) >= 2
    # The smallest remaining cell of the row is the complement.
    assert table.cells[0][2].status == COMPLEMENTARY
    assert_protected(table)


def test_column_recomputation_blocked():
    table = suppress([[50, 40], [3, 60], [70, 80]])

    assert table.cells[1][0].status == PRIMARY
    column = [table.cells[i][0] for i in range(3)]
    assert sum(1 for e in column if not e.published) >= 2
    assert table.column_totals[0].published
    assert_protected(table)


def test_rounded_zero_percent_suppressed():
    # 2 of 5002 is 0.04%, shown as 0.0%, which would hide 2 people.
    table = suppress([[2, 5000], [3000, 4000], [20, 30]])

    assert table.row_share(0, 0) is None
    assert table.column_share(0, 0) is None
    assert_protected(table)


def test_true_zero_published_with_share():
    table = suppress([[0, 500], [30, 400]])

    assert table.cells[0][0].status == PUBLISHED
    assert table.cells[0][0].public_value == 0
    assert table.row_share(0, 0) == 0.0
    assert table.row_share(1, 0) == pytest.approx(30 / 430)


def test_share_needs_published_denominator():
    table = suppress([[0, 7], [30, 400]])

    assert not table.row_totals[0].published
    assert table.row_share(0, 0) is None
    assert table.row_share(0, 1) is None


def test_zero_beside_only_hidden_counts_suppressed():
    # "0, 7*" with a hidden total would show all 7 people are in column 1.
    table = suppress([[0, 7], [30, 400]])

    assert not table.cells[0][0].published
    assert table.cells[0][0].status == COMPLEMENTARY
    assert_protected(table)


def test_transport_row_zeros_suppressed():
    # Emergency department *, other 0, none 0: the zeros would show that
    # everyone in the row was taken to an emergency department.
    table = suppress([[4, 0, 0], [20, 15, 300], [12, 0, 40]])

    assert [e.published for e in table.cells[0]] == [False, False, False]
    assert not table.row_totals[0].published
    assert_protected(table)
    assert not revealing_zeros(_grid(table), table.suppressed_positions())


def test_zero_beside_hidden_total_suppressed():
    # A small row total among zero row totals: the zeros of the total
    # column would show every person of the table is in that row.
    table = suppress([[3, 2], [0, 0], [0, 0]])

    assert not table.row_totals[0].published
    assert not table.row_totals[1].published
    assert not table.row_totals[2].published
    assert_protected(table)


def test_zero_kept_when_published_elsewhere():
    # A row with a published non-zero cell keeps its zeros.
    table = suppress([[4, 0, 30, 25], [20, 0, 300, 40]])

    assert table.cells[0][1].published
    assert table.cells[0][1].public_value == 0
    assert_protected(table)


def _grid(table: SuppressedTable) -> list[list[int]]:
    height, width = grid_size(table)
    return [[table.entry((i, j)).value for j in range(width)] for i in range(height)]


def test_small_totals_are_primary():
    table = suppress([[3, 4], [0, 0]])

    assert table.row_totals[0].status == PRIMARY
    assert table.column_totals[0].status == PRIMARY
    assert table.grand_total.status == PRIMARY
    # Row 1's zeros share their columns with hidden counts and hidden
    # column totals, so shown they would place every person in row 0.
    assert not table.cells[1][0].published
    assert_protected(table)


def test_single_row_table_hides_cells():
    # The column totals repeat the one row, so they must hide with it.
    table = suppress([[5, 20]])

    assert not table.cells[0][1].published
    assert not table.column_totals[0].published
    assert not table.column_totals[1].published
    assert table.row_totals[0].published
    assert_protected(table)


def test_degree_rule_is_not_enough():
    # Two protected blocks joined by one suppressed entry: every line has
    # 0 or at least 2 suppressed entries, yet the joining entry (0, 2) is
    # a bridge and the equations determine it.
    positions = {(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    assert find_bridges(positions) == {(0, 2)}
    assert find_bridges(positions - {(0, 2)}) == set()


def test_bridges_match_linear_algebra():
    rng = random.Random(7)
    for _ in range(200):
        counts = [[rng.choice([0, 3, 15, 40]) for _ in range(3)] for _ in range(3)]
        table = suppress(counts)
        height, width = grid_size(table)
        sample = {(i, j) for i in range(height) for j in range(width) if rng.random() < 0.4}
        forced = SuppressedTable(
            cells=tuple(
                tuple(_entry(table, (i, j), sample) for j in range(width - 1)) for i in range(height - 1)
            ),
            row_totals=tuple(_entry(table, (i, width - 1), sample) for i in range(height - 1)),
            column_totals=tuple(_entry(table, (height - 1, j), sample) for j in range(width - 1)),
            grand_total=_entry(table, (height - 1, width - 1), sample),
        )
        assert find_bridges(sample) == recoverable(forced), sorted(sample)


def _entry(table, position, hidden):
    from crisishub.reports.suppression import Entry

    return Entry(table.entry(position).value, PRIMARY if position in hidden else PUBLISHED)


def test_deterministic_choice():
    counts = [[4, 30, 25, 12], [50, 3, 70, 44], [15, 16, 0, 80]]

    first = statuses(suppress(counts))
    second = statuses(suppress(counts))

    assert first == second


def test_invalid_tables_rejected():
    with pytest.raises(ValueError, match="at least one row"):
        suppress([])
    with pytest.raises(ValueError, match="Row 1 has 1 counts"):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError, match="Invalid count -1"):
        suppress([[1, -1]])
    with pytest.raises(ValueError, match="Invalid row index 5"):
        suppress([[1, 2]], force_row_totals=[5])


# --- Linked tables ------------------------------------------------------


def test_linked_tables_share_hidden_totals():
    # The same two rows of people split two ways: the first table must
    # hide row total 0 (its 10-10-10 trap), so the second must too.
    outcome = [[10, 10, 10], [40, 50, 60]]
    police = [[25, 5, 0], [140, 5, 5]]

    first, second = suppress_linked([outcome, police])

    assert not first.row_totals[0].published
    assert not second.row_totals[0].published
    assert_protected(first)
    assert_protected(second)


def test_linked_tables_need_same_totals():
    with pytest.raises(ValueError, match="same row totals"):
        suppress_linked([[[1, 2]], [[5, 5]]])


# --- Random tables ------------------------------------------------------


def random_counts(rng: random.Random) -> list[list[int]]:
    rows, columns = rng.randint(1, 5), rng.randint(1, 5)
    pool = [0, 0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 20, 35, 60, 150]
    return [[rng.choice(pool) for _ in range(columns)] for _ in range(rows)]


@pytest.mark.parametrize("seed", range(8))
def test_random_tables_not_recoverable(seed):
    rng = random.Random(seed)
    for _ in range(60):
        counts = random_counts(rng)
        table = suppress(counts)

        for i, row in enumerate(counts):
            for j, value in enumerate(row):
                entry = table.cells[i][j]
                assert entry.value == value
                if 1 <= value <= 10:
                    assert entry.status == PRIMARY
                if value == 0 and entry.status != PUBLISHED:
                    assert entry.status == COMPLEMENTARY
        assert_protected(table)
        assert not revealing_zeros(_grid(table), table.suppressed_positions()), statuses(table)


@pytest.mark.parametrize("seed", range(4))
def test_random_tables_pass_bounded_attack(seed):
    """An attacker who also knows every count is non-negative finds each
    suppressed count between two different bounds."""
    rng = random.Random(100 + seed)
    for _ in range(25):
        counts = random_counts(rng)
        table = suppress(counts)
        height, width = grid_size(table)
        hidden = sorted(table.suppressed_positions())
        if not hidden:
            continue
        matrix = equations(table)
        known = np.zeros(height * width)
        for i in range(height):
            for j in range(width):
                if (i, j) not in hidden:
                    known[i * width + j] = table.entry((i, j)).public_value
        right = -matrix @ known
        unknown = matrix[:, [i * width + j for i, j in hidden]]
        for k, position in enumerate(hidden):
            objective = np.zeros(len(hidden))
            objective[k] = 1
            low = linprog(objective, A_eq=unknown, b_eq=right, bounds=(0, None), method="highs")
            high = linprog(-objective, A_eq=unknown, b_eq=right, bounds=(0, None), method="highs")
            assert low.status == 0
            # Status 3 is unbounded: with every total hidden nothing caps the count.
            assert high.status in (0, 3)
            if high.status == 0:
                assert -high.fun - low.fun >= 1 - 1e-9, (counts, position, low.fun, -high.fun)


@pytest.mark.parametrize("seed", range(4))
def test_random_tables_not_pinned_above_one(seed):
    """An attacker who knows every suppressed count is at least 1 (zeros are
    shown) still finds at least two possible values for each primary cell."""
    rng = random.Random(200 + seed)
    for _ in range(25):
        counts = random_counts(rng)
        table = suppress(counts)
        height, width = grid_size(table)
        hidden = sorted(table.suppressed_positions())
        if not hidden:
            continue
        matrix = equations(table)
        known = np.zeros(height * width)
        for i in range(height):
            for j in range(width):
                if (i, j) not in hidden:
                    known[i * width + j] = table.entry((i, j)).public_value
        unknown = matrix[:, [i * width + j for i, j in hidden]]
        for k, position in enumerate(hidden):
            if table.entry(position).status != PRIMARY:
                continue
            objective = np.zeros(len(hidden))
            objective[k] = 1
            low = linprog(objective, A_eq=unknown, b_eq=-matrix @ known, bounds=(1, None), method="highs")
            high = linprog(-objective, A_eq=unknown, b_eq=-matrix @ known, bounds=(1, None), method="highs")
            if low.status == 2:
                # Infeasible: a zero was hidden, so the attacker's premise is false.
                continue
            assert low.status == 0
            if high.status == 0:
                assert -high.fun - low.fun >= 1 - 1e-9, (counts, position, low.fun, -high.fun)


def test_random_linked_tables_consistent():
    rng = random.Random(42)
    for _ in range(40):
        rows = rng.randint(2, 4)
        totals = [rng.choice([0, 4, 9, 25, 80, 200]) for _ in range(rows)]
        tables = []
        for _ in range(3):
            columns = rng.randint(2, 4)
            table = []
            for total in totals:
                cuts = sorted(rng.randint(0, total) for _ in range(columns - 1))
                edges = [0, *cuts, total]
                table.append([edges[k + 1] - edges[k] for k in range(columns)])
            tables.append(table)

        results = suppress_linked(tables)

        hidden_totals = [
            [total.published for total in result.row_totals] + [result.grand_total.published]
            for result in results
        ]
        assert all(pattern == hidden_totals[0] for pattern in hidden_totals)
        for result in results:
            assert_protected(result)


# --- Quarters: months, quarter and linked tables together ---------------


def quarter_tables(rng: random.Random) -> list[list[list[list[int]]]]:
    """Return tables[g][month] of 3 rows that split the same people."""
    sizes = [[rng.choice([0, 0, 3, 8, 14, 40, 90]) for _ in range(3)] for _ in range(3)]
    tables = []
    for columns in (rng.randint(2, 5), rng.randint(2, 4)):
        weights = [rng.random() ** 2 + 0.01 for _ in range(columns)]
        months = []
        for month in range(3):
            rows = []
            for size in sizes[month]:
                row = [0] * columns
                for _ in range(size):
                    row[rng.choices(range(columns), weights)[0]] += 1
                rows.append(row)
            months.append(rows)
        tables.append(months)
    return tables


def quarter_attack(tables, results) -> list[tuple]:
    """Return the suppressed entries that the published entries of every
    month and quarter table fix, by ranks over the fine month cells."""
    index = {}

    def vector(g, months, rows, columns):
        found = np.zeros(4 * 3 * 6 * 2)
        for month in months:
            for i in rows:
                for j in columns:
                    found[index.setdefault((g, month, i, j), len(index))] = 1
        return found

    shown, hidden = [], []
    for g, parts in enumerate(results):
        for k, part in enumerate(parts):
            rows, columns = part.shape
            months = [k] if k < 3 else [0, 1, 2]
            for i in range(rows + 1):
                for j in range(columns + 1):
                    members = vector(g, months, [i] if i < rows else range(rows), [j] if j < columns else range(columns))
                    (shown if part.entry((i, j)).published else hidden).append((members, (g, k, i, j)))
    linked = []
    for month in range(3):
        for i in range(3):
            linked.append(vector(0, [month], [i], range(len(tables[0][0][0]))) - vector(1, [month], [i], range(len(tables[1][0][0]))))
    known = np.array([members for members, _where in shown] + linked)
    rank = np.linalg.matrix_rank(known)
    return [where for members, where in hidden if np.linalg.matrix_rank(np.vstack([known, members])) == rank]


@pytest.mark.parametrize("seed", range(3))
def test_quarter_tables_not_recoverable(seed):
    from crisishub.reports.joint import suppress_quarter

    rng = random.Random(300 + seed)
    for _ in range(6):
        tables = quarter_tables(rng)
        results = suppress_quarter(tables)

        assert quarter_attack(tables, results) == []
        for g, parts in enumerate(results):
            quarter = parts[3]
            for i in range(quarter.shape[0]):
                for j in range(quarter.shape[1]):
                    assert quarter.cells[i][j].value == sum(tables[g][k][i][j] for k in range(3))
            for part in parts:
                assert_protected(part)


def test_quarter_hides_month_given_by_difference():
    from crisishub.reports.joint import suppress_quarter

    # January's 5 is hidden in its month. Suppressed month by month, the
    # quarter's 65 minus February's 30 and March's 30 would give it away.
    january = [[5, 200], [300, 400], [500, 600]]
    later = [[30, 200], [300, 400], [500, 600]]

    (parts,) = suppress_quarter([[january, later, later]])

    assert not parts[0].cells[0][0].published
    hidden = [not part.cells[0][0].published for part in parts]
    assert sum(hidden) >= 2
    assert quarter_attack([[january, later, later], [january, later, later]], [parts, parts]) == []
