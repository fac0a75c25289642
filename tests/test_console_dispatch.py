"""Dispatcher console views: queue, timers, board, map, actions and alerts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from crisishub.audit.models import AuditEntry
from crisishub.consoles import board
from crisishub.core.models import (
    Incident, IncidentEvent, IncidentStatus, NoTeamReason, Team, TeamStatus,
)
from crisishub.core.services import dispatch as dispatch_service

# Population centre of a rural tract (06067008602, east county).
RURAL_POINT = (38.485418, -121.161487)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def dispatcher_client(client, personas, fleet):
    client.force_login(personas["dispatcher"])
    return client


@pytest.fixture
def open_incident(make_contact):
    """Open a pending incident whose T0 is ``minutes_ago`` before now."""

    def make(priority=2, minutes_ago=0.0, location=None, language="en"):
        latitude, longitude = location or (38.576594, -121.432144)
        t0 = timezone.now() - dt.timedelta(minutes=minutes_ago)
        contact = make_contact(
            latitude=latitude, longitude=longitude, at=t0, preferred_language=language
        )
        return dispatch_service.do_request_mobile_response(
            contact, priority=priority, actor="test", at=t0
        )

    return make


def queue_ids(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'id="queue-incident-(\d+)"', html)]


def team(name: str) -> Team:
    return Team.objects.get(name=name)


# --- Access ------------------------------------------------------------------

def test_console_renders_for_dispatcher(dispatcher_client):
    response = dispatcher_client.get(reverse("dispatch:console"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="queue"' in html
    assert 'id="board"' in html
    assert 'id="map"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/crisishub/js/live.js" in html
    assert html.count('class="team-card team-card--') == 7


def test_console_in_spanish(dispatcher_client):
    dispatcher_client.cookies["django_language"] = "es"

    html = dispatcher_client.get(reverse("dispatch:console")).content.decode()

    assert '<html lang="es">' in html
    assert "Esperando un equipo" in html
    assert "Equipos" in html


def test_console_sign_in_required(client, db):
    response = client.get(reverse("dispatch:console"))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["call_counselor", "team_member", "analyst", "outsider"])
def test_console_forbidden_for_other_roles(client, personas, fleet, role):
    client.force_login(personas[role])

    response = client.get(reverse("dispatch:console"))

    assert response.status_code == 403
    denied = AuditEntry.objects.filter(action=AuditEntry.Action.DENIED, object_type="consoles.dispatch")
    assert denied.count() == 1


def test_supervisor_may_dispatch(client, personas, fleet):
    client.force_login(personas["supervisor"])

    response = client.get(reverse("dispatch:console"))

    assert response.status_code == 200


def test_actions_forbidden_for_counselor(client, personas, fleet, open_incident):
    incident = open_incident()
    client.force_login(personas["call_counselor"])

    response = client.post(
        reverse("dispatch:assign", args=[incident.pk]), {"assign-team_id": team("CWRT-1").pk}
    )

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.PENDING


def test_unknown_incident_selection_shows_console(dispatcher_client):
    response = dispatcher_client.get(reverse("dispatch:console") + "?incident=999999")

    assert response.status_code == 404
    assert "Incident 999999 not found." in response.content.decode()


# --- Queue and timers --------------------------------------------------------

def test_queue_orders_by_priority_then_wait(dispatcher_client, open_incident):
    p2_old = open_incident(priority=2, minutes_ago=30)
    p1_new = open_incident(priority=1, minutes_ago=2)
    p2_new = open_incident(priority=2, minutes_ago=5)
    p1_old = open_incident(priority=1, minutes_ago=10)
    p3 = open_incident(priority=3, minutes_ago=50)

    response = dispatcher_client.get(reverse("dispatch:queue"), **HTMX)

    assert response.status_code == 200
    expected = [p1_old.pk, p1_new.pk, p2_old.pk, p2_new.pk, p3.pk]
    assert queue_ids(response.content.decode())[:5] == expected


def test_queue_excludes_assigned_from_waiting(dispatcher_client, open_incident):
    waiting = open_incident()
    working = open_incident()
    dispatch_service.do_assign_team(working.pk, team("CWRT-2").pk, actor="test")

    html = dispatcher_client.get(reverse("dispatch:queue")).content.decode()

    waiting_part, active_part = html.split("In progress")
    assert queue_ids(waiting_part) == [waiting.pk]
    assert queue_ids(active_part) == [working.pk]
    assert "CWRT-2" in active_part


@pytest.mark.parametrize(
    ("elapsed", "standard", "state"),
    [
        (0, 60, "ok"),
        (44.9, 60, "ok"),
        (45, 60, "warning"),
        (53.9, 60, "warning"),
        (54, 60, "critical"),
        (60, 60, "critical"),
        (60.1, 60, "missed"),
        (89.9, 120, "ok"),
        (90, 120, "warning"),
        (108, 120, "critical"),
        (121, 120, "missed"),
    ],
)
def test_timer_state_thresholds(elapsed, standard, state):
    assert board.timer_state(elapsed, standard) == state


def test_queue_timer_urban_warns_before_standard(dispatcher_client, open_incident):
    incident = open_incident(minutes_ago=50)

    html = dispatcher_client.get(reverse("dispatch:queue")).content.decode()

    row = html[html.index(f'id="queue-incident-{incident.pk}"'):]
    assert 'class="timer timer--warning"' in row.split("</li>")[0]
    assert 'data-standard="60"' in row.split("</li>")[0]


def test_queue_timer_rural_standard_is_120(dispatcher_client, open_incident):
    incident = open_incident(minutes_ago=100, location=RURAL_POINT)

    html = dispatcher_client.get(reverse("dispatch:queue")).content.decode()

    assert incident.area_class == "rural"
    row = html[html.index(f'id="queue-incident-{incident.pk}"'):].split("</li>")[0]
    assert 'data-standard="120"' in row
    assert "timer--warning" in row


def test_queue_timer_missed_after_standard(dispatcher_client, open_incident):
    incident = open_incident(minutes_ago=61)

    html = dispatcher_client.get(reverse("dispatch:queue")).content.decode()

    row = html[html.index(f'id="queue-incident-{incident.pk}"'):].split("</li>")[0]
    assert "timer--missed" in row
    assert "standard missed" in row


# --- Board and map -----------------------------------------------------------

def test_board_card_shows_team_facts(dispatcher_client, open_incident):
    incident = open_incident()
    cwrt1 = team("CWRT-1")
    dispatch_service.do_assign_team(incident.pk, cwrt1.pk, actor="test")
    Team.objects.filter(pk=cwrt1.pk).update(status_since=timezone.now() - dt.timedelta(minutes=7))

    response = dispatcher_client.get(reverse("dispatch:team_card", args=[cwrt1.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="assigned"' in html
    assert "for 7 min" in html
    assert "en, es, zh" in html
    assert "38.5540, -121.4560" in html
    assert incident.number in html


def test_board_unknown_team_is_404(dispatcher_client):
    response = dispatcher_client.get(reverse("dispatch:team_card", args=[999999]))

    assert response.status_code == 404


def test_map_config_without_tiles(dispatcher_client):
    html = dispatcher_client.get(reverse("dispatch:console")).content.decode()

    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html).group(1))
    assert config["tile_url"] == ""
    assert config["features_url"] == reverse("dispatch:map_data")
    outline = json.loads(re.search(r'id="county-outline"[^>]*>(.*?)</script>', html).group(1))
    assert len(outline) > 10


@override_settings(MAP_TILE_URL="http://127.0.0.1:9/tiles/{z}/{x}/{y}.png",
                   MAP_TILE_ATTRIBUTION="Local tiles")
def test_map_config_tile_url_from_settings(dispatcher_client):
    html = dispatcher_client.get(reverse("dispatch:console")).content.decode()

    config = json.loads(re.search(r'id="map-config"[^>]*>(.*?)</script>', html).group(1))
    assert config["tile_url"] == "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
    assert config["attribution"] == "Local tiles"


def test_map_data_lists_teams_and_incidents(dispatcher_client, open_incident):
    incident = open_incident(priority=1)

    data = dispatcher_client.get(reverse("dispatch:map_data")).json()

    assert len(data["teams"]) == 7
    assert [row["id"] for row in data["incidents"]] == [incident.pk]
    assert data["incidents"][0]["priority"] == 1


# --- Selected incident and recommendations -------------------------------------

def test_panel_lists_recommendations_with_reasons(dispatcher_client, open_incident):
    incident = open_incident(language="es")

    response = dispatcher_client.get(reverse("dispatch:incident", args=[incident.pk]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="recommendation"') == 3
    assert re.search(r"ETA \d+ min", html)
    assert "speaks the person&#x27;s language (es)" in html
    assert 'name="assign-team_id"' in html


def test_panel_view_is_audited(dispatcher_client, open_incident):
    incident = open_incident()

    dispatcher_client.get(reverse("dispatch:incident", args=[incident.pk]), **HTMX)

    views = AuditEntry.objects.filter(
        action=AuditEntry.Action.VIEW, object_type="core.incident", object_id=str(incident.pk)
    )
    assert views.count() == 1


def test_panel_without_available_team_says_so(dispatcher_client, open_incident):
    incident = open_incident()
    Team.objects.update(status=TeamStatus.OUT_OF_SERVICE)

    html = dispatcher_client.get(reverse("dispatch:incident", args=[incident.pk])).content.decode()

    assert "No team is available" in html
    assert 'class="recommendation"' not in html


# --- Actions -------------------------------------------------------------------

def test_assign_recommended_team_in_one_post(dispatcher_client, open_incident):
    incident = open_incident()
    best = dispatch_service.recommend_teams(incident, limit=1)[0]

    response = dispatcher_client.post(
        reverse("dispatch:assign", args=[incident.pk]), {"assign-team_id": best.team_id}, **HTMX
    )

    assert response.status_code == 200
    assert "Team assigned." in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ASSIGNED
    assert incident.team_id == best.team_id
    assert Team.objects.get(pk=best.team_id).status == TeamStatus.ASSIGNED


def test_assign_without_team_shows_field_error(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(reverse("dispatch:assign", args=[incident.pk]), {}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    assert "data-error-summary" in html
    assert 'href="#id_assign-team_id"' in html
    assert 'id="id_assign-team_id_error"' in html
    assert "Choose the team to send." in html
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.PENDING


def test_assign_busy_team_is_rejected(dispatcher_client, open_incident):
    first = open_incident()
    second = open_incident()
    cwrt1 = team("CWRT-1")
    dispatch_service.do_assign_team(first.pk, cwrt1.pk, actor="test")

    response = dispatcher_client.post(
        reverse("dispatch:assign", args=[second.pk]), {"assign-team_id": cwrt1.pk}, **HTMX
    )

    assert response.status_code == 400
    assert "is not available now" in response.content.decode()
    second.refresh_from_db()
    assert second.status == IncidentStatus.PENDING


def test_assign_twice_shows_conflict(dispatcher_client, open_incident):
    incident = open_incident()
    dispatch_service.do_assign_team(incident.pk, team("CWRT-1").pk, actor="test")

    response = dispatcher_client.post(
        reverse("dispatch:assign", args=[incident.pk]), {"assign-team_id": team("CWRT-2").pk}, **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "data-error-summary" in html
    assert "is already assigned" in html
    assert team("CWRT-2").status == TeamStatus.AVAILABLE


def test_assign_unknown_incident_is_404(dispatcher_client):
    response = dispatcher_client.post(
        reverse("dispatch:assign", args=[999999]), {"assign-team_id": 1}, **HTMX
    )

    assert response.status_code == 404


def test_assign_without_htmx_redirects(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:assign", args=[incident.pk]), {"assign-team_id": team("CWRT-3").pk}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dispatch:console')}?incident={incident.pk}"
    page = dispatcher_client.get(response["Location"]).content.decode()
    assert "Team assigned." in page


def test_failed_form_without_htmx_renders_console(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(reverse("dispatch:cancel", args=[incident.pk]), {"cancel-reason": " "})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="queue"' in html
    assert "data-error-summary" in html
    assert "Say why the response is cancelled." in html
    assert '<details class="action" id="action-cancel" open>' in html


def test_reassign_moves_incident_to_new_team(dispatcher_client, open_incident):
    incident = open_incident()
    cwrt1, cwrt2 = team("CWRT-1"), team("CWRT-2")
    dispatch_service.do_assign_team(incident.pk, cwrt1.pk, actor="test")

    response = dispatcher_client.post(
        reverse("dispatch:reassign", args=[incident.pk]),
        {"reassign-team_id": cwrt2.pk, "reassign-reason": "Closer team cleared"}, **HTMX,
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.team_id == cwrt2.pk
    assert incident.status == IncidentStatus.ASSIGNED
    assert team("CWRT-1").status == TeamStatus.AVAILABLE
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds == ["requested", "assigned", "unassigned", "assigned"]


def test_reassign_needs_reason(dispatcher_client, open_incident):
    incident = open_incident()
    cwrt1 = team("CWRT-1")
    dispatch_service.do_assign_team(incident.pk, cwrt1.pk, actor="test")

    response = dispatcher_client.post(
        reverse("dispatch:reassign", args=[incident.pk]),
        {"reassign-team_id": team("CWRT-2").pk, "reassign-reason": ""}, **HTMX,
    )

    assert response.status_code == 400
    assert 'id="id_reassign-reason_error"' in response.content.decode()
    incident.refresh_from_db()
    assert incident.team_id == cwrt1.pk


def test_reassign_failure_keeps_first_team(dispatcher_client, open_incident):
    incident = open_incident()
    cwrt1, cwrt2 = team("CWRT-1"), team("CWRT-2")
    dispatch_service.do_assign_team(incident.pk, cwrt1.pk, actor="test")
    form_data = {"reassign-team_id": cwrt2.pk, "reassign-reason": "Closer team"}
    # CWRT-2 becomes busy between the form's choices and the service call.
    from crisishub.consoles import forms_dispatch

    original = forms_dispatch.available_team_choices
    forms_dispatch.available_team_choices = lambda exclude_id=None: [(str(cwrt2.pk), "CWRT-2")]
    try:
        Team.objects.filter(pk=cwrt2.pk).update(status=TeamStatus.OUT_OF_SERVICE)
        response = dispatcher_client.post(
            reverse("dispatch:reassign", args=[incident.pk]), form_data, **HTMX
        )
    finally:
        forms_dispatch.available_team_choices = original

    assert response.status_code == 409
    incident.refresh_from_db()
    assert incident.team_id == cwrt1.pk
    assert incident.status == IncidentStatus.ASSIGNED
    assert team("CWRT-1").status == TeamStatus.ASSIGNED


def test_cancel_with_reason(dispatcher_client, open_incident):
    incident = open_incident()
    cwrt4 = team("CWRT-4")
    dispatch_service.do_assign_team(incident.pk, cwrt4.pk, actor="test")

    response = dispatcher_client.post(
        reverse("dispatch:cancel", args=[incident.pk]), {"cancel-reason": "Caller safe with family"}, **HTMX
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CANCELLED
    assert incident.cancel_reason == "Caller safe with family"
    assert team("CWRT-4").status == TeamStatus.AVAILABLE


def test_attach_duplicate_call(dispatcher_client, open_incident):
    original = open_incident()
    dispatch_service.do_assign_team(original.pk, team("CWRT-1").pk, actor="test")
    second = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:duplicate", args=[second.pk]), {"duplicate-original_id": original.pk}, **HTMX
    )

    assert response.status_code == 200
    second.refresh_from_db()
    assert second.duplicate_of_id == original.pk
    assert second.status == IncidentStatus.NO_TEAM
    assert second.no_team_reason == NoTeamReason.DUPLICATE


def test_attach_duplicate_to_closed_incident_rejected(dispatcher_client, open_incident):
    closed = open_incident()
    dispatch_service.do_cancel_incident(closed.pk, reason="test", actor="test")
    second = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:duplicate", args=[second.pk]), {"duplicate-original_id": closed.pk}, **HTMX
    )

    assert response.status_code == 400
    assert "is not open" in response.content.decode()
    second.refresh_from_db()
    assert second.status == IncidentStatus.PENDING


def test_record_no_team_sent(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:no_team", args=[incident.pk]),
        {"noteam-reason": NoTeamReason.PERSON_DECLINED, "noteam-detail": ""}, **HTMX,
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NO_TEAM
    assert incident.no_team_reason == NoTeamReason.PERSON_DECLINED


def test_no_team_other_needs_detail(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:no_team", args=[incident.pk]),
        {"noteam-reason": NoTeamReason.OTHER, "noteam-detail": "  "}, **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_noteam-detail_error"' in html
    assert 'aria-invalid="true"' in html
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.PENDING


def test_no_team_available_warns_when_team_fits(dispatcher_client, open_incident):
    incident = open_incident()
    url = reverse("dispatch:no_team", args=[incident.pk])

    panel = dispatcher_client.get(reverse("dispatch:incident", args=[incident.pk]), **HTMX)
    response = dispatcher_client.post(
        url, {"noteam-reason": NoTeamReason.NO_TEAM_AVAILABLE, "noteam-detail": ""}, **HTMX,
    )

    warning = re.compile(r"CWRT-\d is available with an ETA of \d+ min, within the \d+ min left")
    assert warning.search(panel.content.decode())
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_noteam-detail_error"' in html
    assert warning.search(html)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.PENDING


def test_no_team_available_with_reason_recorded(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:no_team", args=[incident.pk]),
        {"noteam-reason": NoTeamReason.NO_TEAM_AVAILABLE,
         "noteam-detail": "Nearest team is held for a scene safety debrief"}, **HTMX,
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NO_TEAM
    assert incident.no_team_detail == "Nearest team is held for a scene safety debrief"


def test_no_team_available_accepted_when_none_fits(dispatcher_client, open_incident):
    incident = open_incident()
    Team.objects.update(status=TeamStatus.OFF_DUTY)

    response = dispatcher_client.post(
        reverse("dispatch:no_team", args=[incident.pk]),
        {"noteam-reason": NoTeamReason.NO_TEAM_AVAILABLE, "noteam-detail": ""}, **HTMX,
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NO_TEAM
    assert incident.no_team_reason == NoTeamReason.NO_TEAM_AVAILABLE


def test_no_team_invalid_reason_rejected(dispatcher_client, open_incident):
    incident = open_incident()

    response = dispatcher_client.post(
        reverse("dispatch:no_team", args=[incident.pk]), {"noteam-reason": "bored"}, **HTMX
    )

    assert response.status_code == 400
    assert "bored" in response.content.decode()


# --- Check-in and emergency alerts ------------------------------------------------

def put_team_on_scene(incident, team_obj, minutes_ago):
    """Assign ``team_obj`` and record it on scene ``minutes_ago`` before now."""
    on_scene_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    dispatch_service.do_assign_team(incident.pk, team_obj.pk, actor="test", at=on_scene_at)
    dispatch_service.do_record_status(incident.pk, IncidentStatus.EN_ROUTE, actor="test", at=on_scene_at)
    dispatch_service.do_record_status(incident.pk, IncidentStatus.ON_SCENE, actor="test", at=on_scene_at)


@override_settings(CHECKIN_INTERVAL_MINUTES=20)
def test_overdue_checkin_alerts_dispatcher(dispatcher_client, open_incident):
    put_team_on_scene(open_incident(minutes_ago=30), team("CWRT-5"), minutes_ago=25)

    html = dispatcher_client.get(reverse("dispatch:board")).content.decode()

    assert 'id="checkin-overdue"' in html
    overdue = board.overdue_checkins(timezone.now())[0]
    since = timezone.localtime(overdue.last_checkin_at).strftime("%H:%M")
    due = timezone.localtime(overdue.due_at).strftime("%H:%M")
    assert f"CWRT-5 has not checked in on scene since {since}. The check-in was due at {due}." in html
    assert "min overdue" not in html
    assert "checkin-timer--overdue" in html


@override_settings(CHECKIN_INTERVAL_MINUTES=20)
def test_checkin_within_interval_no_alert(dispatcher_client, open_incident):
    put_team_on_scene(open_incident(minutes_ago=30), team("CWRT-5"), minutes_ago=15)

    html = dispatcher_client.get(reverse("dispatch:board")).content.decode()

    assert 'id="checkin-overdue"' not in html
    assert "data-checkin-due=" in html


@override_settings(CHECKIN_INTERVAL_MINUTES=20)
def test_checkin_resets_the_timer(dispatcher_client, open_incident):
    cwrt5 = team("CWRT-5")
    put_team_on_scene(open_incident(minutes_ago=40), cwrt5, minutes_ago=35)
    dispatch_service.do_check_in(cwrt5.pk, actor="test", at=timezone.now() - dt.timedelta(minutes=5))

    html = dispatcher_client.get(reverse("dispatch:board")).content.decode()

    assert 'id="checkin-overdue"' not in html


@override_settings(CHECKIN_INTERVAL_MINUTES=5)
def test_checkin_interval_from_settings(dispatcher_client, open_incident):
    put_team_on_scene(open_incident(minutes_ago=30), team("CWRT-5"), minutes_ago=6)

    html = dispatcher_client.get(reverse("dispatch:board")).content.decode()

    assert "CWRT-5 has not checked in on scene since" in html


def test_emergency_button_flags_team_card(dispatcher_client, open_incident):
    cwrt6 = team("CWRT-6")
    put_team_on_scene(open_incident(minutes_ago=10), cwrt6, minutes_ago=5)

    dispatch_service.do_check_in(cwrt6.pk, actor="test", emergency=True)
    html = dispatcher_client.get(reverse("dispatch:team_card", args=[cwrt6.pk])).content.decode()

    assert "is-emergency" in html
    assert "Emergency alert at" in html
    assert IncidentEvent.objects.filter(kind=IncidentEvent.Kind.EMERGENCY, team=cwrt6).count() == 1


def test_emergency_clears_after_checkin(dispatcher_client, open_incident):
    cwrt6 = team("CWRT-6")
    put_team_on_scene(open_incident(minutes_ago=10), cwrt6, minutes_ago=5)
    dispatch_service.do_check_in(cwrt6.pk, actor="test", emergency=True,
                                 at=timezone.now() - dt.timedelta(minutes=1))

    dispatch_service.do_check_in(cwrt6.pk, actor="test")
    html = dispatcher_client.get(reverse("dispatch:team_card", args=[cwrt6.pk])).content.decode()

    assert "is-emergency" not in html



def raise_emergency(open_incident, team_name="CWRT-6"):
    """Put ``team_name`` on scene and press its emergency button; return the event."""
    team_obj = team(team_name)
    put_team_on_scene(open_incident(minutes_ago=10), team_obj, minutes_ago=5)
    dispatch_service.do_check_in(team_obj.pk, actor="test", emergency=True)
    return IncidentEvent.objects.get(kind=IncidentEvent.Kind.EMERGENCY, team=team_obj)


def test_emergency_banner_survives_reload(client, personas, fleet, open_incident):
    emergency = raise_emergency(open_incident)
    # A dispatcher who signs in after the alert sees it too.
    client.force_login(personas["supervisor"])

    html = client.get(reverse("dispatch:console")).content.decode()

    assert f'data-emergency-id="{emergency.pk}"' in html
    assert "EMERGENCY alert from team CWRT-6" in html
    assert reverse("dispatch:acknowledge_emergency", args=[emergency.pk]) in html


def test_emergency_banner_stays_after_checkin(dispatcher_client, open_incident):
    emergency = raise_emergency(open_incident)
    dispatch_service.do_check_in(emergency.team_id, actor="test")

    html = dispatcher_client.get(reverse("dispatch:emergencies")).content.decode()

    assert f'data-emergency-id="{emergency.pk}"' in html


def test_acknowledge_emergency_records_who_when(dispatcher_client, personas, open_incident):
    emergency = raise_emergency(open_incident)
    url = reverse("dispatch:acknowledge_emergency", args=[emergency.pk])

    response = dispatcher_client.post(url, **HTMX)
    again = dispatcher_client.post(url, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-emergency-id="{emergency.pk}"' not in html
    assert "Emergency alert from team CWRT-6 acknowledged by dispatcher" in html
    assert again.status_code == 200
    notes = IncidentEvent.objects.filter(
        kind=IncidentEvent.Kind.NOTE, incident=emergency.incident,
        **{f"detail__{board.ACKNOWLEDGED_EMERGENCY_KEY}": emergency.pk},
    )
    assert notes.count() == 1
    assert notes[0].actor == personas["dispatcher"]
    assert notes[0].occurred_at >= emergency.occurred_at
    audit = AuditEntry.objects.filter(
        action=AuditEntry.Action.CHANGE, object_id=str(emergency.incident_id),
        actor=personas["dispatcher"], message__startswith="Acknowledged the emergency alert",
    )
    assert audit.count() == 1
    console = dispatcher_client.get(reverse("dispatch:console")).content.decode()
    assert f'data-emergency-id="{emergency.pk}"' not in console


def test_acknowledge_emergency_without_htmx_redirects(dispatcher_client, open_incident):
    emergency = raise_emergency(open_incident)

    response = dispatcher_client.post(
        reverse("dispatch:acknowledge_emergency", args=[emergency.pk])
    )

    assert response.status_code == 302
    assert board.unacknowledged_emergencies() == []


def test_acknowledge_unknown_emergency_is_404(dispatcher_client, open_incident):
    incident = open_incident()
    requested = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.REQUESTED)

    for event_id in (requested.pk, 999999):
        response = dispatcher_client.post(
            reverse("dispatch:acknowledge_emergency", args=[event_id]), **HTMX
        )
        assert response.status_code == 404


def test_acknowledge_emergency_forbidden_for_counselor(client, personas, fleet, open_incident):
    emergency = raise_emergency(open_incident)
    client.force_login(personas["call_counselor"])

    response = client.post(reverse("dispatch:acknowledge_emergency", args=[emergency.pk]))

    assert response.status_code == 403
    assert len(board.unacknowledged_emergencies()) == 1
