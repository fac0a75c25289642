"""Differencing attacks on the public reports across many requests.

Random records fill the first half of 2026. Every aligned range of whole
months and quarters in it is requested, and every published number is
read back from the JSON a reader downloads. Each number is a sum of fine
counts (one per table, month, area and column). The reader also knows
that tables which split the same people have equal row sums. The attack
asks, with linear algebra over all requests at once, whether any
suppressed number is a combination of published ones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.linalg import null_space

from crisishub.core.models import Contact, Disposition, Facility, Incident, LawEnforcement, Person, Team
from crisishub.reports.output import report_csv, report_json
from crisishub.reports.periods import ReportInputError, ReportRange
from crisishub.reports.queries import build_report

pytestmark = pytest.mark.django_db

PACIFIC = ZoneInfo("America/Los_Angeles")
MONTHS = [dt.date(2026, month, 1) for month in range(1, 7)]
# Tables whose row sums count the same people, as their "Counted:" lines state.
LINKED = [("outcomes", "law_enforcement", "team_language"), ("contact_language", "repeat_contacts")]
# Coordinates inside and outside the county's tracts, for contacts.
DOWNTOWN_SACRAMENTO = (38.576594, -121.432144)


def month_end(first: dt.date) -> dt.date:
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def random_moment(rng: random.Random, first: dt.date) -> dt.datetime:
    day = rng.randint(1, month_end(first).day)
    return dt.datetime(first.year, first.month, day, rng.randint(0, 23), rng.randint(0, 59), tzinfo=PACIFIC)


@pytest.fixture
def half_year(fleet, make_contact, rural_point):
    """Random encounters and contacts, each month with its own mix of large
    and small counts, so suppression differs between months and quarters."""
    rng = random.Random(2026)
    base = make_contact(at=dt.datetime(2025, 6, 1, 12, tzinfo=PACIFIC))
    team = Team.objects.order_by("name").first()
    emergency = Facility.objects.filter(kind=Facility.Kind.EMERGENCY_DEPARTMENT).first()
    other = Facility.objects.exclude(kind=Facility.Kind.EMERGENCY_DEPARTMENT).first()
    now = dt.datetime(2026, 7, 1, tzinfo=PACIFIC)
    people = Person.objects.bulk_create([Person(created_at=now) for _ in range(6)])
    dispositions = [value for value, _label in Disposition.choices]
    police = [value for value, _label in LawEnforcement.choices]
    incidents, contacts = [], []
    for first in MONTHS:
        for area in ("urban", "rural", ""):
            size = rng.choice([0, 4, 9, 15, 30])
            weights = [rng.random() ** 2 for _ in dispositions]
            for _ in range(size):
                disposition = rng.choices(dispositions, weights)[0]
                transport = disposition == Disposition.VOLUNTARY_TRANSPORT
                incidents.append(Incident(
                    number=f"MR-TEST-{len(incidents):05d}", contact=base, priority=2, status="closed",
                    t0=random_moment(rng, first), location_precision="device", area_class=area,
                    language=rng.choice(["en", "en", "es"]), team=team if rng.random() < 0.9 else None,
                    law_enforcement=rng.choices(police, [8, 1, 1, 1])[0], disposition=disposition,
                    transport_destination=(rng.choice([emergency, emergency, other]) if transport else None),
                    created_at=now,
                ))
        for place in (DOWNTOWN_SACRAMENTO, rural_point, None):
            for _ in range(rng.choice([0, 5, 12, 25])):
                contacts.append(Contact(
                    source="988_transfer", status=Contact.Status.CLOSED, offered_at=random_moment(rng, first),
                    latitude=place[0] if place else None, longitude=place[1] if place else None,
                    person=rng.choice([None, *people]), preferred_language=rng.choice(["en", "es"]),
                    service_language=rng.choice(["", "en", "es"]), interpreter_used=rng.random() < 0.3,
                    created_at=now, updated_at=now,
                ))
    Incident.objects.bulk_create(incidents)
    Contact.objects.bulk_create(contacts)


@pytest.fixture
def rural_point():
    from crisishub.datapack import load_tracts

    tract = next(t for t in load_tracts() if t.rural)
    return tract.lat, tract.lon


def aligned_ranges() -> list[ReportRange]:
    """Every range of whole months, and of whole quarters, in the half year."""
    ranges = [
        ReportRange(MONTHS[i], month_end(MONTHS[j]), "month")
        for i in range(len(MONTHS)) for j in range(i, len(MONTHS))
    ]
    quarters = [(MONTHS[0], month_end(MONTHS[2])), (MONTHS[3], month_end(MONTHS[5])), (MONTHS[0], month_end(MONTHS[5]))]
    ranges += [ReportRange(start, end, "quarter") for start, end in quarters]
    return ranges


def months_of(label: str, request: ReportRange) -> list[int]:
    """Return the indexes in MONTHS that a published period label covers."""
    if label == "All":
        return [n for n, first in enumerate(MONTHS) if request.start <= first <= request.end]
    if " Q" in label:
        quarter = int(label.split(" Q")[1])
        return [3 * (quarter - 1) + k for k in range(3)]
    return [MONTHS.index(dt.date.fromisoformat(label + "-01"))]


class Unknowns:
    """The fine counts: one variable per table, month, area and column."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}

    def vector(self, table: dict, months: list[int], area: str, column: str) -> dict[int, int]:
        areas = ["Urban", "Rural", "Not placed"] if area == "All" else [area]
        columns = [c["key"] for c in table["columns"]] if column == "total" else [column]
        found = {}
        for month in months:
            for name in areas:
                for key in columns:
                    found[self.index.setdefault((table["key"], month, name, key), len(self.index))] = 1
        return found


