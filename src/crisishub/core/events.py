"""Live updates for open consoles, sent only after the change commits.

A console that shows a team assignment must never show one that rolled
back, so every publish goes through ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

DISPATCH_GROUP = "dispatch"

_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn publishing off, for batch work with no console watching (replay)."""
    global _enabled
    _enabled = enabled


def team_group(team_id: int) -> str:
    return f"team-{team_id}"


def publish_on_commit(event_type: str, payload: dict[str, Any], groups: tuple[str, ...] = (DISPATCH_GROUP,)) -> None:
    """Send ``payload`` to each channel-layer group once the transaction commits."""
    if not _enabled:
        return

    def send() -> None:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        message = {"type": "hub.event", "event": event_type, "payload": payload}
        for group in groups:
            try:
                async_to_sync(layer.group_send)(group, message)
            except Exception:  # a console outage must not fail the write
                logger.exception("Publishing %s to group %s failed", event_type, group)

    transaction.on_commit(send)
