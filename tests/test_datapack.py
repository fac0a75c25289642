"""Tests of the shipped Sacramento County data pack and its geo helpers."""

from __future__ import annotations

import importlib.util
import math
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from crisishub import datapack
from crisishub.datapack import geo

REPO_ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = REPO_ROOT / "src" / "crisishub" / "datapack"
# The raw sources are not part of the repository; a developer who has them
# points this variable at their folder to run the rebuild check.
SOURCE_DIR = Path(os.environ.get("CRISISHUB_DATAPACK_SOURCE", "/nonexistent"))

RURAL_GEOIDS = {
    "06067007101",
    "06067008602",
    "06067009900",
    "06067009406",
    "06067009800",
}
SAN_FRANCISCO = (37.77, -122.42)
SACRAMENTO_CITY_HALL = (38.5816, -121.4944)
BLOCK_PATTERN = re.compile(r"(?:[1-9]\d*00|0) BLOCK [A-Z0-9 ]+|[^/]+ / [^/]+")


def facility_by_name(fragment: str) -> datapack.Facility:
    matches = [f for f in datapack.load_facilities() if fragment in f.name]
    assert len(matches) == 1, f"expected one facility named like {fragment!r}"
    return matches[0]


def random_points_in_bbox(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(38.0, 38.8, count)
    lon = rng.uniform(-121.9, -121.0, count)
    return np.column_stack([lat, lon])


# Tracts


def test_tracts_count() -> None:
    assert len(datapack.load_tracts()) == 363


def test_tracts_total_population() -> None:
    assert sum(t.population for t in datapack.load_tracts()) == 1_585_055


def test_tracts_rural_ids() -> None:
    rural = {t.geoid for t in datapack.load_tracts() if t.rural}
    assert rural == RURAL_GEOIDS


def test_tracts_rural_matches_density() -> None:
    for tract in datapack.load_tracts():
        assert tract.rural == (tract.density < 50), tract


def test_tracts_geoid_format() -> None:
    for tract in datapack.load_tracts():
        assert isinstance(tract.geoid, str)
        assert re.fullmatch(r"06067\d{6}", tract.geoid), tract.geoid


def test_tracts_density_consistent() -> None:
    for tract in datapack.load_tracts():
        expected = tract.population / tract.land_sqmi
        assert tract.density == pytest.approx(expected, rel=1e-3), tract


def test_tracts_land_area_total() -> None:
    total = sum(t.land_sqmi for t in datapack.load_tracts())
    assert total == pytest.approx(2_500_040_418 / 2_589_988.110336, abs=0.01)


def test_tracts_centres_in_county() -> None:
    outside = [
        t.geoid for t in datapack.load_tracts() if not geo.in_county(t.lat, t.lon)
    ]
    assert outside == []


def test_tracts_copy_isolated() -> None:
    tracts = datapack.load_tracts()
    tracts.clear()
    assert len(datapack.load_tracts()) == 363


# Boundary


def test_boundary_ring_closed() -> None:
    ring = datapack.load_boundary()
    assert ring[0] == ring[-1]


def test_boundary_vertex_count() -> None:
    assert len(datapack.load_boundary()) == 100


def test_boundary_clockwise() -> None:
    ring = datapack.load_boundary()
    twice_area = sum(
        x1 * y2 - x2 * y1
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True)
    )
    assert twice_area < 0


# Facilities


def test_facilities_count() -> None:
    assert len(datapack.load_facilities()) == 19


def test_facilities_uc_davis_ed() -> None:
    uc_davis = facility_by_name("UNIVERSITY OF CALIFORNIA DAVIS")
    assert uc_davis.emergency_services == "yes"
    assert uc_davis.kind == "emergency_department"
    assert uc_davis.hours == "24/7"
    assert uc_davis.trauma_level == "LEVEL I ADULT, LEVEL I PEDIATRIC"


