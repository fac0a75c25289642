"""WebSocket consumer that forwards live hub events to open consoles.

Consoles connect to ``/ws/live/`` with their session cookie. A user with
``incident.dispatch`` or ``team.view`` (dispatchers, supervisors,
administrators) joins the ``dispatch`` group. A team member joins
``team-<team id>`` for each active team the member belongs to. A call
counselor (``contact.edit``) who is not in ``dispatch`` joins
``counselor``, which gets every ``incident.*`` event (not repeated in
the table below). Anyone
else is closed with code 4403, and a socket without a signed-in user with
4401.

Every message to the browser is JSON ``{"event": name, "payload": {...}}``.
The first is ``hello`` (payload ``{"groups": [...]}``), sent once the
groups are joined; ``{"event": "ping"}`` from the browser gets ``pong``,
or a close with 4401 once the session has ended (timed out or signed
out), so an open page goes to sign-in within one ping interval.
Hub events, each sent only after its database transaction commits:

=====================  ====================================  ===============
event                  sent when                              groups
=====================  ====================================  ===============
incident.created       a mobile response is requested         dispatch
incident.assigned      a team is assigned                     dispatch, team
incident.status        the team records a field status        dispatch, team
incident.unassigned    the team is taken off to reassign      dispatch
incident.cancelled     the response is cancelled              dispatch, team
incident.duplicate     attached as a duplicate call           dispatch
incident.no_team       closed with the reason no team went    dispatch
team.status            a team's status changes                dispatch, team
team.position          a team reports its position            dispatch, team
team.check_in          an on-scene check-in                   dispatch, team
team.emergency         the team's emergency button            dispatch, team
=====================  ====================================  ===============

``team.emergency_acknowledged`` (dispatch, team) is sent when a dispatcher
acknowledges an emergency alert, with payload ``id, name, incident_id,
emergency_event_id``.

Every ``incident.*`` event also goes to ``counselor``.
"team" is ``team-<id>`` of the incident's team (``payload.team_id``) for
incident events, and of the team itself (``payload.id``) for team events.
A team taken off an incident (reassigned) or whose incident is cancelled
also gets ``team.status`` with its new status. Incident payloads carry
``id, number, status, priority, t0, area_class, standard_minutes,
language, latitude, longitude, team_id, no_team_reason``; team payloads
``id, name, status, status_since, languages, latitude, longitude`` (plus
``incident_id`` for check-in and emergency). Payloads carry no personal
details: each console re-fetches what it shows over HTTP, where access is
checked and audited, so a reconnect just re-fetches.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from crisishub.core import events
from crisishub.core.models import TeamMember
from crisishub.core.roles import has_capability

logger = logging.getLogger(__name__)

# Close codes in the 4000-4999 range, which RFC 6455 leaves to applications.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

DISPATCH_CAPABILITIES = ("incident.dispatch", "team.view")
COUNSELOR_CAPABILITY = "contact.edit"
TEAM_CAPABILITIES = ("incident.view_own", "incident.field_update")


def groups_for_user(user) -> list[str]:
    """Return the channel-layer groups whose events ``user`` may receive."""
    groups = []
    if any(has_capability(user, cap) for cap in DISPATCH_CAPABILITIES):
        groups.append(events.DISPATCH_GROUP)
    elif has_capability(user, COUNSELOR_CAPABILITY):
        # The dispatch group already gets every incident event.
        groups.append(events.COUNSELOR_GROUP)
    if any(has_capability(user, cap) for cap in TEAM_CAPABILITIES):
        team_ids = (
            TeamMember.objects.filter(user=user, team__is_active=True)
            .values_list("team_id", flat=True)
            .order_by("team_id")
        )
        groups.extend(events.team_group(team_id) for team_id in team_ids)
    return groups


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Send each ``hub.event`` of the user's groups to the browser as JSON.

    NOTE: the groups are fixed when the socket opens, so a role or team
    change takes effect on the next connect.
    """

    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            logger.info("Rejected a live socket without a signed-in user")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return

        groups = await database_sync_to_async(groups_for_user)(user)
        if not groups:
            logger.info("Rejected a live socket for %s: no console role", user.username)
            await self.close(code=CLOSE_FORBIDDEN)
            return

        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        await self.send_json({"event": "hello", "payload": {"groups": groups}})
        logger.debug("Live socket for %s joined %s", user.username, groups)

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The browser only listens; a ping keeps proxies from closing an
        # idle socket.
        if isinstance(content, dict) and content.get("event") == "ping":
            if not await database_sync_to_async(self._session_is_active)():
                logger.info("Closed the live socket of %s: the session ended",
                            self.scope["user"].username)
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            await self.send_json({"event": "pong", "payload": {}})

    def _session_is_active(self) -> bool:
        """Return whether the socket's session still signs in its user.

        The session is read afresh and not saved, so the check does not
        renew it. A scope without a session (a consumer mounted without
        Channels' session middleware, as in unit tests) counts as active.
        """
        session = self.scope.get("session")
        if session is None:
            return True
        key = session.session_key
        if not key:
            return False
        engine = import_module(settings.SESSION_ENGINE)
        current = engine.SessionStore(session_key=key)
        return current.get(SESSION_KEY) == str(self.scope["user"].pk)

    async def hub_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"event": message["event"], "payload": message["payload"]})
