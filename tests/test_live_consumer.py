"""Live-update consumer on the in-memory channel layer (channels.testing).

These tests use real transactions (``transaction=True``) because
``on_commit`` callbacks never run inside the transaction that wraps an
ordinary Django test.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections, transaction
from django.test import override_settings

from crisishub.consoles.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    LiveConsumer,
    groups_for_user,
)
from crisishub.core import events
from crisishub.core.models import Team, TeamMember
from crisishub.core.services import dispatch as dispatch_service

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Seconds to wait for an event that must arrive, and to confirm that one
# does not.
ARRIVAL_TIMEOUT = 2
SILENCE_TIMEOUT = 0.3

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer():
    """Give every test a fresh in-memory layer, whatever the environment sets."""
    from channels.layers import channel_layers

    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        channel_layers.backends.clear()
        yield
        channel_layers.backends.clear()


@pytest_asyncio.fixture
async def closes_connections():
    """Close the database connection of the thread that runs the tests'
    sync_to_async calls: an open one keeps PostgreSQL from dropping the
    test database."""
    yield
    await sync_to_async(connections.close_all)()


async def connect(user) -> tuple[WebsocketCommunicator, bool, int | None]:
    communicator = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def connect_ok(user) -> WebsocketCommunicator:
    communicator, connected, code = await connect(user)
    assert connected, f"socket rejected with code {code}"
    hello = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)
    assert hello["event"] == "hello"
    return communicator


async def next_hub_event(communicator, name: str) -> dict:
    """Return the next message named ``name``, skipping others."""
    while True:
        message = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)
        if message["event"] == name:
            return message


def link_member(user, team_name: str) -> Team:
    team = Team.objects.get(name=team_name)
    TeamMember.objects.filter(team=team, role="counselor").update(user=user)
    return team


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_anonymous_socket_closed_4401():
    communicator, connected, code = await connect(AnonymousUser())

    assert not connected
    assert code == CLOSE_UNAUTHENTICATED


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_analyst_socket_closed_4403(personas):
    communicator, connected, code = await connect(personas["analyst"])

    assert not connected
    assert code == CLOSE_FORBIDDEN


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_dispatcher_joins_dispatch_group(personas):
    communicator, connected, _ = await connect(personas["dispatcher"])
    hello = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)

    assert connected
    assert hello == {"event": "hello", "payload": {"groups": ["dispatch"]}}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_counselor_hears_incident_status(personas, fleet, make_incident):
    team = await sync_to_async(Team.objects.get)(name="CWRT-1")
    incident = await sync_to_async(make_incident)()
    communicator, connected, _ = await connect(personas["call_counselor"])
    hello = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)

    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    assigned = await next_hub_event(communicator, "incident.assigned")
    await sync_to_async(dispatch_service.do_record_status)(incident.pk, "en_route", actor="test")
    status = await next_hub_event(communicator, "incident.status")

    assert connected
    assert hello["payload"]["groups"] == ["counselor"]
    assert assigned["payload"]["id"] == incident.pk
    assert status["payload"]["status"] == "en_route"
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_supervisor_skips_counselor_group(personas):
    communicator = await connect_ok(personas["supervisor"])

    assert await communicator.receive_nothing(timeout=SILENCE_TIMEOUT)
    await communicator.disconnect()
    groups = await sync_to_async(groups_for_user)(personas["supervisor"])
    assert "counselor" not in groups
    assert "dispatch" in groups


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_team_member_joins_team_group(personas, fleet):
    team = await sync_to_async(link_member)(personas["team_member"], "CWRT-3")

    communicator, connected, _ = await connect(personas["team_member"])
    hello = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)

    assert connected
    assert hello["payload"]["groups"] == [f"team-{team.pk}"]
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_ping_gets_pong(personas):
    communicator = await connect_ok(personas["dispatcher"])

    await communicator.send_json_to({"event": "ping"})
    reply = await communicator.receive_json_from(timeout=ARRIVAL_TIMEOUT)

    assert reply == {"event": "pong", "payload": {}}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_new_incident_reaches_dispatcher(personas, make_incident):
    communicator = await connect_ok(personas["dispatcher"])

    incident = await sync_to_async(make_incident)(priority=1)
    message = await next_hub_event(communicator, "incident.created")

    assert message["payload"]["id"] == incident.pk
    assert message["payload"]["number"] == incident.number
    assert message["payload"]["priority"] == 1
    assert message["payload"]["status"] == "pending"
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_event_waits_for_commit(personas, fleet, make_incident):
    incident = await sync_to_async(make_incident)()
    communicator = await connect_ok(personas["dispatcher"])
    team = await sync_to_async(Team.objects.get)(name="CWRT-1")
    release = threading.Event()
    inside = threading.Event()

    def assign_in_slow_transaction():
        # A thread of its own, so its connection is closed here: an open
        # one keeps PostgreSQL from dropping the test database.
        try:
            with transaction.atomic():
                dispatch_service.do_assign_team(incident.pk, team.pk, actor="test")
                inside.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    task = asyncio.ensure_future(
        sync_to_async(assign_in_slow_transaction, thread_sensitive=False)()
    )
    await sync_to_async(inside.wait, thread_sensitive=False)(10)

    assert await communicator.receive_nothing(timeout=SILENCE_TIMEOUT)
    release.set()
    await task
    message = await next_hub_event(communicator, "incident.assigned")
    assert message["payload"]["team_id"] == team.pk
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_rolled_back_change_sends_nothing(personas, fleet, make_incident):
    incident = await sync_to_async(make_incident)()
    communicator = await connect_ok(personas["dispatcher"])

    def assign_then_fail():
        team = Team.objects.get(name="CWRT-1")
        with pytest.raises(RuntimeError), transaction.atomic():
            dispatch_service.do_assign_team(incident.pk, team.pk, actor="test")
            raise RuntimeError("roll back")

    await sync_to_async(assign_then_fail)()

    assert await communicator.receive_nothing(timeout=SILENCE_TIMEOUT)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_assignment_reaches_team_phone(personas, fleet, make_incident):
    team = await sync_to_async(link_member)(personas["team_member"], "CWRT-2")
    incident = await sync_to_async(make_incident)()
    phone = await connect_ok(personas["team_member"])

    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    assigned = await next_hub_event(phone, "incident.assigned")
    status = await next_hub_event(phone, "team.status")

    assert assigned["payload"]["id"] == incident.pk
    assert assigned["payload"]["team_id"] == team.pk
    assert status["payload"]["id"] == team.pk
    assert status["payload"]["status"] == "assigned"
    await phone.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_other_team_hears_nothing(personas, fleet, make_incident):
    await sync_to_async(link_member)(personas["team_member"], "CWRT-2")
    other = await sync_to_async(Team.objects.get)(name="CWRT-4")
    incident = await sync_to_async(make_incident)()
    phone = await connect_ok(personas["team_member"])

    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, other.pk, actor="test")

    assert await phone.receive_nothing(timeout=SILENCE_TIMEOUT)
    await phone.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_reassigned_team_hears_status(personas, fleet, make_incident):
    team = await sync_to_async(link_member)(personas["team_member"], "CWRT-2")
    other = await sync_to_async(Team.objects.get)(name="CWRT-5")
    incident = await sync_to_async(make_incident)()
    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    phone = await connect_ok(personas["team_member"])

    def reassign():
        with transaction.atomic():
            dispatch_service.do_unassign(incident.pk, reason="closer team", actor="test")
            dispatch_service.do_assign_team(incident.pk, other.pk, actor="test")

    await sync_to_async(reassign)()
    status = await next_hub_event(phone, "team.status")

    assert status["payload"]["id"] == team.pk
    assert status["payload"]["status"] == "available"
    await phone.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_emergency_reaches_dispatcher_at_once(personas, fleet, make_incident):
    team = await sync_to_async(Team.objects.get)(name="CWRT-6")
    incident = await sync_to_async(make_incident)()
    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    communicator = await connect_ok(personas["dispatcher"])

    await sync_to_async(dispatch_service.do_check_in)(team.pk, actor="test", emergency=True)
    message = await next_hub_event(communicator, "team.emergency")

    assert message["payload"]["id"] == team.pk
    assert message["payload"]["name"] == "CWRT-6"
    assert message["payload"]["incident_id"] == incident.pk
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_emergency_acknowledgement_reaches_dispatchers(personas, fleet, make_incident):
    from crisishub.consoles import board
    from crisishub.core.models import IncidentEvent

    team = await sync_to_async(Team.objects.get)(name="CWRT-6")
    incident = await sync_to_async(make_incident)()
    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    await sync_to_async(dispatch_service.do_check_in)(team.pk, actor="test", emergency=True)
    emergency = await sync_to_async(IncidentEvent.objects.get)(kind="emergency", team=team)
    communicator = await connect_ok(personas["supervisor"])

    await sync_to_async(board.acknowledge_emergency)(emergency.pk, personas["dispatcher"])
    message = await next_hub_event(communicator, "team.emergency_acknowledged")

    assert message["payload"]["id"] == team.pk
    assert message["payload"]["incident_id"] == incident.pk
    assert message["payload"]["emergency_event_id"] == emergency.pk
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.usefixtures("closes_connections")
async def test_status_steps_reach_dispatcher(personas, fleet, make_incident):
    team = await sync_to_async(Team.objects.get)(name="CWRT-7")
    incident = await sync_to_async(make_incident)()
    await sync_to_async(dispatch_service.do_assign_team)(incident.pk, team.pk, actor="test")
    communicator = await connect_ok(personas["dispatcher"])

    received = []
    for status in ("en_route", "on_scene", "transporting", "at_destination", "cleared"):
        await sync_to_async(dispatch_service.do_record_status)(incident.pk, status, actor="test")
        message = await next_hub_event(communicator, "incident.status")
        received.append(message["payload"]["status"])

    assert received == ["en_route", "on_scene", "transporting", "at_destination", "cleared"]
    await communicator.disconnect()


def test_team_events_add_team_group():
    groups = events.groups_for_event("team.status", {"id": 4}, (events.DISPATCH_GROUP,))

    assert groups == ("dispatch", "team-4")


def test_incident_events_add_counselor_group():
    groups = events.groups_for_event("incident.created", {"id": 4}, (events.DISPATCH_GROUP,))

    assert groups == ("dispatch", "counselor")


def test_team_events_skip_counselor_group():
    groups = events.groups_for_event("team.check_in", {"id": 4}, (events.DISPATCH_GROUP,))

    assert "counselor" not in groups


def test_publishing_disabled_sends_nothing(monkeypatch):
    sent = []
    monkeypatch.setattr(transaction, "on_commit", lambda callback: sent.append(callback))
    events.set_enabled(False)
    try:
        events.publish_on_commit("team.status", {"id": 1})
    finally:
        events.set_enabled(True)

    assert sent == []
