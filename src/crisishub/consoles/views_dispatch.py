"""Dispatcher console: the queue, the team board, the map and assignment.

Every action goes through the dispatch services and answers with the
re-rendered incident panel. A domain error (Conflict, InvalidInput,
NotFound) is shown in that panel as a message with its HTTP status, never
as an error page. The page itself is built from fragments that
``live.js`` re-fetches when a live event names them.
"""

from __future__ import annotations

import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crisishub.consoles import board
from crisishub.core.access import access_incident_by_id, require
from crisishub.core.errors import DomainError, InvalidInput
from crisishub.core.models import (
    Incident, IncidentStatus, NoTeamReason, Team, TeamStatus,
)
from crisishub.core.services import dispatch as dispatch_service

logger = logging.getLogger(__name__)

DISPATCH_CAPABILITY = "incident.dispatch"
# Fields of the incident and its contact that the panel shows, recorded on
# every audited view.
VIEWED_FIELDS = ["location_text", "safety_notes", "risk_level", "language"]


def dispatcher_required(view):
    """Sign-in, then the incident.dispatch capability (denials are audited)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require(request.user, DISPATCH_CAPABILITY, "consoles.dispatch")
        return view(request, *args, **kwargs)

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Pages and fragments --------------------------------------------------

@require_GET
@dispatcher_required
def console(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    selected = _selected_incident_id(request)
    context = {
        "now": now,
        "queue": board.pending_queue(now),
        "active": board.active_incidents(now),
        "cards": board.team_cards(now),
        "overdue": board.overdue_checkins(now),
        "county_outline": board.county_outline(),
        "map_config": {
            "tile_url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "features_url": reverse("dispatch:map_data"),
        },
        "checkin_minutes": settings.CHECKIN_INTERVAL_MINUTES,
        "selected_id": selected,
    }
    if selected is not None:
        context.update(_detail_context(request, selected, now))
    return render(request, "consoles/dispatch/console.html", context)


def _selected_incident_id(request: HttpRequest) -> int | None:
    value = request.GET.get("incident", "")
    return int(value) if value.isdigit() else None


@require_GET
@dispatcher_required
def queue_fragment(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        "now": now,
        "queue": board.pending_queue(now),
        "active": board.active_incidents(now),
        "selected_id": _selected_incident_id(request),
    }
    return render(request, "consoles/dispatch/_queue.html", context)


@require_GET
@dispatcher_required
def board_fragment(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        "now": now,
        "cards": board.team_cards(now),
        "overdue": board.overdue_checkins(now),
        "checkin_minutes": settings.CHECKIN_INTERVAL_MINUTES,
    }
    return render(request, "consoles/dispatch/_board.html", context)


@require_GET
@dispatcher_required
def team_card_fragment(request: HttpRequest, team_id: int) -> HttpResponse:
    now = timezone.now()
    cards = board.team_cards(now, team_id=team_id)
    if not cards:
        return HttpResponse(status=404)
    return render(request, "consoles/dispatch/_team_card.html", {"card": cards[0], "now": now})


@require_GET
@dispatcher_required
def map_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(board.map_features(timezone.now()))


@require_GET
@dispatcher_required
def incident_panel(request: HttpRequest, incident_id: int) -> HttpResponse:
    context = _detail_context(request, incident_id, timezone.now())
    return render(request, "consoles/dispatch/_incident.html", context)


@require_GET
@dispatcher_required
def incident_summary(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Return the live part of the panel (status, timer, recommendations)."""
    context = _detail_context(request, incident_id, timezone.now())
    return render(request, "consoles/dispatch/_incident_summary.html", context)


