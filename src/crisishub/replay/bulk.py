"""Rows and audit entries kept in memory and written in bulk.

A replay creates tens of rows and audit entries per event. Saving each one
costs a query, plus the audit trail's read of the stored row before every
change, so :class:`BulkWriter` keeps them in memory and writes them in
bulk: new rows with one ``executemany`` per table, changed rows with
``bulk_update`` and audit entries with ``AuditEntry.objects.bulk_create``.
It records the audit entry that the audit trail's save signals would
record for each insert and each update, with the same fields and changes,
because none of these send signals.

Ids are assigned in memory, in the order the per-call services would get
them from the database, so incident numbers and foreign keys are known
before anything is written. That is safe only while no other connection
inserts into the same tables: use the writer inside one transaction, which
holds SQLite's write lock, and on PostgreSQL call :meth:`BulkWriter.start`,
which locks the tables it writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from django.db import connections, models
from django.utils import timezone

from crisishub.audit.context import current_actor
from crisishub.audit.models import AuditEntry
from crisishub.audit.registry import AuditPolicy, policy_for
# NOTE: these helpers are private to the audit signals. The replay's
# equivalence test (tests/test_replay_bulk.py) fails if the entries written
# here stop matching the ones the signals write.
from crisishub.audit.signals import REDACTED, _changes, _field_values, _jsonable

# Rows written between flushes; bounds the memory a long replay holds.
FLUSH_ROWS = 20_000
BATCH_SIZE = 500


def _as_stored(value: Any) -> Any:
    """Return ``value`` as the database returns it: times in UTC."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc)
    return value


