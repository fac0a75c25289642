"""Planner pages, through Django's test client."""

from __future__ import annotations

import json
import re
import time

import pytest

from crisishub.audit.models import AuditEntry
from crisishub.planning import erlang
from crisishub.planning import profile as demand

PAGES = [
    "/planning/",
    "/planning/profile/",
    "/planning/profile/heatmap.png",
    "/planning/staffing/",
    "/planning/placement/",
    "/planning/simulate/",
]


def signed_in(client, personas, role):
    client.force_login(personas[role])
    return client


@pytest.fixture
def analyst(client, personas, reference_data):
    return signed_in(client, personas, "analyst")


@pytest.mark.parametrize("role", ["call_counselor", "dispatcher", "team_member", "outsider"])
def test_pages_forbidden_without_planning_role(client, personas, role):
    signed_in(client, personas, role)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 403, page


def test_forbidden_access_is_audited(client, personas):
    signed_in(client, personas, "dispatcher")
    before = AuditEntry.objects.count()
    client.get("/planning/staffing/")
    assert AuditEntry.objects.count() == before + 1


def test_anonymous_redirected_to_login(client, db):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/"), page


@pytest.mark.parametrize("role", ["supervisor", "analyst"])
def test_planning_roles_open_index(client, personas, role):
    signed_in(client, personas, role)
    response = client.get("/planning/")
    assert response.status_code == 200
    assert b"/planning/placement/" in response.content


def test_nav_link_for_planners_only(client, personas):
    signed_in(client, personas, "analyst")
    assert b'href="/planning/"' in client.get("/planning/profile/").content
    client.logout()
    signed_in(client, personas, "call_counselor")
    assert b'href="/planning/"' not in client.get("/counselor/").content


