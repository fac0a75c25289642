"""Two app processes stay in step through the Redis channel layer.

Two real ``crisishub serve`` processes share one SQLite database and one
Redis at 127.0.0.1:6379, under a channel prefix of their own. A change
made through process 1 must reach a WebSocket connected to process 2
within a second. Without Redis the tests are skipped with the reason,
unless ``CRISISHUB_REQUIRE_REDIS=1`` makes that a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
import uuid

import pytest

from hub_server import HubClient, HubServer, open_incident

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Seconds within which every open console must see a change.
LIVE_DEADLINE = 1.0

pytestmark = pytest.mark.redis


def redis_problem() -> str:
    """Return why Redis cannot be used, or "" when it replies to PING."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
    except OSError as error:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} is not reachable ({error})"
    if not reply.startswith(b"+PONG"):
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} replied to PING with {reply!r}"
    return ""


@pytest.fixture(scope="module")
def redis_url():
    problem = redis_problem()
    if problem:
        if os.environ.get("CRISISHUB_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis required but {problem}.")
        pytest.skip(f"Two-process test skipped: {problem}.")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


@pytest.fixture(scope="module")
def data_dir():
    """One data directory (and SQLite database) for the module's servers,
    so only the first server start migrates and creates the demo staff."""
    with tempfile.TemporaryDirectory(prefix="crisishub-two-process-") as path:
        yield path


@pytest.fixture(scope="module")
def two_processes(redis_url, data_dir):
    """Two servers on one database and one Redis prefix, started in turn."""
    env = {
        "CRISISHUB_REDIS_URL": redis_url,
        "CRISISHUB_REDIS_PREFIX": f"crisishub-test-{uuid.uuid4().hex[:12]}",
    }
    first = HubServer(data_dir=data_dir, env=env, name="process-1").start()
    try:
        second = HubServer(data_dir=data_dir, env=env, name="process-2").start()
    except Exception:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


@contextlib.contextmanager
def live_socket(client: HubClient, server: HubServer):
    """Open /ws/live/ on ``server`` as the client's user, past its hello."""
    from websockets.sync.client import connect

    headers = client.websocket_headers(server)
    with connect(
        server.ws_url + "/ws/live/", additional_headers={"Cookie": headers["Cookie"]},
        origin=headers["Origin"], proxy=None, open_timeout=10,
    ) as websocket:
        hello = json.loads(websocket.recv(timeout=5))
        assert hello["event"] == "hello"
        yield websocket


def receive_event(websocket, name: str, timeout: float) -> tuple[dict | None, float]:
    """Wait up to ``timeout`` s for event ``name``; return it (or None) and
    the seconds waited."""
    start = time.monotonic()
    while True:
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            return None, time.monotonic() - start
        try:
            message = json.loads(websocket.recv(timeout=remaining))
        except TimeoutError:
            return None, time.monotonic() - start
        if message["event"] == name:
            return message, time.monotonic() - start


def test_assignment_on_one_reaches_other(two_processes):
    first, second = two_processes
    incident = open_incident(first, priority=1)
    client = HubClient(second).login("dispatcher")
    team_id = first.run_django(
        "from crisishub.core.models import Team\n"
        "result = Team.objects.get(name='CWRT-1').pk"
    )

    with live_socket(client, second) as websocket:
        status, body = client.post(
            f"/dispatch/incidents/{incident['id']}/assign/", {"assign-team_id": team_id},
            server=first,
        )
        message, waited = receive_event(websocket, "incident.assigned", timeout=5)

    assert status == 200, body[-2000:]
    assert message is not None, "incident.assigned never reached process 2"
    assert message["payload"]["id"] == incident["id"]
    assert message["payload"]["team_id"] == team_id
    assert waited < LIVE_DEADLINE


def test_new_incident_reaches_both(two_processes):
    first, second = two_processes
    client = HubClient(first).login("dispatcher")

    with live_socket(client, first) as on_first, live_socket(client, second) as on_second:
        incident = open_incident(first, priority=2)
        arrivals = [
            receive_event(websocket, "incident.created", timeout=10)
            for websocket in (on_first, on_second)
        ]

    for message, _ in arrivals:
        assert message is not None
        assert message["payload"]["id"] == incident["id"]


def test_in_memory_layers_do_not_share(data_dir):
    """Two processes without Redis stay apart: the check above can fail."""
    with HubServer(data_dir=data_dir, name="memory-1") as first, \
            HubServer(data_dir=data_dir, name="memory-2") as second:
        incident = open_incident(first, priority=1)
        client = HubClient(second).login("dispatcher")
        team_id = first.run_django(
            "from crisishub.core.models import Team\n"
            "result = Team.objects.get(name='CWRT-2').pk"
        )
        with live_socket(client, second) as websocket:
            status, _ = client.post(
                f"/dispatch/incidents/{incident['id']}/assign/", {"assign-team_id": team_id},
                server=first,
            )
            message, _ = receive_event(websocket, "incident.assigned", timeout=1.5)

    assert status == 200
    assert message is None
