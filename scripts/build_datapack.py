"""Build the Sacramento County data pack from the raw public source files.

Developers run this script by hand when a source file changes. The product
never runs it and never reads the raw files: it reads only the pack written
to src/crisishub/datapack/. Reading the ZCTA Parquet file needs pyarrow,
which is a build-time tool and not a runtime dependency.

Usage:
    python scripts/build_datapack.py [SOURCE_DIR] [--out OUT_DIR]

SOURCE_DIR defaults to ../shared/data relative to the repository root, and
OUT_DIR defaults to src/crisishub/datapack. PROVENANCE.md describes every
transformation done here.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import logging
import re
import sys
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))

from crisishub.datapack.geo import point_in_ring  # noqa: E402

logger = logging.getLogger(__name__)

DEFAULT_SOURCE_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT_DIR = REPO_ROOT / "src" / "crisishub" / "datapack"

STATEFP = "06"
COUNTYFP = "067"
SQ_METRES_PER_SQ_MILE = 2_589_988.110336
RURAL_DENSITY_PER_SQ_MILE = 50.0
LOCAL_TZ = zoneinfo.ZoneInfo("America/Los_Angeles")

# Event coordinates are rounded to this many decimals (0.001 degree is about
# 111 m of latitude and 87 m of longitude here), so no house is pinpointed.
EVENT_COORD_DECIMALS = 3

CRISIS_CODES = {
    "5150 WI DANGER SELF/OTHERS": "5150",
    "POSSIBLE MENTAL - I RPT": "possible_mental",
}

DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

BLOCK_OR_INTERSECTION = re.compile(r"(?:[1-9]\d*00|0) BLOCK \S.*|[^/]+ / [^/]+")


# Manual HIFLD-to-CMS matches (HIFLD ID -> CMS Facility ID), made by comparing
# names and addresses. match_cms() checks that the normalised street address
# and ZIP of each pair agree, so a source change that breaks a match stops the
# build. HIFLD rows missing here have no CMS row.
HIFLD_TO_CMS = {
    "29595823": "050590",  # Methodist Hospital of Sacramento
    "51195817": "050599",  # UC Davis Medical Center
    "28795819": "050017",  # Mercy General Hospital
    "29395608": "050516",  # Mercy San Juan Medical Center
    "19995825": "050425",  # Kaiser Foundation Hospital - Sacramento
    "20795823": "050674",  # Kaiser Foundation Hospital - South Sacramento
    "47895816": "050108",  # Sutter Medical Center - Sacramento
    "43395823": "054087",  # Sierra Vista Hospital (BHC Sierra Vista in CMS)
    "47495826": "054096",  # Sutter Center for Psychiatry
    "16595841": "054104",  # Heritage Oaks Hospital
    "28995630": "050414",  # Mercy Hospital of Folsom
    "43095817": "053311",  # Shriners Hospitals for Children Northern Calif.
    "2795655": "05030F",  # Sacramento VA Medical Center (VA N California HCS)
}

# HIFLD lists Vibra as GENERAL ACUTE CARE, but it is a long-term acute care
# hospital, so its type is overridden.
TYPE_OVERRIDES = {"23195630": "long-term acute care"}

FACILITY_NOTES = {
    "2795655": "VA medical center; serves mainly veterans.",
    "16595841": (
        "Psychiatric hospital that reports Emergency Services = Yes to CMS; "
        "this is not a general emergency department."
    ),
    "48395816": "HIFLD status CLOSED.",
}

STREET_WORDS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "BOULEVARD": "BLVD",
    "DRIVE": "DR",
    "ROAD": "RD",
    "PARKWAY": "PKWY",
}

FACILITY_COLUMNS = (
    "facility_id",
    "name",
    "kind",
    "type",
    "status",
    "address",
    "city",
    "zip",
    "lat",
    "lon",
    "beds",
    "trauma_level",
    "emergency_services",
    "cms_facility_id",
    "hours",
    "languages",
    "telephone",
    "source",
    "notes",
)

URGENT_CARE_CLINIC = {
    "facility_id": "sac-mhucc",
    "name": "SACRAMENTO COUNTY MENTAL HEALTH URGENT CARE CLINIC",
    "kind": "mental_health_urgent_care",
    "type": "mental health urgent care",
    "status": "open",
    "address": "2130 STOCKTON BLVD, BLDG 300",
    "city": "SACRAMENTO",
    "zip": "95817",
    "beds": "",
    "trauma_level": "",
    "emergency_services": "unknown",
    "cms_facility_id": "",
    "hours": "24/7",
    "languages": "",
    "telephone": "",
    "source": "manual",
    "notes": (
        "Open 24/7 since July 2022. Coordinates are those of the Mental Health "
        "Treatment Center at 2150 Stockton Blvd (HIFLD)."
    ),
}
MENTAL_HEALTH_TREATMENT_CENTER_ID = "38295817"


@dataclass(frozen=True)
class PackFile:
    """One output file: its name and exact bytes."""

    name: str
    content: bytes


def read_text(path: Path) -> str:
    """Read a UTF-8 source file, dropping a BOM and turning CR/CRLF into LF."""
    text = path.read_bytes().decode("utf-8-sig")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def to_csv(header: tuple[str, ...] | list[str], rows: list[list[object]]) -> bytes:
    """Render rows as CSV with LF line endings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def load_source_ring(source_dir: Path) -> list[tuple[float, float]]:
    """Return the county boundary ring as (lon, lat) pairs."""
    path = source_dir / "sacramento_county_boundary_cb2020_5m.geojson"
    feature = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    ring = feature["geometry"]["coordinates"][0]
    return [(float(lon), float(lat)) for lon, lat in ring]


