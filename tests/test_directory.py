"""Tests for the directory of facilities and services, and for the
masking of the shipped crisis events to the block."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from crisishub import datapack
from crisishub.audit.models import AuditEntry
from crisishub.core.models import Facility
from crisishub.datapack import geo

DIRECTORY_KINDS = {
    "mental_health_urgent_care", "emergency_department", "psychiatric_hospital",
    "crisis_residential", "mhp_provider", "supt_provider",
}
HEADER = "name,kind,address,city,zip,lat,lon,phone,hours,languages,emergency_services\n"
# Invented entries for the test; not real providers.
PROGRAM_ENTRIES = (
    "Example Crisis Residential,crisis_residential,100 Example Way,Sacramento,95817,38.555,-121.455,"
    "916-555-0120,24/7,en;es,no\n"
    "Example MHP Clinic,mhp_provider,200 Example Way,Sacramento,95823,38.480,-121.430,"
    "916-555-0121,Mon-Fri 08:00-17:00,en;vi;hmn,\n"
    "Example SUPT Program,supt_provider,300 Example Way,Elk Grove,95758,38.410,-121.380,"
    "916-555-0122,Mon-Sat 07:00-19:00,en;ru,\n"
)


# --- Model and data pack ------------------------------------------------------


def test_model_has_every_directory_kind():
    assert DIRECTORY_KINDS <= set(Facility.Kind.values)


def test_datapack_kinds_are_model_choices():
    assert datapack.FACILITY_KINDS <= set(Facility.Kind.values)


def test_model_has_directory_fields():
    names = {field.name for field in Facility._meta.get_fields()}

    assert {"address", "city", "zip_code", "latitude", "longitude", "hours", "languages", "phone"} <= names


@pytest.mark.django_db
def test_loaded_facilities_have_address_and_place(reference_data):
    facilities = list(Facility.objects.all())

    assert len(facilities) == len(datapack.load_facilities())
    for facility in facilities:
        assert facility.address, facility.name
        assert facility.city, facility.name
        assert geo.in_county(facility.latitude, facility.longitude), facility.name
        assert facility.get_kind_display() != facility.kind, facility.kind


@pytest.mark.django_db
def test_loaded_kinds_include_care_sites(reference_data):
    kinds = set(Facility.objects.values_list("kind", flat=True))

    assert {"emergency_department", "psychiatric_hospital", "mental_health_urgent_care"} <= kinds
    clinic = Facility.objects.get(kind="mental_health_urgent_care")
    assert clinic.hours == "24/7"
    assert clinic.open_24_7 is True
    assert "Stockton" in clinic.address
    assert all(f.emergency_services is True for f in Facility.objects.filter(kind="emergency_department"))


# --- load_directory command ---------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.csv"
    path.write_text(text)
    return path


@pytest.mark.django_db
def test_load_directory_adds_program_entries(tmp_path, reference_data):
    out = io.StringIO()

    call_command("load_directory", str(write(tmp_path, HEADER + PROGRAM_ENTRIES)), stdout=out)

    assert "3 entries added, 0 updated" in out.getvalue()
    residential = Facility.objects.get(kind="crisis_residential")
    assert residential.address == "100 Example Way"
    assert (residential.latitude, residential.longitude) == (38.555, -121.455)
    assert residential.hours == "24/7"
    assert residential.open_24_7 is True
    assert residential.languages == ["en", "es"]
    assert residential.emergency_services is False
    mhp = Facility.objects.get(kind="mhp_provider")
    assert mhp.languages == ["en", "vi", "hmn"]
    assert mhp.emergency_services is None
    assert Facility.objects.get(kind="supt_provider").hours == "Mon-Sat 07:00-19:00"
    kinds = set(Facility.objects.values_list("kind", flat=True))
    assert DIRECTORY_KINDS <= kinds
    assert AuditEntry.objects.filter(object_type="core.facility", action="create", actor_label="load_directory").count() == 3


@pytest.mark.django_db
def test_load_directory_updates_same_name(tmp_path, reference_data):
    call_command("load_directory", str(write(tmp_path, HEADER + PROGRAM_ENTRIES)), stdout=io.StringIO())
    changed = PROGRAM_ENTRIES.replace("Mon-Fri 08:00-17:00", "Mon-Fri 09:00-18:00")
    out = io.StringIO()

    call_command("load_directory", str(write(tmp_path, HEADER + changed)), stdout=out)

    assert "0 entries added, 3 updated" in out.getvalue()
    assert Facility.objects.get(kind="mhp_provider").hours == "Mon-Fri 09:00-18:00"
    assert Facility.objects.filter(kind="mhp_provider").count() == 1


BAD_ROW = "Example Bad,{kind},400 Example Way,Sacramento,95817,{lat},{lon},,,{languages},{emergency}\n"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"kind": "clinic"}, ["directory.csv:5:", "invalid kind 'clinic'", "supt_provider"]),
        ({"lat": "north"}, ["directory.csv:5:", "invalid lat 'north'"]),
        ({"lat": "37.7749", "lon": "-122.4194"}, ["directory.csv:5:", "37.7749, -122.4194", "outside Sacramento County"]),
        ({"lat": "-121.4", "lon": "38.5"}, ["directory.csv:5:", "swapped"]),
        ({"languages": "en;elvish"}, ["directory.csv:5:", "'elvish'"]),
        ({"emergency": "maybe"}, ["directory.csv:5:", "'maybe'"]),
    ],
    ids=["kind", "lat text", "outside county", "swapped", "language", "emergency"],
)
@pytest.mark.django_db
def test_load_directory_bad_row_loads_nothing(tmp_path, reference_data, fields, words):
    values = {"kind": "mhp_provider", "lat": "38.5", "lon": "-121.4", "languages": "en", "emergency": ""}
    values.update(fields)
    path = write(tmp_path, HEADER + PROGRAM_ENTRIES + BAD_ROW.format(**values))
    before = Facility.objects.count()

    with pytest.raises(CommandError) as raised:
        call_command("load_directory", str(path), stdout=io.StringIO())

    for word in words:
        assert word in str(raised.value)
    assert Facility.objects.count() == before


@pytest.mark.django_db
def test_load_directory_missing_column(tmp_path, reference_data):
    path = write(tmp_path, "name,kind,address\nExample,mhp_provider,1 Way\n")

    with pytest.raises(CommandError, match="missing column.*city, lat, lon"):
        call_command("load_directory", str(path), stdout=io.StringIO())


# --- Admin ------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_hours_and_languages(admin_client, reference_data):
    response = admin_client.get("/admin/core/facility/?kind=mental_health_urgent_care")

    assert response.status_code == 200
    assert b"24/7" in response.content
    assert b"Mental health urgent care" in response.content


@pytest.mark.django_db
def test_admin_rejects_unknown_language(admin_client, reference_data):
    response = admin_client.post("/admin/core/facility/add/", {
        "name": "Example Admin Provider", "kind": "supt_provider", "address": "1 Example Way",
        "city": "Sacramento", "latitude": "38.55", "longitude": "-121.45", "emergency_services": "unknown",
        "hours": "Mon-Fri 9-5", "languages": '["en", "elvish"]', "is_active": "on",
    })

    assert response.status_code == 200
    assert b"Unknown language code(s) &#x27;elvish&#x27;" in response.content
    assert not Facility.objects.filter(name="Example Admin Provider").exists()


# --- The shipped 2006 events are masked to the block --------------------------------

EVENTS_FILE = Path(datapack.__file__).with_name("events_2006_01.csv")
HUNDRED_BLOCK = re.compile(r"(?:[1-9]\d*00|0) BLOCK [A-Z0-9 ]+")
# A street address: a house number followed by a street name.
HOUSE_NUMBER = re.compile(r"\b\d+\s+(?!BLOCK\b)[A-Z]")


def shipped_event_rows() -> list[dict[str, str]]:
    with EVENTS_FILE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_events_file_columns_fixed():
    with EVENTS_FILE.open(encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")

    assert header == ["event_id", "occurred_at", "kind", "block", "district", "beat", "lat", "lon"]


def test_events_blocks_never_house_numbers():
    rows = shipped_event_rows()

    assert len(rows) == 111
    for row in rows:
        block = row["block"]
        if " / " in block:
            for street in block.split(" / "):
                assert not re.match(r"\d+\s", street), f"{row['event_id']}: house number in {block!r}"
        else:
            assert HUNDRED_BLOCK.fullmatch(block), f"{row['event_id']}: {block!r} is not a hundred block"


def test_events_no_field_holds_an_address():
    for row in shipped_event_rows():
        for column, value in row.items():
            if column == "block":
                continue
            assert not HOUSE_NUMBER.search(value), f"{row['event_id']}.{column} = {value!r}"


def test_events_coordinates_rounded_to_block():
    for row in shipped_event_rows():
        for column in ("lat", "lon"):
            decimals = row[column].split(".")[1] if "." in row[column] else ""
            assert len(decimals) <= 3, f"{row['event_id']}.{column} = {row[column]}"
