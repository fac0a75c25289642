"""The browser test setup itself: the server runs and each demo user signs in."""

from __future__ import annotations

import pytest

from hub_server import DEMO_USERS


@pytest.mark.parametrize("username", DEMO_USERS)
def test_demo_user_signs_in(open_page, hub, username):
    page = open_page(username)

    assert "/accounts/login/" not in page.url
    if username == "admin":
        assert "/admin/" in page.url
    else:
        assert page.get_by_text(f"Signed in as {username}").count() == 1


def test_wrong_password_stays_on_login(chromium, hub):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(hub.url + "/accounts/login/")
    page.get_by_label("Username").fill("dispatcher")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    assert "/accounts/login/" in page.url
    assert page.locator("[data-error-summary]").count() == 1
    context.close()


def test_phone_viewport_is_phone_sized(open_page):
    page = open_page("team1", phone=True)

    width = page.evaluate("window.innerWidth")
    assert width < 500


def test_run_django_reads_server_database(hub):
    names = hub.run_django(
        "from crisishub.core.models import Team\n"
        "result = sorted(Team.objects.values_list('name', flat=True))"
    )

    assert len(names) == 7
    assert names[0] == "CWRT-1"