class BulkWriter:
    """Collects inserts, updates and their audit entries; see the module doc."""

    def __init__(
        self,
        models_with_ids: Iterable[type[models.Model]],
        updated_models: Iterable[type[models.Model]],
        using: str = "default",
    ):
        """``models_with_ids`` are the models :meth:`insert` takes, and
        ``updated_models`` those :meth:`update` takes."""
        self.using = using
        self._id_models = list(models_with_ids)
        self._updated_models = frozenset(updated_models)
        self._datetime_fields: dict[type[models.Model], list[tuple[str, str]]] = {}
        self._next_id: dict[type[models.Model], int] = {}
        self._first_id: dict[type[models.Model], int] = {}
        self._new: dict[type[models.Model], list[models.Model]] = {}
        self._pending: set[int] = set()
        self._dirty: dict[type[models.Model], dict[int, models.Model]] = {}
        self._dirty_fields: dict[type[models.Model], set[str]] = {}
        # Audited rows' stored field values, as the audit signal reads them
        # from the database before a save.
        self._stored: dict[tuple[type[models.Model], int], dict[str, Any]] = {}
        self._audit: list[AuditEntry] = []
        self._rows = 0

    # -- ids ----------------------------------------------------------------

    def start(self) -> None:
        """Lock the tables (PostgreSQL) and read where each id sequence is.

        Call inside the transaction that the whole replay runs in.
        """
        connection = connections[self.using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in self._id_models)
                # Blocks other writers, not readers, until the replay commits.
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
            for model in self._id_models:
                self._next_id[model] = self._read_next_id(cursor, connection, model)
        self._first_id = dict(self._next_id)

    @staticmethod
    def _read_next_id(cursor, connection, model: type[models.Model]) -> int:
        table = model._meta.db_table
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT MAX(id) FROM {quoted}")
        highest = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            # AUTOINCREMENT never reuses the id of a deleted row.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            return max(highest, row[0] if row else 0) + 1
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last, called = cursor.fetchone()
            return max(highest + 1, last + 1 if called else last)
        raise NotImplementedError(f"Bulk replay writes need SQLite or PostgreSQL, not {connection.vendor}.")

    def finish(self) -> None:
        """Write what is left and move PostgreSQL's sequences past the ids used."""
        self.flush()
        connection = connections[self.using]
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model, next_id in self._next_id.items():
                if next_id == self._first_id[model]:
                    continue
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
                sequence = cursor.fetchone()[0]
                cursor.execute(
                    "SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM " + sequence + ")))",
                    [sequence, next_id - 1],
                )

    # -- rows -----------------------------------------------------------------

    def insert(self, instance: models.Model) -> models.Model:
        """Give ``instance`` its id and queue it, with its audit entry."""
        model = type(instance)
        instance.pk = self._next_id[model]
        self._next_id[model] += 1
        self._new.setdefault(model, []).append(instance)
        self._pending.add(id(instance))
        self._rows += 1
        policy = policy_for(model)
        if policy is not None:
            values = _field_values(instance, policy)
            changes = {
                name: [None, REDACTED if name in policy.redact else value]
                for name, value in values.items()
                if value not in (None, "", [], {})
            }
            self._write_entry(AuditEntry.Action.CREATE, instance, changes)
            if model in self._updated_models:
                # The stored values differ from the instance's only in times.
                stored = dict(values)
                for name, attname in self._datetime_fields_of(model):
                    if name in stored:
                        stored[name] = _jsonable(_as_stored(getattr(instance, attname)))
                self._stored[(model, instance.pk)] = stored
        if self._rows >= FLUSH_ROWS:
            self.flush()
        return instance

    def track(self, instance: models.Model) -> None:
        """Start following a row that is already in the database (a team)."""
        policy = policy_for(type(instance))
        if policy is not None:
            self._stored[(type(instance), instance.pk)] = self._stored_values(instance, policy)

    def read(self, instance: models.Model) -> models.Model:
        """Make ``instance`` look freshly read from the database, as the
        services' row locks return it: its times in UTC."""
        for _, attname in self._datetime_fields_of(type(instance)):
            setattr(instance, attname, _as_stored(getattr(instance, attname)))
        return instance

    def _datetime_fields_of(self, model: type[models.Model]) -> list[tuple[str, str]]:
        """Return the name and attribute name of each of the model's time fields."""
        fields = self._datetime_fields.get(model)
        if fields is None:
            fields = [
                (f.name, f.attname) for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField)
            ]
            self._datetime_fields[model] = fields
        return fields

    def update(self, instance: models.Model, fields: list[str]) -> None:
        """Record ``instance.save(update_fields=fields)``, with its audit entry."""
        model = type(instance)
        policy = policy_for(model)
        if policy is not None:
            key = (model, instance.pk)
            before = self._stored[key]
            changes = _changes(before, _field_values(instance, policy), policy)
            if changes:
                self._write_entry(AuditEntry.Action.CHANGE, instance, changes)
            # Only the saved fields reach the database.
            for name in fields:
                if name in before:
                    before[name] = _jsonable(_as_stored(getattr(instance, model._meta.get_field(name).attname)))
        if id(instance) not in self._pending:
            self._dirty.setdefault(model, {})[instance.pk] = instance
            self._dirty_fields.setdefault(model, set()).update(fields)
            self._rows += 1

    def forget(self, instance: models.Model) -> None:
        """Drop the stored values of a row that will not change again."""
        self._stored.pop((type(instance), instance.pk), None)

    @staticmethod
    def _stored_values(instance: models.Model, policy: AuditPolicy) -> dict[str, Any]:
        values = {}
        for model_field in instance._meta.concrete_fields:
            if model_field.name in policy.exclude:
                continue
            values[model_field.name] = _jsonable(_as_stored(getattr(instance, model_field.attname)))
        return values

    def _write_entry(self, action: str, instance: models.Model, changes: dict) -> None:
        # The same fields as crisishub.audit.signals.write_entry.
        actor = current_actor()
        self._audit.append(AuditEntry(
            occurred_at=timezone.now(),
            actor=actor.user,
            actor_label=actor.label[:150],
            action=action,
            object_type=instance._meta.label_lower,
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            changes=changes or {},
            message="",
            request_path=actor.request_path,
        ))
        self._rows += 1

    # -- writing --------------------------------------------------------------

    def flush(self) -> None:
        """Write every queued update, insert and audit entry."""
        # Updates first: a new active assignment may only be inserted once
        # its team's previous one is stored as ended.
        for model, rows in self._dirty.items():
            model._base_manager.using(self.using).bulk_update(
                list(rows.values()), sorted(self._dirty_fields[model]), batch_size=BATCH_SIZE,
            )
        for model, instances in self._new.items():
            self._insert_rows(model, instances)
        if self._audit:
            AuditEntry.objects.using(self.using).bulk_create(self._audit, batch_size=BATCH_SIZE)
        self._new = {}
        self._pending = set()
        self._dirty = {}
        self._dirty_fields = {}
        self._audit = []
        self._rows = 0

    def _insert_rows(self, model: type[models.Model], instances: list[models.Model]) -> None:
        """INSERT the rows, ids included, with one ``executemany``.

        ``bulk_create`` does the same but compiles SQL for every value, which
        took most of the write time in a profile of a 2,000-event replay.
        The values are converted by the same ``get_db_prep_save`` that
        ``bulk_create`` calls.
        """
        connection = connections[self.using]
        fields = model._meta.concrete_fields
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
        rows = [
            [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
            for instance in instances
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH_SIZE):
                cursor.executemany(sql, rows[start:start + BATCH_SIZE])
        for instance in instances:
            instance._state.adding = False
            instance._state.db = self.using
