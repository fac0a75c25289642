"""Team phone app views, through Django's test client."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from crisishub.audit.models import AuditEntry
from crisishub.core.models import Facility, Incident, IncidentEvent, IncidentStatus, Team
from crisishub.core.services.dispatch import do_assign_team

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def member(personas, fleet):
    """The team-member persona, on team CWRT-1."""
    team = Team.objects.get(name="CWRT-1")
    team.members.filter(role="counselor").update(user=personas["team_member"])
    return personas["team_member"]


@pytest.fixture
def team_client(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def assigned(make_incident, member):
    incident = make_incident(priority=1)
    incident.safety_notes = "Large dog in the yard"
    incident.risk_level = "high"
    incident.save(update_fields=["safety_notes", "risk_level"])
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    incident.refresh_from_db()
    return incident


def tap(client, incident, status, **position):
    data = {"status": status}
    data.update(position)
    return client.post(f"/team/incidents/{incident.pk}/status/", data, **HX)


def test_no_assignment_page(team_client):
    response = team_client.get("/team/")
    assert response.status_code == 200
    assert b'id="no-assignment"' in response.content
    assert b'id="team-emergency"' in response.content


def test_member_without_team(client, personas, fleet):
    client.force_login(personas["team_member"])
    response = client.get("/team/")
    assert response.status_code == 200
    assert b"not on a team" in response.content


def test_assignment_shows_facts(team_client, assigned):
    page = team_client.get("/team/").content.decode()
    assert assigned.number in page
    assert "Large dog in the yard" in page
    assert 'id="assignment-risk"' in page
    assert "High" in page
    assert 'id="assignment-language"' in page
    assert "geo:" in page
    assert 'id="status-en_route"' in page
    # Only the next statuses are enabled: at destination needs transporting.
    assert 'id="status-at_destination" disabled' in page
    assert 'id="status-en_route" disabled' not in page


def test_assignment_fragment_for_live_refresh(team_client, member, make_incident):
    before = team_client.get("/team/assignment/")
    assert b'id="no-assignment"' in before.content
    incident = make_incident()
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    after = team_client.get("/team/assignment/")
    assert incident.number.encode() in after.content
    assert b"live-incident from:body" in after.content


def test_each_status_stamped(team_client, assigned):
    response = tap(team_client, assigned, "en_route", latitude="38.58", longitude="-121.45")
    assert response.status_code == 200
    assert b"En route recorded at" in response.content
    for status in ("on_scene", "transporting", "at_destination", "cleared"):
        assert tap(team_client, assigned, status).status_code == 200
    kinds = list(IncidentEvent.objects.filter(incident=assigned).values_list("kind", flat=True))
    assert kinds[-5:] == ["en_route", "on_scene", "transporting", "at_destination", "cleared"]
    en_route = IncidentEvent.objects.get(incident=assigned, kind="en_route")
    assert en_route.latitude == pytest.approx(38.58)
    assert en_route.occurred_at is not None
    assert IncidentEvent.objects.get(incident=assigned, kind="on_scene").latitude is None
    assigned.refresh_from_db()
    assert assigned.status == IncidentStatus.CLEARED


def test_status_backwards_rejected(team_client, assigned):
    assert tap(team_client, assigned, "on_scene").status_code == 200
    response = tap(team_client, assigned, "en_route")
    assert response.status_code == 409
    assert b'id="team-error"' in response.content


def test_bad_position_ignored(team_client, assigned):
    response = tap(team_client, assigned, "en_route", latitude="north", longitude="-121.4")
    assert response.status_code == 200
    assert IncidentEvent.objects.get(incident=assigned, kind="en_route").latitude is None


def test_other_team_incident_denied(team_client, member, make_incident):
    incident = make_incident()
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-2").pk, actor="test")
    response = tap(team_client, incident, "en_route")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, object_id=str(incident.pk)).exists()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ASSIGNED


def test_check_in_and_emergency(team_client, assigned):
    response = team_client.post("/team/check-in/", {"latitude": "38.57", "longitude": "-121.44"}, **HX)
    assert response.status_code == 200
    team = Team.objects.get(name="CWRT-1")
    assert team.last_checkin_at is not None
    assert team.last_latitude == pytest.approx(38.57)
    response = team_client.post("/team/emergency/", {}, **HX)
    assert response.status_code == 200
    assert b"Emergency alert sent to dispatch" in response.content
    kinds = set(IncidentEvent.objects.filter(incident=assigned).values_list("kind", flat=True))
    assert {"check_in", "emergency"} <= kinds


def test_emergency_publishes_to_dispatch(team_client, assigned, settings):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("dispatch", channel)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        team_client.post("/team/emergency/", {}, **HX)
    message = async_to_sync(layer.receive)(channel)
    assert message["event"] == "team.emergency"
    assert message["payload"]["incident_id"] == assigned.pk


def closeout(client, incident, **fields):
    data = {f"closeout-{key}": value for key, value in fields.items()}
    return client.post(f"/team/incidents/{incident.pk}/close-out/", data, **HX)


def test_closeout_transport_needs_consent(team_client, assigned):
    tap(team_client, assigned, "on_scene")
    facility = Facility.objects.filter(is_active=True).first()
    response = closeout(team_client, assigned, disposition="voluntary_transport",
                        law_enforcement="none", transport_destination=str(facility.pk))
    assert response.status_code == 400
    assert b"error-summary" in response.content
    assert b"recorded consent" in response.content
    assigned.refresh_from_db()
    assert assigned.disposition == ""
    response = closeout(team_client, assigned, disposition="voluntary_transport",
                        law_enforcement="none", transport_destination=str(facility.pk),
                        transport_consent="yes")
    assert response.status_code == 200
    assigned.refresh_from_db()
    assert assigned.disposition == "voluntary_transport"
    assert assigned.transport_destination == facility
    assert assigned.transport_consent is True


def test_closeout_law_enforcement_needs_reason(team_client, assigned):
    tap(team_client, assigned, "on_scene")
    response = closeout(team_client, assigned, disposition="resolved_in_community",
                        law_enforcement="requested_by_team")
    assert response.status_code == 400
    assert b"Say why law enforcement was involved" in response.content
    response = closeout(team_client, assigned, disposition="resolved_in_community",
                        law_enforcement="requested_by_team",
                        law_enforcement_reason="Weapon seen on arrival")
    assert response.status_code == 200
    assigned.refresh_from_db()
    assert assigned.law_enforcement == "requested_by_team"
    assert assigned.law_enforcement_reason == "Weapon seen on arrival"


def test_closeout_offered_after_clear(team_client, assigned):
    for status in ("en_route", "on_scene", "cleared"):
        tap(team_client, assigned, status)
    page = team_client.get("/team/").content.decode()
    assert 'id="no-assignment"' in page
    assert 'id="closeout-form"' in page
    assert closeout(team_client, assigned, disposition="declined",
                    law_enforcement="none").status_code == 200
    assert 'id="closeout-form"' not in team_client.get("/team/").content.decode()


def test_clear_shows_closeout_pending(team_client, assigned):
    for status in ("en_route", "on_scene", "transporting", "at_destination"):
        tap(team_client, assigned, status)
    response = tap(team_client, assigned, "cleared")
    text = response.content.decode()
    assert f"Cleared from {assigned.number}, close-out pending" in text
    assert "Team status: At destination" not in text


def test_closeout_without_disposition_specific_error(team_client, assigned):
    tap(team_client, assigned, "on_scene")
    response = closeout(team_client, assigned, law_enforcement="none")
    assert response.status_code == 400
    assert b"Choose the disposition: how the response ended." in response.content
    assert b"This field is required" not in response.content


def test_checkin_due_shown_on_scene(team_client, assigned, settings):
    settings.CHECKIN_INTERVAL_MINUTES = 20
    before = team_client.get("/team/").content.decode()
    response = tap(team_client, assigned, "on_scene").content.decode()
    team = Team.objects.get(name="CWRT-1")
    due = timezone.localtime(team.last_checkin_at + dt.timedelta(minutes=20))
    assert 'id="checkin-prompt"' not in before
    assert 'id="checkin-prompt"' in response
    assert f"Check-in due at {due:%H:%M}." in response
    rendered = re.search(r'data-checkin-due="([^"]+)"', response).group(1)
    assert dt.datetime.fromisoformat(rendered) == due


def test_checkin_overdue_shown(team_client, assigned, settings):
    settings.CHECKIN_INTERVAL_MINUTES = 20
    tap(team_client, assigned, "on_scene")
    Team.objects.filter(name="CWRT-1").update(
        last_checkin_at=timezone.now() - dt.timedelta(minutes=23, seconds=10))
    page = team_client.get("/team/").content.decode()
    assert "checkin-prompt--overdue" in page
    assert "Check-in overdue by 3 min: check in now." in page
    after = team_client.post("/team/check-in/", {}, **HX).content.decode()
    assert "checkin-prompt--overdue" not in after
    assert "Check-in due at" in after


def test_assignment_precision_not_nested(team_client, assigned):
    text = team_client.get("/team/").content.decode()
    assert "Precision: " in text
    assert "(coarse))" not in text


@pytest.mark.parametrize("role", ["call_counselor", "dispatcher", "supervisor", "analyst"])
def test_other_roles_get_403(client, personas, fleet, role):
    client.force_login(personas[role])
    response = client.get("/team/")
    assert response.status_code == 403
    assert AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, actor=personas[role]).exists()


# --- The dispatcher's acknowledgement of an emergency alert --------------------

WAITING_TEXT = "Dispatch has not acknowledged it yet."
ACKNOWLEDGED_TEXT = "Dispatch acknowledged your emergency alert"


def emergency_status(html: str) -> str:
    """Return the text of the page's emergency status, or "" without one."""
    match = re.search(r'<p [^>]*id="emergency-status"[^>]*>(.*?)</p>', html, re.S)
    return " ".join(match.group(1).split()) if match else ""