def test_facilities_urgent_care_clinic() -> None:
    clinic = facility_by_name("URGENT CARE CLINIC")
    assert clinic.kind == "mental_health_urgent_care"
    assert clinic.hours == "24/7"
    assert clinic.address.startswith("2130 STOCKTON BLVD")
    assert clinic.is_open


def test_facilities_clinic_shares_coordinates() -> None:
    clinic = facility_by_name("URGENT CARE CLINIC")
    treatment_center = facility_by_name("MENTAL HEALTH TREATMENT CENTER")
    assert (clinic.lat, clinic.lon) == (treatment_center.lat, treatment_center.lon)


def test_facilities_closed_marked() -> None:
    midtown = facility_by_name("MIDTOWN OAKS")
    assert midtown.status == "closed"
    assert not midtown.is_open
    assert midtown.hours is None


def test_facilities_emergency_counts() -> None:
    flags = [f.emergency_services for f in datapack.load_facilities()]
    assert flags.count("yes") == 10
    assert flags.count("no") == 3
    assert flags.count("unknown") == 6


def test_facilities_kinds_known() -> None:
    for facility in datapack.load_facilities():
        assert facility.kind in datapack.FACILITY_KINDS, facility


def test_facilities_ed_hours() -> None:
    for facility in datapack.load_facilities():
        if facility.kind == "emergency_department":
            assert facility.hours == "24/7", facility.name


def test_facilities_psychiatric_count() -> None:
    kinds = [f.kind for f in datapack.load_facilities()]
    assert kinds.count("psychiatric_hospital") == 6


def test_facilities_languages_unknown() -> None:
    for facility in datapack.load_facilities():
        assert facility.languages is None, facility.name


def test_facilities_in_county() -> None:
    for facility in datapack.load_facilities():
        assert geo.in_county(facility.lat, facility.lon), facility.name


# Events


def test_events_count() -> None:
    assert len(datapack.load_events()) == 111


def test_events_kind_counts() -> None:
    kinds = [e.kind for e in datapack.load_events()]
    assert kinds.count("5150") == 106
    assert kinds.count("possible_mental") == 5


def test_events_sorted_by_time() -> None:
    times = [e.occurred_at for e in datapack.load_events()]
    assert times == sorted(times)


def test_events_ids_in_order() -> None:
    ids = [e.event_id for e in datapack.load_events()]
    assert ids == [f"SAC2006-{n:04d}" for n in range(1, 112)]


def test_events_timezone_pacific() -> None:
    for event in datapack.load_events():
        assert event.occurred_at.utcoffset().total_seconds() == -8 * 3600, event


def test_events_first_time() -> None:
    first = datapack.load_events()[0]
    assert first.occurred_at.isoformat() == "2006-01-01T05:22:00-08:00"


def test_events_no_house_numbers() -> None:
    for event in datapack.load_events():
        assert BLOCK_PATTERN.fullmatch(event.block), event.block


def test_events_block_example() -> None:
    assert datapack.load_events()[0].block == "1400 BLOCK I ST"


def test_events_coordinates_rounded() -> None:
    for event in datapack.load_events():
        assert round(event.lat, 3) == event.lat, event
        assert round(event.lon, 3) == event.lon, event


def test_events_in_county() -> None:
    outside = [
        e.event_id for e in datapack.load_events() if not geo.in_county(e.lat, e.lon)
    ]
    assert outside == []


def test_events_beat_stripped() -> None:
    for event in datapack.load_events():
        assert event.beat == event.beat.strip()
        assert event.beat != ""


# Hour-of-week profile


def test_profile_shape() -> None:
    assert datapack.load_hour_of_week_profile().shape == (7, 24)


def test_profile_total() -> None:
    assert int(datapack.load_hour_of_week_profile().sum()) == 32_000


def test_profile_matches_metadata_total() -> None:
    profile = datapack.load_hour_of_week_profile()
    metadata = datapack.load_hour_of_week_metadata()
    assert int(profile.sum()) == metadata.total_events