def build_tracts(source_dir: Path) -> PackFile:
    """Join tract population centres to tract land areas and flag rural ones."""
    land_m2 = read_land_areas(
        source_dir / "sacramento_2020_tract_land_area_relfile.txt"
    )
    centres = read_population_centres(source_dir / "CenPop2020_Mean_TR.txt")

    if set(land_m2) != set(centres):
        missing = sorted(set(land_m2) ^ set(centres))
        raise ValueError(f"tract GEOIDs missing from one of the two files: {missing}")

    rows = []
    for geoid in sorted(centres):
        population, lat, lon = centres[geoid]
        land_sqmi = land_m2[geoid] / SQ_METRES_PER_SQ_MILE
        density = population / land_sqmi
        rural = "yes" if density < RURAL_DENSITY_PER_SQ_MILE else "no"
        rows.append(
            [geoid, population, lat, lon, f"{land_sqmi:.4f}", f"{density:.2f}", rural]
        )

    header = ("geoid", "population", "lat", "lon", "land_sqmi", "density", "rural")
    return PackFile("tracts.csv", to_csv(header, rows))


def read_land_areas(path: Path) -> dict[str, int]:
    """Return AREALAND_TRACT_20 (square metres) by tract GEOID."""
    reader = csv.DictReader(io.StringIO(read_text(path)), delimiter="|")
    return {row["GEOID_TRACT_20"]: int(row["AREALAND_TRACT_20"]) for row in reader}


def read_population_centres(path: Path) -> dict[str, tuple[int, float, float]]:
    """Return (population, lat, lon) by GEOID for the county's tracts."""
    centres = {}
    for row in csv.DictReader(io.StringIO(read_text(path))):
        if row["STATEFP"] != STATEFP or row["COUNTYFP"] != COUNTYFP:
            continue
        geoid = row["STATEFP"] + row["COUNTYFP"] + row["TRACTCE"]
        centres[geoid] = (
            int(row["POPULATION"]),
            float(row["LATITUDE"]),
            float(row["LONGITUDE"]),
        )
    return centres


def build_boundary(source_dir: Path) -> PackFile:
    """Copy the cartographic boundary file byte for byte."""
    path = source_dir / "sacramento_county_boundary_cb2020_5m.geojson"
    return PackFile("county_boundary.geojson", path.read_bytes())


