"""Benchmark live updates: a committed status change to 20 open consoles.

Run from the repository root:

    .venv/bin/python benchmarks/bench_live_updates.py
    .venv/bin/python benchmarks/bench_live_updates.py --layers memory --changes 20

For each channel layer it starts real ``crisishub serve`` processes on
loopback ports with a temporary SQLite database. It opens ``--consoles``
WebSockets to ``/ws/live/`` as the demo dispatcher, then makes
``--changes`` team status changes through the dispatcher console's HTTP
actions (assign a team, then cancel, alternately). Each change sends a
``team.status`` event whose ``status_since`` is the time the dispatch
service read the clock as it began the change, before its transaction.
The latency of one arrival is the console's receive time minus that
timestamp, on the same machine clock. It covers the transaction and its
commit, the publish through the layer and the delivery over the socket,
so it overstates the time from the commit by the transaction's length.
It does not cover the console's re-fetch of the fragment it shows.

Layers:

* ``memory``: the in-memory layer, one process (the default setup).
* ``redis``: the Redis pub/sub layer at ``--redis-url``, one process.
* ``redis-2proc``: two processes on one database and one Redis prefix;
  the consoles connect to process 2 and the changes go to process 1.

Every run is bounded: ``--changes`` at most 500, ``--consoles`` at most
200, and each event must arrive within ``--event-timeout`` seconds or the
run stops with an error. This file is not a test: pytest collects only
tests/.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hub_server import HubClient, HubServer  # noqa: E402

TARGET_P95_MS = 250.0
MAX_CHANGES = 500
MAX_CONSOLES = 200
LAYERS = ("memory", "redis", "redis-2proc")
# Unmeasured changes first, so the server's code paths and connections are
# warm when the measured ones start.
WARMUP_CHANGES = 5

# Code for ``run_django``: open one pending incident per change pair, so
# that every assign-then-cancel cycle has a fresh incident.
OPEN_INCIDENTS_CODE = """\
from crisishub.core.models import Team
from crisishub.core.services.intake import LocationInput, do_create_contact
from crisishub.core.services.dispatch import do_request_mobile_response
ids = []
for _ in range(COUNT):
    contact = do_create_contact(source="988_transfer", location=LocationInput(
        latitude=38.576594, longitude=-121.432144, precision="device"))
    ids.append(do_request_mobile_response(contact, priority=2, actor="benchmark").pk)
