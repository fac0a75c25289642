"""Typed errors raised by the hub's services.

Views and the API render these; each carries a stable machine ``code``, a
message for people, and for invalid input the field and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "fix": self.fix}


class DomainError(Exception):
    code = "error"
    http_status = 400

    def __init__(self, message: str, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class InvalidInput(DomainError):
    code = "invalid"
    http_status = 400

    @classmethod
    def for_field(cls, field: str, message: str, fix: str = "") -> "InvalidInput":
        return cls(message, [FieldError(field, message, fix)])


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    """The request is valid but the record's current state forbids it."""

    code = "conflict"
    http_status = 409


class SettingError(ValueError):
    """An environment variable holds a value the hub cannot use.

    Raised while the settings load, so it must not depend on Django.
    """