def normalise_address(address: str) -> str:
    """Upper-case an address and abbreviate the street suffixes."""
    words = address.upper().replace(",", " ").split()
    return " ".join(STREET_WORDS.get(word, word) for word in words)


def blank_if_missing(value: str) -> str:
    """Map the HIFLD missing-value markers to an empty string."""
    return "" if value in ("-999", "NOT AVAILABLE", "") else value


def build_facilities(source_dir: Path) -> PackFile:
    """Join HIFLD hospitals to CMS Emergency Services and add the clinic."""
    hifld = read_hifld_county(source_dir / "hifld_hospitals.csv")
    cms = read_cms_county(source_dir / "cms_hospital_general_information.csv")

    records = []
    for row in hifld:
        cms_row = match_cms(row, cms)
        records.append(facility_record(row, cms_row))

    treatment_center = next(
        r
        for r in records
        if r["facility_id"] == f"hifld-{MENTAL_HEALTH_TREATMENT_CENTER_ID}"
    )
    clinic = dict(URGENT_CARE_CLINIC)
    clinic["lat"] = treatment_center["lat"]
    clinic["lon"] = treatment_center["lon"]
    records.append(clinic)

    rows = [[record[column] for column in FACILITY_COLUMNS] for record in records]
    return PackFile("facilities.csv", to_csv(FACILITY_COLUMNS, rows))


def read_hifld_county(path: Path) -> list[dict[str, str]]:
    """Return the HIFLD rows for the county, sorted by HIFLD ID."""
    reader = csv.DictReader(io.StringIO(read_text(path)))
    rows = [r for r in reader if r["STATE"] == "CA" and r["COUNTY"] == "SACRAMENTO"]
    return sorted(rows, key=lambda r: int(r["ID"]))


def read_cms_county(path: Path) -> dict[str, dict[str, str]]:
    """Return the CMS rows for the county by Facility ID."""
    reader = csv.DictReader(io.StringIO(read_text(path)))
    return {
        row["Facility ID"]: row
        for row in reader
        if row["State"] == "CA" and row["County/Parish"] == "SACRAMENTO"
    }


def match_cms(row: dict[str, str], cms: dict[str, dict[str, str]]) -> dict | None:
    """Return the CMS row matched to a HIFLD row, after checking its address."""
    cms_id = HIFLD_TO_CMS.get(row["ID"])
    if cms_id is None:
        return None

    cms_row = cms.get(cms_id)
    if cms_row is None:
        raise ValueError(f"CMS Facility ID {cms_id} for HIFLD {row['ID']} not found")

    hifld_key = (normalise_address(row["ADDRESS"]), row["ZIP"])
    cms_key = (normalise_address(cms_row["Address"]), cms_row["ZIP Code"])
    if hifld_key != cms_key:
        raise ValueError(
            f"HIFLD {row['ID']} {hifld_key} and CMS {cms_id} {cms_key} differ; "
            "fix HIFLD_TO_CMS"
        )
    return cms_row


def facility_record(row: dict[str, str], cms_row: dict | None) -> dict[str, str]:
    """Turn one HIFLD row (plus its CMS match) into a facilities.csv record."""
    facility_type = TYPE_OVERRIDES.get(row["ID"], row["TYPE"].lower())
    emergency = cms_row["Emergency Services"].lower() if cms_row else "unknown"
    status = row["STATUS"].lower()
    kind = facility_kind(facility_type, emergency)
    hours = "24/7" if kind == "emergency_department" and status == "open" else ""

    return {
        "facility_id": f"hifld-{row['ID']}",
        "name": row["NAME"],
        "kind": kind,
        "type": facility_type,
        "status": status,
        "address": row["ADDRESS"],
        "city": row["CITY"],
        "zip": row["ZIP"],
        "lat": float(row["LATITUDE"]),
        "lon": float(row["LONGITUDE"]),
        "beds": blank_if_missing(row["BEDS"]),
        "trauma_level": blank_if_missing(row["TRAUMA"]),
        "emergency_services": emergency,
        "cms_facility_id": cms_row["Facility ID"] if cms_row else "",
        "hours": hours,
        "languages": "",
        "telephone": blank_if_missing(row["TELEPHONE"]),
        "source": "hifld+cms" if cms_row else "hifld",
        "notes": FACILITY_NOTES.get(row["ID"], ""),
    }


