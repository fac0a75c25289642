"""Travel-time estimates for dispatch recommendations.

`TravelTimeModel` is the interface the dispatcher calls. The default
`StraightLineTravelModel` turns great-circle distance into minutes:

    minutes = distance_km * circuity_factor / speed_kmh * 60 + overhead_minutes

A routing engine can replace it by implementing the same three methods.
Coordinates are WGS 84 degrees, latitude first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

# IUGG mean Earth radius.
EARTH_RADIUS_KM = 6371.0088

# The constants below are ESTIMATES for planning, not measured for this
# county. Replace them with values fitted to the program's own trip times.

# Road distance divided by straight-line distance. 1.3 is a commonly assumed
# detour ratio for US metro road networks, not a local measurement.
CIRCUITY_FACTOR = 1.3

# Average driving speed of a crisis van without lights and sirens.
URBAN_SPEED_KMH = 40.0
RURAL_SPEED_KMH = 65.0

# Fixed time from dispatch to wheels rolling (turnout), in minutes.
OVERHEAD_MINUTES = 2.0

_CONFIG_KEYS = ("circuity_factor", "speed_kmh", "overhead_minutes", "area")
_AREA_SPEEDS = {"urban": URBAN_SPEED_KMH, "rural": RURAL_SPEED_KMH}


@runtime_checkable
class TravelTimeModel(Protocol):
    """Estimated driving minutes between points given in degrees."""

    def minutes(
        self, origin_lat: float, origin_lon: float, dest_lat: float, dest_lon: float
    ) -> float: ...

    def minutes_many(self, origins: np.ndarray, dest: np.ndarray) -> np.ndarray:
        """Return minutes from each row of origins (n, 2) to dest (2,)."""
        ...

    def matrix(self, origins: np.ndarray, dests: np.ndarray) -> np.ndarray:
        """Return an (n, m) array of minutes from origins (n, 2) to dests (m, 2)."""
        ...


@dataclass(frozen=True)
class StraightLineTravelModel:
    """Great-circle distance times circuity, at a fixed speed, plus overhead."""

    circuity_factor: float = CIRCUITY_FACTOR
    speed_kmh: float = URBAN_SPEED_KMH
    overhead_minutes: float = OVERHEAD_MINUTES

    def __post_init__(self) -> None:
        _check_number("circuity_factor", self.circuity_factor, minimum=1.0)
        _check_number("speed_kmh", self.speed_kmh, minimum=None)
        _check_number("overhead_minutes", self.overhead_minutes, minimum=0.0)
        if self.speed_kmh <= 0:
            raise ValueError(
                f"speed_kmh must be greater than 0, got {self.speed_kmh!r}."
            )

    @classmethod
    def urban(cls) -> StraightLineTravelModel:
        return cls(speed_kmh=URBAN_SPEED_KMH)

    @classmethod
    def rural(cls) -> StraightLineTravelModel:
        return cls(speed_kmh=RURAL_SPEED_KMH)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StraightLineTravelModel:
        """Build a model from a settings dict.

        Keys (all optional): circuity_factor, speed_kmh (km/h),
        overhead_minutes, and area ("urban" or "rural"), which picks the
        default speed when speed_kmh is absent.
        """
        unknown = sorted(str(key) for key in config if key not in _CONFIG_KEYS)
        if unknown:
            raise ValueError(
                f"Unknown travel model setting(s) {unknown}; valid keys are "
                f"{', '.join(_CONFIG_KEYS)}."
            )

        area = config.get("area", "urban")
        if area not in _AREA_SPEEDS:
            raise ValueError(
                f"Travel model area {area!r} is invalid; use 'urban' or 'rural'."
            )
        return cls(
            circuity_factor=config.get("circuity_factor", CIRCUITY_FACTOR),
            speed_kmh=config.get("speed_kmh", _AREA_SPEEDS[area]),
            overhead_minutes=config.get("overhead_minutes", OVERHEAD_MINUTES),
        )

    @property
    def _minutes_per_km(self) -> float:
        return self.circuity_factor / self.speed_kmh * 60.0

    def minutes(
        self, origin_lat: float, origin_lon: float, dest_lat: float, dest_lon: float
    ) -> float:
        _check_point("origin", origin_lat, origin_lon)
        _check_point("destination", dest_lat, dest_lon)

        km = haversine_km(origin_lat, origin_lon, dest_lat, dest_lon)
        return km * self._minutes_per_km + self.overhead_minutes

    def minutes_many(self, origins: np.ndarray, dest: np.ndarray) -> np.ndarray:
        origins = as_points(origins, "origins")
        dest = np.asarray(dest, dtype=np.float64)
        if dest.shape != (2,):
            raise ValueError(
                f"dest must have shape (2,) as (lat, lon), got {dest.shape}."
            )
        _check_point("dest", float(dest[0]), float(dest[1]))

        km = haversine_km_array(origins[:, 0], origins[:, 1], dest[0], dest[1])
        return km * self._minutes_per_km + self.overhead_minutes

    def minutes_from_unit_vectors(self, unit_vectors: np.ndarray, dest_lat: float, dest_lon: float) -> np.ndarray:
        """Return `minutes_many` for origins given as (n, 3) unit vectors from
        `unit_vectors`, which callers with fixed origins cache.

        The haversine term equals a quarter of the squared chord, (1 - dot) / 2,
        so one matrix product replaces the trigonometry per origin. Distances
        agree with `haversine_km_array` to about 1e-8 km.
        """
        _check_point("dest", dest_lat, dest_lon)
        phi = math.radians(dest_lat)
        lam = math.radians(dest_lon)
        cos_phi = math.cos(phi)
        dot = unit_vectors @ np.array([cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi)])
        half_chord_squared = np.clip((1.0 - dot) * 0.5, 0.0, 1.0)
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(half_chord_squared))
        return km * self._minutes_per_km + self.overhead_minutes

    def matrix(self, origins: np.ndarray, dests: np.ndarray) -> np.ndarray:
        origins = as_points(origins, "origins")
        dests = as_points(dests, "dests")

        km = haversine_km_array(
            origins[:, 0, np.newaxis],
            origins[:, 1, np.newaxis],
            dests[np.newaxis, :, 0],
            dests[np.newaxis, :, 1],
        )
        return km * self._minutes_per_km + self.overhead_minutes


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km between two points in degrees."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2

    a = math.sin(half_dphi) ** 2 + (
        math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))


def haversine_km_array(
    lat1: np.ndarray, lon1: np.ndarray, lat2: Any, lon2: Any
) -> np.ndarray:
    """Vectorised `haversine_km`; the arguments broadcast against each other."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(lon2 - lon1) / 2

    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def unit_vectors(points: np.ndarray) -> np.ndarray:
    """Return (n, 3) unit vectors on the sphere for (n, 2) (lat, lon) degrees."""
    latitude = np.radians(points[:, 0])
    longitude = np.radians(points[:, 1])
    cos_latitude = np.cos(latitude)
    return np.column_stack(
        [cos_latitude * np.cos(longitude), cos_latitude * np.sin(longitude), np.sin(latitude)]
    )


