"""Dispatcher console: the queue, the team board, the map and assignment.

Every action is a form posted to a dispatch service. The response is the
re-rendered incident panel for htmx, or a redirect to the console without
it. A form that fails validation, or that a service rejects (Conflict,
InvalidInput, NotFound), is shown again with an error summary and the
error at each field, with the error's HTTP status, never as an error
page. The page is built from fragments that ``dispatch.js`` re-fetches
when ``live.js`` reports a live event.
"""

from __future__ import annotations

import logging
from functools import wraps
from typing import Any, Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crisishub.consoles import board
from crisishub.consoles.forms_dispatch import (
    AssignForm, CancelForm, DuplicateForm, NoTeamForm, ReassignForm,
)
from crisishub.core.access import access_incident_by_id, require
from crisishub.core.errors import DomainError
from crisishub.core.models import Incident, IncidentEvent, IncidentStatus
from crisishub.core.services import dispatch as dispatch_service

logger = logging.getLogger(__name__)

DISPATCH_CAPABILITY = "incident.dispatch"
# Fields of the incident and its contact that the panel shows, recorded on
# every audited view.
VIEWED_FIELDS = ["location_text", "safety_notes", "risk_level", "language"]


def dispatcher_required(view):
    """Require sign-in, then the incident.dispatch capability (denials are audited)."""

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
    return _render_console(request, _selected_incident_id(request))


def _render_console(request: HttpRequest, selected: int | None, *,
                    bound: forms.Form | None = None, status: int = 200) -> HttpResponse:
    now = timezone.now()
    context = _board_context(now)
    context.update(
        {
            "queue": board.pending_queue(now),
            "active": board.active_incidents(now),
            "county_outline": board.county_outline(),
            "map_config": {
                "tile_url": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "zoom_in_title": _("Zoom in"),
                "zoom_out_title": _("Zoom out"),
                "features_url": reverse("dispatch:map_data"),
                "board_url": reverse("dispatch:board"),
                "queue_url": reverse("dispatch:queue"),
            },
            "selected_id": selected,
        }
    )
    if selected is not None:
        try:
            context.update(_detail_context(request, selected, now, bound=bound))
        except Http404:
            context["selected_id"] = None
            context["selection_error"] = _("Incident %(id)s not found.") % {"id": selected}
            status = 404
    return render(request, "consoles/dispatch/console.html", context, status=status)


def _selected_incident_id(request: HttpRequest) -> int | None:
    value = request.GET.get("incident", "")
    return int(value) if value.isdigit() else None


def _board_context(now) -> dict[str, Any]:
    return {
        "now": now,
        **_emergencies_context(),
        "cards": board.team_cards(now),
        "overdue": board.overdue_checkins(now),
        "checkin_minutes": settings.CHECKIN_INTERVAL_MINUTES,
    }


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
    return render(request, "consoles/dispatch/_board.html", _board_context(timezone.now()))


@require_GET
@dispatcher_required
def emergencies_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "consoles/dispatch/_emergencies.html", _emergencies_context())


def _emergencies_context() -> dict[str, Any]:
    return {
        "emergencies": board.unacknowledged_emergencies(),
        "acknowledgements": board.recent_acknowledgements(timezone.now()),
    }


@require_POST
@dispatcher_required
def acknowledge_emergency(request: HttpRequest, event_id: int) -> HttpResponse:
    """Acknowledge a team's emergency alert for every dispatcher."""
    try:
        note = board.acknowledge_emergency(event_id, request.user)
    except IncidentEvent.DoesNotExist:
        raise Http404(f"Emergency alert {event_id} not found.") from None
    logger.warning("Emergency alert %s acknowledged by %s", event_id, note.actor_label)
    if not is_htmx(request):
        done = _("Emergency alert from team %(team)s acknowledged by %(user)s at %(time)s.") % {
            "team": note.team.name if note.team else "-",
            "user": note.actor_label,
            "time": timezone.localtime(note.occurred_at).strftime("%H:%M"),
        }
        messages.success(request, done)
        return redirect(reverse("dispatch:console"))
    return render(request, "consoles/dispatch/_emergencies.html", _emergencies_context())


@require_GET
@dispatcher_required
def team_card_fragment(request: HttpRequest, team_id: int) -> HttpResponse:
    now = timezone.now()
    cards = board.team_cards(now, team_id=team_id)
    if not cards:
        raise Http404(f"Team {team_id} not found.")
    context = {"card": cards[0], "now": now,
               "checkin_minutes": settings.CHECKIN_INTERVAL_MINUTES}
    return render(request, "consoles/dispatch/_team_card.html", context)


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
    """Render the live part of the panel: status, timer, recommendations."""
    context = _detail_context(request, incident_id, timezone.now())
    return render(request, "consoles/dispatch/_incident_summary.html", context)