def acknowledge(dispatcher, incident) -> IncidentEvent:
    from django.test import Client

    alert = IncidentEvent.objects.get(incident=incident, kind="emergency")
    console = Client()
    console.force_login(dispatcher)
    response = console.post(f"/dispatch/emergencies/{alert.pk}/acknowledge/", {}, **HX)
    assert response.status_code == 200
    return alert


def test_emergency_waits_for_acknowledgement(team_client, assigned):
    assert emergency_status(team_client.get("/team/").content.decode()) == ""

    sent = team_client.post("/team/emergency/", {}, **HX).content.decode()
    page = team_client.get("/team/").content.decode()

    assert WAITING_TEXT in emergency_status(sent)
    assert WAITING_TEXT in emergency_status(page)
    assert 'data-acknowledged="false"' in page


def test_acknowledgement_shown_on_phone(team_client, assigned, personas):
    team_client.post("/team/emergency/", {}, **HX)
    alert = acknowledge(personas["dispatcher"], assigned)
    note = IncidentEvent.objects.get(incident=assigned, kind="note")
    alert_time = timezone.localtime(alert.occurred_at).strftime("%H:%M")
    note_time = timezone.localtime(note.occurred_at).strftime("%H:%M")
    expected = f"{ACKNOWLEDGED_TEXT} of {alert_time} at {note_time} (dispatcher)."

    # The live refresh fetches the fragment, and a reload renders the page.
    fragment = team_client.get("/team/assignment/", **HX).content.decode()
    page = team_client.get("/team/").content.decode()

    assert emergency_status(fragment) == expected
    assert emergency_status(page) == expected
    assert f'data-emergency-id="{alert.pk}" data-acknowledged="true"' in page


