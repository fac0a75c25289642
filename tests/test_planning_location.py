"""Facility location models against published optima and brute force.

The OR-Library p-median and p-center optima come from ``pmedopt.txt`` and
``kcenteropt.txt`` in tests/data/orlib. The San Francisco instance is the
one in spopt's own tests (tests/data/spopt-sf); its expected values below
were printed by spopt 0.7.0 with PuLP 3.3.2's bundled CBC, run in the
benchmark venv as ``.venv-bench/bin/python benchmarks/bench_location.py
--sf-reference``, and are held here as constants.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from crisishub.planning import cli, cover_search, location, orlib
from crisishub.planning.costs import (
    CostFileError,
    CostMatrix,
    read_cost_matrix,
    read_long_costs,
    read_weights,
)

DATA = Path(__file__).parent / "data"
ORLIB = DATA / "orlib"
SF = DATA / "spopt-sf"

# OR-Library instances whose p-median solves in a few seconds each;
# pmed6 is the slowest, about 20 s on an idle 2-core machine. The others
# (pmed2, 3, 7-9, 11-14) also match the published optima but take longer.
PMEDIAN_INSTANCES = ["pmed1", "pmed4", "pmed5", "pmed6", "pmed10", "pmed15"]
PCENTER_INSTANCES = ["pmed1", "pmed4", "pmed5", "pmed9", "pmed10", "pmed15"]

# spopt 0.7.0 on the San Francisco instance (p = 4, service radius 5000).
SF_MCLP_COVERED = 875247.0
SF_MCLP_SITES = {"Store_2", "Store_11", "Store_12", "Store_15"}
SF_MCLP_PERCENT = 89.75609756097562
SF_LSCP_SITES = 8
SF_PMEDIAN_OBJECTIVE = 2848268129.7145104
SF_PMEDIAN_MEAN = 2982.1268579890657
SF_PMEDIAN_SITES = {"Store_2", "Store_11", "Store_12", "Store_15"}
# CBC reports the p-center objective to 4 decimals; the cost itself is
# 7403.063810849859 in the distance file.
SF_PCENTER_OBJECTIVE = 7403.0638
SF_P = 4
SF_RADIUS = 5000.0


@pytest.fixture(scope="module")
def optima() -> dict[str, float]:
    return orlib.read_optima(ORLIB / "pmedopt.txt")


@pytest.fixture(scope="module")
def center_optima() -> dict[str, float]:
    return orlib.read_optima(ORLIB / "kcenteropt.txt")


@pytest.fixture(scope="module")
def sf() -> tuple[CostMatrix, np.ndarray]:
    costs = read_long_costs(
        SF / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
        point_column="DestinationName",
        site_column="name",
        cost_column="distance",
    )
    population = read_weights(
        SF / "SF_demand_205_centroid_uniform_weight.csv",
        costs.points,
        id_column="NAME",
        weight_column="POP2000",
    )
    return costs, population


def small_instance(seed: int, points: int = 14, sites: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    demand = rng.random((points, 2)) * 10
    candidates = rng.random((sites, 2)) * 10
    return np.linalg.norm(demand[:, None, :] - candidates[None, :, :], axis=2)


# --- OR-Library ------------------------------------------------------------


@pytest.mark.parametrize("name", PMEDIAN_INSTANCES)
def test_pmedian_orlib_optimum(name, optima):
    instance = orlib.read_pmed(ORLIB / f"{name}.txt")
    result = location.solve_pmedian(instance.costs, instance.p)
    assert result.status == location.OPTIMAL
    assert result.gap == 0.0
    assert result.objective == pytest.approx(optima[name], abs=1e-6)
    assert len(result.sites) == instance.p


def test_pmedian_orlib_pmed1_and_pmed6_values(optima):
    assert optima["pmed1"] == 5819
    assert optima["pmed6"] == 7824


def test_orlib_repeated_edge_last_wins():
    vertices, _, edges = orlib.read_edges(ORLIB / "pmed1.txt")
    pairs = {(int(i), int(j)): int(c) for i, j, c in edges}
    # pmed1 lists edge 19-20 with cost 22 and later with cost 30.
    assert pairs[(18, 19)] == 30
    _, _, first = orlib.read_edges(ORLIB / "pmed1.txt", duplicates="first")
    assert {(int(i), int(j)): int(c) for i, j, c in first}[(18, 19)] == 22
    assert vertices == 100


def test_orlib_first_wins_misses_optimum(optima):
    instance = orlib.read_pmed(ORLIB / "pmed1.txt", duplicates="first")
    result = location.solve_pmedian(instance.costs, instance.p)
    assert result.objective == pytest.approx(5718)
    assert result.objective != optima["pmed1"]


def test_orlib_paths_agree_between_methods():
    vertices, _, edges = orlib.read_edges(ORLIB / "pmed1.txt")
    dijkstra = orlib.shortest_path_matrix(vertices, edges)
    floyd = orlib.shortest_path_matrix(vertices, edges, method="floyd-warshall")
    np.testing.assert_array_equal(dijkstra, floyd)


@pytest.mark.parametrize("name", PCENTER_INSTANCES)
def test_pcenter_orlib_optimum(name, center_optima):
    instance = orlib.read_pmed(ORLIB / f"{name}.txt")
    result = location.solve_pcenter(instance.costs, instance.p)
    assert result.status == location.OPTIMAL
    assert result.gap == 0.0
    assert result.objective == center_optima[name]


def test_progress_callback_reports_solve(optima):
    instance = orlib.read_pmed(ORLIB / "pmed1.txt")
    states: list[location.SolveProgress] = []
    with location.report_progress(states.append):
        result = location.solve_pmedian(instance.costs, instance.p)
    assert states
    assert states[-1].objective == pytest.approx(optima["pmed1"])
    assert all(state.seconds >= 0 for state in states)
    assert result.objective == optima["pmed1"]
    states.clear()
    location.solve_pmedian(instance.costs, instance.p)
    assert states == []


def test_orlib_rejects_short_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(" 3 2 1 \n 1 2 5 \n")
    with pytest.raises(orlib.OrlibFormatError, match="promises 2 edge lines"):
        orlib.read_pmed(path)


# --- San Francisco instance (spopt) -----------------------------------------


def test_sf_instance_shape(sf):
    costs, population = sf
    assert costs.values.shape == (205, 16)
    assert population.sum() == 955113
    # Sorted as strings, as spopt's tests pivot the file.
    assert costs.sites[:3] == ("Store_1", "Store_11", "Store_12")


def test_sf_mclp_matches_spopt(sf):
    costs, population = sf
    result = location.solve_mclp(
        costs, SF_P, SF_RADIUS, population, population=population
    )
    assert result.status == location.OPTIMAL
    assert result.gap == 0.0
    assert result.objective == SF_MCLP_COVERED
    assert set(result.sites) == SF_MCLP_SITES
    assert result.covered_points == 184
    assert 100.0 * result.covered_points / 205 == pytest.approx(SF_MCLP_PERCENT)
    assert result.covered_population == SF_MCLP_COVERED
    assert len(result.uncovered_points) == 21


def test_sf_lscp_matches_spopt(sf):
    costs, population = sf
    result = location.solve_lscp(costs, SF_RADIUS, population=population)
    assert result.status == location.OPTIMAL
    assert result.objective == SF_LSCP_SITES
    assert result.covered_points == 205
    assert result.covered_population == population.sum()


def test_sf_pmedian_matches_spopt(sf):
    costs, population = sf
    result = location.solve_pmedian(costs, SF_P, population)
    assert result.status == location.OPTIMAL
    assert result.objective == pytest.approx(SF_PMEDIAN_OBJECTIVE, rel=1e-12)
    assert result.mean_cost == pytest.approx(SF_PMEDIAN_MEAN, rel=1e-12)
    assert set(result.sites) == SF_PMEDIAN_SITES


def test_sf_pcenter_matches_spopt(sf):
    costs, _ = sf
    result = location.solve_pcenter(costs, SF_P)
    assert result.status == location.OPTIMAL
    assert result.objective == pytest.approx(SF_PCENTER_OBJECTIVE, abs=5e-5)
    assert result.objective in costs.values


def test_sf_mexclp_certain_teams_is_mclp(sf):
    """With busy fraction 0 and one team per site, MEXCLP is the MCLP."""
    costs, population = sf
    result = location.solve_mexclp(
        costs, SF_P, SF_RADIUS, 0.0, population, max_teams_per_site=1
    )
    assert result.status == location.OPTIMAL
    assert result.objective == SF_MCLP_COVERED
    assert set(result.sites) == SF_MCLP_SITES


# --- brute force on small instances ------------------------------------------


def brute_mexclp(cover, weights, p, q, cap):
    best = -math.inf
    for combo in itertools.combinations_with_replacement(range(cover.shape[1]), p):
        teams = np.bincount(combo, minlength=cover.shape[1])
        if teams.max() > cap:
            continue
        in_range = cover.astype(int) @ teams
        best = max(best, float(weights @ (1.0 - q**in_range)))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mexclp_matches_brute_force(seed):
    costs = small_instance(seed)
    weights = np.random.default_rng(seed).integers(1, 20, costs.shape[0]).astype(float)
    radius, p, q, cap = 3.5, 3, 0.4, 2
    result = location.solve_mexclp(costs, p, radius, q, weights, max_teams_per_site=cap)
    expected = brute_mexclp(costs <= radius, weights, p, q, cap)
    assert result.status == location.OPTIMAL
    assert result.objective == pytest.approx(expected, rel=1e-9)
    assert sum(result.site_counts.values()) == p
    assert max(result.site_counts.values()) <= cap


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_models_match_brute_force(seed):
    costs = small_instance(seed)
    weights = np.random.default_rng(seed).integers(1, 20, costs.shape[0]).astype(float)
    radius, p = 3.0, 3
    combos = [list(c) for c in itertools.combinations(range(costs.shape[1]), p)]
    covered = [weights[(costs[:, c] <= radius).any(axis=1)].sum() for c in combos]
    median = [weights @ costs[:, c].min(axis=1) for c in combos]
    center = [costs[:, c].min(axis=1).max() for c in combos]

    assert location.solve_mclp(costs, p, radius, weights).objective == max(covered)
    assert location.solve_pmedian(costs, p, weights).objective == pytest.approx(
        min(median), rel=1e-12
    )
    assert location.solve_pcenter(costs, p).objective == pytest.approx(min(center))

    reach = float(costs.min(axis=1).max()) + 0.5
    fewest = next(
        size
        for size in range(1, costs.shape[1] + 1)
        if any(
            (costs[:, list(c)] <= reach).any(axis=1).all()
            for c in itertools.combinations(range(costs.shape[1]), size)
        )
    )
    assert location.solve_lscp(costs, reach).objective == fewest


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_mclp_tabu_never_loses_weight(seed):
    rng = np.random.default_rng(seed)
    cover = rng.random((300, 40)) < 0.08
    weights = rng.integers(1, 50, 300).astype(float)
    fixed = np.array([3])
    greedy = cover_search.greedy_cover(cover, weights, 6, fixed)
    improved = cover_search.tabu_cover(cover, weights, greedy, fixed, 5.0, seed=seed)
    assert improved.sum() == 6
    assert improved[3]
    before = weights[cover[:, greedy].any(axis=1)].sum()
    after = weights[cover[:, improved].any(axis=1)].sum()
    assert after >= before


def test_mclp_tabu_leaves_greedy_trap():
    """Greedy opens the big middle site; one swap covers both ends instead."""
    cover = np.array(
        [[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]], dtype=bool
    )
    weights = np.array([1.0, 1.0, 1.0, 1.0, 1.5, 1.5])
    greedy = cover_search.greedy_cover(cover, weights, 2, np.array([], dtype=int))
    assert greedy.tolist() == [True, True, False]
    improved = cover_search.tabu_cover(cover, weights, greedy, np.array([], dtype=int), 5.0)
    assert improved.tolist() == [False, True, True]


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_mclp_tabu_finds_brute_force_optimum(seed):
    """On models small enough to enumerate, the search ends at the optimum."""
    rng = np.random.default_rng(seed)
    cover = rng.random((120, 14)) < 0.15
    weights = rng.integers(1, 30, 120).astype(float)
    best = max(
        weights[cover[:, list(sites)].any(axis=1)].sum()
        for sites in itertools.combinations(range(14), 4)
    )
    found = cover_search.best_cover(cover, weights, 4, np.array([], dtype=int), 30.0)
    assert found.sum() == 4
    assert weights[cover[:, found].any(axis=1)].sum() == best


def test_mclp_tabu_keeps_every_fixed_site():
    rng = np.random.default_rng(5)
    cover = rng.random((200, 20)) < 0.1
    weights = rng.integers(1, 40, 200).astype(float)
    fixed = np.array([0, 7, 19])
    found = cover_search.best_cover(cover, weights, 5, fixed, 30.0)
    assert found.sum() == 5
    assert found[fixed].all()


def test_mclp_tabu_with_every_site_open():
    cover = np.array([[1, 0], [0, 1]], dtype=bool)
    weights = np.array([2.0, 3.0])
    found = cover_search.best_cover(cover, weights, 2, np.array([], dtype=int), 5.0)
    assert found.tolist() == [True, True]


def test_mclp_tabu_repeats_for_same_seed():
    rng = np.random.default_rng(8)
    cover = rng.random((400, 60)) < 0.06
    weights = rng.integers(1, 90, 400).astype(float)
    first = cover_search.best_cover(cover, weights, 8, np.array([], dtype=int), 60.0)
    second = cover_search.best_cover(cover, weights, 8, np.array([], dtype=int), 60.0)
    assert first.tolist() == second.tolist()


def test_result_reports_status_gap_seconds():
    result = location.solve_mclp(small_instance(7), 2, 3.0)
    assert result.status == "Optimal"
    assert result.gap == 0.0
    assert result.seconds > 0.0
    assert result.optimal


def test_covered_population_differs_from_weight():
    """Demand weights choose the sites; population is reported beside them."""
    costs = np.array([[1.0, 9.0], [9.0, 1.0], [9.0, 9.0]])
    demand = np.array([5.0, 1.0, 0.0])
    population = np.array([100.0, 4000.0, 50.0])
    result = location.solve_mclp(costs, 1, 2.0, demand, population=population)
    assert result.sites == ("0",)
    assert result.covered_weight == 5.0
    assert result.covered_population == 100.0
    assert result.total_population == 4150.0


def test_fixed_site_is_opened():
    costs = small_instance(8)
    free = location.solve_pmedian(costs, 2)
    unused = next(j for j in range(costs.shape[1]) if j not in free.site_indices)
    forced = location.solve_pmedian(costs, 2, fixed_sites=[unused])
    assert unused in forced.site_indices
    assert forced.objective >= free.objective


def test_lscp_uncoverable_names_points():
    costs = np.array([[1.0, 2.0], [50.0, 60.0]])
    with pytest.raises(location.CoverageInfeasibleError, match="at least 50"):
        location.solve_lscp(costs, 10.0)


def test_lscp_skip_uncoverable_reports_them():
    costs = np.array([[1.0, 2.0], [50.0, 60.0]])
    result = location.solve_lscp(costs, 10.0, skip_uncoverable=True)
    assert result.uncovered_points == ("1",)
    assert result.objective == 1


def test_rejects_p_above_sites():
    with pytest.raises(ValueError, match="only 7 candidate sites"):
        location.solve_pmedian(small_instance(9), 8)


def test_rejects_negative_cost():
    costs = small_instance(9)
    costs[2, 3] = -1.0
    with pytest.raises(ValueError, match="negative"):
        location.solve_mclp(costs, 2, 3.0)


def test_rejects_busy_fraction_one():
    with pytest.raises(ValueError, match="below 1"):
        location.solve_mexclp(small_instance(9), 2, 3.0, 1.0)


# --- cost and weight files ---------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_read_cost_matrix(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s2\na,1,2\nb,3,inf\n")
    matrix = read_cost_matrix(path)
    assert matrix.points == ("a", "b")
    assert matrix.sites == ("s1", "s2")
    assert math.isinf(matrix.values[1, 1])


def test_cost_file_bad_cell_names_row_and_column(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s2\na,1,2\nb,3,x\n")
    with pytest.raises(CostFileError) as caught:
        read_cost_matrix(path)
    message = str(caught.value)
    assert "line 3, column 3" in message
    assert "point 'b', site 's2'" in message
    assert "'x' is not a number" in message
    assert "write the value as a number" in message


def test_cost_file_short_row(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s2\na,1\n")
    with pytest.raises(CostFileError, match="line 2: expected 3 cells"):
        read_cost_matrix(path)


def test_cost_file_empty_cell(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s2\na,1,\n")
    with pytest.raises(CostFileError, match="line 2, column 3.*empty; write a number"):
        read_cost_matrix(path)


def test_cost_file_negative(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1\na,-4\n")
    with pytest.raises(CostFileError, match="column 2.*-4 is negative"):
        read_cost_matrix(path)


def test_cost_file_duplicate_site(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s1\na,1,2\n")
    with pytest.raises(CostFileError, match="site id 's1' appears twice"):
        read_cost_matrix(path)


def test_cost_file_missing(tmp_path):
    with pytest.raises(CostFileError, match="file not found; check the path"):
        read_cost_matrix(tmp_path / "none.csv")


def test_cost_file_header_only(tmp_path):
    path = write(tmp_path / "c.csv", "point,s1\n")
    with pytest.raises(CostFileError, match="no demand points"):
        read_cost_matrix(path)


def test_weights_file_errors(tmp_path):
    costs = read_cost_matrix(write(tmp_path / "c.csv", "point,s1\na,1\nb,2\n"))
    bad = write(tmp_path / "w.csv", "id,weight\na,5\nb,lots\n")
    with pytest.raises(CostFileError, match="line 3, column 2 \\(point 'b'\\)"):
        read_weights(bad, costs.points)
    missing = write(tmp_path / "w2.csv", "a,5\n")
    with pytest.raises(CostFileError, match="1 demand points have no weight"):
        read_weights(missing, costs.points)


# --- command line --------------------------------------------------------------


def run_placement(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["placement", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cost_files(tmp_path) -> tuple[Path, Path]:
    costs = write(
        tmp_path / "costs.csv",
        "tract,north,south,east\n"
        "t1,5,30,20\nt2,8,25,40\nt3,40,6,35\nt4,45,9,12\nt5,50,60,7\n",
    )
    weights = write(tmp_path / "weights.csv", "tract,people\nt1,100\nt2,50\nt3,80\nt4,20\nt5,10\n")
    return costs, weights


def test_cli_mclp_json(capsys, cost_files):
    costs, weights = cost_files
    code, out, err = run_placement(
        capsys, "--model", "mclp", "--costs", str(costs), "--weights", str(weights),
        "--p", "2", "--radius", "10", "--format", "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["sites"] == ["north", "south"]
    assert data["objective"] == 250.0
    assert data["covered_weight"] == 250.0
    assert data["status"] == "Optimal"
    assert data["gap"] == 0.0
    assert data["seconds"] >= 0.0
    assert data["uncovered_points"] == ["t5"]


def test_cli_covered_population(capsys, cost_files, tmp_path):
    costs, weights = cost_files
    people = write(tmp_path / "people.csv", "t1,1000\nt2,500\nt3,800\nt4,200\nt5,100\n")
    code, out, err = run_placement(
        capsys, "--model", "mclp", "--costs", str(costs), "--weights", str(weights),
        "--population", str(people), "--p", "2", "--radius", "10", "--format", "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["covered_weight"] == 250.0
    assert data["covered_population"] == 2500.0
    assert data["total_population"] == 2600.0


def test_cli_population_needs_costs(capsys, tmp_path):
    people = write(tmp_path / "people.csv", "t1,1000\n")
    code, _, err = run_placement(
        capsys, "--model", "mclp", "--p", "2", "--population", str(people)
    )
    assert code == 2
    assert "--population works only with --costs" in err


@pytest.mark.parametrize(
    ("model", "extra", "objective"),
    [
        ("lscp", ["--radius", "10"], 3.0),
        ("pmedian", ["--p", "2"], 100 * 5 + 50 * 8 + 80 * 6 + 20 * 9 + 10 * 50),
        ("pcenter", ["--p", "3"], 9.0),
        ("mexclp", ["--p", "3", "--radius", "10", "--busy-fraction", "0.5"], None),
    ],
)
def test_cli_each_model(capsys, cost_files, model, extra, objective):
    costs, weights = cost_files
    code, out, err = run_placement(
        capsys, "--model", model, "--costs", str(costs), "--weights", str(weights),
        *extra, "--format", "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "Optimal"
    for key in ("objective", "sites", "status", "gap", "seconds"):
        assert key in data
    if objective is not None:
        assert data["objective"] == pytest.approx(objective)
    if model in ("lscp", "mexclp"):
        assert "covered_weight" in data


def test_cli_bad_costs_file_exit_2(capsys, tmp_path):
    path = write(tmp_path / "c.csv", "point,s1,s2\na,1,2\nb,3,far\n")
    code, out, err = run_placement(
        capsys, "--model", "mclp", "--costs", str(path), "--p", "1", "--radius", "5"
    )
    assert code == 2
    assert out == ""
    assert "line 3, column 3" in err
    assert "'far' is not a number" in err


def test_cli_needs_radius_with_costs(capsys, cost_files):
    costs, _ = cost_files
    code, _, err = run_placement(capsys, "--model", "mclp", "--costs", str(costs), "--p", "1")
    assert code == 2
    assert "needs --radius" in err


def test_cli_uncoverable_exit_1(capsys, cost_files):
    costs, _ = cost_files
    code, _, err = run_placement(
        capsys, "--model", "lscp", "--costs", str(costs), "--radius", "6"
    )
    assert code == 1
    assert "Raise the radius to at least" in err


def test_cli_datapack_mclp(capsys):
    code, out, err = run_placement(
        capsys, "--model", "mclp", "--p", "2", "--radius", "20",
        "--candidates", "facilities", "--format", "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["demand_points"] == 363
    assert data["total_population"] == 1585055
    assert 0 < data["covered_population"] < data["total_population"]
    assert data["status"] == "Optimal"


# --- pairs with no route (inf) -------------------------------------------------

# A and C each miss a point, and only A with B (or B with C) reach all three.
NO_ROUTE_COSTS = "pt,A,B,C\np1,inf,5,inf\np2,1,100,inf\np3,2,inf,3\n"


@pytest.mark.parametrize("model", ["pcenter", "pmedian"])
def test_cli_too_few_sites_with_routes(capsys, tmp_path, model):
    costs = write(tmp_path / "costs.csv", NO_ROUTE_COSTS)
    code, out, err = run_placement(
        capsys, "--model", model, "--p", "1", "--costs", str(costs), "--format", "json"
    )
    assert code == 1
    assert out == ""
    assert "no set of 1 candidate sites has a route" in err
    assert "Raise p to at least 2" in err


def test_pcenter_too_few_sites_raises():
    costs = np.array([[np.inf, 5, np.inf], [1, 100, np.inf], [2, np.inf, 3]])
    with pytest.raises(location.TooFewSitesError) as raised:
        location.solve_pcenter(costs, 1)
    assert raised.value.needed == 2


def test_pcenter_inf_costs_finite_optimum():
    costs = np.array([[np.inf, 5, np.inf], [1, 100, np.inf], [2, np.inf, 3]])
    result = location.solve_pcenter(costs, 2)
    assert result.objective == 5.0
    assert result.sites == ("0", "1")
    assert result.status == location.OPTIMAL
    assert result.gap == 0.0


def test_check_p_reaches_all_fixed_site():
    costs = np.array([[1.0, 1.0], [1.0, np.inf]])
    location.check_p_reaches_all(costs, 1)
    with pytest.raises(location.TooFewSitesError, match="fewest sites that do are 2"):
        location.check_p_reaches_all(costs, 1, fixed_sites=["1"])


def test_lscp_point_without_route():
    costs = np.array([[1.0, 2.0], [np.inf, np.inf]])
    with pytest.raises(ValueError, match="no finite cost to any site.*'1'"):
        location.solve_lscp(costs, 5.0)


# --- cost and weight file values -----------------------------------------------


def test_cost_too_large_for_float(tmp_path):
    path = write(tmp_path / "c.csv", "pt,A,B\np1,1,1e400\np2,inf,Infinity\n")
    with pytest.raises(CostFileError, match=r"line 2, column 3 \(point 'p1', site 'B'\): '1e400' is too large"):
        read_cost_matrix(path)
    fine = write(tmp_path / "ok.csv", "pt,A,B\np1,1,2\np2,inf,Infinity\n")
    assert np.isinf(read_cost_matrix(fine).values[1]).all()


def test_weights_first_row_is_data(tmp_path):
    costs = CostMatrix(("p1", "p2"), ("A",), np.ones((2, 1)))
    path = write(tmp_path / "w.csv", "p1,many\np2,5\n")
    with pytest.raises(CostFileError, match=r"line 1, column 2 \(point 'p1'\): 'many' is not a number"):
        read_weights(path, costs.points)
    header = write(tmp_path / "h.csv", "tract,people\np1,3\np2,5\n")
    assert read_weights(header, costs.points).tolist() == [3.0, 5.0]


def test_weights_inf_names_line(tmp_path):
    costs = CostMatrix(("p1", "p2"), ("A",), np.ones((2, 1)))
    path = write(tmp_path / "w.csv", "p1,3\np2,inf\n")
    with pytest.raises(CostFileError, match=r"w.csv, line 2, column 2 \(point 'p2'\): the value is inf"):
        read_weights(path, costs.points)


def test_population_errors_say_population(tmp_path):
    costs = CostMatrix(("p1", "p2"), ("A",), np.ones((2, 1)))
    path = write(tmp_path / "people.csv", "p1,3\n")
    with pytest.raises(CostFileError, match="1 demand points have no population"):
        read_weights(path, costs.points, kind="population")


def test_weights_sum_overflow(tmp_path):
    costs = CostMatrix(("p1", "p2"), ("A",), np.ones((2, 1)))
    path = write(tmp_path / "w.csv", "p1,1e308\np2,1e308\n")
    with pytest.raises(CostFileError, match="weight values sum to more than the largest float"):
        read_weights(path, costs.points)
    with pytest.raises(ValueError, match="weights sum to inf, above 1e"):
        location.solve_mclp(costs.values, 1, 5.0, [1e308, 1e308])


def test_pmedian_rejects_huge_weights():
    costs = np.array([[1.0, 9.0], [9.0, 1.0]])
    with pytest.raises(ValueError, match=r"weights sum to 1e\+308, above 1e\+15; scale them down"):
        location.solve_pmedian(costs, 1, [1e308, 1.0])
    with pytest.raises(ValueError, match="population sum to"):
        location.solve_mclp(costs, 1, 5.0, population=[1e16, 1.0])
    assert location.solve_pmedian(costs, 1, [1e12, 1.0]).sites == ("0",)


def test_cli_population_file_error(capsys, cost_files, tmp_path):
    costs, _ = cost_files
    people = write(tmp_path / "people.csv", "t1,1000\n")
    code, _, err = run_placement(
        capsys, "--model", "mclp", "--costs", str(costs), "--population", str(people),
        "--p", "2", "--radius", "10",
    )
    assert code == 2
    assert "4 demand points have no population" in err


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("mclp", ["--p", "2", "--radius", "10"]),
        ("lscp", ["--radius", "10"]),
        ("mexclp", ["--p", "2", "--radius", "10", "--busy-fraction", "0.5", "--max-teams-per-site", "1"]),
        ("pmedian", ["--p", "2"]),
    ],
)
def test_cli_assignment_every_model(capsys, tmp_path, model, extra):
    costs = write(
        tmp_path / "costs.csv", "pt,north,south,east\nt1,5,30,20\nt2,40,6,35\nt3,inf,9,inf\n"
    )
    code, out, err = run_placement(
        capsys, "--model", model, "--costs", str(costs), *extra, "--assignment",
        "--format", "json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["sites"] == ["north", "south"]
    assert data["assignment"] == {"t1": "north", "t2": "south", "t3": "south"}


def test_cli_assignment_point_without_route(capsys, tmp_path):
    costs = write(tmp_path / "costs.csv", "pt,A,B\nt1,1,inf\nt2,inf,inf\n")
    code, out, err = run_placement(
        capsys, "--model", "mclp", "--costs", str(costs), "--p", "1", "--radius", "5",
        "--assignment", "--format", "json",
    )
    assert code == 0, err
    assert json.loads(out)["assignment"] == {"t1": "A", "t2": None}


def test_cli_candidates_with_costs_rejected(capsys, cost_files):
    costs, _ = cost_files
    code, out, err = run_placement(
        capsys, "--model", "pmedian", "--costs", str(costs), "--p", "2",
        "--candidates", "facilities",
    )
    assert code == 2
    assert out == ""
    assert "--candidates works only with the data pack" in err


def test_mclp_reduced_cost_fixing_keeps_optimum(monkeypatch):
    """Sites closed by reduced costs never cost the optimum, on instances
    whose LP bound the heuristic cannot reach (so the MIP runs)."""
    fixed_counts = []
    original = location._fix_by_reduced_cost

    def recording(relaxation, sites, incumbent):
        closed, opened = original(relaxation, sites, incumbent)
        fixed_counts.append(int(closed.sum() + opened.sum()))
        return closed, opened

    monkeypatch.setattr(location, "_fix_by_reduced_cost", recording)
    for seed in range(12):
        rng = np.random.default_rng(300 + seed)
        demand = rng.random((120, 2)) * 10
        candidates = rng.random((20, 2)) * 10
        costs = np.sqrt(((demand[:, None] - candidates[None]) ** 2).sum(axis=2))
        weights = rng.integers(1, 30, 120).astype(float)
        combos = itertools.combinations(range(20), 4)
        best = max(weights[(costs[:, list(c)] <= 2.5).any(axis=1)].sum() for c in combos)

        result = location.solve_mclp(costs, 4, 2.5, weights)

        assert result.status == location.OPTIMAL
        assert result.objective == best
    assert fixed_counts
    assert max(fixed_counts) > 0


def test_pmedian_direct_call_names_too_few_sites():
    """Called from Python, p-median names the p that would reach every point."""
    inf = math.inf
    costs = np.array([[inf, 5.0, inf], [1.0, 100.0, inf], [2.0, inf, 3.0]])

    with pytest.raises(location.TooFewSitesError, match="at least 2"):
        location.solve_pmedian(costs, 1)
