"""Team phone page in Chromium: the emergency acknowledgement and idle sign-out.

The live socket is cut off in some tests by replacing the browser's
WebSocket with one that closes at once, so the page runs on its fallback
poll as a phone without a connection to the live socket does.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from hub_server import HubClient, open_incident_code

# Seconds within which an open page must show a committed change.
LIVE_DEADLINE = 1.0
LIVE_DEADLINE_MS = int(LIVE_DEADLINE * 1000)
# The page polls every 5 seconds while the socket is down, so a change
# shows within one poll interval plus the request.
POLL_DEADLINE_MS = 8000
WAITING_TEXT = "Dispatch has not acknowledged it yet."
ACKNOWLEDGED = re.compile(
    r"Dispatch acknowledged your emergency alert of \d\d:\d\d at \d\d:\d\d \(dispatcher\)\."
)
# A WebSocket that closes as an unreachable server does (code 1006), so
# live.js keeps retrying and the page stays on its fallback poll.
NO_SOCKET_SCRIPT = """
window.WebSocket = class {
  constructor() {
    this.readyState = 0;
    this.handlers = {};
    window.setTimeout(() => {
      this.readyState = 3;
      (this.handlers.close || []).forEach((handler) => handler({ code: 1006 }));
    }, 20);
  }
  addEventListener(type, handler) {
    (this.handlers[type] = this.handlers[type] || []).push(handler);
  }
  send() {}
  close() {}
};
window.WebSocket.OPEN = 1;
"""
ASSIGN_CWRT1_CODE = (
    open_incident_code(2)
    + "from crisishub.core.services.dispatch import do_assign_team\n"
    + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
    + "result = {'id': incident.pk, 'number': incident.number}\n"
)


def open_phone(open_page, *, socket: bool = True, **options):
    phone = open_page("team1", phone=True, **options)
    if not socket:
        phone.add_init_script(NO_SOCKET_SCRIPT)
    server_url = re.match(r"https?://[^/]+", phone.url).group(0)
    phone.goto(server_url + "/team/")
    state = "open" if socket else re.compile("closed|connecting")
    expect(phone.locator("body")).to_have_attribute("data-live-state", state)
    # A marker that a reload would wipe, to prove updates arrive in place.
    phone.evaluate("window.__sameDocument = true")
    return phone


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def test_phone_sees_acknowledgement_live(open_page, prepare_hub):
    prepare_hub(ASSIGN_CWRT1_CODE)
    phone = open_phone(open_page)
    console = open_page("dispatcher", path="/dispatch/")
    expect(console.locator("body")).to_have_attribute("data-live-state", "open")
    status = phone.locator("#emergency-status")
    expect(status).to_have_count(0)

    phone.locator("#team-emergency").click()
    expect(status).to_contain_text(WAITING_TEXT)
    expect(status).to_have_attribute("data-acknowledged", "false")

    console.locator("#emergency-alerts .alert--emergency").get_by_role(
        "button", name="Acknowledge"
    ).click()
    started = time.monotonic()
    expect(status).to_have_text(ACKNOWLEDGED, timeout=LIVE_DEADLINE_MS)
    waited = time.monotonic() - started

    expect(status).to_have_attribute("data-acknowledged", "true")
    assert waited < LIVE_DEADLINE
    assert_not_reloaded(phone)

    # The acknowledgement stays after a reload, until the team checks in.
    phone.reload()
    expect(status).to_have_text(ACKNOWLEDGED)
    phone.locator("#team-check-in").click()
    expect(phone.locator("#team-notice")).to_contain_text("Check-in recorded")
    expect(status).to_have_count(0)


def test_phone_polls_acknowledgement_without_socket(open_page, prepare_hub, hub):
    prepare_hub(ASSIGN_CWRT1_CODE)
    phone = open_phone(open_page, socket=False)
    phone.locator("#team-emergency").click()
    status = phone.locator("#emergency-status")
    expect(status).to_contain_text(WAITING_TEXT)
    alert_id = status.get_attribute("data-emergency-id")

    code, body = HubClient(hub).login("dispatcher").post(
        f"/dispatch/emergencies/{alert_id}/acknowledge/", {}
    )

    assert code == 200, body[-2000:]
    expect(status).to_have_text(ACKNOWLEDGED, timeout=POLL_DEADLINE_MS)
    expect(phone.locator("#live-status")).to_have_text("Offline: checking every few seconds")
    assert_not_reloaded(phone)


# Idle time of the server in the sign-out test, in seconds.
IDLE_SECONDS = 10


def test_idle_phones_go_to_sign_in(open_page, fresh_hub, signed_in_states):
    """An idle phone signs out on time whether its socket is up or down."""
    server = fresh_hub(CRISISHUB_SESSION_IDLE_SECONDS=str(IDLE_SECONDS))
    polling_activity = time.monotonic()
    polling = open_phone(open_page, socket=False, server=server)
    # The second phone signs in for a session of its own.
    signed_in_states.pop((server.url, "team1"), None)
    live = open_page("team1", phone=True, server=server)
    live.clock.install()
    live_activity = time.monotonic()
    live.goto(server.url + "/team/")
    expect(live.locator("body")).to_have_attribute("data-live-state", "open")

    # Polls every 5 seconds do not keep the session: it ends after the
    # idle time, and the next poll sends the page to sign-in.
    expect(polling).to_have_url(
        re.compile(r"/accounts/login/\?next=/team/$"), timeout=(IDLE_SECONDS + 10) * 1000
    )
    assert time.monotonic() - polling_activity > IDLE_SECONDS
    expect(polling.locator("#sign-in-notice")).to_have_text(
        "Your session ended after a period without activity. Sign in to continue."
    )

    # The open socket re-checks the session at its next ping (every 25 s
    # of the page's clock, which the test moves on once the session ended).
    time.sleep(max(0.0, live_activity + IDLE_SECONDS + 1 - time.monotonic()))
    assert live.url.endswith("/team/")
    live.clock.fast_forward("00:30")
    expect(live).to_have_url(re.compile(r"/accounts/login/\?next=/team/$"))
    expect(live.locator("#sign-in-notice")).to_contain_text("Your session ended")