def test_profile_midnight_from_na() -> None:
    profile = datapack.load_hour_of_week_profile()
    metadata = datapack.load_hour_of_week_metadata()
    assert int(profile[:, 0].sum()) == metadata.hour_na_counted_as_midnight
    assert metadata.hour_na_counted_as_midnight == 1137


def test_profile_read_only() -> None:
    profile = datapack.load_hour_of_week_profile()
    with pytest.raises(ValueError):
        profile[0, 0] = 1


def test_profile_labelled_borrowed() -> None:
    metadata = datapack.load_hour_of_week_metadata()
    assert metadata.borrowed is True
    assert "Toronto" in metadata.region


def test_profile_date_range() -> None:
    metadata = datapack.load_hour_of_week_metadata()
    assert metadata.first_date.isoformat() == "2014-01-01"
    assert metadata.last_date.isoformat() == "2015-06-12"


# ZCTA centroids


def test_zcta_count() -> None:
    assert len(datapack.load_zcta_centroids()) == 54


def test_zcta_zip_format() -> None:
    for zip_code, centroid in datapack.load_zcta_centroids().items():
        assert re.fullmatch(r"\d{5}", zip_code), zip_code
        assert centroid.zip == zip_code


def test_zcta_downtown_present() -> None:
    assert "95814" in datapack.load_zcta_centroids()


def test_zcta_points_in_county() -> None:
    for centroid in datapack.load_zcta_centroids().values():
        assert geo.in_county(centroid.lat, centroid.lon), centroid


# Geo: locate, urban_rural, in_county


def test_locate_san_francisco_outside() -> None:
    placement = geo.locate(*SAN_FRANCISCO)
    assert placement.in_service_area is False
    assert placement.tract_geoid is None
    assert placement.rural is None
    assert placement.reason == geo.OUTSIDE_SERVICE_AREA


def test_locate_downtown_inside() -> None:
    placement = geo.locate(*SACRAMENTO_CITY_HALL)
    assert placement.in_service_area is True
    assert placement.tract_geoid is not None
    assert placement.tract_geoid.startswith("06067")
    assert placement.rural is False
    assert placement.reason is None


def test_locate_rural_tract_centres() -> None:
    for tract in datapack.load_tracts():
        if tract.rural:
            placement = geo.locate(tract.lat, tract.lon)
            assert placement.tract_geoid == tract.geoid
            assert placement.rural is True


def test_locate_every_tract_centre() -> None:
    for tract in datapack.load_tracts():
        assert geo.locate(tract.lat, tract.lon).tract_geoid == tract.geoid


def test_locate_matches_haversine_nearest() -> None:
    tracts = datapack.load_tracts()
    tract_lat = np.array([t.lat for t in tracts])
    tract_lon = np.array([t.lon for t in tracts])
    for lat, lon in random_points_in_bbox(2000, seed=7):
        placement = geo.locate(lat, lon)
        if not placement.in_service_area:
            continue
        distances = geo.haversine_km_array(lat, lon, tract_lat, tract_lon)
        assert placement.tract_geoid == tracts[int(np.argmin(distances))].geoid


def test_urban_rural_values() -> None:
    rural_tract = next(t for t in datapack.load_tracts() if t.geoid == "06067008602")
    assert geo.urban_rural(rural_tract.lat, rural_tract.lon) == "rural"
    assert geo.urban_rural(*SACRAMENTO_CITY_HALL) == "urban"
    assert geo.urban_rural(*SAN_FRANCISCO) is None


def test_in_county_matches_ring_function() -> None:
    ring = datapack.load_boundary()
    for lat, lon in random_points_in_bbox(3000, seed=11):
        assert geo.in_county(lat, lon) == geo.point_in_ring(lon, lat, ring), (lat, lon)


def test_in_county_outside_bbox() -> None:
    assert geo.in_county(0.0, 0.0) is False


