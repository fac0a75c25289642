"""Tests for the audit trail's database triggers and hash chain: raw SQL
cannot change or delete recent entries, and ``crisishub audit verify``
finds an entry changed or deleted with the triggers dropped."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django.utils import timezone

from crisishub import cli
from crisishub.audit import protection
from crisishub.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_entry_hash, verify_chain
from crisishub.audit.models import AuditEntry

TABLE = "audit_auditentry"


def write_entries(count: int, label: str = "test", **fields) -> list[AuditEntry]:
    return [
        AuditEntry.objects.create(
            occurred_at=timezone.now(), actor_label=label, action="view",
            object_type="core.contact", object_id=str(number), **fields,
        )
        for number in range(count)
    ]


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_rejected(sql: str, params=()) -> str:
    """Run ``sql``, which must fail, in a savepoint; return the error text."""
    with pytest.raises(DatabaseError) as error, transaction.atomic():
        raw(sql, params)
    return str(error.value)


def stored_message(entry_id: int) -> str:
    return AuditEntry.objects.values_list("message", flat=True).get(pk=entry_id)


@pytest.fixture
def unprotected(db):
    """Drop the triggers inside the test's transaction, which restores them."""
    removed = protection.remove(connection)
    assert removed == protection.trigger_names(connection)


# --- Database protection ------------------------------------------------------


@pytest.mark.django_db
def test_migration_installs_triggers():
    installed = protection.installed_triggers(connection)

    assert len(installed) == (3 if connection.vendor == "sqlite" else 2)
    assert installed == protection.trigger_names(connection)


@pytest.mark.django_db
def test_raw_update_rejected():
    entry = write_entries(2)[0]

    error = raw_rejected(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["edited", entry.pk])

    assert "append-only" in error
    assert stored_message(entry.pk) == ""


@pytest.mark.django_db
def test_raw_update_of_hash_rejected():
    entry = write_entries(1)[0]

    raw_rejected(
        f"UPDATE {TABLE} SET entry_hash = %s, prev_hash = %s WHERE id = %s",
        ["0" * 64, "1" * 64, entry.pk],
    )

    assert AuditEntry.objects.get(pk=entry.pk).entry_hash == entry.entry_hash


@pytest.mark.django_db
def test_raw_delete_rejected():
    entries = write_entries(3)

    error = raw_rejected(f"DELETE FROM {TABLE} WHERE id = %s", [entries[1].pk])
    raw_rejected(f"DELETE FROM {TABLE}")

    assert "cannot be deleted" in error
    assert AuditEntry.objects.count() == 3


REPLACE_COLUMNS = (
    "occurred_at, actor_label, action, object_type, object_id, object_repr, "
    "changes, message, request_path, prev_hash, entry_hash"
)
TAMPERED_COLUMNS = REPLACE_COLUMNS.replace("message", "'tampered'")


