"""Report tables from the hub's records, suppressed for publication.

Every count table has one row per period and area and splits one
population into columns, so its row totals are that population. Tables
that split the same population are suppressed together (see
``suppress_linked``), because they publish the same row totals.

Areas are the incident's urban or rural class from its census tract
(rural below 50 people per square mile), because the hub records no
supervisorial district or ZIP code for an incident. Contacts are placed
the same way from their coordinates.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crisishub.core.models import (
    Contact, Disposition, Facility, Incident, IncidentEvent, LawEnforcement, Team,
)
from crisishub.reports.periods import ReportRange
from crisishub.reports.suppression import SuppressedTable, is_small_count, suppress_linked

URBAN, RURAL, NOT_PLACED = "urban", "rural", ""
AREAS: list[tuple[str, Promise]] = [
    (URBAN, _("Urban")),
    (RURAL, _("Rural")),
    (NOT_PLACED, _("Not placed")),
]

# Days before a contact in which another contact by the same person makes
# it a repeat crisis contact.
REPEAT_SHORT_DAYS = 30
REPEAT_LONG_DAYS = 90

# Measures the program asked for that no field of the hub records.
UNRECORDED_NOTES = [
    _("Injuries are not recorded for field encounters, so resolution without injury is not reported."),
    _("Arrests are not recorded, so only involuntary holds (initiated by others) are reported, in the outcomes table."),
    _("Emergency department visits after an encounter, follow-ups and referral outcomes are not recorded, so only transports by the team to an emergency department are reported."),
    _("No supervisorial district or ZIP code is recorded for an incident, so areas are urban or rural by census tract. \"Not placed\" means no location inside the county."),
]

RowKey = tuple[dt.date, str]


@dataclass
class CountTable:
    """One published count table: a population split into columns."""

    key: str
    title: Promise
    population: Promise
    columns: list[tuple[str, Promise]]
    counts: list[list[int]]
    notes: list[Promise] = field(default_factory=list)
    result: SuppressedTable | None = None


@dataclass
class MedianTable:
    """Median minutes of each response interval by row. A median of 1 to 10
    incidents is suppressed."""

    key: str
    title: Promise
    columns: list[tuple[str, Promise]]
    # Per row, per column: (median minutes or None, number of incidents).
    values: list[list[tuple[float | None, int]]]
    total: list[tuple[float | None, int]]
    notes: list[Promise] = field(default_factory=list)

    def public_median(self, median: float | None, count: int) -> float | None:
        return None if median is None or is_small_count(count) else median


@dataclass
class Report:
    range: ReportRange
    rows: list[RowKey]
    count_tables: list[CountTable]
    median_table: MedianTable
    notes: list[Promise]

    def row_labels(self) -> list[tuple[str, str]]:
        area_labels = dict(AREAS)
        return [(self.range.period_label(period), str(area_labels[area])) for period, area in self.rows]


def build_report(report_range: ReportRange) -> Report:
    """Query the hub's records for the range and return suppressed tables."""
    tz = timezone.get_current_timezone()
    start, end = report_range.bounds(tz)
    rows = [(period, area) for period in report_range.periods() for area, _label in AREAS]
    row_index = {row: i for i, row in enumerate(rows)}

    def row_of(moment: dt.datetime, area: str) -> int:
        local = timezone.localtime(moment, tz).date()
        return row_index[(report_range.period_of(local), area if area in (URBAN, RURAL) else NOT_PLACED)]

    encounter_tables = _encounter_tables(start, end, row_of, len(rows))
    contact_tables = _contact_tables(start, end, row_of, len(rows))
    arrival_table, median_table = _response_tables(start, end, row_of, len(rows))
    for group in (encounter_tables, contact_tables, [arrival_table]):
        results = suppress_linked([table.counts for table in group])
        for table, result in zip(group, results):
            table.result = result
    return Report(
        range=report_range,
        rows=rows,
        count_tables=[*encounter_tables, arrival_table, *contact_tables],
        median_table=median_table,
        notes=list(UNRECORDED_NOTES),
    )


def _tally(records: Iterable, row_count: int, columns: list[str], classify: Callable) -> list[list[int]]:
    """Count records into rows and columns; ``classify`` returns (row, column key)."""
    counts = [[0] * len(columns) for _ in range(row_count)]
    position = {key: j for j, key in enumerate(columns)}
    for record in records:
        row, key = classify(record)
        counts[row][position[key]] += 1
    return counts


