"""The call counselor's console: intake, screening, triage and close.

The contact page is one form per step of the call. Caller details are
autosaved field by field as the counselor types (htmx). Every other step
responds to an htmx request with the re-rendered workflow section and to a
plain POST with a redirect, so the page also works without JavaScript. A
step that fails validation is shown again with a summary and the error at
each field, with status 400 (409 when the contact's state forbids it).
"""

from __future__ import annotations

import logging
import secrets
from functools import wraps

from django.forms import BooleanField, MultipleChoiceField
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from crisishub.consoles import forms, labels
from crisishub.consoles.views import console_login_required
from crisishub.consoles.models import ContactDraft
from crisishub.core.access import access_contact_by_id, require
from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import (
    AddressEntry, Contact, Incident, LocationPrecision, Path, Screening,
    TriageDecision,
)
from crisishub.core.services import dispatch, intake, triage
from crisishub.core.setup import normalize_address
from crisishub.rules import cssrs

logger = logging.getLogger(__name__)

EDIT_CAPABILITY = "contact.edit"
# Fields of a contact that the console shows, recorded on each audited view.
VIEWED_FIELDS = ["caller_name", "caller_phone", "location_text", "notes"]


def counselor_required(view):
    """Sign-in, then the contact.edit capability (denials are audited)."""

    @console_login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require(request.user, EDIT_CAPABILITY, "consoles.counselor")
        return view(request, *args, **kwargs)

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Home: start a contact, or open a referred one ------------------------

def _home_context(start_form=None) -> dict:
    referred = (
        Contact.objects.filter(partner__isnull=False, status=Contact.Status.OPEN, draft__isnull=True)
        .select_related("partner").order_by("offered_at")[:50]
    )
    in_progress = (
        Contact.objects.filter(status=Contact.Status.OPEN, draft__isnull=False)
        .select_related("handled_by").order_by("-offered_at")[:50]
    )
    if start_form is None:
        start_form = forms.StartContactForm(initial={"start_key": secrets.token_urlsafe(24)})
    return {"start_form": start_form, "referred": referred, "in_progress": in_progress}


@require_GET
@never_cache
@counselor_required
def console_home(request: HttpRequest) -> HttpResponse:
    # Never cached: a page restored by the Back button would submit an old
    # start key and reopen that contact instead of starting a new one.
    return render(request, "consoles/counselor/home.html", _home_context())


@require_POST
@counselor_required
def start_contact(request: HttpRequest) -> HttpResponse:
    """Create a contact once per start key; a repeat returns the first one."""
    form = forms.StartContactForm(request.POST)
    if not form.is_valid():
        return render(request, "consoles/counselor/home.html", _home_context(form), status=400)
    data = form.cleaned_data
    existing = ContactDraft.objects.filter(start_key=data["start_key"]).first()
    if existing is not None:
        return redirect("counselor:contact", contact_id=existing.contact_id)
    now = timezone.now()
    try:
        with transaction.atomic():
            contact = intake.do_create_contact(
                source=data["source"], channel=data["channel"],
                caller_name=data["caller_name"], caller_phone=data["caller_phone"],
                preferred_language=data["preferred_language"],
                offered_at=now, answered_at=now, at=now,
                handled_by=request.user, entered_by=request.user,
                # No location yet, and no reason it is unknown: the counselor
                # records one or the other later.
                location=intake.LocationInput(),
            )
            ContactDraft.objects.create(contact=contact, start_key=data["start_key"],
                                        started_by=request.user)
    except IntegrityError:
        # A concurrent submit of the same page committed first.
        existing = ContactDraft.objects.filter(start_key=data["start_key"]).first()
        if existing is None:
            raise
        return redirect("counselor:contact", contact_id=existing.contact_id)
    except InvalidInput as error:
        forms.add_domain_errors(form, error)
        return render(request, "consoles/counselor/home.html", _home_context(form), status=400)
    return redirect("counselor:contact", contact_id=contact.pk)


