"""The counselor's contact page and the team's phone page in real Chromium."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from hub_server import HubClient, open_incident, open_incident_code

# Answers that make the C-SSRS risk High: item 4 (intent) is yes.
HIGH_RISK_ANSWERS = [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "yes"), ("5", "no"),
                     ("6", "no")]


def start_contact(page, name: str, phone: str) -> int:
    page.get_by_label("Caller's name").fill(name)
    page.get_by_label("Caller's phone number").fill(phone)
    with page.expect_navigation():
        page.get_by_role("button", name="Start the contact").click()
    return int(page.url.rstrip("/").split("/")[-1])


def answer_cssrs(page, answers) -> None:
    for item, value in answers:
        expect(page.locator("#cssrs-question")).to_contain_text(f"(item {item})")
        page.locator(f"#cssrs-{value}").click()


def wait_for_server(hub, code: str, expected, timeout: float = 10.0):
    """Poll the server's database until ``code`` returns ``expected``."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = hub.run_django(code)
        if value == expected:
            return value
        time.sleep(0.3)
    raise AssertionError(f"Server returned {value!r}, expected {expected!r}")


def test_counselor_takes_and_screens_call(open_page, hub):
    page = open_page("counselor")
    assert page.url.endswith("/counselor/")
    contact_id = start_contact(page, "Browser Caller", "916-555-0161")

    page.get_by_label("Call notes").fill("Caller is at home with a friend.")
    expect(page.locator("#details-save-status")).to_contain_text("Saved at")

    # The first answers by mouse, the rest by keyboard: after each answer
    # focus moves to the next question's Yes button.
    answer_cssrs(page, HIGH_RISK_ANSWERS[:2])
    expect(page.locator("#cssrs-question")).to_contain_text("(item 3)")
    expect(page.locator("#cssrs-yes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#cssrs-question")).to_contain_text("(item 4)")
    answer_cssrs(page, HIGH_RISK_ANSWERS[3:])

    # After the last answer, focus moves on to the assessment step.
    expect(page.locator("#assessment-title")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#assessment-form input[type=checkbox]").first).to_be_focused()
    expect(page.locator("#cssrs-risk")).to_contain_text("High")
    expect(page.locator("#recommendation-preliminary")).to_be_visible()

    page.get_by_label("Hopelessness").check()
    page.get_by_label("Social supports").check()
    page.get_by_role("button", name="Record the assessment").click()
    expect(page.locator("#risk-level")).to_have_text("High")
    expect(page.locator("#recommendation-preliminary")).to_have_count(0)
    expect(page.locator("#recommendation-reasons li").first).to_be_visible()

    page.locator("#location-map").click()
    expect(page.locator("#id_location-latitude")).not_to_have_value("")
    expect(page.locator("#id_location-method_0")).to_be_checked()
    page.get_by_role("button", name="Save the location").click()
    expect(page.locator("#location-current")).to_contain_text("Map pin")
    # The middle of the map, fitted to the county outline, is in the county.
    expect(page.locator("#location-outside")).to_have_count(0)

    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#decision-recorded")).to_be_visible()

    stored = hub.run_django(
        "from crisishub.core.models import Contact\n"
        f"c = Contact.objects.get(pk={contact_id})\n"
        "s = c.screenings.get()\n"
        "result = [c.notes, c.caller_phone, s.risk_level, c.location_precision,"
        " c.triage_decisions.count()]"
    )
    assert stored == ["Caller is at home with a friend.", "9165550161", "high", "map_pin", 1]


def test_reload_mid_call_keeps_draft(open_page, hub):
    page = open_page("counselor")
    contact_id = start_contact(page, "Reload Caller", "916-555-0162")
    page.get_by_label("Call notes").fill("Notes typed before the reload.")
    page.get_by_label("Language the service is given in").select_option("es")
    expect(page.locator("#details-save-status")).to_contain_text("Saved at")
    answer_cssrs(page, [("1", "yes"), ("2", "yes")])
    expect(page.locator("#cssrs-question")).to_contain_text("(item 3)")

    page.reload()

    expect(page.get_by_label("Call notes")).to_have_value("Notes typed before the reload.")
    expect(page.get_by_label("Caller's name")).to_have_value("Reload Caller")
    expect(page.get_by_label("Language the service is given in")).to_have_value("es")
    expect(page.locator("#cssrs-answers li")).to_have_count(2)
    expect(page.locator("#cssrs-question")).to_contain_text("(item 3)")

    # Typing that the debounce had not sent yet goes out as the page hides.
    page.get_by_label("Call notes").fill("Typed just before the reload.")
    page.reload()
    wait_for_server(
        hub, f"from crisishub.core.models import Contact\n"
             f"result = Contact.objects.get(pk={contact_id}).notes",
        "Typed just before the reload.",
    )
    page.reload()
    expect(page.get_by_label("Call notes")).to_have_value("Typed just before the reload.")

    # Checked Lifeline factors are kept before the assessment is submitted.
    answer_cssrs(page, [("3", "no"), ("4", "no"), ("5", "no"), ("6", "no")])
    page.get_by_label("Hopelessness").check()
    wait_for_server(
        hub, "from crisishub.consoles.models import ContactDraft\n"
             f"d = ContactDraft.objects.get(contact_id={contact_id}).form_drafts\n"
             "result = d.get('assessment', {}).get('desire')",
        ["hopelessness"],
    )
    page.reload()
    expect(page.get_by_label("Hopelessness")).to_be_checked()


def test_autosave_retries_after_dropped_connection(open_page, hub):
    page = open_page("counselor")
    contact_id = start_contact(page, "Offline Caller", "916-555-0163")
    page.context.set_offline(True)
    page.get_by_label("Call notes").fill("Typed while the network was down.")
    expect(page.locator("#details-save-status")).to_have_attribute("data-state", "offline")
    page.context.set_offline(False)
    expect(page.locator("#details-save-status")).to_contain_text("Saved at", timeout=15_000)
    wait_for_server(
        hub, f"from crisishub.core.models import Contact\n"
             f"result = Contact.objects.get(pk={contact_id}).notes",
        "Typed while the network was down.",
    )


def test_team_phone_page_live_and_statuses(open_page, hub):
    team_id = hub.run_django(
        "from crisishub.core.models import Team\nresult = Team.objects.get(name='CWRT-1').pk"
    )
    page = open_page("team1", phone=True)
    assert page.url.endswith("/team/")
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 38.5801, "longitude": -121.4702})
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    expect(page.locator("#no-assignment")).to_be_visible()

    incident = open_incident(hub, priority=1)
    dispatcher = HubClient(hub).login("dispatcher")
    status, body = dispatcher.post(f"/dispatch/incidents/{incident['id']}/assign/",
                                   {"assign-team_id": team_id})
    assert status == 200, body[:500]

    # The assignment arrives over the live socket, without a reload.
    expect(page.locator("#assignment-title")).to_contain_text(incident["number"], timeout=5_000)
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= page.evaluate("window.innerWidth")

    page.get_by_role("button", name="En route", exact=True).click()
    expect(page.locator("#assignment-status")).to_have_attribute("data-status", "en_route")
    # The next status by keyboard alone.
    page.locator("#status-on_scene").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#assignment-status")).to_have_attribute("data-status", "on_scene")
    for status_name, label in [("transporting", "Transporting"),
                               ("at_destination", "At destination")]:
        page.get_by_role("button", name=label, exact=True).click()
        expect(page.locator("#assignment-status")).to_have_attribute("data-status", status_name)
    expect(page.locator("#assignment-timeline li[data-kind='en_route']")).to_contain_text("38.58")

    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#team-notice")).to_contain_text("Check-in recorded")

    page.get_by_label("Disposition").select_option("resolved_in_community")
    page.get_by_role("button", name="Record the close-out").click()
    expect(page.locator("#team-notice")).to_contain_text("Close-out of")

    page.get_by_role("button", name="Clear", exact=True).click()
    expect(page.locator("#no-assignment")).to_be_visible()
    team_status = hub.run_django(
        "from crisishub.core.models import Team\n"
        "result = Team.objects.get(name='CWRT-1').status"
    )
    assert team_status == "available"


