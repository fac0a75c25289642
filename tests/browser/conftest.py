"""Fixtures for browser tests: a real hub server and headless Chromium.

Every test in this folder is marked ``browser``. The tests drive Debian's
Chromium at ``/usr/bin/chromium`` through Playwright (no browser is
downloaded) against ``crisishub serve`` running in a subprocess with its
own data directory and SQLite database. Without Chromium the tests are
skipped with the reason, unless ``CRISISHUB_REQUIRE_BROWSER=1`` makes
that a failure. ``dev.py`` runs them on the SQLite pass only. Servers
listen on ports the OS chooses, or from ``CRISISHUB_BROWSER_PORT`` on.

Use ``open_page("dispatcher")`` (or ``open_page("team1", phone=True)``)
to get a signed-in page in its own browser context; the demo accounts
are ``hub_server.DEMO_USERS`` with password ``hub_server.DEMO_PASSWORD``.
``hub.run_django(code)`` prepares or reads records in the server's
database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub_server import DEMO_PASSWORD, DEMO_USERS, HubServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-proxy-server",
]
# A phone-sized viewport (a common 6.1-inch phone, in CSS pixels).
PHONE_VIEWPORT = {"width": 390, "height": 844}
DESKTOP_VIEWPORT = {"width": 1400, "height": 900}
# Playwright's default wait, in milliseconds, for each expectation.
DEFAULT_TIMEOUT_MS = 10_000

BROWSER_DIR = Path(__file__).resolve().parent


def _server_port(offset: int) -> int | None:
    """Return the port for the server numbered ``offset``, counted from
    CRISISHUB_BROWSER_PORT when that is set, or None for an OS-chosen port."""
    first = os.environ.get("CRISISHUB_BROWSER_PORT")
    if not first:
        return None
    try:
        return int(first) + offset
    except ValueError:
        raise pytest.UsageError(
            f"Invalid CRISISHUB_BROWSER_PORT {first!r}: use a whole number such as 18200."
        ) from None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _require_browser() -> None:
    """Skip, or fail under CRISISHUB_REQUIRE_BROWSER=1, without Chromium."""
    problem = ""
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (install Debian's chromium package)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (python3 dev.py test installs it)"
    if not problem:
        return
    if os.environ.get("CRISISHUB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"Browser tests required but {problem}.")
    pytest.skip(f"Browser tests skipped: {problem}.")


@pytest.fixture(scope="session")
def hub():
    """A running hub server with the demo staff and fleet, for the session.

    Tests share it, so each test creates its own incidents and must leave
    every team it used available again (or use ``fresh_hub``).
    """
    _require_browser()
    server = HubServer(name="browser-hub", port=_server_port(0))
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def fresh_hub():
    """A hub server of its own for one test, started on demand with extra
    environment: ``server = fresh_hub(CRISISHUB_CHECKIN_MINUTES="1")``."""
    _require_browser()
    servers = []

    def start(**env: str) -> HubServer:
        port = _server_port(1 + len(servers))
        server = HubServer(name="fresh-hub", env=env, port=port)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.cleanup()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Playwright."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    browser = manager.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()
    manager.stop()


def sign_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the start page."""
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"Sign-in as {username!r} failed; the login page is still shown.")


@pytest.fixture
def page_errors():
    """Uncaught JavaScript errors of the pages that ``open_page`` opened."""
    return []


@pytest.fixture(scope="session")
def signed_in_states():
    """Cookies of each demo user's first sign-in, keyed by server URL and
    user, so later contexts skip the password hash on the server."""
    return {}


@pytest.fixture
def open_page(chromium, hub, page_errors, signed_in_states):
    """Return ``open(username, phone=False, server=hub, path=None, **options)``.

    Each call opens a new browser context (its own cookies) with Playwright
    context ``options`` (geolocation, permissions), signs in as the demo
    user and returns the page, on ``path`` when given. Uncaught script
    errors go to ``page_errors``. Contexts close at the end of the test.
    """
    contexts = []

    def open_signed_in(username: str, *, phone: bool = False, server: HubServer | None = None,
                       path: str | None = None, locale: str = "en-US", **context_options):
        if username not in DEMO_USERS:
            raise ValueError(f"Unknown demo user {username!r}; use one of {', '.join(DEMO_USERS)}.")
        target = server or hub
        options = {"viewport": PHONE_VIEWPORT if phone else DESKTOP_VIEWPORT, "locale": locale}
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        options.update(context_options)
        key = (target.url, username)
        if key in signed_in_states:
            options["storage_state"] = signed_in_states[key]
        context = chromium.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{username}: {error}"))
        if key in signed_in_states:
            page.goto(target.url + (path or "/"))
            if "/accounts/login/" not in page.url:
                return page
        sign_in(page, target.url, username)
        signed_in_states[key] = context.storage_state()
        if path is not None:
            page.goto(target.url + path)
        return page

    yield open_signed_in
    for context in contexts:
        context.close()


# Code for ``run_django``: close every open incident, acknowledge every
# emergency alert, and put every team, available, back at its station, so a test starts from an idle fleet on
# the shared server. Earlier assignments move 13 hours back, out of the
# 12-hour workload window of the recommendation, so they do not change
# which team is recommended.
RESET_CODE = """\
import datetime as dt
from django.db.models import F
from django.utils import timezone
from crisishub.core.models import Assignment, Incident, Team
from crisishub.core.services.dispatch import OPEN_STATUSES
now = timezone.now()
closed = Incident.objects.filter(status__in=OPEN_STATUSES).update(
    status="cancelled", cancel_reason="reset between browser tests")
Assignment.objects.filter(active=True).update(active=False, ended_at=now)
Assignment.objects.update(assigned_at=F("assigned_at") - dt.timedelta(hours=13))
Team.objects.update(status="available", status_since=now, last_checkin_at=None)
for team in Team.objects.select_related("station"):
    if team.station is not None:
        Team.objects.filter(pk=team.pk).update(
            last_latitude=team.station.latitude, last_longitude=team.station.longitude,
            last_position_at=now)
from crisishub.consoles.board import ACKNOWLEDGED_EMERGENCY_KEY, unacknowledged_emergencies
from crisishub.core.models import IncidentEvent
for emergency in unacknowledged_emergencies():
    IncidentEvent.objects.create(
        incident_id=emergency.incident_id, kind="note", occurred_at=now,
        actor_label="browser test reset", detail={ACKNOWLEDGED_EMERGENCY_KEY: emergency.pk})
result = closed
"""


@pytest.fixture
def idle_hub(hub):
    """The shared server with no open incident and every team available."""
    hub.run_django(RESET_CODE)
    return hub


@pytest.fixture
def prepare_hub(hub):
    """Return ``prepare(code="")``: reset the shared server as ``idle_hub``
    does, then run ``code`` in the same process (one Django start-up
    instead of two) and return its ``result``. The code may use ``TEAM``,
    a dict from team name to id."""

    def prepare(code: str = ""):
        script = RESET_CODE + (
            "TEAM = dict(Team.objects.values_list('name', 'pk'))\n"
            "result = None\n" + code
        )
        return hub.run_django(script)

    return prepare