def _detail_context(request: HttpRequest, incident_id: int, now, *,
                    bound: forms.Form | None = None) -> dict[str, Any]:
    """Build the incident panel, with ``bound`` in place of its empty form."""
    incident = access_incident_by_id(request.user, incident_id, fields=VIEWED_FIELDS)
    running = incident.status in board.STANDARD_RUNNING
    pending = incident.status == IncidentStatus.PENDING
    reassignable = incident.status in (IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE)
    recommendations = []
    if pending or reassignable:
        recommendations = dispatch_service.recommend_teams(incident, limit=3)
    forms_by_prefix = {
        "assign": AssignForm(),
        "reassign": ReassignForm(current_team_id=incident.team_id),
        "cancel": CancelForm(),
        "duplicate": DuplicateForm(incident=incident),
        "noteam": NoTeamForm(
            team_within_standard=_team_within_standard(incident, recommendations, now)
        ),
    }
    shown_prefixes = set()
    if pending:
        shown_prefixes |= {"assign", "duplicate", "noteam", "cancel"}
    if reassignable:
        shown_prefixes |= {"reassign", "cancel"}
    unshown_failed_form = None
    if bound is not None:
        forms_by_prefix[bound.prefix] = bound
        if bound.prefix not in shown_prefixes:
            # The incident moved on (another dispatcher acted), so the form
            # is gone; its errors are shown at the top of the panel.
            unshown_failed_form = bound
    return {
        "now": now,
        "incident": incident,
        "timer": board.incident_timer(incident, now) if running else None,
        "timeline": list(incident.events.select_related("team").order_by("occurred_at", "pk")),
        "recommendations": recommendations,
        "forms": forms_by_prefix,
        "failed_form": bound.prefix if bound is not None else "",
        "unshown_failed_form": unshown_failed_form,
        "is_pending": pending,
        "is_reassignable": reassignable,
        "is_cancellable": pending or reassignable,
    }


def _team_within_standard(incident: Incident, recommendations, now) -> tuple[str, float, float] | None:
    """Return (name, ETA, minutes left) of the first recommended team whose
    ETA fits in what is left of a pending incident's standard, else None."""
    if incident.status != IncidentStatus.PENDING:
        return None
    left = incident.standard_minutes - (now - incident.t0).total_seconds() / 60.0
    for recommendation in recommendations:
        if recommendation.eta_minutes <= left:
            return (recommendation.team_name, recommendation.eta_minutes, left)
    return None


# --- Actions --------------------------------------------------------------

def _attach_domain_error(form: forms.Form, error: DomainError) -> None:
    """Add a service's error to the form, at its field when the form has one."""
    if not error.errors:
        form.add_error(None, error.message)
        return
    for field_error in error.errors:
        text = field_error.message
        if field_error.fix:
            text = f"{text} {field_error.fix}"
        field = field_error.field if field_error.field in form.fields else None
        form.add_error(field, text)


def _handle_action(
    request: HttpRequest,
    incident_id: int,
    form: forms.Form,
    perform: Callable[[dict[str, Any]], None],
    success: str,
) -> HttpResponse:
    """Validate ``form``, run ``perform`` with its data, and respond.

    Success returns the fresh panel with a confirmation (or a redirect
    without htmx). Failure returns the panel, or the whole console without
    htmx, with the bound form and its errors: status 400 for invalid input,
    otherwise the service error's status.
    """
    status = 400
    if form.is_valid():
        try:
            perform(form.cleaned_data)
        except DomainError as error:
            logger.info(
                "Dispatch action %s on incident %s rejected for %s: %s",
                form.prefix, incident_id, request.user.username, error.message,
            )
            _attach_domain_error(form, error)
            status = error.http_status
        else:
            if not is_htmx(request):
                messages.success(request, success)
                return redirect(f"{reverse('dispatch:console')}?incident={incident_id}")
            context = _detail_context(request, incident_id, timezone.now())
            context["success"] = success
            return render(request, "consoles/dispatch/_incident.html", context)

    if not is_htmx(request):
        return _render_console(request, incident_id, bound=form, status=status)
    context = _detail_context(request, incident_id, timezone.now(), bound=form)
    return render(request, "consoles/dispatch/_incident.html", context, status=status)


def _existing_incident(incident_id: int) -> Incident:
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        raise Http404(f"Incident {incident_id} not found.")
    return incident


@require_POST
@dispatcher_required
def assign(request: HttpRequest, incident_id: int) -> HttpResponse:
    _existing_incident(incident_id)

    def perform(data):
        dispatch_service.do_assign_team(incident_id, data["team_id"], actor=request.user)

    return _handle_action(request, incident_id, AssignForm(request.POST), perform,
                          _("Team assigned."))


@require_POST
@dispatcher_required
def reassign(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Take the current team off and assign another in one transaction, so
    a failed assignment leaves the first team on the incident."""
    incident = _existing_incident(incident_id)

    def perform(data):
        with transaction.atomic():
            dispatch_service.do_unassign(incident_id, reason=data["reason"], actor=request.user)
            dispatch_service.do_assign_team(incident_id, data["team_id"], actor=request.user)

    form = ReassignForm(request.POST, current_team_id=incident.team_id)
    return _handle_action(request, incident_id, form, perform, _("Team reassigned."))


@require_POST
@dispatcher_required
def cancel(request: HttpRequest, incident_id: int) -> HttpResponse:
    _existing_incident(incident_id)

    def perform(data):
        dispatch_service.do_cancel_incident(incident_id, reason=data["reason"], actor=request.user)

    return _handle_action(request, incident_id, CancelForm(request.POST), perform,
                          _("Response cancelled."))


@require_POST
@dispatcher_required
def attach_duplicate(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _existing_incident(incident_id)

    def perform(data):
        dispatch_service.do_attach_duplicate(incident_id, data["original_id"], actor=request.user)

    form = DuplicateForm(request.POST, incident=incident)
    return _handle_action(request, incident_id, form, perform,
                          _("Attached as a duplicate call."))


@require_POST
@dispatcher_required
def record_no_team(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Close the incident with the reason no team is sent. "No team available
    within the standard" needs details while a recommended team could
    arrive within it, so reports of that reason stay true."""
    incident = _existing_incident(incident_id)
    available = _team_within_standard(
        incident, dispatch_service.recommend_teams(incident, limit=3), timezone.now()
    )

    def perform(data):
        dispatch_service.do_record_no_team(
            incident_id, data["reason"], detail=data["detail"].strip(), actor=request.user,
        )

    form = NoTeamForm(request.POST, team_within_standard=available)
    return _handle_action(request, incident_id, form, perform,
                          _("Recorded why no team was sent."))
