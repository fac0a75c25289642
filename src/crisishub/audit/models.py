"""The append-only audit trail."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models, router, transaction

from crisishub.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_entry_hash, lock_chain


def lock_and_read_last_hash(using: str) -> str | None:
    """Take the chain lock for this transaction and return the newest entry's hash."""
    lock_chain(using)
    last_entries = AuditEntry.objects.using(using).order_by("-id")
    return last_entries.values_list("entry_hash", flat=True).first()


class AppendOnlyQuerySet(models.QuerySet):
    """Reject bulk update and delete, which bypass ``save`` and ``delete``."""

    def update(self, **kwargs):
        raise PermissionError("Audit entries are append-only and cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries are append-only and cannot be deleted.")

    def bulk_create(self, objs, *args, **kwargs):
        """Link the entries to the chain in list order, then insert them.

        The chain lock is taken once for the whole list. The database gives
        the rows ids in list order, which is the order ``verify`` walks.
        """
        objs = list(objs)
        if any(entry.pk is not None for entry in objs):
            raise PermissionError("Audit entries are append-only and cannot be changed.")
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError("Audit entries are inserted whole; conflict options are not supported.")
        with transaction.atomic(using=self.db):
            last_hash = lock_and_read_last_hash(self.db)
            for entry in objs:
                entry.link_to(last_hash)
                last_hash = entry.entry_hash
            return super().bulk_create(objs, *args, **kwargs)


class AuditEntry(models.Model):
    """One create, change, delete, view or denied access, never edited.

    The ORM and the admin reject edits and deletes. On SQLite and PostgreSQL,
    database triggers (see ``protection``) also reject raw SQL that updates
    an entry or deletes one younger than six years. ``crisishub audit
    verify`` uses the hash chain (see ``chain``) to find an entry changed or
    deleted while the triggers were dropped.

    NOTE: a user who can drop triggers can still rewrite the trail together
    with its whole chain. On SQLite that is anyone who can write the file,
    and on PostgreSQL the table owner or a superuser. Production should
    connect as a role with only SELECT and INSERT on this table. It should
    also keep the last hash that ``verify`` prints outside the database,
    because the chain alone does not show deleted newest entries.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        CHANGE = "change", "Change"
        DELETE = "delete", "Delete"
        VIEW = "view", "View"
        DENIED = "denied", "Access denied"

    occurred_at = models.DateTimeField(db_index=True)
    # PROTECT, because setting the actor to NULL would change a hashed entry:
    # deactivate a staff account that has entries instead of deleting it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who acted when there is no user: an API partner, the replay, a job.
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    # Dotted model label such as "core.contact".
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # Changed field names mapped to [old, new]; views list the fields shown.
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=300, blank=True)
    request_path = models.CharField(max_length=300, blank=True)
    # SHA-256 hex digests: the entry written before this one (GENESIS_HASH
    # for the first), and this entry's content plus prev_hash.
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id", "id"])]
        constraints = [
            # Two entries linking to one predecessor would fork the chain.
            models.UniqueConstraint(
                fields=["prev_hash"], name="audit_entry_one_successor"
            ),
        ]

    def __str__(self) -> str:
        who = self.actor_label or (self.actor_id and f"user {self.actor_id}") or "system"
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, using=None, **kwargs):
        """Append the entry to the hash chain; raise PermissionError if it is saved."""
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only and cannot be changed.")
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            self.link_to(lock_and_read_last_hash(using))
            super().save(*args, using=using, **kwargs)

    def link_to(self, last_hash: str | None) -> None:
        """Set ``prev_hash`` and ``entry_hash`` for an entry that follows ``last_hash``."""
        # Store what the database will return, so the hash computed now
        # matches the one computed from the stored row.
        occurred_at_field = self._meta.get_field("occurred_at")
        self.occurred_at = occurred_at_field.to_python(self.occurred_at)
        self.changes = json.loads(json.dumps(self.changes))
        self.prev_hash = last_hash or GENESIS_HASH
        hashed_values = {name: getattr(self, name) for name in (*HASHED_FIELDS, "prev_hash")}
        self.entry_hash = compute_entry_hash(hashed_values)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are append-only and cannot be deleted.")
