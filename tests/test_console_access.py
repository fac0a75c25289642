"""Sign-in, role routing and session expiry across the consoles."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

# The password that tests/conftest.py gives every persona.
PASSWORD = "correct-horse-battery-staple"


@pytest.mark.parametrize("role, start", [
    ("call_counselor", "/counselor/"),
    ("dispatcher", "/dispatch/"),
    ("team_member", "/team/"),
    ("analyst", "/planning/"),
])
def test_home_routes_role_to_screen(client, personas, role, start):
    client.force_login(personas[role])
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == start


def test_sign_in_form_errors_shown(client, personas):
    response = client.post("/accounts/login/", {"username": "call_counselor", "password": "wrong"})
    assert response.status_code == 200
    assert b"error-summary" in response.content
    response = client.post("/accounts/login/", {"username": "call_counselor", "password": PASSWORD})
    assert response.status_code == 302


def test_session_expired_redirects_to_login(client, personas, reference_data):
    client.login(username="call_counselor", password=PASSWORD)
    assert client.get("/counselor/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/counselor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/counselor/")


def test_expired_htmx_request_redirects_page(client, personas, reference_data):
    client.login(username="call_counselor", password=PASSWORD)
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.post("/counselor/contacts/1/details/", {}, HTTP_HX_REQUEST="true",
                           HTTP_HX_CURRENT_URL="http://testserver/counselor/contacts/1/")
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/counselor/contacts/1/"


def test_activity_extends_session(client, personas, reference_data, settings):
    client.login(username="call_counselor", password=PASSWORD)
    soon = timezone.now() + dt.timedelta(seconds=30)
    Session.objects.update(expire_date=soon)
    assert client.get("/counselor/").status_code == 200
    renewed = Session.objects.get().expire_date
    assert renewed > soon
    assert renewed <= timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 5)


def test_idle_seconds_setting_read_from_environment():
    env = dict(os.environ, CRISISHUB_SESSION_IDLE_SECONDS="90", DJANGO_SETTINGS_MODULE="crisishub.settings")
    output = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SESSION_COOKIE_AGE)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert output.strip() == "90"