result = {"incidents": ids, "team": Team.objects.get(name="CWRT-1").pk}
"""


@dataclass
class LayerResult:
    layer: str
    consoles: int
    changes: int
    arrivals_ms: list[float] = field(default_factory=list)
    # Per change: the time until the last of the consoles had it.
    slowest_ms: list[float] = field(default_factory=list)
    request_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "layer": self.layer,
            "consoles": self.consoles,
            "changes": self.changes,
            "arrivals": len(self.arrivals_ms),
            "median_ms": round(statistics.median(self.arrivals_ms), 1),
            "p95_ms": round(percentile(self.arrivals_ms, 95), 1),
            "max_ms": round(max(self.arrivals_ms), 1),
            "all_consoles_p95_ms": round(percentile(self.slowest_ms, 95), 1),
            "http_action_median_ms": round(statistics.median(self.request_ms), 1),
            "meets_target": percentile(self.arrivals_ms, 95) < TARGET_P95_MS,
        }


def percentile(values: list[float], share: float) -> float:
    """Return the ``share``-th percentile by linear interpolation (NumPy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * share / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class ConsoleSet:
    """``count`` WebSocket consoles on one server, each in its own thread.

    Each console records, in order, the ``status_since`` and the receive
    time of every ``team.status`` event. The benchmark is the only writer,
    so the n-th event on every console belongs to the n-th change.
    """

    def __init__(self, client: HubClient, server: HubServer, count: int):
        self.client = client
        self.server = server
        self.count = count
        self.arrivals: list[list[tuple[str, float]]] = [[] for _ in range(count)]
        self.ready = threading.Barrier(count + 1, timeout=60)
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(count)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self.ready.wait()
        if self.errors:
            raise RuntimeError(f"A console failed to connect: {self.errors[0]}")

    def _run(self, index: int) -> None:
        from websockets.sync.client import connect

        headers = self.client.websocket_headers(self.server)
        try:
            with connect(
                self.server.ws_url + "/ws/live/", additional_headers={"Cookie": headers["Cookie"]},
                origin=headers["Origin"], proxy=None, open_timeout=30,
            ) as websocket:
                hello = json.loads(websocket.recv(timeout=30))
                if hello.get("event") != "hello":
                    raise RuntimeError(f"expected hello, got {hello!r}")
                self.ready.wait()
                while not self.stop.is_set():
                    try:
                        raw = websocket.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    received = time.time()
                    message = json.loads(raw)
                    if message.get("event") == "team.status":
                        stamp = message["payload"]["status_since"]
                        self.arrivals[index].append((stamp, received))
        except Exception as error:  # reported by start() or wait_for()
            self.errors.append(f"console {index}: {error!r}")
            try:
                self.ready.abort()
            except threading.BrokenBarrierError:
                pass

    def wait_for(self, number: int, timeout: float) -> tuple[str, list[float]]:
        """Return the stamp of event ``number`` (from 0) and every console's
        receive time of it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.errors:
                raise RuntimeError(self.errors[0])
            if all(len(seen) > number for seen in self.arrivals):
                stamps = {seen[number][0] for seen in self.arrivals}
                if len(stamps) != 1:
                    raise RuntimeError(f"Consoles disagree on event {number}: {sorted(stamps)}")
                return stamps.pop(), [seen[number][1] for seen in self.arrivals]
            time.sleep(0.002)
        missing = sum(1 for seen in self.arrivals if len(seen) <= number)
        raise TimeoutError(f"{missing} of {self.count} consoles did not receive status change "
                           f"{number} within {timeout} s")

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def run_layer(layer: str, args) -> LayerResult:
    env = {}
    if layer.startswith("redis"):
        env = {
            "CRISISHUB_REDIS_URL": args.redis_url,
            "CRISISHUB_REDIS_PREFIX": f"crisishub-bench-{uuid.uuid4().hex[:12]}",
        }
    with tempfile.TemporaryDirectory(prefix=f"crisishub-bench-{layer}-") as data_dir:
        acting = HubServer(data_dir=data_dir, env=env, name=f"{layer}-1").start()
        servers = [acting]
        try:
            watched = acting
            if layer == "redis-2proc":
                watched = HubServer(data_dir=data_dir, env=env, name=f"{layer}-2").start()
                servers.append(watched)
            return measure(layer, acting, watched, args)
        finally:
            for server in servers:
                server.stop()


def measure(layer: str, acting: HubServer, watched: HubServer, args) -> LayerResult:
    pairs = (args.changes + 1) // 2
    setup = acting.run_django(f"COUNT = {pairs}\n" + OPEN_INCIDENTS_CODE)
    client = HubClient(acting).login("dispatcher")
    consoles = ConsoleSet(client, watched, args.consoles)
    consoles.start()
    result = LayerResult(layer=layer, consoles=args.consoles, changes=0)
    team_id = setup["team"]
    try:
        actions = []
        for incident_id in setup["incidents"]:
            actions.append((f"/dispatch/incidents/{incident_id}/assign/", {"assign-team_id": team_id}))
            actions.append((f"/dispatch/incidents/{incident_id}/cancel/",
                            {"cancel-reason": "benchmark"}))
        for index, (path, data) in enumerate(actions[: args.changes]):
            started = time.perf_counter()
            status, body = client.post(path, data)
            result.request_ms.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"POST {path} failed with HTTP {status}: {body[-500:]}")
            stamp, received = consoles.wait_for(index, args.event_timeout)
            committed = dt.datetime.fromisoformat(stamp).timestamp()
            delays = [(arrival - committed) * 1000 for arrival in received]
            if index < WARMUP_CHANGES:
                continue
            result.arrivals_ms.extend(delays)
            result.slowest_ms.append(max(delays))
            result.changes += 1
    finally:
        consoles.close()
    return result


def redis_version(url: str) -> str:
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port or 6379)), timeout=2) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = sock.recv(4096).decode(errors="replace")
    except OSError as error:
        return f"unreachable ({error})"
    for line in reply.splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "django": version("Django"),
        "channels": version("channels"),
        "channels_redis": version("channels-redis"),
        "daphne": version("daphne"),
        "websockets": version("websockets"),
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", default="memory,redis",
                        help=f"comma-separated layers to measure, from {', '.join(LAYERS)} "
                             "(default: memory,redis)")
    parser.add_argument("--consoles", type=int, default=20,
                        help="WebSocket consoles connected during the run (default 20)")
    parser.add_argument("--changes", type=int, default=60,
                        help="measured status changes per layer, after "
                             f"{WARMUP_CHANGES} for warm-up (default 60)")
    parser.add_argument("--event-timeout", type=float, default=5.0,
                        help="seconds an event may take to reach every console (default 5)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="Redis for the redis layers; loopback only (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    layers = [layer.strip() for layer in args.layers.split(",") if layer.strip()]
    for layer in layers:
        if layer not in LAYERS:
            parser.error(f"unknown layer {layer!r}; use {', '.join(LAYERS)}")
    if not 1 <= args.consoles <= MAX_CONSOLES:
        parser.error(f"--consoles {args.consoles} is out of range; use 1 to {MAX_CONSOLES}")
    if not 1 <= args.changes <= MAX_CHANGES:
        parser.error(f"--changes {args.changes} is out of range; use 1 to {MAX_CHANGES}")
    host = args.redis_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        parser.error(f"--redis-url {args.redis_url!r} is not on loopback; use 127.0.0.1")
    args.layer_list = layers
    args.changes += WARMUP_CHANGES
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report = {"machine": machine(), "target_p95_ms": TARGET_P95_MS, "layers": []}
    if any(layer.startswith("redis") for layer in args.layer_list):
        report["machine"]["redis"] = redis_version(args.redis_url)
    for layer in args.layer_list:
        print(f"Measuring {layer} ...", file=sys.stderr, flush=True)
        report["layers"].append(run_layer(layer, args).summary())
    report["machine"]["load_average_after"] = [round(value, 2) for value in os.getloadavg()]

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'layer':<12} {'consoles':>8} {'changes':>7} {'median ms':>9} {'p95 ms':>7} "
          f"{'max ms':>7} {'all-20 p95':>10} {'target':>7}")
    for row in report["layers"]:
        print(f"{row['layer']:<12} {row['consoles']:>8} {row['changes']:>7} {row['median_ms']:>9} "
              f"{row['p95_ms']:>7} {row['max_ms']:>7} {row['all_consoles_p95_ms']:>10} "
              f"{'met' if row['meets_target'] else 'MISSED':>7}")
    print(json.dumps(report["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
