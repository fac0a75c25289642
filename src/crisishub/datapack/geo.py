"""Point-in-county tests, distances and tract lookup for the service area.

All functions take latitude and longitude in decimal degrees (WGS84; the
NAD83 boundary differs by 1-2 m here). The county index is built once, on the
first call, and kept for the life of the process.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crisishub.datapack import Tract, load_boundary, load_tracts

# Mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088

OUTSIDE_SERVICE_AREA = "Location is outside the Sacramento County service area."


@dataclass(frozen=True)
class Placement:
    """Placement of a point: in the service area or not, and its tract."""

    in_service_area: bool
    tract_geoid: str | None
    rural: bool | None
    reason: str | None


@dataclass(frozen=True)
class _CountyIndex:
    """Numpy arrays for the boundary edges and tract centres."""

    min_lon: float
    max_lon: float
    min_lat: float
    max_lat: float
    edge_lon: np.ndarray
    edge_lat: np.ndarray
    next_lat: np.ndarray
    edge_slope: np.ndarray
    tract_lat: np.ndarray
    tract_lon: np.ndarray
    tracts: tuple[Tract, ...]


def check_coordinates(lat: float, lon: float) -> tuple[float, float]:
    """Return (lat, lon) as floats, or raise ValueError naming the bad value.

    A value is invalid when it is not a real number (bool and str included),
    is NaN or infinite, or lies outside [-90, 90] for lat or [-180, 180] for
    lon.
    """
    return _check_degrees("lat", lat, 90.0), _check_degrees("lon", lon, 180.0)


def _check_degrees(name: str, value: object, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}={value!r} is not a number; pass decimal degrees")

    degrees = float(value)
    if not math.isfinite(degrees) or abs(degrees) > limit:
        raise ValueError(
            f"{name}={value!r} is invalid; expected a finite value in "
            f"[-{limit:g}, {limit:g}] decimal degrees"
        )
    return degrees


def point_in_ring(lon: float, lat: float, ring: Sequence[tuple[float, float]]) -> bool:
    """Return True when (lon, lat) is inside the ring, by ray casting.

    The ring is a sequence of (lon, lat) vertices, closed or not. Points
    exactly on an edge may fall on either side.
    """
    inside = False
    previous_lon, previous_lat = ring[-1]
    for vertex_lon, vertex_lat in ring:
        if (previous_lat > lat) != (vertex_lat > lat):
            slope = (vertex_lon - previous_lon) / (vertex_lat - previous_lat)
            crossing = previous_lon + (lat - previous_lat) * slope
            if lon < crossing:
                inside = not inside
        previous_lon, previous_lat = vertex_lon, vertex_lat
    return inside


@functools.cache
def _index() -> _CountyIndex:
    ring = np.array(load_boundary(), dtype=np.float64)
    start = np.roll(ring, 1, axis=0)
    rise = ring[:, 1] - start[:, 1]
    run = ring[:, 0] - start[:, 0]
    safe_rise = np.where(rise == 0.0, 1.0, rise)

    tracts = tuple(load_tracts())
    return _CountyIndex(
        min_lon=float(ring[:, 0].min()),
        max_lon=float(ring[:, 0].max()),
        min_lat=float(ring[:, 1].min()),
        max_lat=float(ring[:, 1].max()),
        edge_lon=start[:, 0].copy(),
        edge_lat=start[:, 1].copy(),
        next_lat=ring[:, 1].copy(),
        edge_slope=np.where(rise == 0.0, 0.0, run / safe_rise),
        tract_lat=np.array([t.lat for t in tracts]),
        tract_lon=np.array([t.lon for t in tracts]),
        tracts=tracts,
    )


def _inside(index: _CountyIndex, lat: float, lon: float) -> bool:
    if not (index.min_lat <= lat <= index.max_lat):
        return False
    if not (index.min_lon <= lon <= index.max_lon):
        return False

    # Same arithmetic as point_in_ring, over all edges at once.
    spans = (index.edge_lat > lat) != (index.next_lat > lat)
    crossing = index.edge_lon + (lat - index.edge_lat) * index.edge_slope
    return bool(np.count_nonzero(spans & (lon < crossing)) % 2)


def in_county(lat: float, lon: float) -> bool:
    """Return True when the point lies inside Sacramento County.

    NOTE: the boundary is the 1:5,000,000 Census cartographic file, so a
    point within about 1-2 km of the county line, much of which follows
    rivers, can come out on the wrong side.
    """
    lat, lon = check_coordinates(lat, lon)
    return _inside(_index(), lat, lon)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = math.radians(lon2 - lon1) / 2.0
    a = (
        math.sin(half_dphi) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    )
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_array(
    lat1: npt.ArrayLike,
    lon1: npt.ArrayLike,
    lat2: npt.ArrayLike,
    lon2: npt.ArrayLike,
) -> np.ndarray:
    """Return great-circle distances in kilometres, with numpy broadcasting.

    For an origin-destination matrix pass column and row vectors, for example
    ``haversine_km_array(lat[:, None], lon[:, None], lat2, lon2)``.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = np.radians(np.subtract(lon2, lon1, dtype=np.float64)) / 2.0
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _nearest(index: _CountyIndex, lat: float, lon: float) -> Tract:
    # At county scale the equirectangular distance ranks tract centres like
    # the haversine distance (a test checks random points), at lower cost.
    east = (index.tract_lon - lon) * math.cos(math.radians(lat))
    north = index.tract_lat - lat
    return index.tracts[int(np.argmin(east * east + north * north))]


def nearest_tract(lat: float, lon: float) -> Tract:
    """Return the tract whose population centre is nearest to the point."""
    lat, lon = check_coordinates(lat, lon)
    return _nearest(_index(), lat, lon)


def locate(lat: float, lon: float) -> Placement:
    """Place a point in the service area and assign it a tract.

    NOTE: the pack has no tract polygons, so the tract is the one whose
    population centre is nearest. Near a tract edge this can be the
    neighbouring tract, and so the rural flag of a point near an urban-rural
    edge can be wrong.

    Raises ValueError for invalid coordinates (see check_coordinates).
    """
    lat, lon = check_coordinates(lat, lon)
    index = _index()
    if not _inside(index, lat, lon):
        return Placement(
            in_service_area=False,
            tract_geoid=None,
            rural=None,
            reason=OUTSIDE_SERVICE_AREA,
        )

    tract = _nearest(index, lat, lon)
    return Placement(
        in_service_area=True, tract_geoid=tract.geoid, rural=tract.rural, reason=None
    )


def urban_rural(lat: float, lon: float) -> str | None:
    """Return "urban" or "rural" for a point in the county, else None.

    A tract is rural when it has fewer than 50 people per square mile of land.
    """
    placement = locate(lat, lon)
    if placement.rural is None:
        return None
    return "rural" if placement.rural else "urban"
