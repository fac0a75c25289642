"""Tests for ``crisishub replay``: numbers recomputed by hand from the
events file and the documented drawn-value rules, determinism, progress
output, databases and input errors."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.db import connection

from crisishub import datapack
from crisishub.datapack import geo
from crisishub.replay import cli as replay_cli
from crisishub.replay.cli import InputError, read_events

DATA = Path(__file__).parent / "data" / "replay"
SMALL_EVENTS = DATA / "small_events.csv"
ONE_STATION = DATA / "one_station.csv"
CRISISHUB = str(Path(sys.executable).with_name("crisishub"))

# The documented distributions, copied here so the test does not trust the
# module's constants: drawn in this order from numpy's default_rng(seed).
LANGUAGES = {"en": 0.70, "es": 0.12, "zh": 0.03, "vi": 0.03, "ru": 0.02, "tl": 0.02, "hmn": 0.02,
             "pa": 0.02, "uk": 0.01, "fa": 0.01, "ar": 0.01, "other": 0.01}
RISKS = {"high": 0.45, "moderate": 0.30, "low": 0.15, "none": 0.10}
# The example matrix: an attempt in progress goes to 911/EMS; otherwise
# high and moderate risk get a mobile response, low a warm hand-off and
# none is resolved by phone.
PATH_BY_RISK = {"high": "mobile", "moderate": "mobile", "low": "warm_handoff", "none": "resolved_by_phone"}
# Travel-time model defaults: km * 1.3 / 40 km/h * 60 + 2 minutes.
CIRCUITY, SPEED_KMH, OVERHEAD = 1.3, 40.0, 2.0
# The one demo team a one-team replay gets: its counselor speaks English
# and Spanish, its peer English and Chinese.
TEAM_LANGUAGES = {"en", "es", "zh"}


def travel_minutes(lat1, lon1, lat2, lon2) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    km = 2 * 6371.0088 * math.asin(math.sqrt(a))
    return km * CIRCUITY / SPEED_KMH * 60 + OVERHEAD


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, by hand."""
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def read_csv(path: Path) -> list[dict]:
    import csv

    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected_report(events_path: Path, station: tuple[float, float], seed: int) -> dict:
    """Recompute a one-team replay's numbers from the inputs.

    The hand computation assumes the single team is back at its station
    before each request; it asserts that, so a seed that queues requests
    fails loudly instead of giving a wrong expectation.
    """
    rows = sorted(read_csv(events_path), key=lambda r: (r["occurred_at"], r["event_id"]))
    n = len(rows)
    rng = np.random.default_rng(seed)
    languages = rng.choice(list(LANGUAGES), size=n, p=np.array(list(LANGUAGES.values())) / sum(LANGUAGES.values()))
    risks = rng.choice(list(RISKS), size=n, p=np.array(list(RISKS.values())) / sum(RISKS.values()))
    attempts = rng.random(n) < 0.05
    answer = rng.exponential(0.5, n)
    assessment = rng.uniform(5.0, 15.0, n)
    turnout = rng.uniform(1.0, 4.0, n)
    on_scene = rng.lognormal(math.log(45.0), 0.5, n)
    transported = rng.random(n) < 0.30
    handoff = rng.uniform(10.0, 30.0, n)
    law = rng.random(n)

    destinations = [
        (f.lat, f.lon) for f in datapack.load_facilities()
        if f.kind in ("mental_health_urgent_care", "emergency_department") and f.is_open and f.lat is not None
    ]
    no_team: dict[str, int] = {}
    response, within, concordant, law_involved = [], {"urban": [], "rural": []}, [], []
    busy = 0.0
    team_free_at = None
    first = dt.datetime.fromisoformat(rows[0]["occurred_at"])
    last = first
    mobile_requests = 0
    for i, row in enumerate(rows):
        offered = dt.datetime.fromisoformat(row["occurred_at"])
        last = max(last, offered)
        lat, lon = float(row["lat"]), float(row["lon"])
        path = "routed_to_911_ems" if attempts[i] else PATH_BY_RISK[str(risks[i])]
        if path != "mobile":
            no_team[path] = no_team.get(path, 0) + 1
            continue
        mobile_requests += 1
        if not geo.in_county(lat, lon):
            no_team["outside_service_area"] = no_team.get("outside_service_area", 0) + 1
            continue
        t0 = offered + dt.timedelta(minutes=answer[i] + assessment[i])
        assert team_free_at is None or team_free_at <= t0, "the hand computation assumes no queue"
        arrival = turnout[i] + travel_minutes(*station, lat, lon)
        minutes_to_scene = arrival
        left_scene = arrival + on_scene[i]
        if transported[i]:
            to_destination = min(travel_minutes(lat, lon, d_lat, d_lon) for d_lat, d_lon in destinations)
            cleared = left_scene + to_destination + handoff[i]
        else:
            cleared = left_scene
        team_free_at = t0 + dt.timedelta(minutes=cleared)
        last = max(last, team_free_at)
        busy += cleared
        response.append(minutes_to_scene)
        area = geo.urban_rural(lat, lon)
        within[area].append(minutes_to_scene <= (120 if area == "rural" else 60))
        concordant.append(str(languages[i]) in TEAM_LANGUAGES)
        law_involved.append(bool(law[i] < 0.05))

    def share(values):
        return round(sum(values) / len(values), 4) if values else None

    span = (last - first).total_seconds() / 60
    return {
        "events": n,
        "mobile_requests": mobile_requests,
        "dispatched": len(response),
        "no_team": dict(sorted(no_team.items())),
        "response_minutes": {
            "p50": round(percentile(response, 50), 1) if response else None,
            "p90": round(percentile(response, 90), 1) if response else None,
        },
        "within_standard_share": {"urban": share(within["urban"]), "rural": share(within["rural"])},
        "language_concordant_share": share(concordant),
        "team_utilization": {"mean": round(busy / span, 4), "by_team": {"R-001": round(busy / span, 4)}},
        "law_enforcement_share": share(law_involved),
    }


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    replay_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def run_in_process(capsys, *argv: str) -> str:
    """Run the replay command against the test database; return stdout."""
    code = replay_cli.run(parse_args(*argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


SMALL_ARGS = ("--events", str(SMALL_EVENTS), "--stations", str(ONE_STATION), "--teams", "1",
              "--keep-outside", "--format", "json")


# --- Numbers recomputed by hand -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 4])
def test_small_events_match_hand_computation(capsys, seed):
    station = tuple(float(v) for v in (read_csv(ONE_STATION)[0]["lat"], read_csv(ONE_STATION)[0]["lon"]))
    expected = expected_report(SMALL_EVENTS, station, seed)

    report = json.loads(run_in_process(capsys, *SMALL_ARGS, "--seed", str(seed)))

    for key, value in expected.items():
        assert report[key] == value, key
    assert report["seed"] == seed
    assert report["teams"] == 1


# Rural tract centres (under 50 people per square mile) and one urban
# point, eight hours apart so one team is free for each.
RURAL_EVENTS = """event_id,occurred_at,lat,lon
R1,2026-01-06T00:00:00-08:00,38.695032,-121.569993
R2,2026-01-06T08:00:00-08:00,38.485418,-121.161487
R3,2026-01-06T16:00:00-08:00,38.136404,-121.619679
R4,2026-01-07T00:00:00-08:00,38.302260,-121.185023
R5,2026-01-07T08:00:00-08:00,38.576594,-121.432144
R6,2026-01-07T16:00:00-08:00,38.355992,-121.273711
"""


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [2, 11])
def test_rural_events_match_hand_computation(capsys, tmp_path, seed):
    events = tmp_path / "rural.csv"
    events.write_text(RURAL_EVENTS)
    expected = expected_report(events, (38.5816, -121.4944), seed)

    report = json.loads(run_in_process(
        capsys, "--events", str(events), "--stations", str(ONE_STATION), "--teams", "1",
        "--format", "json", "--seed", str(seed),
    ))

    assert expected["within_standard_share"]["rural"] is not None
    for key, value in expected.items():
        assert report[key] == value, key


@pytest.mark.django_db
def test_small_events_seed_1_reasons(capsys):
    """Seed 1 sends three teams; E5 in San Francisco gets no team."""
    report = json.loads(run_in_process(capsys, *SMALL_ARGS, "--seed", "1"))

    assert report["events"] == 5
    assert report["dispatched"] == 3
    assert report["no_team"]["outside_service_area"] == 1
    assert sum(report["no_team"].values()) == report["events"] - report["dispatched"]


@pytest.mark.django_db
def test_report_names_real_and_drawn_fields(capsys):
    report = json.loads(run_in_process(capsys, *SMALL_ARGS))

    assert "occurred_at (as offered_at)" in report["fields"]["real"]
    assert {"preferred_language", "cssrs_answers", "on_scene_duration"} <= set(report["fields"]["drawn"])
    assert "Bernoulli(0.3)" in report["fields"]["drawn"]["transport"]
    for key in ("events", "dispatched", "no_team", "response_minutes", "within_standard_share",
                "language_concordant_share", "team_utilization", "law_enforcement_share"):
        assert key in report["definitions"] or key in ("events", "dispatched", "no_team")


def test_different_seed_changes_drawn_values():
    """Seeds 1 and 4 are both checked against the replay above; here the
    hand computation shows what a new seed changes and what it keeps."""
    station = (38.5816, -121.4944)
    first = expected_report(SMALL_EVENTS, station, 1)
    second = expected_report(SMALL_EVENTS, station, 4)

    assert first["events"] == second["events"] == 5
    assert first["no_team"].get("outside_service_area", 0) <= 1
    assert first["response_minutes"] != second["response_minutes"]
    assert first["team_utilization"] != second["team_utilization"]


@pytest.mark.django_db
def test_replay_rejects_database_with_teams(capsys, fleet):
    code = replay_cli.run(parse_args(*SMALL_ARGS))

    assert code == 2
    assert "already has teams" in capsys.readouterr().err


# --- Same seed, same bytes; progress on a terminal ------------------------------


def replay_env(tmp_path: Path) -> dict:
    env = dict(os.environ, CRISISHUB_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    return env


@pytest.mark.django_db
def test_same_seed_byte_identical_across_processes(capsys, tmp_path):
    """A separate process on its own SQLite file prints exactly what this
    process prints on the test database, progress going to a terminal."""
    import pty

    in_process = run_in_process(capsys, *SMALL_ARGS, "--seed", "3")
    primary, secondary = pty.openpty()
    try:
        process = subprocess.run(
            [CRISISHUB, "replay", *SMALL_ARGS, "--seed", "3"],
            env=replay_env(tmp_path), stdout=subprocess.PIPE, stderr=secondary, timeout=180,
        )
        os.close(secondary)
        secondary = None
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        if secondary is not None:
            os.close(secondary)
        os.close(primary)

    assert process.returncode == 0
    assert process.stdout.decode() == in_process
    assert b"replayed 5/5 events" in terminal


def test_piped_replay_is_quiet(tmp_path):
    process = subprocess.run(
        [CRISISHUB, "replay", *SMALL_ARGS, "--seed", "3"],
        env=replay_env(tmp_path), capture_output=True, timeout=180,
    )

    assert process.returncode == 0
    assert process.stderr == b""
    assert json.loads(process.stdout)["events"] == 5


def test_progress_only_on_terminal():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = replay_cli._Progress(stream)
        for done in range(1, 26):
            progress(done, 25)

    assert pipe.getvalue() == ""
    assert "\rreplayed 10/25 events" in terminal.getvalue()
    assert terminal.getvalue().endswith("\rreplayed 25/25 events\n")


# --- PostgreSQL through --database -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
def test_replay_into_postgres_database(tmp_path):
    import psycopg

    settings = connection.settings_dict
    name = f"{settings['NAME']}_replay"
    admin_url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
        process = subprocess.run(
            [CRISISHUB, "replay", *SMALL_ARGS, "--seed", "3", "--database", url],
            env=replay_env(tmp_path), capture_output=True, timeout=180,
        )
        with psycopg.connect(url.replace("postgres://", "postgresql://")) as replayed:
            incidents = replayed.execute("SELECT count(*) FROM core_incident").fetchone()[0]
            teams = replayed.execute("SELECT count(*) FROM core_team").fetchone()[0]
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert process.returncode == 0, process.stderr.decode()
    report = json.loads(process.stdout)
    assert incidents == report["mobile_requests"]
    assert teams == 1


# --- Bad events files ---------------------------------------------------------------

HEADER = "event_id,occurred_at,lat,lon\n"
GOOD_ROW = "E1,2026-01-05T02:00:00-08:00,38.5766,-121.4321\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("event_id,occurred_at,lat\nE1,2026-01-05T02:00:00-08:00,38.5\n", ["missing column", "lon"]),
        (HEADER + GOOD_ROW + "E2,yesterday at noon,38.5766,-121.4321\n", [":3:", "'yesterday at noon'", "ISO 8601"]),
        (HEADER + "E1,2026-01-05T02:00:00,38.5766,-121.4321\n", [":2:", "no UTC offset"]),
        (HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,north,-121.4321\n", [":3:", "lat", "'north'"]),
        (HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,38.5766,\n", [":3:", "lon", "''"]),
        (HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,138.5,-121.4\n", [":3:", "138.5", "out of range"]),
        (HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,37.7749,-122.4194\n",
         [":3:", "E2", "37.7749, -122.4194", "outside Sacramento County", "--keep-outside"]),
        (HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,-121.4321,38.5766\n",
         [":3:", "-121.4321", "out of range"]),
        (HEADER + GOOD_ROW + GOOD_ROW, [":3:", "'E1'", "repeats line 2"]),
        (HEADER + ",2026-01-05T03:00:00-08:00,38.5766,-121.4321\n", [":2:", "event_id is empty"]),
        (HEADER, ["no events"]),
    ],
    ids=["missing column", "bad time", "no offset", "lat text", "lon empty", "lat range",
         "outside county", "swapped", "duplicate id", "empty id", "no rows"],
)
def test_bad_events_file_named_error(tmp_path, text, words):
    path = tmp_path / "events.csv"
    path.write_text(text)

    with pytest.raises(InputError) as raised:
        read_events(path)

    message = str(raised.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_outside_county_kept_with_flag(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + GOOD_ROW + "E2,2026-01-05T03:00:00-08:00,37.7749,-122.4194\n")

    events = read_events(path, keep_outside=True)

    assert [e.event_id for e in events] == ["E1", "E2"]


def test_missing_events_file_error(tmp_path):
    with pytest.raises(InputError, match="Cannot open events file"):
        read_events(tmp_path / "absent.csv")


def test_bad_file_exit_code_and_message(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "E1,noon,38.5766,-121.4321\n")

    code = replay_cli.run(parse_args("--events", str(path)))

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("crisishub replay: ")
    assert "'noon'" in err


def test_shipped_events_all_in_county():
    events = datapack.load_events()

    assert len(events) == 111
    assert all(geo.in_county(e.lat, e.lon) for e in events)
