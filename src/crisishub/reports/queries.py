"""Report tables from the hub's records, suppressed for publication.

Every count table has one row per area for each period and splits one
population into columns, so its row totals are that population. Each
period's table has its own totals row (all areas); no total spans the
requested range, because a range total minus another range's total would
give the counts of the periods where they differ.

Suppression depends only on a calendar quarter's own records: the three
month tables and the quarter table of every table that splits the same
population are suppressed together (see ``joint.suppress_quarter``), and a
request shows the months or the quarter it names from that result. So a
period is published with the same numbers in every report that contains
it.

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
from crisishub.reports.joint import suppress_quarter_cached
from crisishub.reports.periods import ReportRange, next_period_start
from crisishub.reports.suppression import SuppressedTable, is_small_count

MONTHS_PER_QUARTER = 3

# Outcome columns that split voluntary transports by destination.
TRANSPORT_ED = "voluntary_transport_emergency_department"
TRANSPORT_OTHER = "voluntary_transport_other"

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



@dataclass
class PeriodTable:
    """One period's counts, one row per area, and their suppression."""

    first: dt.date
    counts: list[list[int]]
    result: SuppressedTable


@dataclass
class CountTable:
    """One published count table: a population split into columns.

    ``counts`` has one row per month and area of the report's quarters
    (see ``Report.months``), and ``periods`` the suppressed tables of the
    requested periods.
    """

    key: str
    title: Promise
    population: Promise
    columns: list[tuple[str, Promise]]
    counts: list[list[int]]
    notes: list[Promise] = field(default_factory=list)
    periods: list[PeriodTable] = field(default_factory=list)

    def period(self, first: dt.date) -> PeriodTable:
        """Return the table of the period that starts on ``first``."""
        return next(table for table in self.periods if table.first == first)


@dataclass
class MedianPeriod:
    """Median minutes of one period: per area, per column (median or
    None, number of responses), and the same over all areas."""

    first: dt.date
    values: list[list[tuple[float | None, int]]]
    total: list[tuple[float | None, int]]


@dataclass
class MedianTable:
    """Median minutes of each response interval by period and area. A
    median of 1 to 10 responses is suppressed."""

    key: str
    title: Promise
    columns: list[tuple[str, Promise]]
    periods: list[MedianPeriod]
    notes: list[Promise] = field(default_factory=list)

    def public_median(self, median: float | None, count: int) -> float | None:
        return None if median is None or is_small_count(count) else median


@dataclass
class Report:
    range: ReportRange
    # First days of the months of every quarter the range touches; the
    # rows of ``CountTable.counts`` are these months times AREAS.
    months: list[dt.date]
    count_tables: list[CountTable]
    median_table: MedianTable
    notes: list[Promise]

    @property
    def periods(self) -> list[dt.date]:
        return self.range.periods()

    def period_label(self, first: dt.date) -> str:
        return self.range.period_label(first)

    def row(self, month: dt.date, area: str) -> int:
        """Return the index in ``CountTable.counts`` of a month and area."""
        return self.months.index(month) * len(AREAS) + [key for key, _label in AREAS].index(area)


def area_labels() -> list[str]:
    return [str(label) for _key, label in AREAS]


