"""Safety plan screens: the team writes the plan step by step on a phone,
the counselor and supervisors read it, the person gets a printable copy,
and supervisors export it as a FHIR R4 CarePlan.

Each step form saves as the team types (an htmx request, which returns a
save-status fragment) and again on Next or Back (a plain POST, which
returns a redirect), so a reload keeps every entry the server saved.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisishub.audit.signals import record_denied
from crisishub.consoles.views import console_login_required
from crisishub.core.access import access_incident_by_id, require
from crisishub.core.errors import DomainError, InvalidInput
from crisishub.core.models import Contact, TeamMember
from crisishub.core.roles import has_capability
from crisishub.safetyplan import access, fhir, services
from crisishub.safetyplan.models import MAX_ENTRIES_PER_STEP, SafetyPlan, Step

logger = logging.getLogger(__name__)

# The closing page after the six steps: the reason for living.
REASON_STEP = 7
PROMPTS = {
    Step.WARNING_SIGNS: gettext_lazy(
        "What thoughts, images, moods, situations or behaviors tell you a crisis may be starting?"),
    Step.INTERNAL_COPING: gettext_lazy(
        "What can you do on your own to take your mind off your problems, without contacting "
        "anyone?"),
    Step.DISTRACTION: gettext_lazy(
        "Which people and social settings help take your mind off things? Names, phone numbers, "
        "places."),
    Step.PEOPLE_TO_ASK: gettext_lazy("Whom can you ask for help? Names and phone numbers."),
    Step.PROFESSIONALS: gettext_lazy(
        "Which professionals or agencies can you contact in a crisis? Add the suggestions below "
        "only if the person chooses them."),
    Step.SAFE_ENVIRONMENT: gettext_lazy(
        "How can you make your environment safe? What will you do about firearms, medications "
        "or other means?"),
}


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def signed_in(view):
    return console_login_required(view)


def _error_response(request: HttpRequest, error: DomainError, template: str, context: dict):
    plan = context.get("plan")
    logger.info("Rejected a safety plan change (plan %s) by %s: %s",
                plan.pk if plan else "-", request.user, error.message)
    context = {**context, "error": error.message,
               "error_fix": error.errors[0].fix if error.errors else ""}
    if is_htmx(request):
        return render(request, "safetyplan/_save_status.html", context, status=error.http_status)
    return render(request, template, context, status=error.http_status)


# --- Open from the team's assignment ----------------------------------------

@require_http_methods(["GET", "POST"])
@never_cache
@signed_in
def from_incident(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Open the contact's current plan from the team's assignment, or start
    one (POST)."""
    require(request.user, "safetyplan.write_own", access.OBJECT_TYPE, f"incident {incident_id}")
    incident = access_incident_by_id(request.user, incident_id, fields=[])
    own = incident.team_id is not None and TeamMember.objects.filter(
        team_id=incident.team_id, user=request.user).exists()
    if not own:
        record_denied("core.incident", str(incident_id), "safety plan: not the assigned team")
        raise PermissionDenied(_("Only the assigned team may write this person's safety plan."))
    plan = services.current_plan(incident.contact_id)
    if request.method == "POST":
        plan = services.start_plan(incident, request.user)
        return redirect("safetyplan:step", plan_id=plan.pk, step=1)
    if plan is not None:
        return redirect("safetyplan:detail", plan_id=plan.pk)
    return render(request, "safetyplan/start.html", {"incident": incident})


@require_GET
@never_cache
@signed_in
def from_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Open the contact's current plan for its counselor or a supervisor."""
    user = request.user
    if not any(has_capability(user, cap) for cap in access.READ_CAPABILITIES):
        record_denied("core.contact", str(contact_id), "safety plan: role may not read plans")
        raise PermissionDenied(_("Your role does not allow reading safety plans."))
    contact = Contact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise Http404(f"Contact {contact_id} not found.")
    allowed = has_capability(user, "safetyplan.read_all") or (
        has_capability(user, "safetyplan.read_own") and contact.handled_by_id == user.pk)
    plan = services.current_plan(contact.pk)
    if not allowed and plan is not None:
        allowed = access.can_write(user, plan)
    if not allowed:
        record_denied("core.contact", str(contact_id), "safety plan: not the contact's counselor")
        raise PermissionDenied(_("Only the contact's counselor and supervisors may read its "
                                 "safety plan."))
    if plan is not None:
        return redirect("safetyplan:detail", plan_id=plan.pk)
    return render(request, "safetyplan/none.html", {"contact": contact})


