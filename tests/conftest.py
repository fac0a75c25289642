"""Shared fixtures: the reference data, a fleet, and one persona per role."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from crisishub.core import roles

PASSWORD = "correct-horse-battery-staple"


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


@pytest.fixture
def personas(db):
    """One user per role plus an outsider with no role."""
    users = {role: make_user(role, role) for role in roles.ROLES}
    users["outsider"] = make_user("outsider", None)
    return users
