"""Load the program's own directory entries (crisis residential, MHP and
SUPT providers, urgent care...) from a CSV file.

The data pack ships only the facilities that public sources list; each
program adds its contracted providers with this command. A file with any
invalid row loads nothing.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from crisishub.audit.context import acting_as
from crisishub.core.models import Facility, Language

REQUIRED_COLUMNS = ("name", "kind", "address", "city", "lat", "lon")
OPTIONAL_COLUMNS = ("zip", "phone", "hours", "languages", "emergency_services", "source")
YES_NO = {"yes": True, "no": False, "": None}


class RowError(Exception):
    pass


def parse_row(row: dict[str, str]) -> dict:
    """Validate one CSV row and return Facility field values."""
    from crisishub.datapack import geo

    values = {name: (row.get(name) or "").strip() for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    for name in ("name", "address", "city"):
        if not values[name]:
            raise RowError(f"{name} is empty; every entry needs a {name}.")
    if values["kind"] not in Facility.Kind.values:
        raise RowError(f"invalid kind {values['kind']!r}; use one of: {', '.join(Facility.Kind.values)}.")
    coordinates = []
    for name in ("lat", "lon"):
        try:
            number = float(values[name])
        except ValueError:
            raise RowError(f"invalid {name} {values[name]!r}; use decimal degrees.") from None
        if not math.isfinite(number):
            raise RowError(f"invalid {name} {values[name]!r}; use decimal degrees.")
        coordinates.append(number)
    latitude, longitude = coordinates
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or not geo.in_county(latitude, longitude):
        raise RowError(
            f"coordinates {latitude}, {longitude} are outside Sacramento County; check the "
            "values and that lat and lon are not swapped."
        )
    languages = [code.strip() for code in values["languages"].split(";") if code.strip()]
    unknown = [code for code in languages if code not in Language.values]
    if unknown:
        raise RowError(
            f"unknown language code(s) {', '.join(map(repr, unknown))}; use codes from: "
            f"{', '.join(Language.values)}, separated by ';'."
        )
    emergency = values["emergency_services"].lower()
    if emergency not in YES_NO:
        raise RowError(f"invalid emergency_services {values['emergency_services']!r}; use yes, no or leave it empty.")
    return {
        "name": values["name"], "kind": values["kind"], "address": values["address"],
        "city": values["city"], "zip_code": values["zip"], "phone": values["phone"],
        "latitude": latitude, "longitude": longitude, "hours": values["hours"],
        "open_24_7": values["hours"] == "24/7", "languages": languages,
        "emergency_services": YES_NO[emergency], "source": values["source"] or "program directory",
    }


def read_directory(path: Path) -> list[dict]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CommandError(f"Cannot open directory file {path}: {error.strerror}.") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise CommandError(
                f"{path}: missing column(s) {', '.join(missing)}; the header needs "
                f"{', '.join(REQUIRED_COLUMNS)} and may have {', '.join(OPTIONAL_COLUMNS)}."
            )
        entries = []
        for line, row in enumerate(reader, start=2):
            try:
                entries.append(parse_row(row))
            except RowError as error:
                raise CommandError(f"{path}:{line}: {error}") from None
    if not entries:
        raise CommandError(f"{path}: the file has no entries.")
    return entries


class Command(BaseCommand):
    help = (
        "Add or update directory entries from a CSV with columns name, kind, address, city, "
        "lat, lon and optionally zip, phone, hours, languages (codes separated by ';'), "
        "emergency_services (yes/no) and source. An entry with the same name and kind is updated."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="CSV file of directory entries.")

    def handle(self, *args, path: Path, **options):
        entries = read_directory(path)
        created = updated = 0
        with acting_as(label="load_directory"), transaction.atomic():
            for values in entries:
                facility = Facility.objects.filter(name=values["name"], kind=values["kind"]).first()
                if facility is None:
                    Facility.objects.create(**values)
                    created += 1
                    continue
                for name, value in values.items():
                    setattr(facility, name, value)
                facility.save()
                updated += 1
        self.stdout.write(f"Directory: {created} entries added, {updated} updated from {path}.")