def test_profile_borrowed_is_labelled(analyst):
    response = analyst.get("/planning/profile/", {"source": "auto", "mobile_share": "0.2"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-borrowed" in html
    assert "Borrowed profile" in html
    assert "Toronto" in html
    assert "/planning/profile/heatmap.png?" in html
    assert "/planning/profile/curve.png?" in html


def test_profile_scaled_volume(analyst):
    response = analyst.get(
        "/planning/profile/", {"source": "borrowed", "weekly_calls": "700", "mobile_share": "0.2"}
    )
    match = re.search(r"data-weekly-calls>([\d.]+)<", response.content.decode())
    assert match is not None
    assert float(match.group(1)) == pytest.approx(700.0)


def test_profile_plots_are_images(analyst):
    query = {"source": "borrowed", "mobile_share": "0.2"}
    heatmap = analyst.get("/planning/profile/heatmap.png", query)
    assert heatmap.status_code == 200
    assert heatmap["Content-Type"] == "image/png"
    assert heatmap.content[:8] == b"\x89PNG\r\n\x1a\n"
    curve = analyst.get("/planning/profile/curve.png", query | {"format": "svg"})
    assert curve["Content-Type"] == "image/svg+xml"
    assert b"<svg" in curve.content


def test_profile_plot_rejects_bad_query(analyst):
    response = analyst.get("/planning/profile/heatmap.png", {"source": "nowhere"})
    assert response.status_code == 400
    assert b"source" in response.content


def test_profile_from_hub_records(analyst, make_contact, at):
    # BASE_TIME is Monday 2026-01-05 18:00 UTC, 10:00 in Sacramento.
    for minutes in (0, 5, 70):
        make_contact(at=at(minutes))
    response = analyst.get("/planning/profile/", {"source": "hub", "mobile_share": "0.2"})
    html = response.content.decode()
    assert "data-borrowed" not in html
    assert "own records: 3 calls." in html
    assert "Monday 10:00" in html


def test_staffing_matches_erlang(analyst):
    query = {
        "source": "borrowed", "weekly_calls": "2000", "mobile_share": "0.2", "aht": "12",
        "target_seconds": "20", "service_level": "0.8", "shrinkage": "0.3",
        "busy_minutes": "112.5", "max_wait_probability": "0.1",
    }
    response = analyst.get("/planning/staffing/", query)
    html = response.content.decode()
    assert response.status_code == 200
    calls = demand.toronto_profile().per_hour(2000).ravel()
    found = erlang.required_agents(
        erlang.offered_load(calls, 60.0, 12.0), 12.0,
        erlang.StaffingGoal(target_time=20 / 60, service_level=0.8),
    )
    expected = int(erlang.positions_after_shrinkage(found.agents, 0.3).max())
    match = re.search(r"data-max-positions>(\d+)<", html)
    assert match is not None
    assert int(match.group(1)) == expected
    assert html.count("<tr><td>") == 168
    assert "Erlang C" in html


def test_staffing_erlang_a_named(analyst):
    query = {
        "source": "borrowed", "mobile_share": "0.2", "aht": "12", "target_seconds": "20",
        "service_level": "0.8", "shrinkage": "0.3", "busy_minutes": "112.5",
        "max_wait_probability": "0.1", "patience": "5",
    }
    assert "Erlang A" in analyst.get("/planning/staffing/", query).content.decode()


def test_staffing_invalid_input_shows_error(analyst):
    query = {
        "source": "borrowed", "mobile_share": "0.2", "aht": "12", "target_seconds": "20",
        "service_level": "1.5", "shrinkage": "0.3", "busy_minutes": "112.5",
        "max_wait_probability": "0.1",
    }
    response = analyst.get("/planning/staffing/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "Service level target" in html
    assert "<tr><td>" not in html


def placement_map(html: str) -> dict:
    match = re.search(
        r'<script id="planning-map-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def test_placement_mclp_with_map(analyst):
    query = {
        "model": "mclp", "p": "2", "radius": "20", "busy_fraction": "0.3",
        "weights": "population", "candidates": "facilities",
    }
    response = analyst.get("/planning/placement/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-status>Optimal<" in html
    assert "data-covered-population" in html
    data = placement_map(html)
    assert len(data["stations"]) == 2
    assert len(data["tracts"]) == 363
    covered = sum(t["population"] for t in data["tracts"] if t["covered"])
    assert f"{covered} / 1585055" in html
    assert 0 < covered < 1585055
    assert len(data["outline"]) > 10
    assert "vendor/leaflet/leaflet.js" in html


def test_placement_pmedian_reports_mean_minutes(analyst):
    query = {
        "model": "pmedian", "p": "3", "busy_fraction": "0.3",
        "weights": "population", "candidates": "facilities",
    }
    html = analyst.get("/planning/placement/", query).content.decode()
    assert "data-status>Optimal<" in html
    assert "Mean travel minutes" in html
    assert len(placement_map(html)["stations"]) == 3


def test_placement_observed_demand_needs_incidents(analyst):
    query = {
        "model": "mclp", "p": "2", "busy_fraction": "0.3", "weights": "demand",
        "candidates": "facilities",
    }
    html = analyst.get("/planning/placement/", query).content.decode()
    assert "There is a problem" in html
    assert "no incidents with a census tract" in html


def test_placement_observed_demand_weights(analyst, make_incident):
    make_incident()
    query = {
        "model": "mclp", "p": "1", "radius": "15", "busy_fraction": "0.3",
        "weights": "demand", "candidates": "facilities",
    }
    html = analyst.get("/planning/placement/", query).content.decode()
    assert "data-status>Optimal<" in html
    assert len(placement_map(html)["stations"]) == 1


def test_simulate_page_reports_intervals(analyst, fleet):
    query = {
        "source": "borrowed", "weekly_calls": "300", "mobile_share": "0.3", "weeks": "0.5",
        "teams": "3", "aht": "12", "patience": "5", "on_scene": "60",
        "replications": "3", "seed": "1",
    }
    response = analyst.get("/planning/simulate/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Means over 3 replications" in html
    assert "response_median_minutes" in html
    assert "service_level" in html
    assert "team 3 busy fraction" in html
    assert "hub stations" in html
    rows = re.findall(r"<td>([\d.]+)</td><td>([\d.]+) – ([\d.]+)</td>", html)
    assert rows
    for mean, low, high in rows:
        assert float(low) <= float(mean) <= float(high)


def test_simulate_same_seed_same_page(analyst):
    query = {
        "source": "borrowed", "weekly_calls": "200", "mobile_share": "0.2", "weeks": "0.3",
        "teams": "2", "aht": "12", "patience": "5", "on_scene": "60",
        "replications": "2", "seed": "4",
    }
    first = analyst.get("/planning/simulate/", query).content
    second = analyst.get("/planning/simulate/", query).content
    table = re.compile(rb"<table data-metrics>.*?</table>", re.S)
    assert table.search(first).group(0) == table.search(second).group(0)


def placement_query(**values: str) -> dict:
    query = {
        "model": "mclp", "p": "2", "busy_fraction": "0.3", "weights": "population",
        "candidates": "facilities",
    }
    return query | values


def test_placement_lscp_radius_too_small(analyst):
    query = placement_query(model="lscp", radius="1")
    html = analyst.get("/planning/placement/", query).content.decode()
    assert "There is a problem" in html
    assert "zero-size array" not in html
    assert "have no candidate site within the radius" in html
    assert "Raise the radius to at least" in html


def test_placement_lscp_names_unreachable_tracts(analyst):
    query = placement_query(model="lscp", radius="30")
    html = analyst.get("/planning/placement/", query).content.decode()
    assert "data-status>Optimal<" in html
    note = re.search(r"<p [^>]*data-uncoverable>(.*?)</p>", html, re.S)
    assert note is not None
    uncovered = [t for t in placement_map(html)["tracts"] if not t["covered"]]
    assert uncovered
    assert f"{len(uncovered)} tracts have no candidate site" in note.group(1)
    assert uncovered[0]["geoid"] in note.group(1)
    needed = float(re.search(r"A radius of ([0-9.]+) minutes", note.group(1)).group(1))
    assert needed > 30
    wider = placement_query(model="lscp", radius=str(needed))
    html = analyst.get("/planning/placement/", wider).content.decode()
    assert "data-status>Optimal<" in html
    assert "data-uncoverable" not in html
    assert all(t["covered"] for t in placement_map(html)["tracts"])


def test_placement_gap_is_percent(analyst):
    html = analyst.get("/planning/placement/", placement_query(radius="20")).content.decode()
    gap = re.search(r"<dd data-gap>(.*?)</dd>", html)
    assert gap is not None
    assert gap.group(1) == "0.00%"


def staffing_query(**values: str) -> dict:
    query = {
        "source": "borrowed", "mobile_share": "0.2", "aht": "12", "target_seconds": "20",
        "service_level": "0.8", "shrinkage": "0.3", "busy_minutes": "112.5",
        "max_wait_probability": "0.1",
    }
    return query | values


def test_staffing_rejects_load_above_limit(analyst):
    query = staffing_query(weekly_calls="100000000", aht="1440", patience="1")
    html = analyst.get("/planning/staffing/", query).content.decode()
    assert "There is a problem" in html
    assert "Calls per week" in html
    assert "<tr><td>" not in html
    query = staffing_query(weekly_calls="1000000", aht="1440", patience="1")
    started = time.monotonic()
    html = analyst.get("/planning/staffing/", query).content.decode()
    assert time.monotonic() - started < 10
    assert "There is a problem" in html
    assert "erlangs at" in html
    assert "is above 10,000; lower the calls per week or the mean handle time" in html
    assert "<tr><td>" not in html


def test_staffing_largest_load_is_fast(analyst):
    # Toronto's busiest hour has about 1.1% of the week's calls, so 37,000
    # calls a week with 1,440-minute calls is just under 10,000 erlangs.
    query = staffing_query(weekly_calls="37000", aht="1440", patience="1")
    started = time.monotonic()
    html = analyst.get("/planning/staffing/", query).content.decode()
    assert time.monotonic() - started < 60
    assert "There is a problem" not in html
    assert html.count("<tr><td>") == 168


@pytest.mark.parametrize("field", ["aht", "patience", "target_seconds"])
def test_staffing_rejects_huge_minutes(analyst, field):
    html = analyst.get("/planning/staffing/", staffing_query(**{field: "1e308"})).content.decode()
    assert "There is a problem" in html
    assert "<tr><td>" not in html


def test_profile_rejects_huge_weekly_calls(analyst):
    query = {"source": "borrowed", "weekly_calls": "1e308", "mobile_share": "0.2"}
    html = analyst.get("/planning/profile/", query).content.decode()
    assert "There is a problem" in html
    assert "10000000" in html.replace(",", "").replace(".0", "")
    assert "data-weekly-calls" not in html
    response = analyst.get("/planning/profile/heatmap.png", query)
    assert response.status_code == 400


def test_placement_map_zoom_titles_in_spanish(analyst):
    query = {
        "model": "pmedian", "p": "3", "busy_fraction": "0.3",
        "weights": "population", "candidates": "facilities",
    }
    html = analyst.get("/planning/placement/", query, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert 'zoomInTitle: "Acercar"' in html
    assert 'zoomOutTitle: "Alejar"' in html
