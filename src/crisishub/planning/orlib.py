"""Reader for the OR-Library p-median instances (J.E. Beasley, pmed1–pmed40).

An instance file starts with ``n m p`` (vertices, edge lines, medians) and then
has ``m`` lines ``i j cost``: undirected edges between 1-based vertices. The
cost between two vertices is the shortest path over this graph. Every vertex
is both a demand point and a candidate site, with weight 1.

Some files list a vertex pair more than once with different costs. The
published optima hold only when the last occurrence wins, so that is the
default here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.sparse import csgraph

from crisishub.planning.costs import CostMatrix

log = logging.getLogger(__name__)

DuplicatePolicy = Literal["last", "first", "min"]
PathMethod = Literal["dijkstra", "floyd-warshall"]


class OrlibFormatError(ValueError):
    """Invalid OR-Library file, with the line at fault."""


@dataclass(frozen=True, eq=False)
class PMedianInstance:
    """One OR-Library p-median instance with its shortest-path costs."""

    name: str
    vertices: int
    p: int
    edges: np.ndarray
    """Deduplicated undirected edges, one row ``(i, j, cost)``, 0-based."""
    costs: CostMatrix
    """Vertex-to-vertex shortest paths; ids are the 1-based vertex numbers."""


def _parse_ints(line: str, count: int, path: Path, number: int) -> list[int]:
    fields = line.split()
    if len(fields) != count:
        raise OrlibFormatError(
            f"{path}, line {number}: expected {count} integers but found "
            f"{len(fields)} fields ({line.strip()!r})"
        )
    try:
        return [int(field) for field in fields]
    except ValueError:
        raise OrlibFormatError(
            f"{path}, line {number}: {line.strip()!r} is not {count} integers"
        ) from None


def read_edges(
    path: str | Path, *, duplicates: DuplicatePolicy = "last"
) -> tuple[int, int, np.ndarray]:
    """Read an instance file and return ``(vertices, p, edges)``.

    ``edges`` has one row ``(i, j, cost)`` per distinct vertex pair, 0-based,
    with ``i < j``. ``duplicates`` picks the cost of a repeated pair: the
    ``last`` occurrence (matches the published optima), the ``first`` one or
    the ``min``.
    """
    path = Path(path)
    lines = path.read_text().splitlines()
    if not lines:
        raise OrlibFormatError(f"{path}: the file is empty; expected 'n m p'")
    vertices, edge_lines, p = _parse_ints(lines[0], 3, path, 1)
    body = [(number, line) for number, line in enumerate(lines[1:], 2) if line.strip()]
    if len(body) != edge_lines:
        raise OrlibFormatError(
            f"{path}: the header promises {edge_lines} edge lines but the file "
            f"has {len(body)}"
        )

    costs: dict[tuple[int, int], int] = {}
    repeated = 0
    for number, line in body:
        i, j, cost = _parse_ints(line, 3, path, number)
        if not (1 <= i <= vertices and 1 <= j <= vertices):
            raise OrlibFormatError(
                f"{path}, line {number}: vertex {i} or {j} is outside 1..{vertices}"
            )
        if cost < 0:
            raise OrlibFormatError(f"{path}, line {number}: negative cost {cost}")
        if i == j:
            continue
        key = (min(i, j) - 1, max(i, j) - 1)
        if key in costs:
            repeated += 1
            if duplicates == "first":
                continue
            if duplicates == "min":
                cost = min(cost, costs[key])
        costs[key] = cost
    log.debug("%s: %d repeated vertex pairs, kept the %s", path, repeated, duplicates)

    edges = np.array([(i, j, c) for (i, j), c in costs.items()], dtype=np.int64)
    return vertices, p, edges.reshape(-1, 3)


def shortest_path_matrix(
    vertices: int, edges: np.ndarray, *, method: PathMethod = "dijkstra"
) -> np.ndarray:
    """Return all-pairs shortest-path costs over an undirected graph.

    ``edges`` rows are ``(i, j, cost)`` with 0-based vertices and no repeated
    pairs. Unreachable pairs get ``inf``.
    """
    dense = np.full((vertices, vertices), np.inf)
    i, j, cost = edges[:, 0], edges[:, 1], edges[:, 2].astype(float)
    dense[i, j] = cost
    dense[j, i] = cost
    np.fill_diagonal(dense, 0.0)
    if method == "floyd-warshall":
        return _floyd_warshall(dense)
    if method != "dijkstra":
        raise ValueError(f"invalid method {method!r}: use 'dijkstra' or 'floyd-warshall'")
    # null_value=inf keeps zero-cost edges, which a sparse graph would drop.
    graph = csgraph.csgraph_from_dense(dense, null_value=np.inf)
    return csgraph.dijkstra(graph, directed=False)


def _floyd_warshall(dense: np.ndarray) -> np.ndarray:
    distances = dense.copy()
    for k in range(distances.shape[0]):
        np.minimum(distances, distances[:, k, None] + distances[None, k, :], out=distances)
    return distances


def read_pmed(
    path: str | Path,
    *,
    duplicates: DuplicatePolicy = "last",
    method: PathMethod = "dijkstra",
) -> PMedianInstance:
    """Read an OR-Library p-median instance and compute its cost matrix."""
    path = Path(path)
    vertices, p, edges = read_edges(path, duplicates=duplicates)
    distances = shortest_path_matrix(vertices, edges, method=method)
    ids = tuple(str(v) for v in range(1, vertices + 1))
    return PMedianInstance(
        name=path.stem,
        vertices=vertices,
        p=p,
        edges=edges,
        costs=CostMatrix(ids, ids, distances),
    )


def read_optima(path: str | Path) -> dict[str, float]:
    """Read ``pmedopt.txt`` or ``kcenteropt.txt``: lines ``name value``.

    A header line (one whose second field is not a number) is skipped.
    """
    path = Path(path)
    optima: dict[str, float] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        try:
            optima[fields[0]] = float(fields[-1])
        except ValueError:
            if number == 1:
                continue
            raise OrlibFormatError(
                f"{path}, line {number}: {line.strip()!r} is not 'name value'"
            ) from None
    return optima