@pytest.mark.django_db
def test_insert_or_replace_rejected():
    """REPLACE deletes the colliding row without firing DELETE triggers."""
    if connection.vendor != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite syntax")
    first, second = write_entries(2)

    by_id = raw_rejected(
        f"INSERT OR REPLACE INTO {TABLE} (id, {REPLACE_COLUMNS}) "
        f"SELECT id, {TAMPERED_COLUMNS} FROM {TABLE} WHERE id = %s",
        [first.pk],
    )
    by_link = raw_rejected(
        f"INSERT OR REPLACE INTO {TABLE} ({REPLACE_COLUMNS}) "
        f"SELECT {TAMPERED_COLUMNS} FROM {TABLE} WHERE id = %s",
        [second.pk],
    )

    assert "cannot be replaced" in by_id
    assert "cannot be replaced" in by_link
    assert stored_message(first.pk) == ""
    assert stored_message(second.pk) == ""
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db
def test_raw_delete_of_backdated_entry_rejected():
    """A recent entry cannot be made deletable by backdating it."""
    entry = write_entries(1)[0]
    old = timezone.now() - dt.timedelta(days=7 * 365)

    raw_rejected(f"UPDATE {TABLE} SET occurred_at = %s WHERE id = %s", [old, entry.pk])
    raw_rejected(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_delete_after_retention_allowed():
    seven_years_ago = timezone.now() - dt.timedelta(days=7 * 365)
    old = AuditEntry.objects.create(
        occurred_at=seven_years_ago, actor_label="test", action="view",
        object_type="core.contact", object_id="1",
    )
    recent = write_entries(1)[0]

    raw(f"DELETE FROM {TABLE} WHERE id = %s", [old.pk])

    assert not AuditEntry.objects.filter(pk=old.pk).exists()
    assert AuditEntry.objects.filter(pk=recent.pk).exists()


@pytest.mark.django_db
def test_raw_truncate_rejected_on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is tested above")
    write_entries(2)
    # Run the deferred foreign key checks of the inserts, which would make
    # TRUNCATE fail for another reason.
    raw("SET CONSTRAINTS ALL IMMEDIATE")

    error = raw_rejected(f"TRUNCATE {TABLE}")

    assert "cannot be truncated" in error
    assert AuditEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_flush_empties_trail_keeps_triggers():
    write_entries(3)

    call_command("flush", interactive=False, inhibit_post_migrate=True, reset_sequences=False, verbosity=0)

    assert AuditEntry.objects.count() == 0
    assert protection.installed_triggers(connection) == protection.trigger_names(connection)
    write_entries(1)
    raw_rejected(f"DELETE FROM {TABLE}")


@pytest.mark.django_db
def test_migrate_reinstalls_dropped_triggers(unprotected):
    assert protection.installed_triggers(connection) == []

    protection.reinstall_after_migrate(using=connection.alias)

    assert protection.installed_triggers(connection) == protection.trigger_names(connection)


@pytest.mark.django_db
def test_actor_with_entries_cannot_be_deleted():
    user = get_user_model().objects.create_user("audited-actor", password="x" * 16)
    write_entries(1, actor=user)

    with pytest.raises(ProtectedError):
        user.delete()

    assert AuditEntry.objects.filter(actor=user).count() == 1


# --- Hash chain -----------------------------------------------------------------


@pytest.mark.django_db
def test_entries_link_in_id_order():
    entries = write_entries(4)

    stored = list(AuditEntry.objects.order_by("id"))

    assert stored[0].prev_hash == GENESIS_HASH
    for previous, entry in zip(stored, stored[1:]):
        assert entry.prev_hash == previous.entry_hash
    assert [entry.entry_hash for entry in stored] == [entry.entry_hash for entry in entries]


@pytest.mark.django_db
def test_stored_row_hashes_as_written():
    """Values the database rewrites (jsonb numbers, key order, time zones)
    hash the same when read back."""
    local_time = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=-8)))
    changes = {
        "z": [1e16, 1e-07, -0.0, 2.5, 10**20, True, None],
        "a": {"b": "é ünïcode \u2028", "a": [1, {"y": 1.0, "x": "quote \" and \\"}]},
        "3": "numeric key",
    }
    entry = AuditEntry.objects.create(
        occurred_at=local_time, actor_label="test", action="change", object_type="core.contact",
        object_id="1", object_repr="Contact 1 ", changes=changes, message="line\nbreak",
    )

    row = AuditEntry.objects.values("prev_hash", *HASHED_FIELDS).get(pk=entry.pk)

    assert compute_entry_hash(row) == entry.entry_hash
    assert verify_chain().intact


@pytest.mark.django_db
def test_bulk_create_chains_each_entry():
    entries = [
        AuditEntry(
            occurred_at=timezone.now(), actor_label="bulk", action="view",
            object_type="core.contact", object_id=str(n),
        )
        for n in range(3)
    ]

    AuditEntry.objects.bulk_create(entries)

    assert all(entry.pk for entry in entries)
    assert verify_chain().entry_count == 3
    assert verify_chain().intact


