"""Run the hub as a real ASGI server process for browser and live tests.

``HubServer`` starts ``crisishub serve`` (Daphne) in a subprocess on a
loopback port with its own data directory and SQLite database, and with
every demo account's password set to ``DEMO_PASSWORD``. ``run_django``
executes Python code against that same database in a separate process,
so a test can prepare records or read them back without sharing Django
state with the server.

The benchmarks import this module too, so it depends only on the standard
library.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

DEMO_PASSWORD = "browser-test-password-4821"
DEMO_USERS = ("counselor", "dispatcher", "team1", "supervisor", "analyst", "admin")

# Variables of the calling environment that must not leak into the server:
# it always gets its own SQLite database and, unless asked, no Redis.
_ISOLATED_VARIABLES = (
    "DATABASE_URL", "CRISISHUB_REDIS_URL", "CRISISHUB_REDIS_PREFIX",
    "CRISISHUB_SECRET_KEY", "CRISISHUB_SECRET_KEY_FILE", "DJANGO_SETTINGS_MODULE",
)

# Requests go straight to the loopback server, whatever proxy the
# environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_DJANGO_PRELUDE = """\
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
django.setup()
"""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that the OS reports free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubServerError(RuntimeError):
    pass


class _PortTaken(Exception):
    """Daphne could not listen on the chosen port."""


class HubServer:
    """One ``crisishub serve`` process on 127.0.0.1.

    Several servers may share a ``data_dir``, and so one SQLite database,
    to stand for app processes behind one address. Start them one after
    another so that only the first one migrates.
    """

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
        name: str = "hub",
    ) -> None:
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="crisishub-server-"))
        self.port = port or free_port()
        self.name = name
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.log_path = self.data_dir / f"{name}-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if key not in _ISOLATED_VARIABLES}
        env.update(
            {
                "CRISISHUB_DATA_DIR": str(self.data_dir),
                "CRISISHUB_DEMO_PASSWORD": DEMO_PASSWORD,
                "CRISISHUB_LOG_LEVEL": env.get("CRISISHUB_LOG_LEVEL", "WARNING"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90.0, attempts: int = 3) -> "HubServer":
        """Start the server and wait until it serves the sign-in page.

        The port comes from the OS and another process may take it before
        the server binds it. The server then exits ("is already in use", or
        Daphne's "Listen failure"), and the start is retried on a new port,
        ``attempts`` times in all.
        """
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout)
            except _PortTaken:
                if attempt == attempts:
                    raise HubServerError(
                        f"crisishub serve found its port taken {attempts} times:\n{self.log_tail()}"
                    ) from None
                self.port = free_port()
                self.log_path = self.data_dir / f"{self.name}-{self.port}.log"
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> "HubServer":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crisishub.cli", "serve",
             "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_tail = self.log_tail()
                if "Listen failure" in log_tail or "is already in use" in log_tail:
                    raise _PortTaken()
                raise HubServerError(
                    f"crisishub serve on port {self.port} exited with code "
                    f"{self.process.returncode} before serving requests:\n{self.log_tail()}"
                )
            try:
                with _DIRECT.open(self.url + "/accounts/login/", timeout=2) as response:
                    served = response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                served = False
            if served:
                # The page may have come from another process on the port:
                # ours is the one if it is still running a moment later.
                time.sleep(0.5)
                if self.process.poll() is None:
                    return self
                continue
            time.sleep(0.2)
        self.stop()
        raise HubServerError(
            f"crisishub serve on port {self.port} did not serve the sign-in page "
            f"within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the process: SIGTERM, then SIGKILL after 5 s.

        Daphne waits for open WebSocket handlers on SIGTERM, so a socket a
        test left open would otherwise hold the process for 10 s.
        """
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def run_django(self, code: str, timeout: float = 60.0):
        """Run ``code`` with Django set up on this server's database.

        The code assigns its return value to ``result``, which travels back
        as JSON and so must be JSON-serialisable.
        """
        script = _DJANGO_PRELUDE + "result = None\n" + code + (
            "\nprint('@@RESULT@@' + json.dumps(result, default=str))\n"
        )
        completed = subprocess.run(
            [sys.executable, "-c", script], env=self.environment(),
            capture_output=True, text=True, timeout=timeout,
        )
        if completed.returncode != 0:
            raise HubServerError(
                f"Django code failed with exit code {completed.returncode}:\n"
                f"{completed.stderr[-4000:]}"
            )
        for line in reversed(completed.stdout.splitlines()):
            if line.startswith("@@RESULT@@"):
                return json.loads(line[len("@@RESULT@@"):])
        raise HubServerError(f"Django code printed no result:\n{completed.stdout[-2000:]}")

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.cleanup()


def open_incident_code(priority: int = 2, language: str = "en", *, age_seconds: float = 0,
                       variable: str = "incident") -> str:
    """Return code for ``run_django`` that opens a pending incident downtown,
    as a counselor would after screening, with T0 ``age_seconds`` ago, and
    binds it to ``variable``."""
    return (
        "import datetime as _dt\n"
        "from django.utils import timezone as _tz\n"
        "from crisishub.core.services.intake import LocationInput, do_create_contact\n"
        "from crisishub.core.services.dispatch import do_request_mobile_response\n"
        f"_t0 = _tz.now() - _dt.timedelta(seconds={age_seconds!r})\n"
        f"_contact = do_create_contact(source='988_transfer', preferred_language={language!r}, at=_t0,\n"
        "    location=LocationInput(latitude=38.576594, longitude=-121.432144, precision='device'))\n"
        f"{variable} = do_request_mobile_response(_contact, priority={priority!r}, actor='test', at=_t0)\n"
    )


def open_incident(server: HubServer, priority: int = 2, language: str = "en") -> dict:
    """Open a pending incident on ``server``; return its id and number.

    NOTE: the incident is created in another process, so consoles of the
    server hear of it only through a shared Redis layer. Use
    ``refer_mobile_response`` for a change they must see live.
    """
    code = open_incident_code(priority, language) + (
        "result = {'id': incident.pk, 'number': incident.number}\n"
    )
    return server.run_django(code)

class HubClient:
    """A signed-in HTTP session on a hub server, with CSRF handled.

    Sessions live in the database, so a client signed in through one
    server process is also signed in on another that shares its database.
    """

    def __init__(self, server: HubServer) -> None:
        self.server = server
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def cookie(self, name: str) -> str:
        for cookie in self.cookies:
            if cookie.name == name:
                return cookie.value
        return ""

    def cookie_header(self) -> str:
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> "HubClient":
        self.opener.open(self.server.url + "/accounts/login/", timeout=30).read()
        status, body = self.post("/accounts/login/", {"username": username, "password": password},
                                 htmx=False)
        if not self.cookie("sessionid"):
            raise HubServerError(f"Sign-in as {username!r} failed (HTTP {status}).")
        return self

    def get(self, path: str, *, server: HubServer | None = None) -> tuple[int, str]:
        return self._send(urllib.request.Request((server or self.server).url + path))

    def post(self, path: str, data: dict, *, htmx: bool = True,
             server: HubServer | None = None) -> tuple[int, str]:
        """POST form ``data`` to ``path``; return the status and the body."""
        headers = {"X-CSRFToken": self.cookie("csrftoken")}
        if htmx:
            headers["HX-Request"] = "true"
        fields = dict(data, csrfmiddlewaretoken=self.cookie("csrftoken"))
        request = urllib.request.Request(
            (server or self.server).url + path,
            data=urllib.parse.urlencode(fields).encode(), headers=headers, method="POST",
        )
        return self._send(request)

    def _send(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def websocket_headers(self, server: HubServer | None = None) -> dict[str, str]:
        """Return the headers a browser sends to open /ws/live/ on ``server``."""
        target = server or self.server
        return {"Cookie": self.cookie_header(), "Origin": target.url}



def create_partner_token(server: HubServer) -> str:
    """Create a 988 partner on ``server`` and return its API token."""
    name = f"Test partner {uuid.uuid4().hex[:8]}"
    return server.run_django(
        "from crisishub.api.auth import create_partner\n"
        f"result = create_partner({name!r})[1]\n"
    )


def refer_mobile_response(server: HubServer, token: str, *, priority: int = 2,
                          latitude: float = 38.576594, longitude: float = -121.432144,
                          language: str = "en") -> dict:
    """Send a mobile-response referral through the partner API of ``server``.

    The incident is created by the server process itself, so its consoles
    get the ``incident.created`` event (a change made by ``run_django`` in
    another process reaches them only through a shared Redis layer).
    """
    body = {
        "external_reference": f"ref-{uuid.uuid4().hex[:10]}",
        "preferred_language": language,
        "priority": priority,
        "location": {"latitude": latitude, "longitude": longitude, "precision": "device"},
        "safety_notes": "Test referral: no real person.",
    }
    request = urllib.request.Request(
        server.url + "/api/v1/referrals", data=json.dumps(body).encode(), method="POST",
        headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
    )
    try:
        with _DIRECT.open(request, timeout=30) as response:
            reply = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise HubServerError(
            f"Referral failed with HTTP {error.code}: {error.read().decode()[:2000]}"
        ) from None
    return reply["incident"]
