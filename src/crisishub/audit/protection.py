"""Database triggers that reject changes to audit entries, even by raw SQL.

On SQLite and PostgreSQL the triggers reject every UPDATE of an entry. They
also reject a DELETE of an entry younger than six years, the retention
period the program keeps audit records for under HIPAA, so older entries
may be purged. On SQLite a third trigger rejects INSERT OR REPLACE over an
existing entry, and on PostgreSQL one rejects TRUNCATE, which skips row
triggers.

Django's ``flush`` empties every table, which the test suite does after
each transactional test (DELETE on SQLite, TRUNCATE on PostgreSQL). The
audit app's ``flush`` command therefore removes the triggers, empties the
tables and installs the triggers again in one transaction, so no other
connection ever sees the table unprotected. Dropping the test database
fires no trigger.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditentry"
RETENTION_YEARS = 6

_SQLITE_TRIGGERS = {
    "audit_entry_reject_update": f"""
        CREATE TRIGGER IF NOT EXISTS audit_entry_reject_update
        BEFORE UPDATE ON {TABLE}
        BEGIN
            SELECT RAISE(ABORT, 'audit entries are append-only and cannot be changed');
        END
    """,
    # INSERT OR REPLACE deletes the row it collides with, and SQLite fires
    # no DELETE trigger for that unless recursive triggers are on. So an
    # insert that collides with an entry's id or prev_hash is rejected
    # before SQLite resolves the conflict.
    "audit_entry_reject_replace": f"""
        CREATE TRIGGER IF NOT EXISTS audit_entry_reject_replace
        BEFORE INSERT ON {TABLE}
        WHEN EXISTS (
            SELECT 1 FROM {TABLE} WHERE id = NEW.id OR prev_hash = NEW.prev_hash
        )
        BEGIN
            SELECT RAISE(ABORT, 'audit entries cannot be replaced');
        END
    """,
    # Django stores times as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, which
    # compares as text with SQLite's datetime().
    "audit_entry_reject_delete": f"""
        CREATE TRIGGER IF NOT EXISTS audit_entry_reject_delete
        BEFORE DELETE ON {TABLE}
        WHEN OLD.occurred_at >= datetime('now', '-{RETENTION_YEARS} years')
        BEGIN
            SELECT RAISE(
                ABORT,
                'audit entries younger than {RETENTION_YEARS} years cannot be deleted'
            );
        END
    """,
}

_POSTGRES_FUNCTION = f"""
    CREATE OR REPLACE FUNCTION audit_entry_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'audit entry % is append-only and cannot be changed', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        ELSIF TG_OP = 'DELETE' THEN
            IF OLD.occurred_at >= now() - interval '{RETENTION_YEARS} years' THEN
                RAISE EXCEPTION
                    'audit entry % is younger than {RETENTION_YEARS} years and cannot be deleted',
                    OLD.id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit entries cannot be truncated'
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
"""

_POSTGRES_TRIGGERS = {
    "audit_entry_reject_change": f"""
        CREATE TRIGGER audit_entry_reject_change
        BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_entry_reject_change()
    """,
    "audit_entry_reject_truncate": f"""
        CREATE TRIGGER audit_entry_reject_truncate
        BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_reject_change()
    """,
}


def trigger_names(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the names of the triggers this database vendor should have."""
    if connection.vendor == "sqlite":
        return list(_SQLITE_TRIGGERS)
    if connection.vendor == "postgresql":
        return list(_POSTGRES_TRIGGERS)
    return []


def installed_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the protection triggers present on the audit table."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal",
                [TABLE],
            )
        else:
            return []
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in trigger_names(connection) if name in present]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the protection triggers; existing ones are left in place."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in _SQLITE_TRIGGERS.values():
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute(_POSTGRES_FUNCTION)
            present = set(installed_triggers(connection))
            for name, statement in _POSTGRES_TRIGGERS.items():
                if name not in present:
                    cursor.execute(statement)
        # NOTE: other databases get no triggers; only the ORM guards and
        # the hash chain protect the trail there.


def remove(connection: BaseDatabaseWrapper) -> list[str]:
    """Drop the protection triggers and return the names that were installed."""
    present = installed_triggers(connection)
    with connection.cursor() as cursor:
        for name in present:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER {name} ON {TABLE}")
            else:
                cursor.execute(f"DROP TRIGGER {name}")
    return present


def reinstall_after_migrate(using: str = "default", **kwargs) -> None:
    """Install missing triggers once the protection migration has run.

    A ``post_migrate`` receiver: on SQLite, a later migration that alters
    the audit table rebuilds it, which drops its triggers.
    """
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    applied = recorder.applied_migrations()
    if ("audit", "0004_database_protection") not in applied:
        return
    if len(installed_triggers(connection)) < len(trigger_names(connection)):
        install(connection)
