"""The mobile team's phone app: the current assignment, status taps,
check-in, the emergency alert and close-out.

A team member can open only the incidents of their own team. Each action
responds to an htmx request with the re-rendered team panel, and to a
plain POST with a redirect. A validation or state error is shown in the
panel with status 400 or 409.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crisishub.audit.signals import record_denied
from crisishub.consoles import forms
from crisishub.consoles.board import checkin_due_at, team_emergency
from crisishub.consoles.sessions import passive_request
from crisishub.consoles.views import console_login_required
from crisishub.core.access import access_incident_by_id, require
from crisishub.core.errors import DomainError, InvalidInput
from crisishub.core.models import Incident, IncidentStatus, Team, TeamMember
from crisishub.core.services import dispatch, teams

logger = logging.getLogger(__name__)

FIELD_CAPABILITY = "incident.field_update"
VIEWED_FIELDS = ["location_text", "safety_notes", "risk_level", "language"]

# The status buttons, in the order a response moves through them.
STATUS_BUTTONS = [
    (IncidentStatus.EN_ROUTE, gettext_lazy("En route")),
    (IncidentStatus.ON_SCENE, gettext_lazy("On scene")),
    (IncidentStatus.TRANSPORTING, gettext_lazy("Transporting")),
    (IncidentStatus.AT_DESTINATION, gettext_lazy("At destination")),
    (IncidentStatus.CLEARED, gettext_lazy("Clear")),
]
ACTIVE_STATUSES = (
    IncidentStatus.ASSIGNED, IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE,
    IncidentStatus.TRANSPORTING, IncidentStatus.AT_DESTINATION,
)
# Statuses after which the team has met the person and records close-out.
CLOSE_OUT_STATUSES = (
    IncidentStatus.ON_SCENE, IncidentStatus.TRANSPORTING, IncidentStatus.AT_DESTINATION,
    IncidentStatus.CLEARED,
)


def team_member_required(view):
    """Sign-in, then the incident.field_update capability (denials are audited)."""

    @console_login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require(request.user, FIELD_CAPABILITY, "consoles.team")
        return view(request, *args, **kwargs)

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _team_for(user) -> Team | None:
    membership = (
        TeamMember.objects.filter(user=user, team__is_active=True)
        .select_related("team").order_by("team_id").first()
    )
    return membership.team if membership else None


def _own_incident(request: HttpRequest, incident_id: int) -> tuple[Team, Incident]:
    """Fetch an incident of the user's own team, or deny (audited)."""
    team = _team_for(request.user)
    incident = access_incident_by_id(request.user, incident_id, fields=[])
    if team is None or incident.team_id != team.pk:
        record_denied("core.incident", str(incident_id), "not the incident of the user's team")
        raise PermissionDenied(_("Only the assigned team may update this incident."))
    return team, incident


def _allowed_statuses(incident: Incident | None) -> set[str]:
    """Field statuses the incident may move to next (see do_record_status)."""
    if incident is None or incident.status not in dispatch.FIELD_SEQUENCE[:-1]:
        return set()
    index = dispatch.FIELD_SEQUENCE.index(incident.status)
    allowed = {str(s) for s in dispatch.FIELD_SEQUENCE[index + 1:]}
    if incident.status != IncidentStatus.TRANSPORTING:
        allowed.discard(str(IncidentStatus.AT_DESTINATION))
    return allowed


def _panel_context(request: HttpRequest, team: Team | None, **overrides) -> dict:
    incident = None
    closeout_incident = None
    timeline = []
    checkin_due = None
    emergency = None
    if team is not None:
        # The action just recorded may have changed the team's status or
        # check-in time since the view fetched it.
        team.refresh_from_db()
        checkin_due = checkin_due_at(team)
        emergency = team_emergency(team)
        current = Incident.objects.filter(team=team, status__in=ACTIVE_STATUSES).order_by("-t0").first()
        if current is not None:
            incident = access_incident_by_id(request.user, current.pk, fields=VIEWED_FIELDS)
            timeline = list(incident.events.order_by("occurred_at", "pk"))
        closeout_candidate = incident or (
            Incident.objects.filter(team=team, status=IncidentStatus.CLEARED, disposition="")
            .order_by("-t0").first()
        )
        if closeout_candidate is not None and closeout_candidate.status in CLOSE_OUT_STATUSES \
                and not closeout_candidate.disposition:
            closeout_incident = closeout_candidate
    allowed = _allowed_statuses(incident)
    context = {
        "team": team,
        "incident": incident,
        "timeline": timeline,
        "status_buttons": [
            {"value": str(value), "label": label, "enabled": str(value) in allowed}
            for value, label in STATUS_BUTTONS
        ],
        "closeout_incident": closeout_incident,
        "checkin_due_at": checkin_due,
        "emergency": emergency,
        "checkin_overdue_minutes": _minutes_overdue(checkin_due),
        "closeout_form": forms.CloseOutForm(),
        "position_form": forms.PositionForm(),
        "notice": "",
        "error": "",
    }
    context.update(overrides)
    return context


