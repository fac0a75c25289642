"""``crisishub serve`` and ``setup``: start-up messages and start-up errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crisishub.core.setup import ListenError, listen_socket

CRISISHUB = str(Path(sys.executable).with_name("crisishub"))
# Ports of this test file's own range.
BUSY_PORT = 18610
SERVE_PORT = 18611


def hub_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CRISISHUB_REDIS_URL")}
    env.update(CRISISHUB_DATA_DIR=str(tmp_path), CRISISHUB_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_hub(tmp_path, *argv: str, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CRISISHUB, *argv], env=hub_env(tmp_path, **extra), cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )


def test_busy_port_one_line(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", BUSY_PORT))
        other.listen()

        result = run_hub(tmp_path, "serve", "--port", str(BUSY_PORT), "--no-demo")

    assert result.returncode == 2
    assert "listening" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"crisishub: port {BUSY_PORT} on 127.0.0.1 is already in use; "
        "stop the other server or pass --port with a free port."
    )


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_bad_port_rejected(tmp_path, port):
    result = run_hub(tmp_path, "serve", "--port", port)

    assert result.returncode == 2
    assert "listening" not in result.stdout
    assert "argument --port: invalid port" in result.stderr
    assert "1 to 65535" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [("CRISISHUB_SESSION_IDLE_SECONDS", "abc", "expected a whole number"),
     ("CRISISHUB_SESSION_IDLE_SECONDS", "-5", "use 1 or more"),
     ("CRISISHUB_DEBUG", "maybe", "use one of 1, 0"),
     ("DATABASE_URL", "bogus://x", "unknown scheme 'bogus'")],
)
def test_bad_setting_one_line(tmp_path, variable, value, words):
    result = run_hub(tmp_path, "setup", **{variable: value})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"crisishub: Invalid ")
    assert variable in lines[0]
    assert words in lines[0]


def test_unknown_host_one_line(tmp_path):
    result = run_hub(tmp_path, "serve", "--host", "no-such-host.invalid", "--port", str(SERVE_PORT), "--no-demo")

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot listen on host 'no-such-host.invalid'" in result.stderr


def test_listening_printed_once_accepting(tmp_path):
    process = subprocess.Popen(
        [CRISISHUB, "serve", "--port", str(SERVE_PORT), "--no-demo"], env=hub_env(tmp_path),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if "is listening on" in line or not line:
                break
        assert f"is listening on http://127.0.0.1:{SERVE_PORT}/" in line

        # The port accepts connections as soon as the line is out.
        with socket.create_connection(("127.0.0.1", SERVE_PORT), timeout=5):
            pass
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_listen_socket_busy_port_error():
    with socket.socket() as other:
        other.bind(("127.0.0.1", BUSY_PORT))
        other.listen()

        with pytest.raises(ListenError, match=f"port {BUSY_PORT} on 127.0.0.1 is already in use"):
            listen_socket("127.0.0.1", BUSY_PORT)


def test_listen_socket_free_port_listens():
    sock = listen_socket("127.0.0.1", BUSY_PORT)
    try:
        with socket.create_connection(("127.0.0.1", BUSY_PORT), timeout=5):
            pass
    finally:
        sock.close()
