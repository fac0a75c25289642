"""Live updates for open consoles, sent only after the change commits.

A console that shows a team assignment must never show one that rolled
back, so every publish goes through ``transaction.on_commit``. The event
names, payloads and groups are listed in ``crisishub.consoles.consumers``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

DISPATCH_GROUP = "dispatch"
# Call counselors hear incident events so an open contact page can show
# its incident's assignment and status without a reload.
COUNSELOR_GROUP = "counselor"
TEAM_EVENT_PREFIX = "team."
INCIDENT_EVENT_PREFIX = "incident."

_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn publishing off, for batch work with no console watching (replay)."""
    global _enabled
    _enabled = enabled


def team_group(team_id: int) -> str:
    return f"team-{team_id}"


def groups_for_event(
    event_type: str, payload: dict[str, Any], groups: tuple[str, ...]
) -> tuple[str, ...]:
    """Return ``groups`` plus the team's own group for a ``team.*`` event,
    and the counselor group for an ``incident.*`` event.

    A team event's payload is the team (its ``id``), so the team's phones
    hear about their own status, check-ins and emergency alerts, including
    the status change that follows a reassignment or a cancellation.
    """
    result = list(groups)
    if event_type.startswith(INCIDENT_EVENT_PREFIX) and COUNSELOR_GROUP not in result:
        result.append(COUNSELOR_GROUP)
    if event_type.startswith(TEAM_EVENT_PREFIX) and payload.get("id") is not None:
        own_group = team_group(payload["id"])
        if own_group not in result:
            result.append(own_group)
    return tuple(result)


def publish_on_commit(
    event_type: str, payload: dict[str, Any], groups: tuple[str, ...] = (DISPATCH_GROUP,)
) -> None:
    """Send ``payload`` to each channel-layer group once the transaction commits.

    Outside a transaction (autocommit) the change is already committed, so
    Django runs the send at once.
    """
    if not _enabled:
        return
    groups = groups_for_event(event_type, payload, groups)

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