def published_numbers(ranges: list[ReportRange]) -> tuple[Unknowns, list[tuple], list[tuple]]:
    """Return the unknowns, then (sum, value) for each published count and
    (sum, request, where) for each suppressed one, over all requests."""
    unknowns = Unknowns()
    shown, hidden = [], []
    for request in ranges:
        data = report_json(build_report(request))
        for table in data["tables"]:
            columns = [c["key"] for c in table["columns"]] + ["total"]
            for row in table["rows"]:
                months = months_of(row["period"], request)
                for column, cell in zip(columns, [*row["cells"], row["total"]]):
                    vector = unknowns.vector(table, months, row["area"], column)
                    where = (table["key"], row["period"], row["area"], column)
                    if cell["suppressed"]:
                        hidden.append((vector, request, where))
                    else:
                        shown.append((vector, cell["count"]))
    return unknowns, shown, hidden


def linked_sums(unknowns: Unknowns) -> list[dict[int, int]]:
    """Return the equations "row sum of table A = row sum of table B" per
    month and area, which a reader knows from the tables' populations."""
    keys: dict[tuple[str, int, str], list[int]] = {}
    for (table, month, area, _column), n in unknowns.index.items():
        keys.setdefault((table, month, area), []).append(n)
    equations = []
    for group in LINKED:
        for month in range(len(MONTHS)):
            for area in ("Urban", "Rural", "Not placed"):
                first = keys.get((group[0], month, area), [])
                for other in group[1:]:
                    equation = {n: 1 for n in first}
                    for n in keys.get((other, month, area), []):
                        equation[n] = equation.get(n, 0) - 1
                    equations.append(equation)
    return equations


def dense(rows: list[dict[int, int]], width: int) -> np.ndarray:
    matrix = np.zeros((len(rows), width))
    for i, row in enumerate(rows):
        for j, coefficient in row.items():
            matrix[i, j] = coefficient
    return matrix


def test_no_hidden_count_by_differencing(half_year):
    unknowns, shown, hidden = published_numbers(aligned_ranges())
    width = len(unknowns.index)
    assert shown and hidden
    known = dense([vector for vector, _value in shown] + linked_sums(unknowns), width)
    # A suppressed number is recoverable when its sum lies in the row space
    # of the published sums, that is when it is orthogonal to their null space.
    basis = null_space(known)
    recovered = []
    for vector, request, where in hidden:
        projection = dense([vector], width) @ basis
        if np.all(np.abs(projection) < 1e-7):
            recovered.append((request.start, request.end, request.grouping, where))
    assert recovered == []


def test_period_published_alike_in_every_request(half_year):
    """A period's numbers do not depend on the other periods requested."""
    published: dict[tuple, object] = {}
    for request in aligned_ranges():
        data = report_json(build_report(request))
        for table in data["tables"]:
            for row in table["rows"]:
                key = (table["key"], row["period"], row["area"])
                value = (row["cells"], row["total"])
                assert published.setdefault(key, value) == value, key


def test_no_total_spans_requested_range(half_year):
    data = report_json(build_report(ReportRange(MONTHS[0], month_end(MONTHS[5]), "month")))

    periods = {row["period"] for table in data["tables"] for row in table["rows"]}
    assert periods == {"2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"}
    medians = {row["period"] for row in data["response_minutes"]["rows"]}
    assert medians == periods


def test_csv_hidden_sums_not_small(half_year):
    """Each published total minus its published cells, along a row or a
    column of one period's table, leaves a hidden sum above 10 per hidden
    cell, so no hidden cell is pinned by subtraction."""
    text = report_csv(build_report(ReportRange(MONTHS[0], month_end(MONTHS[5]), "month")))
    rows = list(csv.DictReader(io.StringIO(text)))
    lines: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["table"] == "response_minutes":
            continue
        row_key = (row["table"], row["period"], "row", row["area"])
        column_key = (row["table"], row["period"], "column", row["column"])
        lines.setdefault(row_key, []).append(row)
        lines.setdefault(column_key, []).append(row)
    checked = 0
    for (_table, _period, kind, _name), cells in lines.items():
        if kind == "row":
            total = next(cell for cell in cells if cell["column"] == "total")
            members = [cell for cell in cells if cell["column"] != "total"]
        else:
            total = next(cell for cell in cells if cell["area"] == "All")
            members = [cell for cell in cells if cell["area"] != "All"]
        hidden = [cell for cell in members if cell["count"] == "*"]
        if total["count"] == "*" or not hidden:
            continue
        assert len(hidden) >= 2
        shown = sum(int(cell["count"]) for cell in members if cell["count"] != "*")
        assert int(total["count"]) - shown > 10 * len(hidden)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize(("start", "end", "grouping", "message"), [
    ("2026-02-01", "2026-04-01", "month", "end on 2026-03-31 or 2026-04-30"),
    ("2026-02-15", "2026-03-31", "month", "start on 2026-02-01 or 2026-03-01"),
    ("2026-02-01", "2026-03-31", "quarter", "start on 2026-01-01 or 2026-04-01"),
    ("2026-01-01", "2026-05-31", "quarter", "end on 2026-03-31 or 2026-06-30"),
])
def test_unaligned_range_rejected(start, end, grouping, message):
    with pytest.raises(ReportInputError) as error:
        ReportRange(dt.date.fromisoformat(start), dt.date.fromisoformat(end), grouping)

    assert message in str(error.value)
    assert (start if "start on" in message else end) in str(error.value)


def test_unfinished_period_rejected():
    report_range = ReportRange(dt.date(2026, 10, 1), dt.date(2026, 12, 31), "quarter")

    with pytest.raises(ReportInputError, match="has not ended yet: end on 2026-09-30 or earlier"):
        report_range.check_complete(dt.date(2026, 12, 4))
    report_range.check_complete(dt.date(2027, 1, 1))