# --- Reading -----------------------------------------------------------------

def _versions(plan: SafetyPlan) -> list[SafetyPlan]:
    return list(SafetyPlan.objects.filter(contact_id=plan.contact_id).order_by("-version"))


@require_GET
@never_cache
@signed_in
def detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access.plan_for_read(request.user, plan_id)
    return render(request, "safetyplan/detail.html", {
        "plan": plan, "steps": plan.entries_by_step(), "versions": _versions(plan),
        "can_write": plan.is_current and access.can_write(request.user, plan),
        "can_export": has_capability(request.user, "safetyplan.export"),
        "screening_since": services.screening_since(plan),
    })


@require_GET
@never_cache
@signed_in
def print_copy(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Render the copy the person keeps: the plan only, no record details.

    ``?lang=es`` prints the headings in another interface language than the
    staff member's, such as the person's own.
    """
    plan = access.plan_for_read(request.user, plan_id)
    language = request.GET.get("lang") or translation.get_language()
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(
            f"Invalid lang {language!r}: use one of {', '.join(dict(settings.LANGUAGES))}.")
    with translation.override(language):
        return render(request, "safetyplan/print.html", {"plan": plan, "steps": plan.entries_by_step()})


@require_GET
@never_cache
@signed_in
def fhir_careplan(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access.plan_for_export(request.user, plan_id)
    base = request.build_absolute_uri(reverse("safetyplan:fhir", args=[0])).rsplit("/0", 1)[0]
    return JsonResponse(fhir.care_plan(plan, base_url=base), content_type="application/fhir+json",
                        json_dumps_params={"ensure_ascii": False})


# --- Writing, one step per page ---------------------------------------------

def _step_context(plan: SafetyPlan, step: int, texts: list[str] | None = None,
                  extra_lines: int = 0) -> dict:
    context = {"plan": plan, "step": step, "step_count": len(Step), "reason_step": REASON_STEP,
               "step_links": [(s.value, s.label) for s in Step],
               "screening_since": services.screening_since(plan)}
    if step == REASON_STEP:
        if texts is None:
            context["reason"] = plan.reason_for_living
        else:
            context["reason"] = texts[0] if texts else ""
        return context
    stored = services.step_texts(plan, step)
    if texts is None:
        texts = stored
    context["base"] = services.step_digest(stored)
    blank = max(0, min(1 + extra_lines, MAX_ENTRIES_PER_STEP - len(texts)))
    context.update({
        "step_label": Step(step).label, "prompt": PROMPTS[Step(step)],
        "lines": texts + [""] * blank,
        "suggestions": services.suggestions(plan) if step == Step.PROFESSIONALS else [],
    })
    return context


def _parse_step(step: int) -> int:
    if step < 1 or step > REASON_STEP:
        raise Http404(f"Safety plan step {step} not found; steps run from 1 to {REASON_STEP}.")
    return step


def _save(plan: SafetyPlan, step: int, request: HttpRequest) -> None:
    if step == REASON_STEP:
        services.save_reason_for_living(plan, request.POST.get("reason_for_living", ""))
    else:
        services.save_step(plan, step, request.POST.getlist("entry"),
                           base_digest=request.POST.get("base") or None)


def _merged_lines(stored: list[str], typed: list[str]) -> list[str]:
    """Return the stored lines followed by the typed lines not among them."""
    return stored + [text for text in typed if text.strip() and text not in stored]


@require_http_methods(["GET", "POST"])
@never_cache
@signed_in
def step_page(request: HttpRequest, plan_id: int, step: int) -> HttpResponse:
    step = _parse_step(step)
    plan = access.plan_for_write(request.user, plan_id)
    if not plan.is_current:
        # A replaced version is read-only: show it whole instead of a form.
        return redirect("safetyplan:detail", plan_id=plan.pk)
    if request.method == "GET":
        try:
            extra = max(0, min(int(request.GET.get("more", "0")), MAX_ENTRIES_PER_STEP))
        except ValueError:
            extra = 0
        return render(request, "safetyplan/step.html", _step_context(plan, step, extra_lines=extra))
    try:
        _save(plan, step, request)
    except DomainError as error:
        return _rejected_save(request, plan, step, error)
    if is_htmx(request):
        plan.refresh_from_db()
        return render(request, "safetyplan/_save_status.html", {
            "plan": plan, "saved": True, "step": step,
            "base": services.step_digest(services.step_texts(plan, step)),
        })
    return _after_save(request, plan, step)


def _rejected_save(request: HttpRequest, plan: SafetyPlan, step: int,
                   error: DomainError) -> HttpResponse:
    if step == REASON_STEP:
        typed = [request.POST.get("reason_for_living", "")]
    else:
        typed = request.POST.getlist("entry")
    context = _step_context(plan, step, texts=typed)
    if isinstance(error, services.StepChanged) and is_htmx(request):
        # Keep the form's old base, so later autosaves stop too until
        # the team opens the merged page with Next or Back.
        error = services.StepChanged(_(
            "Step %(step)s was changed on another device, so this was not saved. Tap Next "
            "or Back to see both versions.") % {"step": step}, error.stored)
        context.pop("base", None)
    elif isinstance(error, services.StepChanged):
        # The page offers both phones' lines, based on the stored version.
        context = _step_context(plan, step, texts=_merged_lines(error.stored, typed))
    return _error_response(request, error, "safetyplan/step.html", context)


def _after_save(request: HttpRequest, plan: SafetyPlan, step: int) -> HttpResponse:
    """Redirect a plain POST by the button pressed: add a line, add a
    suggestion, Back, Next or Finish."""
    go = request.POST.get("go", "next")
    if go == "add":
        try:
            more = int(request.POST.get("more", "0") or 0) + 1
        except ValueError:
            more = 1
        return redirect(reverse("safetyplan:step", args=[plan.pk, step]) + f"?more={more}#sp-add-line")
    if go.startswith("suggest:") and step == Step.PROFESSIONALS:
        # A suggestion button submits the step form, so typed lines are saved first.
        return _add_suggestion(request, plan, go.removeprefix("suggest:"))
    if go == "back" and step > 1:
        return redirect("safetyplan:step", plan_id=plan.pk, step=step - 1)
    if go == "done" or (go == "next" and step == REASON_STEP):
        return redirect("safetyplan:detail", plan_id=plan.pk)
    return redirect("safetyplan:step", plan_id=plan.pk, step=min(step + 1, REASON_STEP))


@require_POST
@signed_in
def add_suggestion(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Add 988 or a directory facility that the person chose to step 5."""
    plan = access.plan_for_write(request.user, plan_id)
    return _add_suggestion(request, plan, request.POST.get("facility_id", ""))


def _add_suggestion(request: HttpRequest, plan: SafetyPlan, raw: str) -> HttpResponse:
    try:
        facility_id = int(raw) if raw else None
    except ValueError:
        error = InvalidInput.for_field(
            "facility", _("Facility %(id)s not found in the directory.") % {"id": raw},
            _("Choose a facility from the list."))
        return _error_response(request, error, "safetyplan/step.html",
                               _step_context(plan, Step.PROFESSIONALS))
    try:
        services.add_suggestion(plan, facility_id)
    except DomainError as error:
        return _error_response(request, error, "safetyplan/step.html",
                               _step_context(plan, Step.PROFESSIONALS))
    return redirect("safetyplan:step", plan_id=plan.pk, step=Step.PROFESSIONALS)


@require_POST
@signed_in
def review(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Start a new version after a risk change. The old one turns read-only."""
    plan = access.plan_for_write(request.user, plan_id)
    try:
        successor = services.review(plan, request.POST.get("review_reason", ""), request.user)
    except DomainError as error:
        return render(request, "safetyplan/detail.html", {
            "plan": plan, "steps": plan.entries_by_step(), "versions": _versions(plan),
            "can_write": plan.is_current, "error": error.message,
            "can_export": has_capability(request.user, "safetyplan.export"),
        }, status=error.http_status)
    logger.info("Safety plan %s reviewed into version %s (plan %s) by %s",
                plan.pk, successor.version, successor.pk, request.user)
    return redirect("safetyplan:step", plan_id=successor.pk, step=1)