def _encounter_tables(start, end, row_of, row_count) -> list[CountTable]:
    """Field encounters: incidents whose team recorded how the response ended."""
    encounters = list(
        Incident.objects.filter(t0__gte=start, t0__lt=end)
        .exclude(disposition="")
        .values_list("t0", "area_class", "disposition", "law_enforcement",
                     "transport_destination__kind", "language", "team_id")
    )
    population = _("field encounters (responses with a recorded outcome)")

    outcome_columns = [(value, label) for value, label in Disposition.choices]
    outcomes = CountTable(
        key="outcomes",
        title=_("Outcome of field encounters"),
        population=population,
        columns=outcome_columns,
        counts=_tally(encounters, row_count, [c for c, _label in outcome_columns],
                      lambda r: (row_of(r[0], r[1]), r[2])),
        notes=[_("Resolved in the community is the share resolved on scene. Involuntary holds are those initiated by others, because the teams do not place holds.")],
    )

    def transport_kind(record) -> str:
        if record[2] != Disposition.VOLUNTARY_TRANSPORT:
            return "none"
        if record[4] == Facility.Kind.EMERGENCY_DEPARTMENT:
            return "emergency_department"
        return "other"

    transport_columns = [
        ("emergency_department", _("Transported to an emergency department")),
        ("other", _("Transported elsewhere")),
        ("none", _("Not transported by the team")),
    ]
    transports = CountTable(
        key="transports",
        title=_("Transports by the team"),
        population=population,
        columns=transport_columns,
        counts=_tally(encounters, row_count, [c for c, _label in transport_columns],
                      lambda r: (row_of(r[0], r[1]), transport_kind(r))),
    )

    police_columns = [(value, label) for value, label in LawEnforcement.choices]
    police = CountTable(
        key="law_enforcement",
        title=_("Law-enforcement involvement in field encounters"),
        population=population,
        columns=police_columns,
        counts=_tally(encounters, row_count, [c for c, _label in police_columns],
                      lambda r: (row_of(r[0], r[1]), r[3])),
    )

    team_languages = {
        pk: set(languages or []) for pk, languages in Team.objects.values_list("pk", "languages")
    }
    language_columns = [
        ("match", _("Team speaks the person's language")),
        ("no_match", _("Team does not speak it")),
    ]
    languages = CountTable(
        key="team_language",
        title=_("Field encounters in the person's language"),
        population=population,
        columns=language_columns,
        counts=_tally(
            encounters, row_count, [c for c, _label in language_columns],
            lambda r: (row_of(r[0], r[1]), "match" if r[5] in team_languages.get(r[6], set()) else "no_match"),
        ),
        # NOTE: teams keep no history of their members' languages, so a
        # roster change after the encounter changes this table.
        notes=[_("Languages are those of the team's members today, not on the day of the encounter.")],
    )
    return [outcomes, transports, police, languages]


def _contact_area(latitude: float | None, longitude: float | None, cache: dict) -> str:
    if latitude is None or longitude is None:
        return NOT_PLACED
    key = (latitude, longitude)
    if key not in cache:
        from crisishub.datapack import geo

        cache[key] = geo.urban_rural(latitude, longitude) or NOT_PLACED
    return cache[key]


def _contact_tables(start, end, row_of, row_count) -> list[CountTable]:
    """Contacts with the call center: service language and repeat crises."""
    contacts = list(
        Contact.objects.filter(offered_at__gte=start, offered_at__lt=end)
        .exclude(status=Contact.Status.DRAFT)
        .values_list("pk", "offered_at", "latitude", "longitude", "person_id",
                     "preferred_language", "service_language", "interpreter_used")
    )
    population = _("contacts with the call center")
    areas: dict = {}
    placed = {pk: _contact_area(lat, lon, areas) for pk, _at, lat, lon, *_rest in contacts}

    def service(record) -> str:
        preferred, given, interpreter = record[5], record[6], record[7]
        if not given:
            return "not_recorded"
        if given != preferred:
            return "other"
        return "interpreter" if interpreter else "staff"

    service_columns = [
        ("staff", _("In the preferred language, by staff")),
        ("interpreter", _("In the preferred language, with an interpreter")),
        ("other", _("In another language")),
        ("not_recorded", _("Language not recorded")),
    ]
    service_table = CountTable(
        key="contact_language",
        title=_("Call center contacts by the language of the service"),
        population=population,
        columns=service_columns,
        counts=_tally(contacts, row_count, [c for c, _label in service_columns],
                      lambda r: (row_of(r[1], placed[r[0]]), service(r))),
    )

    previous = _previous_contact_times(contacts, start, end)

    def repeat(record) -> str:
        if record[4] is None:
            return "not_linked"
        earlier = previous.get(record[0])
        if earlier is None:
            return "first"
        gap = record[1] - earlier
        if gap <= dt.timedelta(days=REPEAT_SHORT_DAYS):
            return "within_short"
        return "within_long"

    repeat_columns = [
        ("within_short", _("Another contact in the previous 30 days")),
        ("within_long", _("Another contact 31 to 90 days before")),
        ("first", _("No contact in the previous 90 days")),
        ("not_linked", _("Not linked to a person")),
    ]
    repeat_table = CountTable(
        key="repeat_contacts",
        title=_("Repeat crisis contacts"),
        population=population,
        columns=repeat_columns,
        counts=_tally(contacts, row_count, [c for c, _label in repeat_columns],
                      lambda r: (row_of(r[1], placed[r[0]]), repeat(r))),
        notes=[_("Repeats are counted only for contacts linked to a person record.")],
    )
    return [service_table, repeat_table]


