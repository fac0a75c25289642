"""Signal handlers that write the audit trail for registered models.

The snapshot taken before a save lets the entry list exactly which fields
changed, with old and new values (redacted where the policy says so).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from crisishub.audit.context import current_actor
from crisishub.audit.models import AuditEntry
from crisishub.audit.registry import AuditPolicy, policy_for

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"


def _field_values(instance: models.Model, policy: AuditPolicy) -> dict[str, Any]:
    values = {}
    for model_field in instance._meta.concrete_fields:
        name = model_field.attname
        if model_field.name in policy.exclude:
            continue
        values[model_field.name] = _jsonable(getattr(instance, name))
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


def _changes(before: dict, after: dict, policy: AuditPolicy) -> dict[str, list]:
    changed = {}
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if name in policy.redact:
            changed[name] = [REDACTED, REDACTED]
        else:
            changed[name] = [old, new]
    return changed


def write_entry(
    action: str,
    instance: models.Model,
    changes: dict | None = None,
    message: str = "",
) -> AuditEntry:
    from django.utils import timezone

    actor = current_actor()
    return AuditEntry.objects.create(
        occurred_at=timezone.now(),
        actor=actor.user,
        actor_label=actor.label[:150],
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes or {},
        message=message[:300],
        request_path=actor.request_path,
    )


@receiver(pre_save)
def snapshot_before_save(sender, instance, raw=False, **kwargs):
    policy = policy_for(sender)
    if policy is None or raw:
        return
    instance._audit_before = {}
    if instance.pk is not None and not instance._state.adding:
        previous = sender._base_manager.filter(pk=instance.pk).first()
        if previous is not None:
            instance._audit_before = _field_values(previous, policy)


@receiver(post_save)
def audit_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    policy = policy_for(sender)
    if policy is None or raw:
        return
    after = _field_values(instance, policy)
    before = getattr(instance, "_audit_before", {})
    if created:
        changes = {
            name: [None, REDACTED if name in policy.redact else value]
            for name, value in after.items()
            if value not in (None, "", [], {})
        }
        write_entry(AuditEntry.Action.CREATE, instance, changes)
        return
    changes = _changes(before, after, policy)
    if changes:
        write_entry(AuditEntry.Action.CHANGE, instance, changes)


@receiver(post_delete)
def audit_delete(sender, instance, **kwargs):
    policy = policy_for(sender)
    if policy is None:
        return
    write_entry(AuditEntry.Action.DELETE, instance, {}, message="deleted")


@receiver(m2m_changed)
def audit_many_to_many(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record added and removed links, such as a user's role groups."""
    if reverse or action not in ("post_add", "post_remove", "post_clear"):
        return
    policy = policy_for(type(instance))
    if policy is None:
        return
    field_name = next(
        (f.name for f in instance._meta.many_to_many if f.remote_field.through is sender),
        None,
    )
    if field_name is None or field_name in policy.exclude:
        return
    change = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    names = sorted(str(obj) for obj in model._base_manager.filter(pk__in=pk_set or []))
    write_entry(AuditEntry.Action.CHANGE, instance, {field_name: {change: names}})


def record_view(instance: models.Model, fields: list[str] | None = None, message: str = "") -> AuditEntry:
    """Record that the current actor viewed ``instance`` (a person's record)."""
    return write_entry(AuditEntry.Action.VIEW, instance, {"fields": fields or []}, message)


def record_denied(object_type: str, object_id: str, message: str) -> AuditEntry:
    from django.utils import timezone

    actor = current_actor()
    actor.denials.append(f"{object_type}:{object_id}")
    logger.warning(
        "Access denied to %s:%s for %s: %s",
        object_type, object_id, actor.user or actor.label, message,
    )
    return AuditEntry.objects.create(
        occurred_at=timezone.now(),
        actor=actor.user,
        actor_label=actor.label[:150],
        action=AuditEntry.Action.DENIED,
        object_type=object_type,
        object_id=str(object_id),
        message=message[:300],
        request_path=actor.request_path,
    )