def as_points(points: Any, name: str) -> np.ndarray:
    """Convert to a float64 (n, 2) array of (lat, lon) and validate ranges."""
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(
            f"{name} must have shape (n, 2) as rows of (lat, lon), got {array.shape}."
        )

    lat = array[:, 0]
    lon = array[:, 1]
    # Comparisons with NaN are False, so NaN rows fail these checks too.
    valid = (lat >= -90.0) & (lat <= 90.0) & (lon >= -180.0) & (lon <= 180.0)
    if not valid.all():
        row = int(np.flatnonzero(~valid)[0])
        _check_point(f"{name}[{row}]", float(lat[row]), float(lon[row]))
    return array


def _check_point(name: str, lat: float, lon: float) -> None:
    _check_coordinate(f"{name} latitude", lat, 90.0)
    _check_coordinate(f"{name} longitude", lon, 180.0)


def _check_coordinate(name: str, value: float, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(f"{name} must be a number in degrees, got {value!r}.")
    if math.isnan(value):
        raise ValueError(f"{name} is NaN; pass a coordinate in degrees.")
    if not -limit <= value <= limit:
        raise ValueError(
            f"{name} {value!r} is out of range [-{limit:g}, {limit:g}]; pass "
            "degrees with latitude first."
        )


def _check_number(name: str, value: Any, minimum: float | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {value!r}.")
