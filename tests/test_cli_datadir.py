"""The ``crisishub`` command creates the data folder only when it writes there.

Each test runs the installed command in a temporary folder that has no
``var/``, with no data folder, database or secret key in the environment,
as a user who starts it from the wrong folder would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CRISISHUB = str(Path(sys.executable).with_name("crisishub"))
CLEARED_VARIABLES = (
    "CRISISHUB_DATA_DIR", "DATABASE_URL", "CRISISHUB_SECRET_KEY", "CRISISHUB_REDIS_URL",
)


def run_in(folder: Path, *argv: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
    env.update(CRISISHUB_LOG_LEVEL="WARNING", **extra)
    return subprocess.run(
        [CRISISHUB, *argv], env=env, cwd=folder, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("command", [["showmigrations"], ["check"], ["createsuperuser", "--noinput"]])
def test_read_command_without_folder_fails(tmp_path, command):
    result = run_in(tmp_path, "manage", *command)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"crisishub: data folder {tmp_path / 'var'} not found")
    assert f"'manage {command[0]}'" in lines[0]
    assert "Run crisishub from the folder you started it from" in lines[0]
    assert "CRISISHUB_DATA_DIR" in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["report", "--from", "2026-01-01", "--to", "2026-01-31"],
    ["audit", "verify"],
])
def test_reading_commands_without_folder_fail(tmp_path, argv):
    result = run_in(tmp_path, *argv)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"crisishub: data folder {tmp_path / 'var'} not found")
    assert f"'{argv[0]}'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_read_command_with_secret_key_fails(tmp_path):
    """The default SQLite database needs the folder even with a key given."""
    result = run_in(tmp_path, "manage", "showmigrations", CRISISHUB_SECRET_KEY="k" * 50)

    assert result.returncode == 2
    assert f"data folder {tmp_path / 'var'} not found" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["manage"], ["manage", "help"], ["manage", "check", "--help"]])
def test_help_needs_no_folder(tmp_path, argv):
    result = run_in(tmp_path, *argv)

    assert result.returncode == 0, result.stderr
    assert "not found" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_named_database_needs_no_folder(tmp_path):
    database = tmp_path / "elsewhere.sqlite3"
    result = run_in(
        tmp_path, "manage", "check", DATABASE_URL=f"sqlite:///{database}",
        CRISISHUB_SECRET_KEY="k" * 50,
    )

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()


def test_migrate_creates_folder(tmp_path):
    result = run_in(tmp_path, "manage", "migrate", "--verbosity", "0")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "crisishub.sqlite3").is_file()
    assert (tmp_path / "var" / "secret_key").is_file()

    # Once the folder exists, a reading command uses it.
    listed = run_in(tmp_path, "manage", "showmigrations", "core")
    assert listed.returncode == 0, listed.stderr
    assert "[X] 0001_initial" in listed.stdout


def test_invalid_setting_writes_nothing(tmp_path):
    result = run_in(tmp_path, "setup", CRISISHUB_DEBUG="maybe")

    assert result.returncode == 2
    assert "Invalid value 'maybe' for CRISISHUB_DEBUG" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_setup_creates_folder(tmp_path):
    result = run_in(tmp_path, "setup", CRISISHUB_DEMO_PASSWORD="a-long-demo-password-9")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "crisishub.sqlite3").is_file()
    assert (tmp_path / "var" / "secret_key").is_file()