def facility_kind(facility_type: str, emergency: str) -> str:
    """Map a facility type and CMS Emergency Services value to a kind."""
    if facility_type == "psychiatric":
        return "psychiatric_hospital"
    if facility_type == "long-term acute care":
        return "long_term_acute_care"
    if facility_type == "rehabilitation":
        return "rehabilitation"
    if emergency == "yes":
        return "emergency_department"
    if emergency == "no":
        return "hospital_no_ed"
    raise ValueError(
        f"no kind for type {facility_type!r} with emergency services {emergency!r}; "
        "add a CMS match or a TYPE_OVERRIDES entry"
    )


def reduce_to_block(address: str) -> str:
    """Replace a house number by its hundred block; keep intersections."""
    address = " ".join(address.split())
    if " / " in address:
        block = address
    else:
        match = re.fullmatch(r"(\d+) (.+)", address)
        if match is None:
            raise ValueError(f"address {address!r} has no house number or ' / '")
        hundred = int(match.group(1)) // 100 * 100
        block = f"{hundred} BLOCK {match.group(2)}"

    if not BLOCK_OR_INTERSECTION.fullmatch(block):
        raise ValueError(
            f"{block!r} from {address!r} is neither a hundred block nor an "
            "intersection; extend reduce_to_block()"
        )
    return block


def parse_local_time(text: str) -> dt.datetime:
    """Parse 'M/D/YY H:MM' local time into an aware datetime."""
    naive = dt.datetime.strptime(text.strip(), "%m/%d/%y %H:%M")
    return naive.replace(tzinfo=LOCAL_TZ)


def build_events(source_dir: Path, ring: list[tuple[float, float]]) -> PackFile:
    """Select the crisis rows of the January 2006 file, in time order."""
    path = source_dir / "SacramentocrimeJanuary2006.csv"
    reader = csv.DictReader(io.StringIO(read_text(path)))
    selected = [row for row in reader if row["crimedescr"] in CRISIS_CODES]

    # sorted() is stable, so events at the same minute keep their file order.
    selected.sort(key=lambda row: parse_local_time(row["cdatetime"]))

    rows = []
    for number, row in enumerate(selected, start=1):
        lat = round(float(row["latitude"]), EVENT_COORD_DECIMALS)
        lon = round(float(row["longitude"]), EVENT_COORD_DECIMALS)
        if not point_in_ring(lon, lat, ring):
            raise ValueError(f"event at {lat}, {lon} is outside the county")
        rows.append(
            [
                f"SAC2006-{number:04d}",
                parse_local_time(row["cdatetime"]).isoformat(),
                CRISIS_CODES[row["crimedescr"]],
                reduce_to_block(row["address"]),
                row["district"].strip(),
                row["beat"].strip(),
                f"{lat:.{EVENT_COORD_DECIMALS}f}",
                f"{lon:.{EVENT_COORD_DECIMALS}f}",
            ]
        )

    header = (
        "event_id",
        "occurred_at",
        "kind",
        "block",
        "district",
        "beat",
        "lat",
        "lon",
    )
    return PackFile("events_2006_01.csv", to_csv(header, rows))


