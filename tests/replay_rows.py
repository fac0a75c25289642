"""Run one replay on the empty database in DATABASE_URL and print its rows.

Usage: python tests/replay_rows.py bulk|services EVENTS STATIONS TEAMS SEED [FLUSH_ROWS]

EVENTS and STATIONS are CSV files, or "default" for the shipped events and
the demo stations. FLUSH_ROWS sets how many rows the bulk writer keeps
in memory before it writes them (to make a small replay flush several times).

Prints the report as the first line, then every row the replay wrote, as
JSON lines: the teams, their members and stations, contacts, screenings,
triage decisions, incidents, their timelines and assignments, and the
audit entries written while the replay acted. Values that differ between
two runs of the same replay are replaced: an audit entry's wall-clock time
and hash-chain fields, and the random temporary incident number that the
entry for an incident's creation shows. The last lines give where each id
sequence stands, so the next row saved the usual way gets a free id, and
whether the audit trail's hash chain is intact.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

TEMPORARY_NUMBER = re.compile(r"tmp-[0-9a-f]{14}")
# Audit entry fields that differ between two runs of the same replay.
RUN_FIELDS = ("occurred_at", "prev_hash", "entry_hash")


def main(argv: list[str]) -> int:
    mode, events_path, stations_path, teams, seed, *flush_rows = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    from crisishub.audit.chain import verify_chain
    from crisishub.audit.models import AuditEntry
    from crisishub.core.models import (
        Assignment, Contact, Incident, IncidentEvent, Screening, Station, Team, TeamMember,
        TriageDecision,
    )
    from crisishub.core.setup import load_reference_data
    from crisishub.replay import bulk
    from crisishub.replay.cli import default_events, default_stations, read_events, read_stations
    from crisishub.replay.engine import ACTOR, Replay, summarize

    if flush_rows:
        bulk.FLUSH_ROWS = int(flush_rows[0])
    events = default_events() if events_path == "default" else read_events(Path(events_path), keep_outside=True)
    stations = default_stations() if stations_path == "default" else read_stations(Path(stations_path))
    logging.getLogger("crisishub").setLevel(logging.WARNING)
    call_command("migrate", interactive=False, verbosity=0)
    load_reference_data()
    first_entry = (AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    replay = Replay(events, stations, int(teams), int(seed), bulk=mode == "bulk")
    result = replay.run()
    report = summarize(result, seed=int(seed), team_names=sorted(replay.team_names.values()), matrix_version="-")
    print(json.dumps(report, sort_keys=True))
    for model in (Station, Team, TeamMember, Contact, Screening, TriageDecision, Incident, IncidentEvent,
                  Assignment):
        for row in model.objects.order_by("pk").values():
            print(_line(model._meta.label_lower, row))
    for row in AuditEntry.objects.filter(id__gte=first_entry, actor_label=ACTOR).order_by("pk").values():
        for name in RUN_FIELDS:
            row.pop(name, None)
        print(_line("audit.auditentry", row))
    for model in (Contact, Screening, TriageDecision, Incident, IncidentEvent, Assignment):
        print(json.dumps({"sequence": model._meta.db_table, "position": _sequence_position(model)}))
    chain = verify_chain()
    print(json.dumps({"audit_chain_intact": chain.intact, "problem": str(chain.problem)}))
    return 0


def _sequence_position(model) -> list:
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            cursor.execute(f"SELECT last_value, is_called FROM {cursor.fetchone()[0]}")
        else:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        return list(cursor.fetchone() or [])


def _line(label: str, row: dict) -> str:
    text = json.dumps({"table": label, **row}, sort_keys=True, default=_plain)
    return TEMPORARY_NUMBER.sub("tmp-<random>", text)


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