def _previous_contact_times(contacts: list, start: dt.datetime, end: dt.datetime) -> dict[int, dt.datetime]:
    """Return, per contact in the range, the time of the same person's latest
    earlier contact within REPEAT_LONG_DAYS, for contacts that have one."""
    person_ids = {record[4] for record in contacts if record[4] is not None}
    if not person_ids:
        return {}
    history: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for pk, person_id, offered_at in (
        Contact.objects.filter(
            person_id__in=person_ids,
            offered_at__gte=start - dt.timedelta(days=REPEAT_LONG_DAYS),
            offered_at__lt=end,
        )
        .exclude(status=Contact.Status.DRAFT)
        .values_list("pk", "person_id", "offered_at")
    ):
        history[person_id].append((offered_at, pk))
    found: dict[int, dt.datetime] = {}
    for visits in history.values():
        visits.sort()
        for (before, _pk), (after, pk) in zip(visits, visits[1:]):
            if after - before <= dt.timedelta(days=REPEAT_LONG_DAYS):
                found[pk] = before
    return found


INTERVALS = [
    ("call_processing", _("Call processing (T0 to assigned)")),
    ("turnout", _("Turnout (assigned to en route)")),
    ("travel", _("Travel (en route to on scene)")),
    ("t0_to_on_scene", _("T0 to on scene")),
    ("on_scene", _("On scene (on scene to cleared)")),
    ("transport", _("Transport (transporting to destination)")),
]


def _response_tables(start, end, row_of, row_count) -> tuple[CountTable, MedianTable]:
    """Arrival within the standard, and median minutes of each interval."""
    from crisishub.core.services.dispatch import compute_intervals

    incidents = list(
        Incident.objects.filter(t0__gte=start, t0__lt=end, team__isnull=False)
        .only("pk", "t0", "area_class")
    )
    timelines: dict[int, list[IncidentEvent]] = defaultdict(list)
    for event in IncidentEvent.objects.filter(incident__in=[i.pk for i in incidents]).order_by("occurred_at", "id"):
        timelines[event.incident_id].append(event)

    samples: list[list[list[float]]] = [[[] for _ in INTERVALS] for _ in range(row_count)]
    arrivals = []
    for incident in incidents:
        row = row_of(incident.t0, incident.area_class)
        intervals = compute_intervals(incident, timelines[incident.pk])
        for j, (key, _label) in enumerate(INTERVALS):
            if intervals[key] is not None:
                samples[row][j].append(intervals[key])
        if intervals["t0_to_on_scene"] is not None:
            within = intervals["t0_to_on_scene"] <= incident.standard_minutes
            arrivals.append((row, "within" if within else "later"))

    arrival_columns = [
        ("within", _("On scene within the standard")),
        ("later", _("On scene after the standard")),
    ]
    arrival = CountTable(
        key="arrival_standard",
        title=_("Arrival within the response standard"),
        population=_("responses with a recorded arrival on scene"),
        columns=arrival_columns,
        counts=_tally(arrivals, row_count, [c for c, _label in arrival_columns], lambda a: a),
        notes=[_("The standard is 60 minutes from T0 in urban areas and 120 minutes in rural areas.")],
    )

    def median(values: list[float]) -> tuple[float | None, int]:
        return (round(statistics.median(values), 1) if values else None), len(values)

    medians = MedianTable(
        key="response_minutes",
        title=_("Median minutes of each response interval"),
        columns=INTERVALS,
        values=[[median(cell) for cell in row] for row in samples],
        total=[median([v for row in samples for v in row[j]]) for j in range(len(INTERVALS))],
        notes=[_("A median of 1 to 10 responses is suppressed. Intervals count from the last assignment of a reassigned response.")],
    )
    return arrival, medians
