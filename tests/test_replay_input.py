"""Replay options and input files: ranges, encodings, databases, pipes."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crisishub.replay import cli as replay_cli
from crisishub.replay.cli import InputError, read_events, read_stations

CRISISHUB = str(Path(sys.executable).with_name("crisishub"))
HEADER = "event_id,occurred_at,lat,lon\n"
GOOD_ROW = "E1,2006-01-05T02:00:00-08:00,38.5766,-121.4321\n"


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    replay_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def run_replay(tmp_path, *argv: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = dict(os.environ, CRISISHUB_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [CRISISHUB, "replay", *argv], env=env, cwd=tmp_path, stdout=stdout,
        stderr=subprocess.PIPE, text=True, timeout=180,
    )


# --- Option ranges ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["--teams", "0"], "--teams 0: use 1 to 100"), (["--teams", "100000"], "--teams 100000: use 1 to 100"),
     (["--seed", "-1"], "--seed -1"), (["--seed", str(2**40)], "0 to 4294967295")],
)
def test_option_out_of_range(argv, words):
    with pytest.raises(InputError, match=words.replace("-", r"\-")):
        replay_cli.check_arguments(parse_args(*argv))


def test_option_limits_accepted():
    replay_cli.check_arguments(parse_args("--teams", "100", "--seed", "0"))
    replay_cli.check_arguments(parse_args("--teams", "1", "--seed", str(2**32 - 1)))


@pytest.mark.parametrize(
    ("argv", "words"),
    [(["--seed", "-1"], "Invalid --seed -1"), (["--teams", "100000"], "use 1 to 100"),
     (["--database", "bogus://x"], "unknown scheme 'bogus'"),
     (["--database", "sqlite:////nonexistent/dir/x.sqlite3"], "/nonexistent/dir does not exist")],
)
def test_command_rejects_option_in_one_line(tmp_path, argv, words):
    result = run_replay(tmp_path, *argv)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


def test_missing_postgres_database_one_line(tmp_path):
    """The server need not run: a refused connection gets the same line."""
    url = "postgres://postgres@127.0.0.1:5432/crisishub_f_absent_database"

    result = run_replay(tmp_path, "--database", url)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"crisishub replay: cannot use --database {url}: ")
    assert "Create the database first" in result.stderr


def test_database_password_hidden(tmp_path):
    result = run_replay(tmp_path, "--database", "bogus://user:secret-pw@127.0.0.1/x")

    assert "secret-pw" not in result.stderr
    assert "user:***@" in result.stderr


# --- Events files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [(HEADER + "A1,9999-12-31T23:59:59-08:00,38.58,-121.49\n", [":2:", "1970 to 2099"]),
     (HEADER + "A1,1900-01-01T00:00:00-08:00,38.58,-121.49\n", [":2:", "1970 to 2099"]),
     (HEADER + GOOD_ROW + "E2,2008-01-05T02:00:00-08:00,38.5766,-121.4321\n", ["E1", "E2", "366 days"])],
    ids=["year 9999", "year 1900", "span"],
)
def test_events_time_range_rejected(tmp_path, text, words):
    path = tmp_path / "events.csv"
    path.write_text(text)

    with pytest.raises(InputError) as raised:
        read_events(path)

    for word in words:
        assert word in str(raised.value)


def test_events_not_utf8_rejected(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(HEADER.encode() + b"E\xff1,2006-01-05T02:00:00-08:00,38.5766,-121.4321\n")

    with pytest.raises(InputError, match="not UTF-8"):
        read_events(path)


def test_events_count_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(replay_cli, "MAX_EVENTS", 3)
    rows = [f"E{i},2006-01-05T02:0{i}:00-08:00,38.5766,-121.4321\n" for i in range(4)]
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "".join(rows))

    with pytest.raises(InputError, match="more than 3 events"):
        read_events(path)
    path.write_text(HEADER + "".join(rows[:3]))
    assert len(read_events(path)) == 3


# --- Stations files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [("name,lat,lon\nLos Angeles,34.05,-118.24\n", [":2:", "Los Angeles", "outside Sacramento County"]),
     ("name,lat,lon\nA,38.55,-121.45\nA,38.60,-121.40\n", [":3:", "'A'", "repeats line 2"]),
     ("name,lat,lon\n,38.55,-121.45\n", [":2:", "name is empty"]),
     ("name,lat,lon\nSwapped,-121.45,38.55\n", [":2:", "outside Sacramento County"])],
    ids=["outside county", "duplicate", "empty name", "swapped"],
)
def test_bad_stations_rejected(tmp_path, text, words):
    path = tmp_path / "stations.csv"
    path.write_text(text)

    with pytest.raises(InputError) as raised:
        read_stations(path)

    for word in words:
        assert word in str(raised.value)


def test_stations_not_utf8_rejected(tmp_path):
    path = tmp_path / "stations.csv"
    path.write_bytes(b"name,lat,lon\nSt\xe9,38.55,-121.45\n")

    with pytest.raises(InputError, match="not UTF-8"):
        read_stations(path)


# --- Pipes ----------------------------------------------------------------------------


def test_long_piped_replay_reports_tenths():
    pipe = io.StringIO()
    progress = replay_cli._Progress(pipe)

    for done in range(1, 1001):
        progress(done, 1000)

    lines = pipe.getvalue().splitlines()
    assert lines == [f"replayed {n}/1000 events" for n in range(100, 1001, 100)]


def test_short_piped_replay_quiet():
    pipe = io.StringIO()
    progress = replay_cli._Progress(pipe)

    for done in range(1, 501):
        progress(done, 500)

    assert pipe.getvalue() == ""


def test_closed_pipe_ends_cleanly(tmp_path):
    """A reader that stops early (``| head``) gets no traceback."""
    events = tmp_path / "events.csv"
    events.write_text(HEADER + GOOD_ROW)
    env = dict(os.environ, CRISISHUB_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [CRISISHUB, "replay", "--events", str(events), "--teams", "1", "--format", "json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    process.stdout.close()

    _, stderr = process.communicate(timeout=180)

    assert process.returncode == 0, stderr
    assert b"Traceback" not in stderr