@pytest.mark.django_db
def test_bulk_create_continues_chain_in_batches():
    """A bulk insert after single saves links on, in list order, across batches."""
    first = AuditEntry.objects.create(
        occurred_at=timezone.now(), actor_label="single", action="view",
        object_type="core.contact", object_id="0",
    )
    entries = [
        AuditEntry(
            occurred_at=timezone.now(), actor_label="bulk", action="create",
            object_type="core.incident", object_id=str(n), changes={"n": [None, n]},
        )
        for n in range(250)
    ]

    AuditEntry.objects.bulk_create(entries, batch_size=100)

    ids = [entry.pk for entry in entries]
    assert ids == sorted(ids)
    assert ids[0] > first.pk
    assert entries[0].prev_hash == first.entry_hash
    assert verify_chain().entry_count == 251
    assert verify_chain().intact


@pytest.mark.django_db
def test_bulk_create_rejects_saved_entry():
    entry = AuditEntry.objects.create(
        occurred_at=timezone.now(), actor_label="single", action="view",
        object_type="core.contact", object_id="0",
    )
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.bulk_create([entry])
    assert verify_chain().entry_count == 1


@pytest.mark.django_db
def test_backfill_reproduces_written_hashes(unprotected):
    """The data migration chains entries written before the hash chain
    existed exactly as the model chains new ones."""
    entries = write_entries(4)
    for entry in entries:
        raw(
            f"UPDATE {TABLE} SET entry_hash = '', prev_hash = %s WHERE id = %s",
            [f"before-chain-{entry.pk}", entry.pk],
        )
    assert not verify_chain().intact
    state = MigrationExecutor(connection).loader.project_state(("audit", "0003_backfill_hash_chain"))
    migration = importlib.import_module("crisishub.audit.migrations.0003_backfill_hash_chain")

    migration.chain_existing_entries(state.apps, types.SimpleNamespace(connection=connection))

    stored = list(AuditEntry.objects.order_by("id").values_list("entry_hash", flat=True))
    assert stored == [entry.entry_hash for entry in entries]
    assert verify_chain().intact


# --- Verify ---------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_intact_chain(capsys):
    entries = write_entries(5)

    code = cli.main(["audit", "verify"])
    code_with_expected = cli.main(["audit", "verify", "--expect-hash", entries[2].entry_hash])

    output = capsys.readouterr().out
    assert code == 0
    assert code_with_expected == 0
    assert f"5 entries, ids {entries[0].pk} to {entries[-1].pk}" in output
    assert f"Last hash: {entries[-1].entry_hash}" in output


@pytest.mark.django_db
def test_verify_empty_trail(capsys):
    code = cli.main(["audit", "verify"])

    assert code == 0
    assert "no entries" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_finds_raw_edit(unprotected, capsys):
    entries = write_entries(5)
    edited = entries[2]

    raw(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["edited", edited.pk])

    report = verify_chain()
    assert report.problem.kind == "changed"
    assert report.problem.entry_id == edited.pk
    assert cli.main(["audit", "verify"]) == 1
    assert f"Entry {edited.pk} was changed" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_finds_raw_delete(unprotected, capsys):
    entries = write_entries(5)
    deleted = entries[2]

    raw(f"DELETE FROM {TABLE} WHERE id = %s", [deleted.pk])

    report = verify_chain()
    assert report.problem.kind == "missing"
    assert report.problem.entry_id == deleted.pk
    assert cli.main(["audit", "verify"]) == 1
    assert f"Entry {deleted.pk} is missing: entry {entries[3].pk} does not link to entry {entries[1].pk}" in (
        capsys.readouterr().out
    )


@pytest.mark.django_db
def test_verify_finds_deleted_first_entries(unprotected):
    entries = write_entries(3)

    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[0].pk])

    problem = verify_chain().problem
    assert problem.kind == "missing"
    assert problem.entry_id == entries[1].pk
    assert f"before entry {entries[1].pk}" in problem.message


