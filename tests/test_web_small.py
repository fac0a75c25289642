"""Small web behaviours: favicon, the 500 page, log lines, demo password."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_redirects_to_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/crisishub/img/favicon.svg"


def test_favicon_file_shipped():
    from django.contrib.staticfiles import finders

    path = finders.find("crisishub/img/favicon.svg")

    assert path is not None
    with open(path, encoding="utf-8") as handle:
        assert handle.read().startswith("<svg")


def test_500_page_links_home(settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("simulated failure")

    class BrokenUrls:
        urlpatterns = [path("broken/", broken)]

    settings.ROOT_URLCONF = BrokenUrls
    client = Client(raise_request_exception=False)

    response = client.get("/broken/")

    assert response.status_code == 500
    text = response.content.decode()
    assert '<a href="/">Go to your home screen</a>' in text
    assert "Server Error (500)" not in text


def test_403_logged_without_traceback():
    """The audit trail records the denial; the log needs one line."""
    from django.conf import settings as django_settings

    from crisishub.settings import _drop_denied_traceback

    handler_filters = django_settings.LOGGING["handlers"]["console"]["filters"]
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden", (), None)
    record.status_code = 403
    try:
        raise PermissionError("denied")
    except PermissionError:
        import sys

        record.exc_info = sys.exc_info()

    assert "no_denied_traceback" in handler_filters
    assert _drop_denied_traceback(record) is True
    assert record.exc_info is None
    other = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Error", (), None)
    other.status_code = 500
    other.exc_info = (RuntimeError, RuntimeError("x"), None)
    _drop_denied_traceback(other)
    assert other.exc_info is not None


def test_log_time_has_offset():
    from django.conf import settings as django_settings

    formatter = logging.Formatter(**{
        "fmt": django_settings.LOGGING["formatters"]["plain"]["format"],
        "datefmt": django_settings.LOGGING["formatters"]["plain"]["datefmt"],
    })
    record = logging.LogRecord("crisishub", logging.INFO, __file__, 1, "hello", (), None)

    line = formatter.format(record)

    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} INFO crisishub hello$", line), line


@pytest.mark.parametrize("password", ["short", "password1234"])
def test_weak_demo_password_rejected(monkeypatch, password):
    from crisishub.core.errors import SettingError
    from crisishub.core.setup import create_demo_staff
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("CRISISHUB_DEMO_PASSWORD", password)

    with pytest.raises(SettingError, match="CRISISHUB_DEMO_PASSWORD"):
        create_demo_staff()
    assert get_user_model().objects.count() == 0


def test_strong_demo_password_accepted(monkeypatch):
    from crisishub.core.setup import create_demo_staff
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("CRISISHUB_DEMO_PASSWORD", "a-long-demo-password-8812")

    import io

    create_demo_staff(stream=io.StringIO())

    assert get_user_model().objects.filter(username="admin").exists()
