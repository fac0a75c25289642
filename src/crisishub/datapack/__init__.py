"""Sacramento County data pack: tracts, boundary, facilities and demand data.

The files in this package are built by scripts/build_datapack.py from public
sources; PROVENANCE.md gives the source, licence and transformation of each.
Every loader reads its file once and caches the result. Loaders that return a
list or dict return a fresh copy, so callers may change it freely.

Facility kinds (the ``kind`` column of facilities.csv):
    emergency_department       hospital reporting Emergency Services = Yes
    psychiatric_hospital       psychiatric hospital or psychiatric health
                               facility (see ``emergency_services``)
    mental_health_urgent_care  county mental health urgent care clinic
    hospital_no_ed             hospital reporting Emergency Services = No
    long_term_acute_care       long-term acute care hospital
    rehabilitation             rehabilitation facility
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
from dataclasses import dataclass
from importlib import resources

import numpy as np

logger = logging.getLogger(__name__)

FACILITY_KINDS = frozenset(
    {
        "emergency_department",
        "psychiatric_hospital",
        "mental_health_urgent_care",
        "hospital_no_ed",
        "long_term_acute_care",
        "rehabilitation",
    }
)


@dataclass(frozen=True)
class Tract:
    """A 2020 census tract with its population centre and rural flag."""

    geoid: str
    population: int
    lat: float
    lon: float
    land_sqmi: float
    density: float
    rural: bool


@dataclass(frozen=True)
class Facility:
    """A hospital, psychiatric facility or crisis clinic in the county.

    ``emergency_services`` is "yes", "no" or "unknown" (not in the CMS list).
    ``hours`` and ``languages`` are None where unknown.
    """

    facility_id: str
    name: str
    kind: str
    type: str
    status: str
    address: str
    city: str
    zip: str
    lat: float
    lon: float
    beds: int | None
    trauma_level: str | None
    emergency_services: str
    cms_facility_id: str | None
    hours: str | None
    languages: tuple[str, ...] | None
    telephone: str | None
    source: str
    notes: str | None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class CrisisEvent:
    """A January 2006 Sacramento PD crisis report, located to the block.

    ``kind`` is "5150" (involuntary hold) or "possible_mental". ``lat`` and
    ``lon`` are rounded to 3 decimals, about 100 m.
    """

    event_id: str
    occurred_at: dt.datetime
    kind: str
    block: str
    district: str
    beat: str
    lat: float
    lon: float


@dataclass(frozen=True)
class ZipCentroid:
    """A ZIP Code Tabulation Area internal point with its 2020 population."""

    zip: str
    population: int
    lat: float
    lon: float


@dataclass(frozen=True)
class HourOfWeekMetadata:
    """Description of the borrowed hour-of-week profile."""

    borrowed: bool
    region: str
    publisher: str
    licence: str
    first_date: dt.date
    last_date: dt.date
    total_events: int
    hour_na_counted_as_midnight: int
    caveat: str


def _read_text(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def _read_csv(name: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(_read_text(name))))
    logger.debug("read %d rows from %s", len(rows), name)
    return rows


def _optional(value: str) -> str | None:
    return value or None


def _parse_yes_no(value: str, name: str) -> bool:
    if value not in ("yes", "no"):
        raise ValueError(f"{name}: expected 'yes' or 'no', got {value!r}")
    return value == "yes"


@functools.cache
def _tracts() -> tuple[Tract, ...]:
    return tuple(
        Tract(
            geoid=row["geoid"],
            population=int(row["population"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            land_sqmi=float(row["land_sqmi"]),
            density=float(row["density"]),
            rural=_parse_yes_no(row["rural"], f"tracts.csv rural of {row['geoid']}"),
        )
        for row in _read_csv("tracts.csv")
    )


def load_tracts() -> list[Tract]:
    """Return the 363 county tracts, sorted by GEOID."""
    return list(_tracts())


@functools.cache
def _boundary() -> tuple[tuple[float, float], ...]:
    collection = json.loads(_read_text("county_boundary.geojson"))
    geometry = collection["features"][0]["geometry"]
    if geometry["type"] != "Polygon":
        raise ValueError(
            f"county_boundary.geojson: expected a Polygon, got {geometry['type']}"
        )
    return tuple((float(lon), float(lat)) for lon, lat in geometry["coordinates"][0])


def load_boundary() -> list[tuple[float, float]]:
    """Return the county outer ring as (lon, lat) pairs.

    The ring is closed (first point equals last) and runs clockwise, as in
    the Census shapefile.
    """
    return list(_boundary())


def _facility(row: dict[str, str]) -> Facility:
    languages = tuple(row["languages"].split(";")) if row["languages"] else None
    return Facility(
        facility_id=row["facility_id"],
        name=row["name"],
        kind=row["kind"],
        type=row["type"],
        status=row["status"],
        address=row["address"],
        city=row["city"],
        zip=row["zip"],
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        beds=int(row["beds"]) if row["beds"] else None,
        trauma_level=_optional(row["trauma_level"]),
        emergency_services=row["emergency_services"],
        cms_facility_id=_optional(row["cms_facility_id"]),
        hours=_optional(row["hours"]),
        languages=languages,
        telephone=_optional(row["telephone"]),
        source=row["source"],
        notes=_optional(row["notes"]),
    )


@functools.cache
def _facilities() -> tuple[Facility, ...]:
    facilities = tuple(_facility(row) for row in _read_csv("facilities.csv"))
    for facility in facilities:
        if facility.kind not in FACILITY_KINDS:
            raise ValueError(f"facilities.csv: unknown kind {facility.kind!r}")
    return facilities


def load_facilities() -> list[Facility]:
    """Return the county facilities, including the closed one (status "closed")."""
    return list(_facilities())


@functools.cache
def _events() -> tuple[CrisisEvent, ...]:
    return tuple(
        CrisisEvent(
            event_id=row["event_id"],
            occurred_at=dt.datetime.fromisoformat(row["occurred_at"]),
            kind=row["kind"],
            block=row["block"],
            district=row["district"],
            beat=row["beat"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in _read_csv("events_2006_01.csv")
    )


def load_events() -> list[CrisisEvent]:
    """Return the 111 January 2006 crisis events in time order."""
    return list(_events())


@functools.cache
def _hour_of_week_counts() -> np.ndarray:
    counts = np.full((7, 24), -1, dtype=np.int64)
    for row in _read_csv("hour_of_week_toronto.csv"):
        counts[int(row["day_of_week"]), int(row["hour"])] = int(row["count"])

    if (counts < 0).any():
        raise ValueError("hour_of_week_toronto.csv: some of the 168 cells are missing")
    counts.setflags(write=False)
    return counts


def load_hour_of_week_profile() -> np.ndarray:
    """Return crisis call counts as a read-only int64 array of shape (7, 24).

    Rows are days (0 = Monday), columns are hours (0..23). The profile is
    borrowed from Toronto; load_hour_of_week_metadata() describes it.
    """
    return _hour_of_week_counts()


@functools.cache
def load_hour_of_week_metadata() -> HourOfWeekMetadata:
    """Return the source, region and date range of the hour-of-week profile."""
    data = json.loads(_read_text("hour_of_week_toronto.json"))
    return HourOfWeekMetadata(
        borrowed=data["borrowed"],
        region=data["region"],
        publisher=data["publisher"],
        licence=data["licence"],
        first_date=dt.date.fromisoformat(data["first_date"]),
        last_date=dt.date.fromisoformat(data["last_date"]),
        total_events=data["total_events"],
        hour_na_counted_as_midnight=data["hour_na_counted_as_midnight"],
        caveat=data["caveat"],
    )


@functools.cache
def _zcta_centroids() -> tuple[ZipCentroid, ...]:
    return tuple(
        ZipCentroid(
            zip=row["zip"],
            population=int(row["population"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in _read_csv("zcta_centroids.csv")
    )


def load_zcta_centroids() -> dict[str, ZipCentroid]:
    """Return the ZCTAs whose internal point lies in the county, by ZIP."""
    return {centroid.zip: centroid for centroid in _zcta_centroids()}