@pytest.mark.django_db
def test_verify_finds_rehashed_edit(unprotected):
    """An edit with a recomputed hash breaks the next entry's link."""
    entries = write_entries(4)
    edited = AuditEntry.objects.values("id", "prev_hash", *HASHED_FIELDS).get(pk=entries[1].pk)
    edited["message"] = "edited"
    new_hash = compute_entry_hash(edited)

    raw(f"UPDATE {TABLE} SET message = %s, entry_hash = %s WHERE id = %s", ["edited", new_hash, entries[1].pk])

    problem = verify_chain().problem
    assert problem.kind == "unlinked"
    assert problem.entry_id == entries[2].pk


@pytest.mark.django_db
def test_verify_reports_missing_triggers(unprotected, capsys):
    write_entries(2)

    code = cli.main(["audit", "verify"])

    assert code == 3
    assert "Database protection missing" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_deleted_newest_changes_last_hash(unprotected, capsys):
    """Deleting the newest entries leaves a valid chain, so only a copy of
    the last hash kept elsewhere shows it."""
    entries = write_entries(3)
    recorded_hash = verify_chain().last_hash

    raw(f"DELETE FROM {TABLE} WHERE id = %s", [entries[-1].pk])

    report = verify_chain()
    assert report.intact
    assert report.last_hash != recorded_hash
    assert cli.main(["audit", "verify", "--expect-hash", report.last_hash]) == 3
    assert cli.main(["audit", "verify", "--expect-hash", recorded_hash]) == 1
    assert f"no entry has the expected hash {recorded_hash}" in capsys.readouterr().out


def test_verify_usage_errors(capsys):
    from crisishub.audit.cli import main

    assert main([], setup=lambda: None) == 2
    assert main(["verify", "--database", "missing"], setup=lambda: None) == 2
    assert "unknown database alias 'missing'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--expect-hash", "abc"], setup=lambda: None)
    assert exit_info.value.code == 2
    assert "invalid hash 'abc'" in capsys.readouterr().err


def test_verify_missing_data_folder(tmp_path):
    """Run outside the hub's folder: one clear line, and no empty var/ left."""
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "CRISISHUB_DATA_DIR")}
    command = [str(Path(sys.executable).with_name("crisishub")), "audit", "verify"]

    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "data folder" in result.stderr
    assert "CRISISHUB_DATA_DIR" in result.stderr
    assert not (tmp_path / "var").exists()


# --- Concurrent writers ---------------------------------------------------------

WRITER_THREADS = 4
ENTRIES_PER_THREAD = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    """Threads on separate connections append at once; the chain must not fork."""
    start = threading.Barrier(WRITER_THREADS)
    errors: list[BaseException] = []

    def append(label: str) -> None:
        try:
            start.wait(timeout=10)
            for number in range(ENTRIES_PER_THREAD):
                # Each entry in its own transaction, so writers interleave.
                write_entries(1, label=label, message=f"{label} entry {number}")
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(f"writer-{n}",)) for n in range(WRITER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    report = verify_chain()
    assert report.problem is None
    assert report.entry_count == WRITER_THREADS * ENTRIES_PER_THREAD
    labels = set(AuditEntry.objects.values_list("actor_label", flat=True))
    assert labels == {f"writer-{n}" for n in range(WRITER_THREADS)}
    prev_hashes = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes)


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_keep_one_chain():
    """Writers that append several entries per transaction interleave whole
    transactions, and a rolled-back transaction leaves no link behind."""
    start = threading.Barrier(WRITER_THREADS)
    errors: list[BaseException] = []

    def append(label: str, roll_back: bool) -> None:
        try:
            start.wait(timeout=10)
            for number in range(3):
                try:
                    with transaction.atomic():
                        write_entries(3, label=label, message=f"batch {number}")
                        if roll_back and number == 1:
                            raise RuntimeError("roll back")
                except RuntimeError:
                    pass
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=append, args=(f"writer-{n}", n == 0)) for n in range(WRITER_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    report = verify_chain()
    assert report.problem is None
    assert report.entry_count == WRITER_THREADS * 9 - 3