def _minutes_overdue(due: dt.datetime | None) -> int | None:
    """Return whole minutes past ``due`` (0 in the first minute), or None
    when no check-in is due yet."""
    if due is None:
        return None
    late = (timezone.now() - due).total_seconds()
    return int(late // 60) if late > 0 else None


def _respond(request: HttpRequest, team: Team | None, status: int = 200, **overrides) -> HttpResponse:
    if is_htmx(request):
        return render(request, "consoles/team/_panel.html",
                      _panel_context(request, team, **overrides), status=status)
    if status == 200:
        return redirect("team:home")
    return render(request, "consoles/team/home.html",
                  _panel_context(request, team, **overrides), status=status)


@require_GET
@never_cache
@team_member_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "consoles/team/home.html", _panel_context(request, _team_for(request.user)))


@passive_request
@require_GET
@never_cache
@team_member_required
def assignment_fragment(request: HttpRequest) -> HttpResponse:
    """Render the assignment card, which the page re-fetches on live events
    (and by polling while the live socket is down).

    The page sends these requests on its own, so they do not renew the
    session. Once the session ends, the next one sends the page to sign-in.
    """
    return render(request, "consoles/team/_assignment.html",
                  _panel_context(request, _team_for(request.user)))


def _position(request: HttpRequest) -> tuple[float | None, float | None]:
    form = forms.PositionForm(request.POST)
    if not form.is_valid():
        # A browser position is optional, so a malformed one is dropped.
        logger.info("Ignored an invalid position from %s: %s", request.user, form.errors.as_json())
        return None, None
    return form.position()


@require_POST
@team_member_required
def record_status(request: HttpRequest, incident_id: int) -> HttpResponse:
    team, incident = _own_incident(request, incident_id)
    status = request.POST.get("status", "")
    latitude, longitude = _position(request)
    try:
        dispatch.do_record_status(incident.pk, status, actor=request.user,
                                  latitude=latitude, longitude=longitude)
    except DomainError as error:
        return _respond(request, team, error.http_status, error=error.message)
    label = dict((str(v), str(label)) for v, label in STATUS_BUTTONS).get(status, status)
    return _respond(request, team, notice=_("%(status)s recorded at %(time)s.") % {
        "status": label, "time": timezone.localtime().strftime("%H:%M:%S")})


@require_POST
@team_member_required
def check_in(request: HttpRequest) -> HttpResponse:
    team = _team_for(request.user)
    if team is None:
        return _respond(request, None, 409, error=_("Your account is not on a team."))
    latitude, longitude = _position(request)
    if latitude is not None:
        teams.do_update_team_position(team, latitude, longitude)
    dispatch.do_check_in(team.pk, actor=request.user)
    return _respond(request, team, notice=_("Check-in recorded at %(time)s.") % {
        "time": timezone.localtime().strftime("%H:%M:%S")})


@require_POST
@team_member_required
def emergency(request: HttpRequest) -> HttpResponse:
    """Alert the dispatcher at once, then store the last known position if
    the browser sent one."""
    team = _team_for(request.user)
    if team is None:
        return _respond(request, None, 409, error=_("Your account is not on a team."))
    dispatch.do_check_in(team.pk, actor=request.user, emergency=True)
    latitude, longitude = _position(request)
    if latitude is not None:
        teams.do_update_team_position(team, latitude, longitude)
    return _respond(request, team, notice=_("Emergency alert sent to dispatch at %(time)s.") % {
        "time": timezone.localtime().strftime("%H:%M:%S")}, emergency_sent=True)


@require_POST
@team_member_required
def close_out(request: HttpRequest, incident_id: int) -> HttpResponse:
    team, incident = _own_incident(request, incident_id)
    form = forms.CloseOutForm(request.POST)
    if not form.is_valid():
        return _respond(request, team, 400, closeout_form=form)
    data = form.cleaned_data
    destination = data.get("transport_destination")
    try:
        dispatch.do_close_out(
            incident.pk, disposition=data["disposition"],
            law_enforcement=data["law_enforcement"],
            law_enforcement_reason=data["law_enforcement_reason"],
            transport_destination_id=destination.pk if destination else None,
            transport_consent=form.consent(), actor=request.user,
        )
    except InvalidInput as error:
        forms.add_domain_errors(form, error)
        return _respond(request, team, 400, closeout_form=form)
    except DomainError as error:
        return _respond(request, team, error.http_status, error=error.message)
    return _respond(request, team, notice=_("Close-out of %(number)s recorded.") % {
        "number": incident.number})
