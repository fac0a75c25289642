"""The hash chain that makes the audit trail tamper-evident.

Each entry stores ``prev_hash``, the ``entry_hash`` of the entry written
before it, and ``entry_hash``, a SHA-256 over its own canonical content
plus ``prev_hash``. Changing, inserting or deleting an entry in the middle
of the trail breaks the chain at that entry, and :func:`verify_chain`
finds the first break.

Appends are serialized so that two writers never link to the same entry:
on PostgreSQL by a transaction-level advisory lock, on SQLite by the
database write lock. The lock is held until the writer's transaction
commits, because the next writer must see this entry to link to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping

from django.db import connections
from django.utils import timezone

# ``prev_hash`` of the first entry of a trail.
GENESIS_HASH = "0" * 64

# Fields covered by ``entry_hash``, besides ``prev_hash``. The id is not
# covered: it is assigned by the database at insert, after the hash.
HASHED_FIELDS = (
    "occurred_at", "actor_id", "actor_label", "action", "object_type",
    "object_id", "object_repr", "changes", "message", "request_path",
)

# Key of the PostgreSQL advisory lock that serializes appends: the ASCII
# bytes of "audchain" read as a signed 64-bit integer.
POSTGRES_LOCK_KEY = int.from_bytes(b"audchain", "big", signed=True)


def canonical_content(values: Mapping[str, Any]) -> bytes:
    """Encode the hashed fields and ``prev_hash`` as one canonical byte string.

    ``values`` maps field names to values as the ORM returns them, so an
    entry hashes the same before it is saved and after it is read back from
    SQLite or PostgreSQL.
    """
    content = {name: values[name] for name in HASHED_FIELDS}
    content["occurred_at"] = _utc_timestamp(values["occurred_at"])
    content["prev_hash"] = values["prev_hash"]
    return _encode(content).encode("ascii")


def compute_entry_hash(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_content(values)).hexdigest()


def _utc_timestamp(value: dt.datetime) -> str:
    if timezone.is_naive(value):
        # Django stores a naive time as if in the default time zone.
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


# The function json.dumps(text, ensure_ascii=True) ends in, called directly:
# the same output without building an encoder per string.
_encode_string = json.encoder.encode_basestring_ascii


def _encode(value: Any) -> str:
    """Encode JSON with sorted keys and one spelling per number.

    PostgreSQL's jsonb rewrites numbers (``1e+16`` comes back as the integer
    ``10000000000000000``), so numbers are written as normalized decimals.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_string(value)
    if isinstance(value, (int, float)):
        return _encode_number(value)
    if type(value) is dict or isinstance(value, Mapping):
        items = sorted((str(key), item) for key, item in value.items())
        members = [f"{_encode(key)}:{_encode(item)}" for key, item in items]
        return "{" + ",".join(members) + "}"
    if type(value) in (list, tuple) or isinstance(value, Iterable):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"cannot hash a value of type {type(value).__name__}: {value!r}")


def _encode_number(number: int | float) -> str:
    if isinstance(number, float) and not math.isfinite(number):
        return json.dumps(str(number))
    if number == 0:
        return "0"
    return str(Decimal(repr(number)).normalize())


def lock_chain(using: str) -> None:
    """Hold the append lock until the current transaction ends.

    Call inside ``transaction.atomic``. On SQLite, an empty write takes the
    database write lock if the transaction does not hold it yet, so no other
    connection can commit an entry between reading the last hash and
    inserting the new entry.

    NOTE: on PostgreSQL, a transaction that writes an entry and then waits
    for a row lock held by another writer waiting here deadlocks, and
    PostgreSQL aborts one of the two.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [POSTGRES_LOCK_KEY])
        elif connection.vendor == "sqlite":
            cursor.execute("UPDATE audit_auditentry SET id = id WHERE 0")
        # NOTE: other databases get no lock, so concurrent writers there can
        # fork the chain; the unique constraint on prev_hash then rejects
        # the second writer's entry.


@dataclass(frozen=True)
class ChainProblem:
    """The first break found in the chain."""

    # "changed", "missing" or "unlinked".
    kind: str
    # The changed entry, the first missing id, or the entry whose link fails.
    entry_id: int
    message: str


@dataclass(frozen=True)
class ChainReport:
    entry_count: int
    first_id: int | None
    last_id: int | None
    last_hash: str
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(using: str = "default") -> ChainReport:
    """Walk every entry in id order and return the first break, if any.

    On PostgreSQL, a transaction that rolls back still uses up its id. So a
    skipped id is reported missing only when the entries on either side of
    it do not link.
    """
    from crisishub.audit.models import AuditEntry

    rows = (
        AuditEntry.objects.using(using)
        .order_by("id")
        .values("id", "prev_hash", "entry_hash", *HASHED_FIELDS)
        .iterator(chunk_size=2000)
    )
    count = 0
    first_id = None
    previous = None
    for row in rows:
        count += 1
        problem = _check_entry(row, previous)
        if problem is not None:
            first_id = first_id or row["id"]
            return ChainReport(count, first_id, row["id"], row["entry_hash"], problem)
        if first_id is None:
            first_id = row["id"]
        previous = row
    last_id = previous["id"] if previous else None
    last_hash = previous["entry_hash"] if previous else GENESIS_HASH
    return ChainReport(count, first_id, last_id, last_hash, None)


def _check_entry(
    row: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> ChainProblem | None:
    entry_id = row["id"]
    if not row["entry_hash"]:
        return ChainProblem(
            "changed", entry_id,
            f"Entry {entry_id} has no hash: it was not written through the audit trail.",
        )
    if compute_entry_hash(row) != row["entry_hash"]:
        return ChainProblem(
            "changed", entry_id,
            f"Entry {entry_id} was changed after it was written: "
            "its content does not match its hash.",
        )
    if previous is None:
        if row["prev_hash"] == GENESIS_HASH:
            return None
        # TODO: a retention purge of entries older than six years must
        # record where the remaining chain starts, or this check fails.
        return ChainProblem(
            "missing", entry_id,
            f"Entries before entry {entry_id} are missing: "
            "it links to an earlier entry that is not stored.",
        )
    if row["prev_hash"] == previous["entry_hash"]:
        return None
    previous_id = previous["id"]
    if entry_id > previous_id + 1:
        if entry_id == previous_id + 2:
            missing = f"Entry {previous_id + 1} is missing"
        else:
            missing = f"Entries {previous_id + 1} to {entry_id - 1} are missing"
        return ChainProblem(
            "missing", previous_id + 1,
            f"{missing}: entry {entry_id} does not link to entry {previous_id}.",
        )
    return ChainProblem(
        "unlinked", entry_id,
        f"Entry {entry_id} does not link to entry {previous_id}: entry {previous_id} "
        "was rewritten with a new hash, or entries between them were deleted.",
    )
