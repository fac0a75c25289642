"""The append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    """Reject bulk update and delete, which bypass ``save`` and ``delete``."""

    def update(self, **kwargs):
        raise PermissionError("Audit entries are append-only and cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries are append-only and cannot be deleted.")


class AuditEntry(models.Model):
    """One create, change, delete, view or denied access, never edited.

    The ORM and the admin reject edits and deletes. NOTE: raw SQL can still
    change the table; a database role without UPDATE and DELETE rights on
    it closes that gap in production.
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        CHANGE = "change", "Change"
        DELETE = "delete", "Delete"
        VIEW = "view", "View"
        DENIED = "denied", "Access denied"

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
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

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id", "id"])]

    def __str__(self) -> str:
        who = self.actor_label or (self.actor_id and f"user {self.actor_id}") or "system"
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are append-only and cannot be deleted.")