def build_hour_of_week(source_dir: Path) -> list[PackFile]:
    """Count Toronto crisis calls by day of week and hour, with metadata."""
    path = source_dir / "toronto_persons_in_crisis_calls_2014-01_to_2015-06.csv"
    rows = list(csv.DictReader(io.StringIO(read_text(path))))

    counts: Counter[tuple[int, int]] = Counter()
    for row in rows:
        day = dt.date.fromisoformat(row["event_date"]).weekday()
        if DAY_NAMES[day] != row["event_dow"]:
            raise ValueError(f"event_dow {row['event_dow']!r} disagrees with {row}")
        # The extract has no hour 0; midnight was exported as "NA".
        hour = 0 if row["event_hour"] == "NA" else int(row["event_hour"])
        counts[(day, hour)] += 1

    table = [
        [day, DAY_NAMES[day], hour, counts[(day, hour)]]
        for day in range(7)
        for hour in range(24)
    ]
    csv_file = PackFile(
        "hour_of_week_toronto.csv",
        to_csv(("day_of_week", "day_name", "hour", "count"), table),
    )
    return [csv_file, hour_of_week_metadata(rows)]


def hour_of_week_metadata(rows: list[dict[str, str]]) -> PackFile:
    """Describe the borrowed Toronto profile in a companion JSON file."""
    dates = sorted(row["event_date"] for row in rows)
    metadata = {
        "borrowed": True,
        "region": "Toronto, Ontario, Canada (not Sacramento County)",
        "description": (
            "Toronto Police Service 'Persons in Crisis Calls for Service "
            "Attended', counted by day of week and hour of the call."
        ),
        "publisher": "Toronto Police Service, City of Toronto Open Data",
        "licence": "Open Government Licence - Toronto (attribution required)",
        "first_date": dates[0],
        "last_date": dates[-1],
        "total_events": len(rows),
        "hour_na_counted_as_midnight": sum(1 for r in rows if r["event_hour"] == "NA"),
        "day_of_week": "0 = Monday ... 6 = Sunday",
        "hour": "0..23, local time of the call",
        "caveat": (
            "The extract stops at 32,000 rows (about 17.5 months), so it is "
            "not the full published dataset."
        ),
        "data_file": "hour_of_week_toronto.csv",
    }
    text = json.dumps(metadata, indent=2, sort_keys=True) + "\n"
    return PackFile("hour_of_week_toronto.json", text.encode("utf-8"))


def build_zcta_centroids(source_dir: Path, ring: list[tuple[float, float]]) -> PackFile:
    """Select the ZCTAs whose internal point falls inside the county."""
    try:
        import pyarrow.parquet as parquet
    except ImportError as error:
        raise SystemExit(
            "pyarrow is missing; install it with '.venv/bin/pip install pyarrow' "
            "(it is needed only to build the pack)"
        ) from error

    path = source_dir / "zcta_population_2020_DECENNIALDHC2020.parquet"
    table = parquet.read_table(path).to_pydict()

    rows = []
    for zip_code, population, lat, lon in zip(
        table["zip"],
        table["pop"],
        table["INTPTLAT20"],
        table["INTPTLON20"],
        strict=True,
    ):
        if point_in_ring(lon, lat, ring):
            # The source stores float32, so six decimals hold every digit.
            rows.append([f"{zip_code:05d}", population, f"{lat:.6f}", f"{lon:.6f}"])

    rows.sort()
    header = ("zip", "population", "lat", "lon")
    return PackFile("zcta_centroids.csv", to_csv(header, rows))


def build_all(source_dir: Path) -> list[PackFile]:
    """Build every data file of the pack in memory."""
    if not source_dir.is_dir():
        raise SystemExit(f"source directory {source_dir} not found; pass SOURCE_DIR")

    ring = load_source_ring(source_dir)
    files = [
        build_tracts(source_dir),
        build_boundary(source_dir),
        build_facilities(source_dir),
        build_events(source_dir, ring),
        build_zcta_centroids(source_dir, ring),
    ]
    files.extend(build_hour_of_week(source_dir))
    return files


def write_pack(files: list[PackFile], out_dir: Path) -> None:
    """Write the built files into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for pack_file in files:
        (out_dir / pack_file.name).write_bytes(pack_file.content)
        logger.info("wrote %s (%d bytes)", pack_file.name, len(pack_file.content))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source_dir",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE_DIR,
        help="directory with the raw source files (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="directory to write the pack into (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    write_pack(build_all(args.source_dir), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
