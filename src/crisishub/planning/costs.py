"""Cost matrices and demand weights for the facility location models.

A cost matrix has one row per demand point and one column per candidate site.
Its cells are travel times or distances, in whatever unit the radius uses.
``inf`` marks a pair with no route.
"""

from __future__ import annotations

import csv
import logging
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class CostFileError(ValueError):
    """Invalid cost or weight file, with the file, line and cell at fault."""


@dataclass(frozen=True, eq=False)
class CostMatrix:
    """Costs from each demand point (row) to each candidate site (column)."""

    points: tuple[str, ...]
    sites: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        expected = (len(self.points), len(self.sites))
        if values.shape != expected:
            raise ValueError(
                f"cost matrix has shape {values.shape} but there are "
                f"{expected[0]} point ids and {expected[1]} site ids; "
                "pass one row per point and one column per site"
            )
        object.__setattr__(self, "points", tuple(str(p) for p in self.points))
        object.__setattr__(self, "sites", tuple(str(s) for s in self.sites))
        object.__setattr__(self, "values", values)

    @classmethod
    def from_array(
        cls,
        values: np.ndarray,
        points: Sequence[str] | None = None,
        sites: Sequence[str] | None = None,
    ) -> CostMatrix:
        """Wrap a 2-D array, numbering points and sites from 0 when unnamed."""
        array = np.asarray(values, dtype=float)
        if array.ndim != 2:
            raise ValueError(
                f"cost matrix must be 2-D (points × sites), got {array.ndim}-D "
                f"with shape {array.shape}"
            )
        if points is None:
            points = [str(i) for i in range(array.shape[0])]
        if sites is None:
            sites = [str(j) for j in range(array.shape[1])]
        return cls(tuple(points), tuple(sites), array)


_INF_WORDS = frozenset({"inf", "+inf", "infinity", "+infinity"})