def test_contact_page_shows_assignment_live(open_page, prepare_hub, hub):
    opened = prepare_hub(open_incident_code(2) + (
        "result = {'id': incident.pk, 'contact': incident.contact_id, 'team': TEAM['CWRT-1']}\n"
    ))
    page = open_page("counselor", path=f"/counselor/contacts/{opened['contact']}/")
    expect(page.locator("body")).to_have_attribute("data-live-state", "open")
    expect(page.locator("#response-panel")).to_contain_text("Pending")

    dispatcher = HubClient(hub).login("dispatcher")
    status, body = dispatcher.post(f"/dispatch/incidents/{opened['id']}/assign/",
                                   {"assign-team_id": opened["team"]})
    assert status == 200, body[:500]

    # The panel re-fetches itself on the live event, without a reload.
    expect(page.locator("#response-panel")).to_contain_text("Assigned", timeout=5_000)


def test_team_phone_counts_to_checkin_overdue(open_page, prepare_hub):
    prepare_hub(open_incident_code(1) + (
        "from crisishub.core.services.dispatch import do_assign_team, do_record_status\n"
        "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
        "do_record_status(incident.pk, 'on_scene', actor='test')\n"
    ))
    page = open_page("team1", phone=True)
    page.clock.install()
    page.reload()
    expect(page.locator("#checkin-prompt")).to_contain_text("Check-in due in 20 min")

    page.clock.fast_forward("21:00")

    expect(page.locator("#checkin-prompt")).to_contain_text("Check-in overdue by 1 min")
    expect(page.locator("#checkin-prompt")).to_have_class(re.compile("checkin-prompt--overdue"))
    due_before = page.locator("#checkin-prompt").get_attribute("data-checkin-due")
    page.get_by_role("button", name="Check in").click()
    expect(page.locator("#team-notice")).to_contain_text("Check-in recorded")
    # The check-in moves the due time, which the page counts from.
    expect(page.locator("#checkin-prompt")).not_to_have_attribute("data-checkin-due", due_before)
