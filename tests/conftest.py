"""Shared fixtures: the reference data, a fleet, and one persona per role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation

from crisishub.core import roles

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Hash test passwords with MD5: PBKDF2 takes about 0.9 s per user on a
    slow 2-core machine, and tests need no protection of their passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def reference_data(db):
    """Facilities from the data pack and the example matrix, active."""
    from crisishub.core.setup import load_reference_data

    roles.ensure_role_groups()
    load_reference_data()


@pytest.fixture
def fleet(reference_data):
    """The seven demo teams, available at their stations."""
    from crisishub.core.models import Team
    from crisishub.core.setup import create_demo_fleet

    create_demo_fleet()
    return list(Team.objects.order_by("name"))


def make_user(username: str, role: str | None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role is not None:
        roles.ensure_role_groups()
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(autouse=True)
def reset_language():
    """Restore the default language after each test.

    LocaleMiddleware activates a request's language for the whole thread, so
    a test whose last request was in Spanish would leave later tests in
    Spanish.
    """
    yield
    translation.deactivate()


@pytest.fixture
def user_factory(db):
    """Return ``make_user``, for tests that need more users than the personas.

    Test modules cannot import it from ``conftest``: in a whole-suite run that
    name may resolve to ``tests/browser/conftest.py``.
    """
    return make_user


@pytest.fixture
def personas(db):
    """One user per role plus an outsider with no role."""
    users = {role: make_user(role, role) for role in roles.ROLES}
    users["outsider"] = make_user("outsider", None)
    return users


# --- Core service fixtures --------------------------------------------------

# Population centre of an urban downtown Sacramento tract (06067000100).
DOWNTOWN_SACRAMENTO = (38.576594, -121.432144)
# A start time for simulated clocks, in UTC.
BASE_TIME = "2026-01-05T18:00:00+00:00"


@pytest.fixture
def at():
    """Return a simulated time ``minutes`` after a fixed start."""
    import datetime as dt

    start = dt.datetime.fromisoformat(BASE_TIME)

    def at_minutes(minutes: float = 0.0) -> dt.datetime:
        return start + dt.timedelta(minutes=minutes)

    return at_minutes


@pytest.fixture
def make_contact(reference_data, at):
    """Create a contact by the intake service, downtown by default."""
    from crisishub.core.services.intake import LocationInput, do_create_contact

    def make(latitude=DOWNTOWN_SACRAMENTO[0], longitude=DOWNTOWN_SACRAMENTO[1], **fields):
        fields.setdefault("source", "988_transfer")
        fields.setdefault("at", at(0))
        if "location" not in fields:
            fields["location"] = LocationInput(
                latitude=latitude, longitude=longitude, precision="device"
            )
        return do_create_contact(**fields)

    return make


@pytest.fixture
def make_incident(make_contact, at):
    """Open a pending mobile-response incident by the dispatch service."""
    from crisishub.core.services.dispatch import do_request_mobile_response

    def make(priority: int = 2, minutes: float = 0.0, **contact_fields):
        contact = make_contact(**contact_fields)
        return do_request_mobile_response(
            contact, priority=priority, actor="test", at=at(minutes)
        )

    return make