@require_POST
@counselor_required
def open_referred(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Take a contact referred through the API and start working on it."""
    contact = access_contact_by_id(request.user, contact_id)
    with transaction.atomic():
        draft, created = ContactDraft.objects.get_or_create(
            contact=contact, defaults={"started_by": request.user}
        )
        screening = _latest_screening(contact)
        if created and screening is not None:
            # The partner screened the person already: show its answers, so
            # the counselor reviews them instead of asking again.
            draft.cssrs_version = screening.instrument_version
            draft.cssrs_answers = {
                item: value for item, value in screening.cssrs_answers.items() if value is not None
            }
            draft.save(update_fields=["cssrs_version", "cssrs_answers", "updated_at"])
        if created and contact.handled_by_id is None:
            contact.handled_by = request.user
            contact.answered_at = contact.answered_at or timezone.now()
            contact.updated_at = timezone.now()
            contact.save(update_fields=["handled_by", "answered_at", "updated_at"])
    return redirect("counselor:contact", contact_id=contact.pk)


# --- The contact page -----------------------------------------------------

def _load(request: HttpRequest, contact_id: int, *, audit_view: bool = True) -> tuple[Contact, ContactDraft]:
    if audit_view:
        contact = access_contact_by_id(request.user, contact_id, fields=VIEWED_FIELDS)
    else:
        contact = access_contact_by_id(request.user, contact_id, fields=[])
    draft, _created = ContactDraft.objects.get_or_create(contact=contact)
    return contact, draft


def _latest_screening(contact: Contact) -> Screening | None:
    return contact.screenings.order_by("-created_at", "-pk").first()


def _latest_decision(contact: Contact) -> TriageDecision | None:
    return contact.triage_decisions.order_by("-decided_at", "-pk").first()


def _screening_state(draft: ContactDraft) -> dict:
    """Return the C-SSRS so far: the items with answers, the next item, and
    once complete the risk level with its reason."""
    answers = {str(k): v for k, v in (draft.cssrs_answers or {}).items()}
    sequence, _known = cssrs.asked_items(answers, draft.cssrs_version)
    answered = [
        {"id": str(item), "label": labels.item_label(item),
         "period": labels.period_label(cssrs.item_period(item, draft.cssrs_version)),
         "answer": answers[str(item)]}
        for item in sequence if answers.get(str(item)) is not None
    ]
    upcoming = cssrs.next_item(answers, draft.cssrs_version)
    state = {"answered": answered, "next": None, "result": None, "number": len(answered) + 1}
    if upcoming is not None:
        state["next"] = {"id": str(upcoming.id), "label": labels.item_label(upcoming.id),
                         "period": labels.period_label(cssrs.item_period(upcoming.id, draft.cssrs_version))}
    else:
        result = cssrs.screen(answers, draft.cssrs_version)
        state["result"] = result
        state["risk_label"] = labels.risk_label(result.risk.value)
        state["reason"] = labels.cssrs_reason(result)
    return state


def _recommendation(contact: Contact, draft: ContactDraft, screening_state: dict,
                    screening: Screening | None):
    """Evaluate the active matrix on what is known so far.

    Before the Lifeline domains are recorded the recommendation rests on
    the C-SSRS alone, and the page marks it as preliminary.
    """
    result = screening_state["result"]
    if result is None and screening is None:
        return None
    try:
        matrix_row = triage.get_active_matrix()
    except Conflict as error:
        return {"error": error.message}
    from crisishub.rules import matrix as matrix_rules

    if screening is not None:
        facts = triage.build_facts(screening, **(draft.triage_flags or {}))
        screener = cssrs.screen(screening.cssrs_answers, screening.instrument_version)
        preliminary = False
    else:
        facts = matrix_rules.TriageFacts.build(result, None)
        screener = result
        preliminary = True
    matrix = triage.parsed_matrix(matrix_row)
    outcome = matrix.evaluate(facts)
    return {
        "preliminary": preliminary,
        "level": labels.level_label(outcome.level, outcome.level_label),
        "path": str(outcome.path),
        "path_label": Path(str(outcome.path)).label,
        "priority": outcome.priority,
        "reasons": labels.recommendation_reasons(matrix, outcome, facts, screener),
        "rule_id": outcome.rule_id,
        "matrix_version": outcome.matrix_version,
    }


def _assessment_initial(screening: Screening | None, draft: ContactDraft) -> dict:
    if screening is None:
        return {}
    domains = screening.lifeline_domains or {}
    flags = draft.triage_flags or {}
    safe = flags.get("caller_safe_at_phone")
    return {
        "desire": domains.get("desire", []), "capability": domains.get("capability", []),
        "intent": domains.get("intent", []), "buffers": domains.get("buffers", []),
        "danger_to_others": screening.danger_to_others,
        "danger_factors": domains.get("danger_factors", []),
        "medical_emergency": flags.get("medical_emergency", False),
        "weapon_present": flags.get("weapon_present", False),
        "caller_safe_at_phone": {True: "yes", False: "no"}.get(safe, ""),
    }


def _workflow_context(contact: Contact, draft: ContactDraft, **overrides) -> dict:
    from django.conf import settings

    screening = _latest_screening(contact)
    decision = _latest_decision(contact)
    state = _screening_state(draft)
    incidents = list(contact.incidents.order_by("-t0"))
    recommendation = _recommendation(contact, draft, state, screening)
    imminent = contact.imminent_risk or bool(
        decision and decision.final_path == Path.EMERGENCY_911_EMS
    )
    needs_response = bool(decision and decision.final_path == Path.MOBILE_RESPONSE)
    open_incident = next(
        (i for i in incidents if decision and i.triage_decision_id == decision.pk), None
    )
    context = {
        "contact": contact,
        "draft": draft,
        "closed": contact.status == Contact.Status.CLOSED,
        "screening_state": state,
        "screening": screening,
        "decision": decision,
        "recommendation": recommendation,
        "incidents": incidents,
        "imminent": imminent,
        "emergency_resolved": bool(
            contact.emergency_contact_confirmed_at or contact.emergency_contact_not_confirmed_reason
        ),
        "needs_response": needs_response,
        "response_incident": open_incident,
        "has_location_or_reason": contact.has_location or bool(contact.location_unknown_reason.strip()),
        "location_form": forms.LocationForm(initial=_draft_initial(draft, forms.LocationForm, {
            "method": _location_method(contact), "latitude": contact.latitude or "",
            "longitude": contact.longitude or "", "location_text": contact.location_text,
            "unknown_reason": contact.location_unknown_reason,
        })),
        "assessment_form": forms.AssessmentForm(initial=_draft_initial(
            draft, forms.AssessmentForm, _assessment_initial(screening, draft))),
        "decision_form": forms.DecisionForm(initial=_draft_initial(
            draft, forms.DecisionForm, {"choice": "accept"})),
        "response_form": forms.MobileResponseForm(initial=_draft_initial(draft, forms.MobileResponseForm, {
            "priority": (decision.final_priority if decision else None) or 2,
        })),
        "imminent_form": forms.ImminentStepForm(initial=_draft_initial(draft, forms.ImminentStepForm, {})),
        "close_form": forms.CloseContactForm(initial=_draft_initial(draft, forms.CloseContactForm, {
            "service_language": contact.service_language or contact.preferred_language,
            "interpreter_used": contact.interpreter_used,
        })),
        "map_config": {
            "tile_url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "zoom_in_title": _("Zoom in"),
            "zoom_out_title": _("Zoom out"),
        },
        "workflow_error": "",
        "cssrs_error": "",
    }
    context.update(overrides)
    return context


def _location_method(contact: Contact) -> str:
    return {
        LocationPrecision.MAP_PIN: "map_pin", LocationPrecision.COORDINATES: "coordinates",
        LocationPrecision.ZIP_CENTROID: "zip", LocationPrecision.ADDRESS: "address",
        LocationPrecision.BLOCK: "address",
    }.get(contact.location_precision, "unknown" if contact.location_unknown_reason else "map_pin")


def _page_context(contact: Contact, draft: ContactDraft, details_form=None, **overrides) -> dict:
    context = _workflow_context(contact, draft, **overrides)
    context["details_form"] = details_form or forms.CallerDetailsForm(
        initial=forms.CallerDetailsForm.initial_from(contact)
    )
    context["county_outline"] = _county_outline()
    context["repeats"] = intake.find_repeat_contacts(
        phone=contact.caller_phone, name=contact.caller_name, exclude_id=contact.pk
    )
    return context


def _county_outline() -> list[list[float]]:
    """Return the county boundary as [latitude, longitude] pairs, drawn on
    the map so it shows the service area even without map tiles."""
    from crisishub import datapack

    return [[lat, lon] for lon, lat in datapack.load_boundary()]


def _respond(request, contact, draft, status: int = 200, **overrides) -> HttpResponse:
    """Render a workflow step's result: the section for htmx, else the page or a redirect."""
    if is_htmx(request):
        return render(request, "consoles/counselor/_workflow.html",
                      _workflow_context(contact, draft, **overrides), status=status)
    if status == 200:
        return redirect(reverse("counselor:contact", args=[contact.pk]) + "#call-workflow")
    return render(request, "consoles/counselor/contact.html",
                  _page_context(contact, draft, **overrides), status=status)


@require_GET
@counselor_required
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id)
    return render(request, "consoles/counselor/contact.html", _page_context(contact, draft))


