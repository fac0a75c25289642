"""Models whose every create, change and delete is audited.

Register a model with :func:`audited`; fields listed in ``redact`` are
recorded as changed without their values (phone numbers, notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


@dataclass(frozen=True)
class AuditPolicy:
    redact: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)


_policies: dict[type[models.Model], AuditPolicy] = {}


def audited(redact: tuple[str, ...] = (), exclude: tuple[str, ...] = ()):
    """Class decorator that puts a model under the audit trail."""

    def register(model: type[models.Model]) -> type[models.Model]:
        _policies[model] = AuditPolicy(frozenset(redact), frozenset(exclude))
        return model

    return register


def policy_for(model: type[models.Model]) -> AuditPolicy | None:
    return _policies.get(model)


def registered_models() -> list[type[models.Model]]:
    return list(_policies)