def build_report(report_range: ReportRange) -> Report:
    """Query the records of the range's quarters and return suppressed tables.

    Whole quarters are queried even for a monthly report, because a
    month's suppression is decided with its quarter's.
    """
    tz = timezone.get_current_timezone()
    quarters = report_range.quarters()
    months = [
        dt.date(quarter.year, quarter.month + k, 1) for quarter in quarters for k in range(MONTHS_PER_QUARTER)
    ]
    start = dt.datetime.combine(quarters[0], dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(next_period_start(quarters[-1], "quarter"), dt.time.min, tzinfo=tz)
    month_index = {first: n for n, first in enumerate(months)}
    area_index = {key: n for n, (key, _label) in enumerate(AREAS)}
    row_count = len(months) * len(AREAS)

    def row_of(moment: dt.datetime, area: str) -> int:
        local = timezone.localtime(moment, tz).date()
        area = area if area in (URBAN, RURAL) else NOT_PLACED
        return month_index[local.replace(day=1)] * len(AREAS) + area_index[area]

    encounter_tables = _encounter_tables(start, end, row_of, row_count)
    contact_tables = _contact_tables(start, end, row_of, row_count)
    arrival_table, samples = _response_tables(start, end, row_of, row_count)
    for group in (encounter_tables, contact_tables, [arrival_table]):
        _suppress_group(group, report_range, quarters)
    return Report(
        range=report_range,
        months=months,
        count_tables=[*encounter_tables, arrival_table, *contact_tables],
        median_table=_median_table(samples, report_range, month_index),
        notes=list(UNRECORDED_NOTES),
    )


def _suppress_group(group: list[CountTable], report_range: ReportRange, quarters: list[dt.date]) -> None:
    """Suppress each quarter of tables that split one population, and keep
    the requested periods."""
    areas = len(AREAS)
    for q, quarter in enumerate(quarters):
        parts = []
        for table in group:
            rows = [table.counts[(q * MONTHS_PER_QUARTER + k) * areas:(q * MONTHS_PER_QUARTER + k + 1) * areas]
                    for k in range(MONTHS_PER_QUARTER)]
            parts.append(rows)
        results = suppress_quarter_cached(parts)
        for table, table_parts, table_results in zip(group, parts, results):
            if report_range.grouping == "quarter":
                whole = [[sum(part[i][j] for part in table_parts) for j in range(len(table.columns))]
                         for i in range(areas)]
                table.periods.append(PeriodTable(quarter, whole, table_results[-1]))
                continue
            for k in range(MONTHS_PER_QUARTER):
                first = dt.date(quarter.year, quarter.month + k, 1)
                if report_range.start <= first <= report_range.end:
                    table.periods.append(PeriodTable(first, table_parts[k], table_results[k]))


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

    # Transports split the voluntary-transport outcome, so they are columns
    # of this table: a separate transports table would publish "not
    # transported" again as the sum of the other outcomes.
    outcome_columns: list[tuple[str, Promise]] = []
    for value, label in Disposition.choices:
        if value == Disposition.VOLUNTARY_TRANSPORT:
            outcome_columns += [
                (TRANSPORT_ED, _("Voluntary transport to an emergency department")),
                (TRANSPORT_OTHER, _("Voluntary transport elsewhere")),
            ]
        else:
            outcome_columns.append((value, label))

    def outcome(record) -> str:
        if record[2] != Disposition.VOLUNTARY_TRANSPORT:
            return record[2]
        if record[4] == Facility.Kind.EMERGENCY_DEPARTMENT:
            return TRANSPORT_ED
        return TRANSPORT_OTHER

    outcomes = CountTable(
        key="outcomes",
        title=_("Outcome of field encounters"),
        population=population,
        columns=outcome_columns,
        counts=_tally(encounters, row_count, [c for c, _label in outcome_columns],
                      lambda r: (row_of(r[0], r[1]), outcome(r))),
        notes=[_("Resolved in the community is the share resolved on scene. Involuntary holds are those initiated by others, because the teams do not place holds.")],
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
    return [outcomes, police, languages]


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


def _response_tables(start, end, row_of, row_count) -> tuple[CountTable, list[list[list[float]]]]:
    """Arrival within the standard, and the interval minutes of each
    response per month and area (for ``_median_table``)."""
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
    return arrival, samples


def _median_table(samples: list[list[list[float]]], report_range: ReportRange,
                  month_index: dict[dt.date, int]) -> MedianTable:
    """Median minutes per requested period and area, and per period over all areas."""
    areas = len(AREAS)

    def median(values: list[float]) -> tuple[float | None, int]:
        return (round(statistics.median(values), 1) if values else None), len(values)

    periods = []
    for first in report_range.periods():
        if report_range.grouping == "month":
            months = [month_index[first]]
        else:
            months = [month_index[dt.date(first.year, first.month + k, 1)] for k in range(MONTHS_PER_QUARTER)]
        pooled = [
            [[value for month in months for value in samples[month * areas + a][j]] for j in range(len(INTERVALS))]
            for a in range(areas)
        ]
        periods.append(MedianPeriod(
            first=first,
            values=[[median(cell) for cell in row] for row in pooled],
            total=[median([v for row in pooled for v in row[j]]) for j in range(len(INTERVALS))],
        ))
    return MedianTable(
        key="response_minutes",
        title=_("Median minutes of each response interval"),
        columns=INTERVALS,
        periods=periods,
        notes=[_("A median of 1 to 10 responses is suppressed. Intervals count from the last assignment of a reassigned response.")],
    )