def _parse_number(text: str, where: str, *, cost: bool = True) -> float:
    """Parse one numeric cell, naming its position in the error.

    A cost cell may contain ``inf`` (no route); a weight cell may not.
    A number too large for a float, such as ``1e400``, is an error either way.
    """
    cell = text.strip()
    if not cell:
        raise CostFileError(f"{where}: the cell is empty; write a number")
    no_route = " (use 'inf' for a pair with no route)" if cost else ""
    try:
        value = float(cell)
    except ValueError:
        raise CostFileError(
            f"{where}: {cell!r} is not a number; write the value as a number{no_route}"
        ) from None
    if math.isnan(value):
        raise CostFileError(f"{where}: the value is NaN; write a number")
    if math.isinf(value) and cell.lower() in _INF_WORDS and not cost:
        raise CostFileError(f"{where}: the value is inf; write a finite number")
    if math.isinf(value) and cell.lower() not in _INF_WORDS:
        limit = f"{sys.float_info.max:.3g}"
        raise CostFileError(
            f"{where}: {cell!r} is too large; write a finite number up to {limit}"
            f"{no_route}"
        )
    if value < 0:
        raise CostFileError(
            f"{where}: the value {value:g} is negative; costs and weights must "
            "be zero or more"
        )
    return value


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) for each non-blank CSV row."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise CostFileError(f"{path}: file not found; check the path") from None
    except OSError as error:
        raise CostFileError(f"{path}: cannot open the file ({error})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield reader.line_num, cells
        except (csv.Error, UnicodeDecodeError) as error:
            raise CostFileError(
                f"{path}, line {reader.line_num}: invalid CSV ({error})"
            ) from None


def _check_unique(ids: Sequence[str], kind: str, path: Path) -> None:
    seen: set[str] = set()
    for identifier in ids:
        if not identifier:
            raise CostFileError(f"{path}: a {kind} id is empty; name every {kind}")
        if identifier in seen:
            raise CostFileError(
                f"{path}: {kind} id {identifier!r} appears twice; ids must be unique"
            )
        seen.add(identifier)


def read_cost_matrix(path: str | Path) -> CostMatrix:
    """Read a wide CSV: first row site ids, first column point ids.

    The top-left cell is a label and is ignored. Blank lines are skipped.
    """
    path = Path(path)
    rows = _rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise CostFileError(
            f"{path}: the file is empty; the first row must list the site ids"
        ) from None
    sites = [cell.strip() for cell in header[1:]]
    if not sites:
        raise CostFileError(
            f"{path}, line 1: no site ids; the first row must be a label "
            "followed by one site id per column"
        )
    _check_unique(sites, "site", path)

    points: list[str] = []
    values: list[list[float]] = []
    for line, cells in rows:
        if len(cells) != len(header):
            raise CostFileError(
                f"{path}, line {line}: expected {len(header)} cells (a point id "
                f"and {len(sites)} costs) but found {len(cells)}; every row "
                "needs one cost per site"
            )
        point = cells[0].strip()
        points.append(point)
        values.append(
            [
                _parse_number(
                    cell,
                    f"{path}, line {line}, column {column} "
                    f"(point {point!r}, site {site!r})",
                )
                for column, (site, cell) in enumerate(zip(sites, cells[1:]), 2)
            ]
        )
    if not points:
        raise CostFileError(
            f"{path}: no demand points; add one row per point below the header"
        )
    _check_unique(points, "point", path)
    return CostMatrix(tuple(points), tuple(sites), np.array(values, dtype=float))


def _column_index(header: list[str], name: str, path: Path) -> int:
    names = [cell.strip() for cell in header]
    if name not in names:
        raise CostFileError(
            f"{path}: column {name!r} not found; the header has {names}"
        )
    return names.index(name)


def read_long_costs(
    path: str | Path,
    *,
    point_column: str,
    site_column: str,
    cost_column: str,
) -> CostMatrix:
    """Read a long CSV with one row per (point, site) pair and pivot it.

    Points and sites are sorted as strings, so ``Store_10`` comes before
    ``Store_2``. Every pair must appear exactly once.
    """
    path = Path(path)
    rows = _rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise CostFileError(f"{path}: the file is empty; add a header row") from None
    point_at = _column_index(header, point_column, path)
    site_at = _column_index(header, site_column, path)
    cost_at = _column_index(header, cost_column, path)

    pairs: dict[tuple[str, str], float] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            raise CostFileError(
                f"{path}, line {line}: expected {len(header)} cells but found "
                f"{len(cells)}; every row needs a value for each column"
            )
        key = (cells[point_at].strip(), cells[site_at].strip())
        if key in pairs:
            raise CostFileError(
                f"{path}, line {line}: point {key[0]!r} and site {key[1]!r} "
                "appear twice; keep one row per pair"
            )
        where = f"{path}, line {line}, column {cost_column!r}"
        pairs[key] = _parse_number(cells[cost_at], where)

    points = sorted({point for point, _ in pairs})
    sites = sorted({site for _, site in pairs})
    values = np.full((len(points), len(sites)), np.nan)
    point_index = {point: i for i, point in enumerate(points)}
    site_index = {site: j for j, site in enumerate(sites)}
    for (point, site), cost in pairs.items():
        values[point_index[point], site_index[site]] = cost
    missing = np.argwhere(np.isnan(values))
    if len(missing):
        i, j = missing[0]
        raise CostFileError(
            f"{path}: {len(missing)} (point, site) pairs have no row, for "
            f"example point {points[i]!r} and site {sites[j]!r}; add them "
            "(with cost 'inf' for no route)"
        )
    return CostMatrix(tuple(points), tuple(sites), values)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_weights(
    path: str | Path,
    points: Sequence[str],
    *,
    id_column: str | None = None,
    weight_column: str | None = None,
    kind: str = "weight",
) -> np.ndarray:
    """Read demand weights and return them in the order of ``points``.

    Without column names the first column is the point id and the second the
    weight, and a first row whose weight cell is not a number is taken as a
    header, unless its first cell is one of ``points``. With column names, the
    first row must be a header that has them. Every point needs exactly one
    finite weight, and the file may name no others. ``kind`` names the values
    in errors, for example "population".
    """
    path = Path(path)
    rows = list(_rows(path))
    if not rows:
        raise CostFileError(f"{path}: the file is empty; add one row per point")
    id_at, weight_at = 0, 1
    if id_column is not None or weight_column is not None:
        header = rows.pop(0)[1]
        if id_column is not None:
            id_at = _column_index(header, id_column, path)
        if weight_column is not None:
            weight_at = _column_index(header, weight_column, path)
    elif (
        len(rows[0][1]) > 1
        and not _looks_numeric(rows[0][1][1])
        and rows[0][1][0].strip() not in points
    ):
        rows.pop(0)

    weights: dict[str, float] = {}
    for line, cells in rows:
        if len(cells) <= max(id_at, weight_at):
            raise CostFileError(
                f"{path}, line {line}: expected at least "
                f"{max(id_at, weight_at) + 1} cells but found {len(cells)}; "
                f"write the point id and its {kind}"
            )
        point = cells[id_at].strip()
        if point in weights:
            raise CostFileError(
                f"{path}, line {line}: point {point!r} has a second {kind}; "
                "keep one row per point"
            )
        where = f"{path}, line {line}, column {weight_at + 1} (point {point!r})"
        weights[point] = _parse_number(cells[weight_at], where, cost=False)
    ordered = _order_weights(weights, points, path, kind)
    with np.errstate(over="ignore"):
        total = float(ordered.sum())
    if not math.isfinite(total):
        raise CostFileError(
            f"{path}: the {kind} values sum to more than the largest float "
            f"({sys.float_info.max:.3g}); scale them down, for example to "
            "thousands of people"
        )
    return ordered


def _order_weights(
    weights: dict[str, float], points: Sequence[str], path: Path, kind: str
) -> np.ndarray:
    missing = [point for point in points if point not in weights]
    if missing:
        raise CostFileError(
            f"{path}: {len(missing)} demand points have no {kind}, for example "
            f"{missing[:5]}; add a row for each point of the cost matrix"
        )
    extra = sorted(set(weights) - set(points))
    if extra:
        raise CostFileError(
            f"{path}: {len(extra)} {kind} rows name points that are not in the "
            f"cost matrix, for example {extra[:5]}; remove them or add the points"
        )
    return np.array([weights[point] for point in points], dtype=float)