def test_acknowledgement_cleared_by_check_in(team_client, assigned, personas):
    team_client.post("/team/emergency/", {}, **HX)
    acknowledge(personas["dispatcher"], assigned)

    after = team_client.post("/team/check-in/", {}, **HX).content.decode()

    assert emergency_status(after) == ""


def test_unacknowledged_alert_survives_check_in(team_client, assigned):
    """Only a dispatcher's acknowledgement ends an alert that nobody took."""
    team_client.post("/team/emergency/", {}, **HX)

    after = team_client.post("/team/check-in/", {}, **HX).content.decode()

    assert WAITING_TEXT in emergency_status(after)


def test_acknowledgement_reaches_team_group(team_client, assigned, personas, settings):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.test import TestCase

    from crisishub.core.events import team_group

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    phone = async_to_sync(layer.new_channel)()
    team = Team.objects.get(name="CWRT-1")
    async_to_sync(layer.group_add)(team_group(team.pk), phone)
    with TestCase.captureOnCommitCallbacks(execute=True):
        team_client.post("/team/emergency/", {}, **HX)
    assert async_to_sync(layer.receive)(phone)["event"] == "team.emergency"

    with TestCase.captureOnCommitCallbacks(execute=True):
        alert = acknowledge(personas["dispatcher"], assigned)
    message = async_to_sync(layer.receive)(phone)

    assert message["event"] == "team.emergency_acknowledged"
    assert message["payload"]["id"] == team.pk
    assert message["payload"]["emergency_event_id"] == alert.pk
    # The team page re-fetches its assignment card on that event.
    page = team_client.get("/team/").content.decode()
    trigger = re.search(r'<section [^>]*id="assignment"[^>]*hx-trigger="([^"]+)"', page, re.S)
    assert trigger is not None
    assert "detail.event === 'team.emergency_acknowledged'" in trigger.group(1)


def test_acknowledgement_in_spanish(team_client, assigned, personas):
    team_client.post("/team/emergency/", {}, **HX)
    waiting = team_client.get("/team/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    acknowledge(personas["dispatcher"], assigned)
    acknowledged = team_client.get("/team/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Despacho aún no ha confirmado su recepción." in emergency_status(waiting)
    assert "Despacho confirmó la recepción de su alerta de emergencia" in emergency_status(acknowledged)
