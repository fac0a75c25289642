"""The reports page, its CSV and the ``crisishub report`` command, on real rows.

Encounters are made through the dispatch services, so incidents, events,
dispositions and transports are recorded as in the field. The fixed start
time is 2026-01-05 (Pacific), so every record falls in January 2026.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from crisishub.core import roles
from crisishub.core.models import Facility, Incident, Team, TeamStatus
from crisishub.core.services.dispatch import do_assign_team, do_close_out, do_record_status
from crisishub.reports.periods import ReportRange
from crisishub.reports.queries import build_report

pytestmark = pytest.mark.django_db

JANUARY = {"start": "2026-01-01", "end": "2026-01-31", "group": "month"}


@pytest.fixture
def team(fleet):
    """A team that speaks English; the encounters use it one after another."""
    found = next(t for t in Team.objects.order_by("name") if "en" in t.languages)
    assert found.status == TeamStatus.AVAILABLE
    return found


@pytest.fixture
def rural_point():
    """The population centre of the first rural tract in the data pack."""
    from crisishub.datapack import load_tracts

    tract = next(t for t in load_tracts() if t.rural)
    return tract.lat, tract.lon


@pytest.fixture
def encounter(make_incident, team, at):
    """Record a whole field encounter, from request to close-out."""
    clock = {"minutes": 0.0}

    def record(disposition="resolved_in_community", law_enforcement="none", **contact_fields):
        start = clock["minutes"]
        clock["minutes"] += 180
        incident = make_incident(minutes=start, at=at(start), **contact_fields)
        do_assign_team(incident.pk, team.pk, at=at(start + 5))
        do_record_status(incident.pk, "en_route", at=at(start + 8))
        do_record_status(incident.pk, "on_scene", at=at(start + 35))
        destination = None
        if disposition == "voluntary_transport":
            destination = Facility.objects.filter(kind=Facility.Kind.EMERGENCY_DEPARTMENT).first().pk
            do_record_status(incident.pk, "transporting", at=at(start + 80))
            do_record_status(incident.pk, "at_destination", at=at(start + 100))
        do_record_status(incident.pk, "cleared", at=at(start + 120))
        return do_close_out(
            incident.pk, disposition=disposition, law_enforcement=law_enforcement,
            law_enforcement_reason="" if law_enforcement == "none" else "weapon reported",
            transport_destination_id=destination,
            transport_consent=True if destination else None,
        )

    return record


@pytest.fixture
def january(encounter, rural_point):
    """34 urban encounters (30 resolved, 3 transports to an ED, 1 declined
    with police requested) and 12 rural ones, all resolved."""
    for _ in range(30):
        encounter()
    for _ in range(3):
        encounter("voluntary_transport")
    encounter("declined", law_enforcement="requested_by_team")
    for _ in range(12):
        encounter(latitude=rural_point[0], longitude=rural_point[1])
    assert Incident.objects.exclude(disposition="").count() == 46


def signed_in(client, personas, role):
    client.force_login(personas[role])
    return client


def table_by_key(report, key):
    return next(table for table in report.count_tables if table.key == key)


# --- Queries ------------------------------------------------------------


JANUARY_START = dt.date(2026, 1, 1)


def january_range():
    return ReportRange(JANUARY_START, dt.date(2026, 1, 31), "month")


def test_outcome_counts_from_records(january):
    report = build_report(january_range())
    outcomes = table_by_key(report, "outcomes")
    urban = report.row(JANUARY_START, "urban")
    rural = report.row(JANUARY_START, "rural")

    assert [key for key, _label in outcomes.columns] == [
        "resolved_in_community", "voluntary_transport_emergency_department", "voluntary_transport_other",
        "involuntary_hold_by_others", "declined", "gone_on_arrival",
    ]
    assert outcomes.counts[urban] == [30, 3, 0, 0, 1, 0]
    assert outcomes.counts[rural] == [12, 0, 0, 0, 0, 0]
    police = table_by_key(report, "law_enforcement")
    assert police.counts[urban] == [33, 1, 0, 0]
    language = table_by_key(report, "team_language")
    assert language.counts[urban] == [34, 0]
    arrival = table_by_key(report, "arrival_standard")
    assert arrival.counts[urban] == [34, 0]


def test_transports_are_outcome_columns(january):
    """"Not transported" would repeat the sum of the other outcomes, so
    transports are columns of the outcomes table, not a table of their own."""
    report = build_report(january_range())

    assert [table.key for table in report.count_tables] == [
        "outcomes", "law_enforcement", "team_language", "arrival_standard",
        "contact_language", "repeat_contacts",
    ]


def test_small_cells_suppressed_in_report(january):
    report = build_report(january_range())
    outcomes = table_by_key(report, "outcomes").period(JANUARY_START).result
    urban, rural = 0, 1

    row = outcomes.cells[urban]
    assert not row[1].published  # 3 transports to an emergency department
    assert not row[4].published  # 1 declined
    # 3 + 1 = 4 hidden behind a published total of 34 would read as small
    # counts, so the 30 is hidden too.
    assert not row[0].published
    # Every non-zero cell of the row is hidden, so its zeros are hidden:
    # shown, they would reveal that the 34 were only resolved, transported or declined.
    assert not row[2].published
    assert not row[3].published
    assert not row[5].published
    assert outcomes.cells[rural][0].public_value == 12
    assert outcomes.row_share(urban, 1) is None
    police = table_by_key(report, "law_enforcement").period(JANUARY_START).result
    assert police.cells[urban][0].public_value == 33
    assert not police.cells[urban][1].published  # 1 police request
    # Linked tables hide the same row totals.
    for table in report.count_tables[:3]:
        result = table.period(JANUARY_START).result
        assert [t.published for t in result.row_totals] == [t.published for t in outcomes.row_totals]
        assert result.grand_total.published == outcomes.grand_total.published


def test_response_medians_suppress_small_rows(january):
    report = build_report(january_range())
    medians = report.median_table
    period = medians.periods[0]
    urban, rural = 0, 1
    column = [key for key, _label in medians.columns].index("t0_to_on_scene")
    transport = [key for key, _label in medians.columns].index("transport")

    assert period.first == JANUARY_START
    assert period.values[urban][column] == (35.0, 34)
    assert medians.public_median(*period.values[urban][column]) == 35.0
    assert period.values[rural][column] == (35.0, 12)
    assert medians.public_median(*period.values[rural][column]) == 35.0
    assert period.total[column] == (35.0, 46)
    # Only the 3 transports have a transport interval.
    assert period.values[urban][transport] == (20.0, 3)
    assert medians.public_median(*period.values[urban][transport]) is None


# --- Page ---------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.ANALYST, roles.SUPERVISOR, roles.ADMINISTRATOR])
def test_page_allowed_roles(client, personas, role, january):
    response = signed_in(client, personas, role).get("/reports/", JANUARY)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-table="outcomes"' in body
    assert "data-footnote" in body
    assert "data-suppressed" in body


@pytest.mark.parametrize("role", [roles.CALL_COUNSELOR, roles.DISPATCHER, roles.TEAM_MEMBER, "outsider"])
def test_page_denied_roles(client, personas, role):
    response = signed_in(client, personas, role).get("/reports/", JANUARY)

    assert response.status_code == 403
    csv_response = client.get("/reports/", {**JANUARY, "download": "csv"})
    assert csv_response.status_code == 403


def test_page_signed_out_redirects(client):
    response = client.get("/reports/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_page_default_range_renders(client, personas, reference_data):
    response = signed_in(client, personas, roles.ANALYST).get("/reports/")

    assert response.status_code == 200
    assert b'data-table="repeat_contacts"' in response.content


def test_page_shows_published_counts(client, personas, january):
    response = signed_in(client, personas, roles.ANALYST).get("/reports/", JANUARY)
    body = response.content.decode()

    outcomes = body[body.index('data-table="outcomes"'):body.index('data-table="law_enforcement"')]
    police = body[body.index('data-table="law_enforcement"'):body.index('data-table="team_language"')]
    assert ">12<" in police
    assert ">33<" in police
    # The hidden 30 resolved must not appear as a count anywhere in the table.
    assert ">30<" not in outcomes
    assert ">30 " not in outcomes


def test_page_bad_date_names_value(client, personas, reference_data):
    response = signed_in(client, personas, roles.ANALYST).get(
        "/reports/", {"start": "2026-13-01", "end": "2026-01-31", "group": "month"}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "2026-13-01" in body
    assert "YYYY-MM-DD" in body


def test_page_end_before_start_rejected(client, personas, reference_data):
    response = signed_in(client, personas, roles.ANALYST).get(
        "/reports/", {"start": "2026-02-01", "end": "2026-01-31", "group": "month"}
    )

    assert response.status_code == 400
    assert "before the start date" in response.content.decode()


def test_page_spanish(client, personas, january):
    client = signed_in(client, personas, roles.ANALYST)
    response = client.get("/reports/", JANUARY, HTTP_ACCEPT_LANGUAGE="es")

    body = response.content.decode()

    assert response.status_code == 200
    assert "Mostrar el informe" in body
    assert "Resultado de los encuentros en campo" in body
    assert "Suprimido: el conteo es de 1 a 10" in body


# --- CSV ----------------------------------------------------------------


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_has_no_small_counts(client, personas, january):
    response = signed_in(client, personas, roles.SUPERVISOR).get("/reports/", {**JANUARY, "download": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows
    counts = [row["count"] for row in rows if row["count"] not in ("", "*")]
    assert counts
    assert all(not 1 <= int(count) <= 10 for count in counts)
    assert any(row["count"] == "*" for row in rows)
    # A suppressed count carries no percentage.
    assert all(row["percent_of_row"] == "" for row in rows if row["count"] == "*")


def test_csv_bad_date_is_plain_error(client, personas, reference_data):
    response = signed_in(client, personas, roles.ANALYST).get(
        "/reports/", {"start": "01/02/2026", "end": "2026-01-31", "group": "month", "download": "csv"}
    )

    assert response.status_code == 400
    assert "01/02/2026" in response.content.decode()


def test_csv_error_not_html_escaped(client, personas, reference_data):
    response = signed_in(client, personas, roles.ANALYST).get(
        "/reports/", {"start": "abc", "end": "2026-01-31", "group": "month", "download": "csv"}
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "Invalid from date 'abc'" in body
    assert "&#x27;" not in body
    assert "&" not in body


@pytest.mark.parametrize(("query", "message"), [
    ({"start": "9999-12-01", "end": "9999-12-31"}, "out of range: use a date from 2000-01-01 to 2099-12-31"),
    ({"start": "2026-02-01", "end": "2026-04-01"}, "end on 2026-03-31 or 2026-04-30"),
    ({"start": "2026-02-15", "end": "2026-03-31"}, "start on 2026-02-01 or 2026-03-01"),
])
def test_page_rejects_bad_range(client, personas, reference_data, query, message):
    response = signed_in(client, personas, roles.ANALYST).get("/reports/", {**query, "group": "month"})

    assert response.status_code == 400
    assert message in response.content.decode()


def test_page_rejects_unfinished_month(client, personas, reference_data):
    from django.utils import timezone

    today = timezone.localdate()
    first = today.replace(day=1)
    end = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    response = signed_in(client, personas, roles.ANALYST).get(
        "/reports/", {"start": first.isoformat(), "end": end.isoformat(), "group": "month"}
    )

    assert response.status_code == 400
    assert "has not ended yet" in response.content.decode()


# --- Command ------------------------------------------------------------


def test_command_json(capsys, january):
    from crisishub.cli import main

    code = main(["report", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "json"])

    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["from"] == "2026-01-01"
    outcomes = next(table for table in data["tables"] if table["key"] == "outcomes")
    urban = next(row for row in outcomes["rows"] if row["period"] == "2026-01" and row["area"] == "Urban")
    assert urban["total"] == {"count": None, "percent": None, "suppressed": True}
    police = next(table for table in data["tables"] if table["key"] == "law_enforcement")
    urban = next(row for row in police["rows"] if row["period"] == "2026-01" and row["area"] == "Urban")
    assert urban["cells"][0] == {"count": 33, "percent": None, "suppressed": False}
    assert all(cell["count"] is None or not 1 <= cell["count"] <= 10
               for table in data["tables"] for row in table["rows"] for cell in row["cells"])
    assert data["notes"]


def test_command_csv_quarter(capsys, january):
    from crisishub.cli import main

    code = main(["report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv", "--group", "quarter"])

    assert code == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    # Each period has its own all-areas row; no total spans the range.
    assert {row["period"] for row in rows} == {"2026 Q1"}
    assert {row["area"] for row in rows} == {"Urban", "Rural", "Not placed", "All"}


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2026-02-30", "--to", "2026-03-31"], "Invalid --from date '2026-02-30'"),
    (["--from", "2026-01-01", "--to", "tomorrow"], "Invalid --to date 'tomorrow'"),
    (["--from", "2026-03-01", "--to", "2026-01-01"], "before the start date 2026-03-01"),
    (["--from", "9999-12-01", "--to", "9999-12-31"], "The --from date 9999-12-01 is out of range"),
    (["--from", "2026-02-01", "--to", "2026-04-01", "--group", "quarter"], "start on 2026-01-01 or 2026-04-01"),
    (["--from", "2026-02-01", "--to", "2026-04-01"], "The end date 2026-04-01 is not the last day of a month"),
])
def test_command_bad_dates(capsys, options, message):
    from crisishub.cli import main

    code = main(["report", *options])

    assert code == 2
    error = capsys.readouterr().err
    assert message in error
    assert "crisishub report:" in error


# --- Formatting ---------------------------------------------------------


@pytest.mark.parametrize(("share", "text"), [
    (None, ""),
    (0.0, "0.0%"),
    (11 / 50000, "<0.1%"),
    (0.0005, "0.1%"),
    (2 / 3, "66.7%"),
    (1.0, "100.0%"),
])
def test_format_share_never_reads_zero(share, text):
    from crisishub.reports.output import format_share

    assert format_share(share) == text


def test_command_quiet_on_closed_pipe(january, monkeypatch):
    """``crisishub report ... | head`` ends quietly when the reader closes
    the pipe: standard output is a pipe whose read end is closed."""
    import os

    from crisishub.cli import main

    read_end, write_end = os.pipe()
    os.close(read_end)
    stdout = os.fdopen(write_end, "w")
    monkeypatch.setattr("sys.stdout", stdout)
    try:
        code = main(["report", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "csv"])
    finally:
        monkeypatch.undo()
        stdout.close()

    assert code == 0
