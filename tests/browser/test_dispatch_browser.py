"""Dispatcher console in Chromium: map, live queue, assignment, alerts.

Live changes are made through the server (its pages, the team app or the
partner API), because a change made by ``run_django`` in another process
reaches the server's in-memory channel layer no console.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from hub_server import HubClient, open_incident_code, refer_mobile_response

# Seconds within which every open console must show a committed change.
LIVE_DEADLINE = 1.0
LIVE_DEADLINE_MS = int(LIVE_DEADLINE * 1000)
# Result of ``prepare_hub`` code that opened ``incident``.
INCIDENT_RESULT = "result = {'id': incident.pk, 'number': incident.number, 'team': TEAM}\n"


def open_console(open_page, path: str = "/dispatch/"):
    page = open_page("dispatcher", path=path)
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    # A marker that a reload would wipe, to prove updates arrive in place.
    page.evaluate("window.__sameDocument = true")
    return page


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def host_of(url: str) -> str:
    return re.sub(r"^\w+://([^/:]+).*", r"\1", url)


def test_console_draws_map_without_tiles(open_page, idle_hub, page_errors):
    requested_hosts = set()
    page = open_page("dispatcher")
    page.on("request", lambda request: requested_hosts.add(host_of(request.url)))
    page.goto(idle_hub.url + "/dispatch/")

    expect(page.locator("#map.leaflet-container")).to_be_visible()
    expect(page.locator("#dispatch-root")).to_have_attribute("data-map-teams", "7")
    assert page.locator("#map path.leaflet-interactive").count() == 7
    assert page.locator("#map .leaflet-tile").count() == 0
    assert requested_hosts == {"127.0.0.1"}
    assert page.locator(".team-card").count() == 7
    assert page_errors == []


def test_new_incident_appears_live(open_page, prepare_hub, hub):
    token = prepare_hub(
        "from crisishub.api.auth import create_partner\n"
        "import uuid\n"
        "result = create_partner('Browser test partner ' + uuid.uuid4().hex[:8])[1]\n"
    )
    page = open_console(open_page)

    incident = refer_mobile_response(hub, token, priority=1)
    started = time.monotonic()
    row = page.locator(f"#queue-incident-{incident['id']}")
    expect(row).to_be_visible(timeout=LIVE_DEADLINE_MS)
    waited = time.monotonic() - started

    expect(row).to_contain_text(incident["number"])
    expect(row.locator("[data-timer]")).to_have_attribute("data-state", "ok")
    expect(page.locator("#dispatch-root")).to_have_attribute("data-map-incidents", "1")
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(page)


def test_assign_recommended_then_cancel(open_page, prepare_hub):
    incident = prepare_hub(open_incident_code(2, "es") + INCIDENT_RESULT)
    page = open_console(open_page)

    page.locator(f"#queue-incident-{incident['id']} a").click()
    panel = page.locator("#incident-panel")
    expect(panel.locator("[data-incident-number]")).to_have_text(incident["number"])
    first = panel.locator(".recommendation").first
    team_name = first.locator(".recommendation__name").inner_text()
    expect(first).to_contain_text(re.compile(r"ETA \d+ min"))
    first.get_by_role("button", name=f"Assign {team_name}").click()

    expect(panel).to_contain_text("Team assigned.")
    expect(panel.locator("[data-incident-status]")).to_have_text("Assigned")
    card = page.locator(f".team-card[data-team-name='{team_name}']")
    expect(card).to_have_attribute("data-status", "assigned")
    expect(page.locator(f"#queue-incident-{incident['id']}")).to_contain_text(team_name)
    assert f"incident={incident['id']}" in page.url

    # An empty reason comes back with the summary and the field error.
    panel.locator("#action-cancel summary").click()
    panel.get_by_role("button", name="Cancel response").click()
    summary = panel.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        "Reason for cancelling: Say why the response is cancelled."
    )
    expect(panel.locator("#id_cancel-reason")).to_have_attribute("aria-invalid", "true")

    panel.get_by_label("Reason for cancelling").fill("Caller reached family")
    panel.get_by_role("button", name="Cancel response").click()
    expect(panel.locator("[data-incident-status]")).to_have_text("Cancelled")
    expect(card).to_have_attribute("data-status", "available")
    assert_not_reloaded(page)


def test_second_dispatcher_follows_live(open_page, prepare_hub):
    incident = prepare_hub(open_incident_code(2) + INCIDENT_RESULT)
    path = f"/dispatch/?incident={incident['id']}"
    acting = open_console(open_page, path=path)
    watching = open_console(open_page, path=path)
    name = acting.locator(".recommendation__name").first.inner_text()

    acting.get_by_role("button", name=f"Assign {name}").click()
    expect(acting.locator("#incident-panel")).to_contain_text("Team assigned.")
    started = time.monotonic()
    expect(watching.locator(f".team-card[data-team-name='{name}']")).to_have_attribute(
        "data-status", "assigned", timeout=LIVE_DEADLINE_MS
    )
    waited = time.monotonic() - started

    expect(watching.locator("#incident-panel [data-incident-status]")).to_have_text("Assigned")
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(watching)


def test_queue_follows_other_dispatcher(open_page, prepare_hub, hub):
    incident = prepare_hub(open_incident_code(3) + INCIDENT_RESULT)
    cwrt2 = incident["team"]["CWRT-2"]
    page = open_console(open_page)
    other = HubClient(hub).login("supervisor")

    status, body = other.post(f"/dispatch/incidents/{incident['id']}/assign/",
                              {"assign-team_id": cwrt2})
    started = time.monotonic()
    card = page.locator(f"#team-card-{cwrt2}")
    expect(card).to_have_attribute("data-status", "assigned", timeout=LIVE_DEADLINE_MS)
    waited = time.monotonic() - started

    assert status == 200, body[-2000:]
    row = page.locator(f"#queue-incident-{incident['id']}")
    expect(row).to_have_attribute("data-status", "assigned")
    expect(row).to_contain_text("CWRT-2")
    expect(card.locator("[data-team-incident]")).to_contain_text(incident["number"])
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(page)


def test_emergency_alert_at_once(open_page, prepare_hub, hub):
    incident = prepare_hub(
        open_incident_code(2)
        + "from crisishub.core.services.dispatch import do_assign_team\n"
        + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
        + INCIDENT_RESULT
    )
    cwrt1 = incident["team"]["CWRT-1"]
    page = open_console(open_page)
    phone = HubClient(hub).login("team1")

    status, body = phone.post("/team/emergency/", {})
    started = time.monotonic()
    alert = page.locator("#emergency-alerts .alert--emergency")
    expect(alert).to_contain_text("EMERGENCY alert from team CWRT-1", timeout=LIVE_DEADLINE_MS)
    waited = time.monotonic() - started

    assert status == 200, body[-2000:]
    expect(page.locator(f"#team-card-{cwrt1}")).to_have_class(re.compile("is-emergency"))
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(page)

    # The alert stays after a reload and for a dispatcher who signs in later.
    page.reload()
    expect(alert).to_contain_text("EMERGENCY alert from team CWRT-1")
    other = open_console(open_page)
    other_alert = other.locator("#emergency-alerts .alert--emergency")
    expect(other_alert).to_contain_text(incident["number"])

    # One acknowledgement clears it on every console, with who and when.
    # Acknowledgements of the last minutes are listed newest first, and
    # other tests on the shared server may have left some.
    alert.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("[data-emergency-acknowledged]").first).to_contain_text(
        re.compile(r"acknowledged by dispatcher at \d\d:\d\d")
    )
    expect(alert).to_have_count(0)
    expect(other_alert).to_have_count(0, timeout=LIVE_DEADLINE_MS)
    expect(other.locator("[data-emergency-acknowledged]").first).to_contain_text(
        "Emergency alert from team CWRT-1 acknowledged by dispatcher"
    )
    assert_not_reloaded(other)
    other.reload()
    expect(other.locator("#emergency-alerts .alert--emergency")).to_have_count(0)


def open_console_with_clock(open_page):
    """Open the console under Playwright's clock, which runs with real time
    until a test fast-forwards it."""
    page = open_page("dispatcher")
    page.clock.install()
    page.goto(page.url.split("/dispatch/")[0] + "/dispatch/")
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    page.evaluate("window.__sameDocument = true")
    return page


def test_checkin_overdue_alert_without_reload(open_page, prepare_hub):
    # On scene 19 minutes ago: the 20-minute default check-in interval
    # runs out a minute later.
    incident = prepare_hub(
        open_incident_code(2, age_seconds=1800)
        + "from crisishub.core.services.dispatch import do_assign_team, do_record_status\n"
        + "on_scene = _tz.now() - _dt.timedelta(minutes=19)\n"
        + "do_assign_team(incident.pk, TEAM['CWRT-5'], actor='test', at=on_scene)\n"
        + "do_record_status(incident.pk, 'en_route', actor='test', at=on_scene)\n"
        + "do_record_status(incident.pk, 'on_scene', actor='test', at=on_scene)\n"
        + INCIDENT_RESULT
    )
    cwrt5 = incident["team"]["CWRT-5"]
    page = open_console_with_clock(open_page)
    card = page.locator(f"#team-card-{cwrt5}")
    expect(card).to_have_attribute("data-status", "on_scene")
    expect(card).not_to_have_class(re.compile("is-overdue"))
    expect(page.locator("#alerts .alert--overdue")).to_have_count(0)

    page.clock.fast_forward("02:00")

    expect(card).to_have_class(re.compile("is-overdue"))
    expect(card.locator("[data-checkin-due]")).to_have_text("Check-in overdue")
    expect(page.locator("#alerts .alert--overdue")).to_contain_text("CWRT-5 has not checked in")
    assert_not_reloaded(page)


def test_checkin_alert_clears_on_checkin(open_page, prepare_hub, hub):
    # CWRT-1 (the team1 account) on scene 19 minutes ago, so its check-in
    # is overdue after the clock moves 2 minutes on.
    prepare_hub(
        open_incident_code(2, age_seconds=1800)
        + "from crisishub.core.services.dispatch import do_assign_team, do_record_status\n"
        + "on_scene = _tz.now() - _dt.timedelta(minutes=19)\n"
        + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test', at=on_scene)\n"
        + "do_record_status(incident.pk, 'en_route', actor='test', at=on_scene)\n"
        + "do_record_status(incident.pk, 'on_scene', actor='test', at=on_scene)\n"
        + INCIDENT_RESULT
    )
    page = open_console_with_clock(open_page)
    page.clock.fast_forward("02:00")
    alert = page.locator("#alerts .alert--overdue")
    expect(alert).to_contain_text("CWRT-1 has not checked in")

    status, body = HubClient(hub).login("team1").post("/team/check-in/", {})

    assert status == 200, body[-2000:]
    expect(alert).to_have_count(0, timeout=LIVE_DEADLINE_MS * 2)
    expect(page.locator(".team-card.is-overdue")).to_have_count(0)
    expect(page.locator(".team-card [data-checkin-due]")).to_contain_text("Check-in due at")
    assert_not_reloaded(page)


def test_status_change_makes_no_failed_request(open_page, prepare_hub, hub):
    incident = prepare_hub(
        open_incident_code(2)
        + "from crisishub.core.services.dispatch import do_assign_team\n"
        + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
        + INCIDENT_RESULT
    )
    page = open_console(open_page, path=f"/dispatch/?incident={incident['id']}")
    failed = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    phone = HubClient(hub).login("team1")

    # The team's status event refreshes the summary of the selected incident.
    with page.expect_response(lambda response: "/summary/" in response.url) as summary:
        status, body = phone.post(f"/team/incidents/{incident['id']}/status/",
                                  {"status": "en_route"})
    expect(page.locator("#incident-panel [data-incident-status]")).to_have_text("En route")

    assert status == 200, body[-2000:]
    assert summary.value.status == 200
    assert f"/dispatch/incidents/{incident['id']}/summary/" in summary.value.url
    assert failed == []
    assert_not_reloaded(page)


def test_reassign_updates_team_phone_live(open_page, prepare_hub, hub):
    incident = prepare_hub(
        open_incident_code(2)
        + "from crisishub.core.services.dispatch import do_assign_team\n"
        + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
        + INCIDENT_RESULT
    )
    phone = open_page("team1", phone=True, path="/team/")
    expect(phone.locator("body")).to_have_attribute("data-live-state", "open")
    expect(phone.locator("#assignment-title")).to_contain_text(incident["number"])
    phone.evaluate("window.__sameDocument = true")

    status, body = HubClient(hub).login("dispatcher").post(
        f"/dispatch/incidents/{incident['id']}/reassign/",
        {"reassign-team_id": incident["team"]["CWRT-2"], "reassign-reason": "CWRT-2 is closer"},
    )
    started = time.monotonic()
    expect(phone.locator("#no-assignment")).to_be_visible(timeout=LIVE_DEADLINE_MS)
    waited = time.monotonic() - started

    assert status == 200, body[-2000:]
    expect(phone.locator("#assignment-title")).to_have_text("No assignment")
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(phone)


def test_timer_changes_colour_before_standard(open_page, prepare_hub):
    # T0 44 minutes ago: 75% of the 60-minute urban standard passes a
    # minute later, 90% at 54 minutes, and the standard is missed after 60.
    incident = prepare_hub(open_incident_code(2, age_seconds=44 * 60) + INCIDENT_RESULT)
    page = open_console_with_clock(open_page)
    timer = page.locator(f"#queue-incident-{incident['id']} [data-timer]")
    expect(timer).to_have_attribute("data-state", "ok")
    expect(timer).to_have_class(re.compile("timer--ok"))

    page.clock.fast_forward("01:30")
    expect(timer).to_have_attribute("data-state", "warning")
    expect(timer).to_contain_text("45 min of 60")
    expect(timer).to_contain_text("approaching the standard")

    page.clock.fast_forward("09:00")
    expect(timer).to_have_attribute("data-state", "critical")
    expect(timer).to_contain_text("about to miss the standard")

    page.clock.fast_forward("07:00")
    expect(timer).to_have_attribute("data-state", "missed")
    expect(timer).to_have_class(re.compile("timer--missed"))
    assert_not_reloaded(page)


def test_console_forbidden_for_team_member(open_page, hub):
    page = open_page("team1")

    response = page.goto(hub.url + "/dispatch/")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have access to this page")