def _detail_context(request: HttpRequest, incident_id: int, now) -> dict:
    incident = access_incident_by_id(request.user, incident_id, fields=VIEWED_FIELDS)
    running = incident.status in board.STANDARD_RUNNING
    pending = incident.status == IncidentStatus.PENDING
    reassignable = incident.status in (IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE)
    recommendations = []
    if pending or reassignable:
        recommendations = dispatch_service.recommend_teams(incident, limit=3)
    return {
        "incident": incident,
        "timer": board.incident_timer(incident, now) if running else None,
        "timeline": list(incident.events.select_related("team").order_by("occurred_at", "pk")),
        "recommendations": recommendations,
        "available_teams": Team.objects.filter(is_active=True, status=TeamStatus.AVAILABLE),
        "duplicate_targets": (
            Incident.objects.filter(status__in=dispatch_service.OPEN_STATUSES)
            .exclude(pk=incident.pk).order_by("-t0")[:50]
        ),
        "no_team_reasons": [
            choice for choice in NoTeamReason.choices if choice[0] != NoTeamReason.DUPLICATE
        ],
        "is_pending": pending,
        "is_reassignable": reassignable,
        "is_cancellable": pending or reassignable,
    }


# --- Actions --------------------------------------------------------------

def _respond(request: HttpRequest, incident_id: int, *, error: DomainError | None = None,
             success: str = "") -> HttpResponse:
    """Answer an action with the incident panel, or a redirect without htmx."""
    if not is_htmx(request):
        if error is not None:
            messages.error(request, error.message)
        elif success:
            messages.success(request, success)
        return redirect(f"{reverse('dispatch:console')}?incident={incident_id}")
    context = _detail_context(request, incident_id, timezone.now())
    context["error"] = error
    context["success"] = success
    status = error.http_status if error is not None else 200
    return render(request, "consoles/dispatch/_incident.html", context, status=status)


def _int_field(request: HttpRequest, name: str, fix: str) -> int:
    value = request.POST.get(name, "").strip()
    if not value.isdigit():
        raise InvalidInput.for_field(name, f"Invalid or missing {name} {value!r}.", fix)
    return int(value)


def _run_action(request: HttpRequest, incident_id: int, action, success: str) -> HttpResponse:
    try:
        action()
    except DomainError as error:
        logger.info(
            "Dispatch action on incident %s rejected for %s: %s",
            incident_id, request.user.username, error.message,
        )
        return _respond(request, incident_id, error=error)
    return _respond(request, incident_id, success=success)


@require_POST
@dispatcher_required
def assign(request: HttpRequest, incident_id: int) -> HttpResponse:
    def action():
        team_id = _int_field(request, "team_id", "Pick a team from the list.")
        dispatch_service.do_assign_team(incident_id, team_id, actor=request.user)

    return _run_action(request, incident_id, action, _("Team assigned."))


@require_POST
@dispatcher_required
def reassign(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Take the current team off and assign another in one transaction, so
    a failed assignment leaves the first team on the incident."""

    def action():
        team_id = _int_field(request, "team_id", "Pick the team to send instead.")
        reason = request.POST.get("reason", "")
        with transaction.atomic():
            dispatch_service.do_unassign(incident_id, reason=reason, actor=request.user)
            dispatch_service.do_assign_team(incident_id, team_id, actor=request.user)

    return _run_action(request, incident_id, action, _("Team reassigned."))


@require_POST
@dispatcher_required
def cancel(request: HttpRequest, incident_id: int) -> HttpResponse:
    def action():
        reason = request.POST.get("reason", "")
        dispatch_service.do_cancel_incident(incident_id, reason=reason, actor=request.user)

    return _run_action(request, incident_id, action, _("Response cancelled."))


@require_POST
@dispatcher_required
def attach_duplicate(request: HttpRequest, incident_id: int) -> HttpResponse:
    def action():
        original_id = _int_field(request, "original_id", "Pick the open incident it duplicates.")
        dispatch_service.do_attach_duplicate(incident_id, original_id, actor=request.user)

    return _run_action(request, incident_id, action, _("Attached as a duplicate call."))


@require_POST
@dispatcher_required
def record_no_team(request: HttpRequest, incident_id: int) -> HttpResponse:
    def action():
        dispatch_service.do_record_no_team(
            incident_id, request.POST.get("reason", ""),
            detail=request.POST.get("detail", "").strip(), actor=request.user,
        )

    return _run_action(request, incident_id, action, _("Recorded why no team was sent."))
