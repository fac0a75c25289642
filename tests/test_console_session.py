"""Idle sign-out: what renews a session, and the sign-in page's notice.

The session's idle timeout is ``SESSION_COOKIE_AGE`` (30 minutes unless
``CRISISHUB_SESSION_IDLE_SECONDS`` sets it). Tests move a session's expiry
in the database instead of waiting for it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import Client
from django.utils import timezone

from crisishub.consoles.consumers import CLOSE_UNAUTHENTICATED, LiveConsumer
from crisishub.consoles.views import SIGN_IN_STATE_COOKIE
from crisishub.core.models import Team

# The password that tests/conftest.py gives every persona.
PASSWORD = "correct-horse-battery-staple"
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/team/"}
NOTICE_ID = b'id="sign-in-notice"'
TIMED_OUT_TEXT = b"Your session ended after a period without activity."
SIGNED_OUT_TEXT = b"You are signed out."


@pytest.fixture
def member(personas, fleet):
    """The team-member persona, on team CWRT-1."""
    team = Team.objects.get(name="CWRT-1")
    team.members.filter(role="counselor").update(user=personas["team_member"])
    return personas["team_member"]


@pytest.fixture
def team_client(client, member):
    """A client signed in through the sign-in page, as a browser is."""
    response = client.post("/accounts/login/", {"username": "team_member", "password": PASSWORD})
    assert response.status_code == 302
    return client


def session_expiry() -> dt.datetime:
    return Session.objects.get().expire_date


def expire_all_sessions() -> None:
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))


# --- Polls do not count as activity -------------------------------------------


def test_poll_keeps_session_expiry(team_client):
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.update(expire_date=soon)

    response = team_client.get("/team/assignment/", **HX)

    assert response.status_code == 200
    assert b'id="assignment"' in response.content
    assert session_expiry() == soon
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_page_load_renews_session(team_client):
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.update(expire_date=soon)

    response = team_client.get("/team/")

    assert response.status_code == 200
    assert session_expiry() > soon + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert settings.SESSION_COOKIE_NAME in response.cookies


def test_action_renews_session(team_client):
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.update(expire_date=soon)

    response = team_client.post("/team/check-in/", {}, **HX)

    assert response.status_code == 200
    assert session_expiry() > soon


def test_polls_end_after_idle_timeout(team_client):
    """Polls through the idle time leave the session to expire on time."""
    team_client.get("/team/")
    last_activity_expiry = session_expiry()
    for _ in range(3):
        assert team_client.get("/team/assignment/", **HX).status_code == 200
    assert session_expiry() == last_activity_expiry
    assert last_activity_expiry <= timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)

    expire_all_sessions()
    response = team_client.get("/team/assignment/", **HX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/team/"
    assert b'id="assignment"' not in response.content
    assert response.cookies[settings.SESSION_COOKIE_NAME].value == ""


def test_poll_page_marks_fallback(team_client):
    """The page polls the passive view, and only while the socket is down."""
    page = team_client.get("/team/").content.decode()

    assert 'hx-get="/team/assignment/"' in page
    assert "every 5s [document.body.dataset.liveState !== 'open']" in page


# --- The live socket closes when the session ends -------------------------------


def socket_for(session_key: str, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    communicator.scope["session"] = SessionStore(session_key=session_key)
    return communicator


async def ping(communicator: WebsocketCommunicator) -> dict:
    await communicator.send_json_to({"event": "ping"})
    return await communicator.receive_output(timeout=2)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_closes_when_session_expires(member):
    browser = Client()
    await sync_to_async(browser.force_login)(member)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    communicator = socket_for(key, member)
    connected, _code = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=2))["event"] == "hello"
    expiry = await sync_to_async(session_expiry)()

    answer = await ping(communicator)
    assert answer["type"] == "websocket.send"
    assert '"pong"' in answer["text"]
    # The check reads the session without renewing it.
    assert await sync_to_async(session_expiry)() == expiry

    await sync_to_async(expire_all_sessions)()
    answer = await ping(communicator)

    assert answer == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await communicator.wait()
    await sync_to_async(connections.close_all)()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_closes_after_sign_out(member):
    browser = Client()
    await sync_to_async(browser.force_login)(member)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    communicator = socket_for(key, member)
    connected, _code = await communicator.connect()
    assert connected
    await communicator.receive_json_from(timeout=2)

    await sync_to_async(browser.post)("/accounts/logout/")
    answer = await ping(communicator)

    assert answer == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await communicator.wait()
    await sync_to_async(connections.close_all)()


# --- The sign-in page's notice ----------------------------------------------------


def test_first_visit_shows_no_notice(client, personas):
    redirect = client.get("/team/")
    assert redirect.status_code == 302
    assert redirect["Location"] == "/accounts/login/?next=/team/"

    page = client.get(redirect["Location"])

    assert page.status_code == 200
    assert NOTICE_ID not in page.content
    assert b"session ended" not in page.content
    assert SIGNED_OUT_TEXT not in page.content


def test_failed_sign_in_shows_no_notice(client, personas):
    page = client.post("/accounts/login/", {"username": "team_member", "password": "wrong"})

    assert page.status_code == 200
    assert b"error-summary" in page.content
    assert NOTICE_ID not in page.content


def test_timed_out_session_shows_notice_once(team_client):
    assert team_client.cookies[SIGN_IN_STATE_COOKIE].value == "active"
    expire_all_sessions()

    redirect = team_client.get("/team/")
    assert redirect.status_code == 302
    page = team_client.get(redirect["Location"])

    assert page.status_code == 200
    assert TIMED_OUT_TEXT in page.content
    assert SIGNED_OUT_TEXT not in page.content
    reload = team_client.get(redirect["Location"])
    assert NOTICE_ID not in reload.content


def test_sign_out_shows_notice(team_client):
    response = team_client.post("/accounts/logout/")
    assert response.status_code == 302

    page = team_client.get(response["Location"])

    assert SIGNED_OUT_TEXT in page.content
    assert TIMED_OUT_TEXT not in page.content


def test_sign_in_after_notice_clears_it(team_client):
    team_client.post("/accounts/logout/")
    team_client.get("/accounts/login/")

    response = team_client.post("/accounts/login/", {"username": "team_member", "password": PASSWORD})
    assert response.status_code == 302
    assert team_client.cookies[SIGN_IN_STATE_COOKIE].value == "active"

    # Signed in, the sign-in page has nothing to say about an ended session.
    page = team_client.get("/accounts/login/")
    assert NOTICE_ID not in page.content


def test_timed_out_notice_in_spanish(team_client):
    expire_all_sessions()

    page = team_client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es")

    assert "Su sesión terminó tras un periodo sin actividad." in page.content.decode()


def test_signed_in_user_skips_sign_in_form(team_client):
    """Opening the sign-in page while signed in goes to the user's screen."""
    response = team_client.get("/accounts/login/")

    assert response.status_code == 302
    landing = team_client.get(response["Location"], follow=True)
    assert landing.status_code == 200
    assert b'name="password"' not in landing.content