def test_in_county_both_sides() -> None:
    inside = sum(geo.in_county(lat, lon) for lat, lon in random_points_in_bbox(3000, 3))
    assert 0 < inside < 3000


def test_nearest_tract_returns_tract() -> None:
    tract = geo.nearest_tract(*SACRAMENTO_CITY_HALL)
    assert tract.geoid == geo.locate(*SACRAMENTO_CITY_HALL).tract_geoid


@pytest.mark.parametrize(
    ("lat", "lon", "shown"),
    [
        (91.0, -121.4, "91.0"),
        (-90.5, -121.4, "-90.5"),
        (float("nan"), -121.4, "nan"),
        (38.5, float("inf"), "inf"),
        (38.5, 181.0, "181.0"),
        ("38.5", -121.4, "'38.5'"),
        (None, -121.4, "None"),
        (True, -121.4, "True"),
    ],
)
def test_locate_invalid_coordinates(lat: object, lon: object, shown: str) -> None:
    with pytest.raises(ValueError, match=re.escape(shown)):
        geo.locate(lat, lon)  # type: ignore[arg-type]


def test_in_county_invalid_coordinates() -> None:
    with pytest.raises(ValueError, match="lat=95"):
        geo.in_county(95, -121.4)


def test_locate_accepts_numpy_floats() -> None:
    placement = geo.locate(np.float64(38.5816), np.float32(-121.4944))
    assert placement.in_service_area is True


def test_locate_fast() -> None:
    # A loose bound of 200 microseconds per call. It catches a regression such
    # as rebuilding the index or rereading the pack files on every call.
    points = random_points_in_bbox(1000, seed=5).tolist()
    geo.locate(*SACRAMENTO_CITY_HALL)
    start = time.perf_counter()
    for lat, lon in points:
        geo.locate(lat, lon)
    assert time.perf_counter() - start < 0.2


# Distances


def test_haversine_one_degree_latitude() -> None:
    expected = math.pi / 180 * geo.EARTH_RADIUS_KM
    assert geo.haversine_km(38.0, -121.0, 39.0, -121.0) == pytest.approx(expected)


def test_haversine_sacramento_san_francisco() -> None:
    distance = geo.haversine_km(*SACRAMENTO_CITY_HALL, *SAN_FRANCISCO)
    assert distance == pytest.approx(121.5, abs=1.0)


def test_haversine_zero() -> None:
    assert geo.haversine_km(38.5, -121.4, 38.5, -121.4) == 0.0


def test_haversine_array_matches_scalar() -> None:
    points = random_points_in_bbox(50, seed=9)
    matrix = geo.haversine_km_array(
        points[:, 0][:, None], points[:, 1][:, None], points[:, 0], points[:, 1]
    )
    assert matrix.shape == (50, 50)
    for i in (0, 17, 49):
        for j in (3, 30):
            scalar = geo.haversine_km(*points[i], *points[j])
            assert matrix[i, j] == pytest.approx(scalar, rel=1e-12)


# Developer check: the shipped pack equals a fresh build from the raw sources.


@pytest.mark.skipif(
    not SOURCE_DIR.is_dir(),
    reason="developer check: source files not found; set CRISISHUB_DATAPACK_SOURCE",
)
def test_pack_matches_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Developer check: rebuild the pack and compare it with the shipped files."""
    pytest.importorskip("pyarrow", reason="developer check: build needs pyarrow")
    spec = importlib.util.spec_from_file_location(
        "build_datapack", REPO_ROOT / "scripts" / "build_datapack.py"
    )
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, build)
    spec.loader.exec_module(build)

    built = build.build_all(SOURCE_DIR)
    assert len(built) == 7
    for pack_file in built:
        shipped = (PACK_DIR / pack_file.name).read_bytes()
        assert shipped == pack_file.content, (
            f"{pack_file.name} differs; rerun the build"
        )