@require_GET
@counselor_required
def workflow_fragment(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id, audit_view=False)
    return render(request, "consoles/counselor/_workflow.html", _workflow_context(contact, draft))


@require_GET
@counselor_required
def response_fragment(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Render the mobile-response section, which the page re-fetches when a
    live event reports that one of the contact's incidents changed."""
    contact, draft = _load(request, contact_id, audit_view=False)
    return render(request, "consoles/counselor/_response.html", _workflow_context(contact, draft))


def _reject_if_closed(contact: Contact) -> None:
    if contact.status == Contact.Status.CLOSED:
        raise Conflict(_("Contact %(id)s is closed, so it cannot change.") % {"id": contact.pk})


# --- Unsubmitted step forms -------------------------------------------------

# Step forms whose typed values are kept on the server before they are
# submitted, by form prefix.
DRAFT_FORMS = {
    form_class.prefix: form_class
    for form_class in (forms.LocationForm, forms.AssessmentForm, forms.DecisionForm,
                       forms.MobileResponseForm, forms.ImminentStepForm, forms.CloseContactForm)
}


@require_POST
@counselor_required
def save_form_draft(request: HttpRequest, contact_id: int, prefix: str) -> HttpResponse:
    """Keep the typed values of one step form until it is submitted."""
    contact, draft = _load(request, contact_id, audit_view=False)
    form_class = DRAFT_FORMS.get(prefix)
    if form_class is None:
        return HttpResponse(
            _("Unknown form %(prefix)s; use one of: %(known)s.")
            % {"prefix": prefix, "known": ", ".join(sorted(DRAFT_FORMS))},
            status=404, content_type="text/plain; charset=utf-8",
        )
    if contact.status == Contact.Status.CLOSED:
        return HttpResponse(status=409)
    values = {}
    for key, posted in request.POST.lists():
        name = key.removeprefix(f"{prefix}-")
        if key.startswith(f"{prefix}-") and name in form_class.base_fields:
            values[name] = [value[:2000] for value in posted]
    with transaction.atomic():
        draft = ContactDraft.objects.select_for_update().get(pk=draft.pk)
        drafts = dict(draft.form_drafts or {})
        if prefix == forms.ImminentStepForm.prefix:
            # The imminent-risk steps are separate small forms sharing one
            # prefix, so each keeps the others' typed text.
            values = {**drafts.get(prefix, {}), **values}
        drafts[prefix] = values
        draft.form_drafts = drafts
        draft.save(update_fields=["form_drafts", "updated_at"])
    return HttpResponse(status=204)


def _clear_form_draft(draft: ContactDraft, prefix: str) -> None:
    if prefix in (draft.form_drafts or {}):
        draft.form_drafts = {k: v for k, v in draft.form_drafts.items() if k != prefix}
        draft.save(update_fields=["form_drafts", "updated_at"])


def _draft_initial(draft: ContactDraft, form_class, defaults: dict) -> dict:
    """Return ``defaults`` overlaid with the form's unsubmitted values."""
    stored = (draft.form_drafts or {}).get(form_class.prefix)
    if not stored:
        return defaults
    initial = dict(defaults)
    for name, field in form_class.base_fields.items():
        values = stored.get(name)
        if isinstance(field, MultipleChoiceField):
            initial[name] = values or []
        elif isinstance(field, BooleanField):
            initial[name] = bool(values) and values[-1] in ("on", "true", "1")
        elif values:
            initial[name] = values[-1]
    return initial


# --- Caller details (autosave) ---------------------------------------------

@require_POST
@counselor_required
def autosave_details(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Save every valid caller field; show the error at each invalid one.

    An invalid field keeps its last saved value, so nothing already saved
    is lost while the counselor is still typing.
    """
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.CallerDetailsForm(request.POST)
    if contact.status == Contact.Status.CLOSED:
        form.is_valid()
        form.add_error(None, _("This contact is closed, so its details cannot change."))
        return _details_response(request, contact, draft, form, status=409)
    form.is_valid()
    changed = []
    for name in forms.CallerDetailsForm.FIELDS:
        if name in form.errors or name not in form.cleaned_data:
            continue
        value = form.cleaned_data[name]
        if name == "caller_phone":
            value = intake.normalize_phone(value)
        elif isinstance(value, str) and name != "notes":
            value = value.strip()
        if getattr(contact, name) != value:
            setattr(contact, name, value)
            changed.append(name)
    if changed:
        contact.updated_at = timezone.now()
        contact.save(update_fields=changed + ["updated_at"])
    status = 400 if form.errors else 200
    return _details_response(request, contact, draft, form, status=status)


def _details_response(request, contact, draft, form, status) -> HttpResponse:
    repeats = intake.find_repeat_contacts(
        phone=contact.caller_phone, name=contact.caller_name, exclude_id=contact.pk
    )
    if is_htmx(request):
        return render(request, "consoles/counselor/_autosave_result.html",
                      {"form": form, "contact": contact, "repeats": repeats,
                       "saved_at": timezone.now()}, status=status)
    if status == 200:
        return redirect("counselor:contact", contact_id=contact.pk)
    return render(request, "consoles/counselor/contact.html",
                  _page_context(contact, draft, details_form=form), status=status)


# --- Location --------------------------------------------------------------

@require_GET
@counselor_required
def address_search(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, _draft = _load(request, contact_id, audit_view=False)
    query = normalize_address(request.GET.get("address_query", ""))
    matches = []
    if len(query) >= 3:
        matches = list(AddressEntry.objects.filter(normalized__contains=query).order_by("normalized")[:10])
    return render(request, "consoles/counselor/_address_results.html",
                  {"contact": contact, "matches": matches, "query": query})


@require_POST
@counselor_required
def set_location(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.LocationForm(request.POST)
    try:
        _reject_if_closed(contact)
        if not form.is_valid():
            return _respond(request, contact, draft, 400, location_form=form)
        location = _location_input(form)
        if location is None:
            return _respond(request, contact, draft, 400, location_form=form)
        intake.do_set_contact_location(contact, location)
        _clear_form_draft(draft, forms.LocationForm.prefix)
    except InvalidInput as error:
        forms.add_domain_errors(form, error, {
            "location.latitude": "latitude", "location.longitude": "longitude",
            "location.unknown_reason": "unknown_reason",
        })
        return _respond(request, contact, draft, 400, location_form=form)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    return _respond(request, contact, draft)


def _location_input(form: forms.LocationForm) -> intake.LocationInput | None:
    """Turn the chosen method into a LocationInput with its precision, or
    put the reason it cannot on the form and return None."""
    from crisishub import datapack

    data = form.cleaned_data
    method = data["method"]
    text = data.get("location_text", "").strip()
    if method in ("map_pin", "coordinates"):
        precision = LocationPrecision.MAP_PIN if method == "map_pin" else LocationPrecision.COORDINATES
        return intake.LocationInput(latitude=data["lat"], longitude=data["lon"],
                                    precision=precision, text=text)
    if method == "zip":
        zip_code = data["zip_code"].strip()
        centroid = datapack.load_zcta_centroids().get(zip_code[:5])
        if centroid is None:
            form.add_error("zip_code", _(
                "ZIP code %(zip)s is not one of the county's ZIP codes, so it may be outside the "
                "service area; check it, or place the person with a map pin or coordinates."
            ) % {"zip": zip_code})
            return None
        return intake.LocationInput(
            latitude=centroid.lat, longitude=centroid.lon, precision=LocationPrecision.ZIP_CENTROID,
            text=text or _("ZIP %(zip)s (centre of the ZIP area)") % {"zip": zip_code[:5]},
        )
    if method == "address":
        entry = AddressEntry.objects.filter(pk=data["address_id"]).first()
        if entry is None:
            form.add_error("address_id", _("Address %(id)s was not found in the address index; search again.")
                           % {"id": data["address_id"]})
            return None
        precision = LocationPrecision.BLOCK if entry.precision == "block" else LocationPrecision.ADDRESS
        return intake.LocationInput(latitude=entry.latitude, longitude=entry.longitude,
                                    precision=precision, text=text or entry.display)
    return intake.LocationInput(precision=LocationPrecision.UNKNOWN, text=text,
                                unknown_reason=data["unknown_reason"].strip())


# --- C-SSRS, one item at a time ----------------------------------------------

@require_POST
@counselor_required
def answer_cssrs(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Record one answer. Changing an earlier answer drops the later
    answers that the skip logic no longer asks."""
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.CssrsAnswerForm(request.POST)
    try:
        _reject_if_closed(contact)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400,
                        cssrs_error=_("Choose Yes or No for the question."))
    with transaction.atomic():
        draft = ContactDraft.objects.select_for_update().get(pk=draft.pk)
        answers = {str(k): v for k, v in (draft.cssrs_answers or {}).items()}
        item = form.cleaned_data["item"].lower()
        sequence, _known = cssrs.asked_items(answers, draft.cssrs_version)
        upcoming = cssrs.next_item(answers, draft.cssrs_version)
        askable = {str(i) for i in sequence if answers.get(str(i)) is not None}
        if upcoming is not None:
            askable.add(str(upcoming.id))
        if item not in askable:
            return _respond(request, contact, draft, 409, cssrs_error=_(
                "Item %(item)s is not the question being asked; the page was out of date and now shows the current question."
            ) % {"item": item})
        answers[item] = form.cleaned_data["answer"] == "yes"
        pruned = cssrs.prune(answers, draft.cssrs_version)
        draft.cssrs_answers = {str(k): v for k, v in pruned.items()}
        draft.save(update_fields=["cssrs_answers", "updated_at"])
    return _respond(request, contact, draft, focus_section="cssrs")


# --- Lifeline domains and danger to others ----------------------------------

@require_POST
@counselor_required
def record_assessment(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.AssessmentForm(request.POST)
    try:
        _reject_if_closed(contact)
        if cssrs.next_item(draft.cssrs_answers, draft.cssrs_version) is not None:
            raise Conflict(_("Finish the C-SSRS questions before recording the Lifeline domains."))
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400, assessment_form=form)
    lifeline_data = form.lifeline_data()
    danger = bool(form.cleaned_data["danger_to_others"])
    try:
        with transaction.atomic():
            draft = ContactDraft.objects.select_for_update().get(pk=draft.pk)
            latest = _latest_screening(contact)
            if not _same_screening(latest, draft, lifeline_data, danger):
                triage.do_record_screening(
                    contact, cssrs_answers=draft.cssrs_answers, version=draft.cssrs_version,
                    lifeline_factors=lifeline_data, danger_to_others=danger,
                    created_by=request.user,
                )
            draft.triage_flags = form.flags()
            draft.save(update_fields=["triage_flags", "updated_at"])
            _clear_form_draft(draft, forms.AssessmentForm.prefix)
    except InvalidInput as error:
        forms.add_domain_errors(form, error, {
            "lifeline.desire": "desire", "lifeline.capability": "capability",
            "lifeline.intent": "intent", "lifeline.buffers": "buffers",
            "lifeline.danger_to_others": "danger_to_others",
        })
        return _respond(request, contact, draft, 400, assessment_form=form)
    contact.refresh_from_db()
    return _respond(request, contact, draft)


def _same_screening(latest: Screening | None, draft: ContactDraft, lifeline_data: dict,
                    danger: bool) -> bool:
    """Return whether the latest screening already contains these answers (a resubmit)."""
    if latest is None:
        return False
    stored = latest.lifeline_domains or {}
    same_domains = all(
        sorted(stored.get(key, [])) == sorted(values) for key, values in lifeline_data.items()
    )
    return (
        {k: v for k, v in latest.cssrs_answers.items() if v is not None}
        == {str(k): v for k, v in draft.cssrs_answers.items() if v is not None}
        and latest.instrument_version == draft.cssrs_version
        and latest.danger_to_others == danger
        and same_domains
    )


# --- Triage decision ----------------------------------------------------------

@require_POST
@counselor_required
def decide(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.DecisionForm(request.POST)
    screening = _latest_screening(contact)
    try:
        _reject_if_closed(contact)
        if screening is None:
            raise Conflict(_("Record the screening before deciding on a response."))
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400, decision_form=form)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            ContactDraft.objects.select_for_update().get(pk=draft.pk)
            if _is_repeat_decision(_latest_decision(contact), screening, data):
                logger.info("Ignored a repeated triage decision on contact %s", contact.pk)
            elif data["choice"] == "accept":
                triage.do_decide_triage(contact, screening, decided_by=request.user,
                                        **(draft.triage_flags or {}))
            else:
                triage.do_decide_triage(
                    contact, screening, final_path=data["final_path"],
                    final_priority=data["final_priority"],
                    override_reason=data["override_reason"],
                    decided_by=request.user, **(draft.triage_flags or {}),
                )
    except InvalidInput as error:
        forms.add_domain_errors(form, error)
        return _respond(request, contact, draft, 400, decision_form=form)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    _clear_form_draft(draft, forms.DecisionForm.prefix)
    return _respond(request, contact, draft)


def _is_repeat_decision(latest: TriageDecision | None, screening: Screening, data: dict) -> bool:
    """Return whether ``latest`` already records this decision on this
    screening, as a double submit of the decision form would."""
    if latest is None or latest.screening_id != screening.pk:
        return False
    if data["choice"] == "accept":
        return not latest.is_override
    priority = data["final_priority"] if data["final_path"] == Path.MOBILE_RESPONSE else None
    return (
        latest.final_path == data["final_path"]
        and latest.final_priority == priority
        and latest.override_reason == data["override_reason"].strip()
    )


# --- Mobile response ----------------------------------------------------------

@require_POST
@counselor_required
def request_response(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Open one incident per triage decision; a repeat returns the first."""
    require(request.user, "incident.request", "core.incident")
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.MobileResponseForm(request.POST)
    decision = _latest_decision(contact)
    try:
        _reject_if_closed(contact)
        if decision is None or decision.final_path != Path.MOBILE_RESPONSE:
            raise Conflict(_("The triage decision is not a mobile response; decide on a mobile response first."))
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400, response_form=form)
    try:
        with transaction.atomic():
            ContactDraft.objects.select_for_update().get(pk=draft.pk)
            if not Incident.objects.filter(contact=contact, triage_decision=decision).exists():
                dispatch.do_request_mobile_response(
                    contact, decision=decision, priority=form.cleaned_data["priority"],
                    safety_notes=form.cleaned_data["safety_notes"].strip(),
                    language=contact.service_language or contact.preferred_language,
                    actor=request.user,
                )
            _clear_form_draft(draft, forms.MobileResponseForm.prefix)
    except InvalidInput as error:
        forms.add_domain_errors(form, error)
        return _respond(request, contact, draft, 400, response_form=form)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    return _respond(request, contact, draft)


# --- Imminent risk -----------------------------------------------------------

@require_POST
@counselor_required
def imminent_step(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.ImminentStepForm(request.POST)
    try:
        _reject_if_closed(contact)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400, imminent_form=form)
    now = timezone.now()
    step = form.cleaned_data["step"]
    contact_fields: list[str] = []
    if step == "supervisor":
        contact.supervisor_notified_at = contact.supervisor_notified_at or now
        contact_fields = ["supervisor_notified_at"]
    elif step == "emergency_confirmed":
        contact.emergency_contact_confirmed_at = contact.emergency_contact_confirmed_at or now
        contact_fields = ["emergency_contact_confirmed_at"]
    elif step == "emergency_not_confirmed":
        contact.emergency_contact_not_confirmed_reason = form.cleaned_data["reason"].strip()
        contact_fields = ["emergency_contact_not_confirmed_reason"]
    elif step == "least_invasive":
        draft.least_invasive_at = draft.least_invasive_at or now
        draft.least_invasive_note = form.cleaned_data["note"].strip()
        draft.save(update_fields=["least_invasive_at", "least_invasive_note", "updated_at"])
    elif step == "active_rescue":
        draft.active_rescue_at = draft.active_rescue_at or now
        draft.save(update_fields=["active_rescue_at", "updated_at"])
    if contact_fields:
        contact.updated_at = now
        contact.save(update_fields=contact_fields + ["updated_at"])
    _clear_form_draft(draft, forms.ImminentStepForm.prefix)
    return _respond(request, contact, draft)


# --- Close --------------------------------------------------------------------

@require_POST
@counselor_required
def close_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Close the contact, but not while an imminent risk is unresolved."""
    contact, draft = _load(request, contact_id, audit_view=False)
    form = forms.CloseContactForm(request.POST)
    try:
        _reject_if_closed(contact)
    except Conflict as error:
        return _respond(request, contact, draft, 409, workflow_error=error.message)
    if not form.is_valid():
        return _respond(request, contact, draft, 400, close_form=form)
    context = _workflow_context(contact, draft)
    if context["imminent"] and not context["emergency_resolved"]:
        form.add_error(None, _(
            "The person is at imminent risk: confirm that emergency services reached them, "
            "or record why that could not be confirmed, before closing."
        ))
        return _respond(request, contact, draft, 409, close_form=form)
    now = timezone.now()
    contact.service_language = form.cleaned_data["service_language"]
    contact.interpreter_used = form.cleaned_data["interpreter_used"]
    contact.status = Contact.Status.CLOSED
    contact.ended_at = now
    contact.updated_at = now
    contact.save(update_fields=["service_language", "interpreter_used", "status", "ended_at", "updated_at"])
    logger.info("Contact %s closed by %s", contact.pk, request.user.get_username())
    return _respond(request, contact, draft)

