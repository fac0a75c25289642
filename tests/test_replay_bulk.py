"""The replay's bulk writes against the per-call services.

``Replay(bulk=True)`` (the default) applies the services' rules to rows in
memory and writes them in bulk; ``bulk=False`` calls the services the
consoles use. Both must leave the same rows and the same audit trail, and
the bulk path must not go back to queries per event.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crisishub.replay.cli import default_events, default_stations

DATA = Path(__file__).parent / "data" / "replay"
ROWS_SCRIPT = str(Path(__file__).parent / "replay_rows.py")

# Shipped events with one team: requests queue, some wait past the arrival
# standard (no team available), some are transported. A flush every 50
# rows makes the bulk writer update rows it has already written.
QUEUED = ("default", "default", "1", "5", "50")
# Small events with one event outside the county (closed at once).
OUTSIDE = (str(DATA / "small_events.csv"), str(DATA / "one_station.csv"), "1", "1")


def replay_rows(mode: str, database_url: str, tmp_path: Path, args: tuple[str, ...]) -> list[str]:
    env = dict(os.environ, DATABASE_URL=database_url, CRISISHUB_DATA_DIR=str(tmp_path))
    process = subprocess.run(
        [sys.executable, ROWS_SCRIPT, mode, *args], env=env, capture_output=True, text=True, timeout=600,
    )
    assert process.returncode == 0, process.stderr
    return process.stdout.splitlines()


def assert_same_rows(services: list[str], bulk: list[str]) -> None:
    assert json.loads(bulk[-1])["audit_chain_intact"], bulk[-1]
    assert services[0] == bulk[0], "reports differ"
    for index, (expected, actual) in enumerate(zip(services, bulk)):
        assert actual == expected, f"line {index + 1} differs"
    assert len(bulk) == len(services)


@pytest.mark.slow
@pytest.mark.parametrize("args", [QUEUED, OUTSIDE], ids=["queued", "outside"])
def test_bulk_rows_match_services_sqlite(tmp_path, args):
    rows = {}
    for mode in ("services", "bulk"):
        folder = tmp_path / mode
        folder.mkdir()
        rows[mode] = replay_rows(mode, f"sqlite:///{folder}/replay.sqlite3", folder, args)

    assert_same_rows(rows["services"], rows["bulk"])
    tables = {json.loads(line).get("table") for line in rows["bulk"][1:]}
    assert {"core.incident", "core.assignment", "audit.auditentry"} <= tables
    report = json.loads(rows["bulk"][0])
    assert report["dispatched"] > 0


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
def test_bulk_rows_match_services_postgres(tmp_path):
    import psycopg

    settings = connection.settings_dict
    admin_url = f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/postgres"
    names = {mode: f"{settings['NAME']}_bulk_{mode}" for mode in ("services", "bulk")}
    rows = {}
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                admin.execute(f'CREATE DATABASE "{name}"')
        for mode, name in names.items():
            url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
            rows[mode] = replay_rows(mode, url, tmp_path, QUEUED)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert_same_rows(rows["services"], rows["bulk"])
    queued = json.loads(rows["bulk"][0])
    assert queued["no_team"].get("no_team_available", 0) > 0


# Queries on the hub's own tables for a whole bulk replay of the shipped
# events: creating the 7 teams with their members and stations, reading the
# id sequences, the fleet and the matrix, then a few statements per table
# per flush; 68 when this test was written. The per-call services ran 2,931
# such queries for the same replay. Audit entries are written by
# AuditEntry.objects.bulk_create, whose queries belong to the audit app and
# are not counted here.
MAX_HUB_QUERIES = 100


def hub_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if '"core_' in q["sql"]]


@pytest.mark.django_db
def test_bulk_replay_queries_do_not_grow(reference_data):
    from crisishub.replay.engine import Replay

    events = default_events()
    with CaptureQueriesContext(connection) as captured:
        result = Replay(events, default_stations(), 7, 1).run()

    queries = hub_queries(captured.captured_queries)
    assert result.dispatched > 50
    assert len(queries) <= MAX_HUB_QUERIES, f"{len(queries)} queries on core tables for {len(events)} events"
