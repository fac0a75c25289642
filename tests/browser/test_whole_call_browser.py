"""A whole call in three browser contexts at once.

A counselor takes a call and screens it. The request appears live in the
dispatcher's queue and the dispatcher assigns the recommended team. The
team's phone receives the assignment and steps through every status, and
the dispatcher's board follows each step without a reload, each within a
second.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

# Seconds within which every open console must show a committed change.
LIVE_DEADLINE = 1.0
LIVE_DEADLINE_MS = int(LIVE_DEADLINE * 1000)
# The caller, a few blocks from CWRT-1's demo station on Stockton Blvd,
# so CWRT-1 (which speaks Spanish) is the first recommendation.
CALLER_POSITION = (38.5560, -121.4530)
# Where the team's phone reports itself (Playwright's fake geolocation).
PHONE_POSITION = {"latitude": 38.5551, "longitude": -121.4542}
# C-SSRS answers that give Moderate risk (item 3, a method without intent),
# which the example matrix answers with a priority-2 mobile response.
MODERATE_ANSWERS = ["yes", "yes", "yes", "no", "no", "no"]
# Field statuses the team taps, and the team status the board then shows.
STEPS = [
    ("en_route", "en_route", "En route"),
    ("on_scene", "on_scene", "On scene"),
    ("transporting", "transporting", "Transporting"),
    ("at_destination", "at_destination", "At destination"),
    ("cleared", "available", "Cleared"),
]


def mark_document(page) -> None:
    """Set a marker that a reload would wipe."""
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page, console: str) -> None:
    assert page.evaluate("window.__sameDocument === true"), f"the {console} page was reloaded"


def wait_until_live(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")


def take_and_screen_call(counselor) -> None:
    """Start a contact in Spanish, place the caller and screen the call."""
    counselor.get_by_label("Caller's name").fill("Test Caller")
    counselor.get_by_label("Caller's phone number").fill("916-555-0142")
    counselor.get_by_label("Preferred language").select_option("es")
    with counselor.expect_navigation():
        counselor.get_by_role("button", name="Start the contact").click()

    counselor.get_by_label("Typed coordinates").check()
    counselor.get_by_label("Latitude").fill(str(CALLER_POSITION[0]))
    counselor.get_by_label("Longitude").fill(str(CALLER_POSITION[1]))
    counselor.get_by_label("Location description").fill("Blue house, side gate")
    counselor.get_by_role("button", name="Save the location").click()
    expect(counselor.locator("#location-current")).to_contain_text("Typed coordinates")

    for number, answer in enumerate(MODERATE_ANSWERS, start=1):
        expect(counselor.locator("#cssrs-question")).to_contain_text(f"(item {number})")
        counselor.locator(f"#cssrs-{answer}").click()
    expect(counselor.locator("#cssrs-risk")).to_contain_text("Moderate")

    counselor.get_by_role("button", name="Record the assessment").click()
    expect(counselor.locator("#risk-level")).to_have_text("Moderate")
    expect(counselor.locator("#recommended-path")).to_contain_text("Mobile response")
    expect(counselor.locator("#recommended-path")).to_contain_text("priority 2")
    counselor.get_by_role("button", name="Record the decision").click()
    expect(counselor.locator("#decision-recorded")).to_contain_text("Mobile response")


def test_whole_call_three_consoles(open_page, prepare_hub, hub, page_errors):
    team = prepare_hub("result = TEAM['CWRT-1']\n")
    dispatcher = open_page("dispatcher", path="/dispatch/")
    phone = open_page(
        "team1", phone=True, path="/team/",
        geolocation=PHONE_POSITION, permissions=["geolocation"],
    )
    counselor = open_page("counselor", path="/counselor/")
    for page in (dispatcher, phone):
        wait_until_live(page)
        mark_document(page)
    # Every request of the dispatch console must succeed, the live
    # refreshes of the selected incident during status changes included.
    dispatcher_failures = []
    dispatcher.on("response", lambda response: dispatcher_failures.append(
        f"{response.status} {response.url}") if response.status >= 400 else None)
    expect(phone.locator("#no-assignment")).to_be_visible()

    # Counselor: the call, the screening and the request for a team.
    take_and_screen_call(counselor)
    counselor.get_by_label("Safety notes for the team").fill("Dog in the yard")
    with counselor.expect_response(
        lambda response: response.url.endswith("/response/") and response.request.method == "POST"
    ):
        counselor.get_by_role("button", name="Request a mobile response").click()
    requested_at = time.monotonic()
    banner = counselor.locator("#response-panel .banner").first
    expect(banner).to_contain_text("Pending")
    number = re.search(r"MR\d{4}-\d{6}", banner.inner_text()).group(0)

    # Dispatcher: the request appears live in the queue.
    row = dispatcher.locator(".queue-row", has_text=number)
    expect(row).to_be_visible(timeout=LIVE_DEADLINE_MS)
    assert time.monotonic() - requested_at < LIVE_DEADLINE
    expect(row).to_have_attribute("data-status", "pending")
    expect(row).to_contain_text("Spanish")
    incident_id = int(row.get_attribute("data-incident-id"))

    # Dispatcher: select it and assign the recommended team in one click.
    row.locator("a").click()
    panel = dispatcher.locator("#incident-panel")
    expect(panel.locator("[data-incident-number]")).to_have_text(number)
    first = panel.locator(".recommendation").first
    expect(first.locator(".recommendation__name")).to_have_text("CWRT-1")
    expect(first).to_contain_text("speaks the person's language (es)")
    with dispatcher.expect_response(lambda response: response.url.endswith("/assign/")):
        first.get_by_role("button", name="Assign CWRT-1").click()
    assigned_at = time.monotonic()

    # Phone: the assignment arrives without a reload.
    expect(phone.locator("#assignment-title")).to_contain_text(number, timeout=LIVE_DEADLINE_MS)
    assert time.monotonic() - assigned_at < LIVE_DEADLINE
    expect(phone.locator("#assignment-language")).to_contain_text("Spanish")
    expect(phone.locator("#assignment-risk")).to_contain_text("Moderate")
    expect(phone.locator("#assignment-safety")).to_contain_text("Dog in the yard")
    expect(phone.locator("#assignment-location")).to_contain_text("Blue house, side gate")

    card = dispatcher.locator(f"#team-card-{team}")
    expect(card).to_have_attribute("data-status", "assigned")
    expect(card.locator("[data-team-incident]")).to_contain_text(number)

    # Phone: one tap per status; the dispatcher's board follows each.
    for field_status, team_status, label in STEPS:
        with phone.expect_response(
            lambda response: response.url.endswith("/status/") and response.request.method == "POST"
        ) as tapped:
            phone.locator(f"#status-{field_status}").click()
        assert tapped.value.status == 200, f"{field_status}: HTTP {tapped.value.status}"
        tapped_at = time.monotonic()
        expect(card).to_have_attribute("data-status", team_status, timeout=LIVE_DEADLINE_MS)
        waited = time.monotonic() - tapped_at
        assert waited < LIVE_DEADLINE, f"{field_status} reached the board after {waited:.2f} s"
        expect(panel.locator("[data-incident-status]")).to_have_text(label)
        if field_status == "cleared":
            # A cleared assignment leaves the phone's card for the close-out.
            expect(phone.locator("#closeout-panel")).to_contain_text(number)
        else:
            expect(phone.locator("#assignment-status")).to_have_attribute("data-status", field_status)
        if field_status == "on_scene":
            expect(card.locator("[data-checkin-due]")).to_contain_text("Check-in due at")

    # Cleared: the incident leaves the queue and the team is free again.
    expect(dispatcher.locator(f"#queue-incident-{incident_id}")).to_have_count(0)
    expect(card.locator("[data-team-incident]")).to_have_text("—")
    expect(card).to_contain_text("38.5551, -121.4542")
    assert_not_reloaded(dispatcher, "dispatcher")
    assert_not_reloaded(phone, "team")
    assert page_errors == []
    assert dispatcher_failures == []

    timeline = hub.run_django(
        "from crisishub.core.models import IncidentEvent\n"
        f"result = list(IncidentEvent.objects.filter(incident_id={incident_id})"
        ".order_by('occurred_at', 'pk').values_list('kind', 'latitude'))\n"
    )
    kinds = [kind for kind, _ in timeline]
    assert kinds == ["requested", "assigned", "en_route", "on_scene", "transporting",
                     "at_destination", "cleared"]
    stamped = [latitude for kind, latitude in timeline if kind not in ("requested", "assigned")]
    assert stamped == [PHONE_POSITION["latitude"]] * 5
