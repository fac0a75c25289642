"""Who is acting right now, for the audit trail.

The middleware sets the actor for each web request; services, the API and
the replay set it with :func:`acting_as`. A context variable keeps it
correct across threads and asyncio tasks.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Any, Iterator


@dataclass(frozen=True)
class Actor:
    user: Any = None
    label: str = ""
    request_path: str = ""
    # Denials recorded while this actor acts, so a request's 403 is
    # recorded once.
    denials: list = field(default_factory=list, compare=False)


_current_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar(
    "crisishub_audit_actor", default=Actor(label="system")
)


def current_actor() -> Actor:
    return _current_actor.get()


@contextlib.contextmanager
def acting_as(user: Any = None, label: str = "", request_path: str = "") -> Iterator[Actor]:
    """Attribute every audited change inside the block to ``user`` or ``label``."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    actor = Actor(user=user, label=label, request_path=request_path)
    token = _current_actor.set(actor)
    try:
        yield actor
    finally:
        _current_actor.reset(token)
