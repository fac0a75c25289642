"""Follow-up queue, supervisor escalations and referrals per contact.

Server-rendered like the other consoles. Every view checks a capability with
``require`` (denials are audited), and each page that shows a caller's
details records a view of that contact in the audit trail.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crisishub.audit.signals import record_view
from crisishub.consoles.forms import add_domain_errors
from crisishub.consoles.views import console_login_required
from crisishub.core.access import access_contact_by_id, require
from crisishub.core.roles import has_capability
from crisishub.core.errors import Conflict, InvalidInput, NotFound
from crisishub.followup import services
from crisishub.followup.forms import AttemptForm, ReferralForm, ReferralStatusForm
from crisishub.followup.models import ACTIVE_STATUSES, FollowUpTask, Referral, TaskStatus

logger = logging.getLogger(__name__)

WORK = "followup.work"
SUPERVISE = "followup.supervise"
# Caller fields shown next to each task, recorded on the audited view.
SHOWN_FIELDS = ["caller_name", "caller_phone"]


def _task_rows(tasks, bound_form=None, bound_task_id=None) -> list[dict]:
    now = timezone.now()
    rows = []
    for task in tasks:
        record_view(task.contact, SHOWN_FIELDS, message=f"follow-up task {task.pk}")
        form = bound_form if task.pk == bound_task_id else AttemptForm(task_id=task.pk)
        rows.append({"task": task, "overdue": task.due_at < now, "form": form,
                     "attempts": list(task.attempts.all())})
    return rows


def _queue_context(bound_form=None, bound_task_id=None, error=None) -> dict:
    services.escalate_overdue()
    tasks = (FollowUpTask.objects.filter(status__in=ACTIVE_STATUSES)
             .select_related("contact").prefetch_related("attempts").order_by("due_at", "id")[:200])
    return {"rows": _task_rows(tasks, bound_form, bound_task_id), "error": error}


def _escalation_context(bound_form=None, bound_task_id=None, error=None) -> dict:
    services.escalate_overdue()
    tasks = (FollowUpTask.objects.filter(status=TaskStatus.ESCALATED)
             .select_related("contact").prefetch_related("attempts").order_by("escalated_at", "id")[:200])
    return {"rows": _task_rows(tasks, bound_form, bound_task_id), "error": error}


@require_GET
@console_login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Active follow-up tasks, due soonest first."""
    require(request.user, WORK, "followup.queue")
    context = _queue_context()
    context["perms_supervise"] = has_capability(request.user, SUPERVISE)
    context["due_hours"] = int(services.due_window().total_seconds() // 3600)
    return render(request, "followup/queue.html", context)


@require_GET
@console_login_required
def escalations(request: HttpRequest) -> HttpResponse:
    """Escalated high-risk follow-ups, for supervisors."""
    require(request.user, SUPERVISE, "followup.escalations")
    return render(request, "followup/escalations.html", _escalation_context())


@require_POST
@console_login_required
def add_attempt(request: HttpRequest, task_id: int) -> HttpResponse:
    """Record one attempt; return to the page it came from."""
    require(request.user, WORK, "followup.followuptask", str(task_id))
    from_escalations = request.POST.get("return") == "escalations"
    page, build = (("followup/escalations.html", _escalation_context) if from_escalations
                   else ("followup/queue.html", _queue_context))
    form = AttemptForm(request.POST, task_id=task_id)
    if not form.is_valid():
        return render(request, page, build(form, task_id), status=400)
    try:
        services.record_attempt(task_id, form.cleaned_data["outcome"],
                                note=form.cleaned_data["note"], actor=request.user)
    except NotFound as error:
        raise Http404(error.message) from None
    except InvalidInput as error:
        add_domain_errors(form, error)
        return render(request, page, build(form, task_id), status=400)
    except Conflict as error:
        return render(request, page, build(error=error.message), status=409)
    messages.success(request, _("Attempt recorded."))
    return redirect("followup:escalations" if from_escalations else "followup:queue")


# --- Referrals ----------------------------------------------------------------

def _referral_context(contact, form=None, status_forms=None, error=None) -> dict:
    incidents = list(contact.incidents.order_by("-t0"))
    referrals = list(Referral.objects.filter(contact=contact).select_related("facility", "incident"))
    status_forms = status_forms or {}
    return {
        "contact": contact,
        "form": form or ReferralForm(incidents=incidents),
        "rows": [{"referral": r, "form": status_forms.get(r.pk) or ReferralStatusForm(referral=r)}
                 for r in referrals],
        "measures": services.referral_measures(referrals),
        "error": error,
    }


@require_http_methods(["GET", "POST"])
@console_login_required
def contact_referrals(request: HttpRequest, contact_id: int) -> HttpResponse:
    """List a contact's referrals and refer the person to a facility."""
    require(request.user, WORK, "core.contact", str(contact_id))
    contact = access_contact_by_id(request.user, contact_id, fields=SHOWN_FIELDS)
    if request.method == "GET":
        return render(request, "followup/referrals.html", _referral_context(contact))
    form = ReferralForm(request.POST, incidents=contact.incidents.all())
    if not form.is_valid():
        return render(request, "followup/referrals.html", _referral_context(contact, form), status=400)
    data = form.cleaned_data
    try:
        services.create_referral(contact, data["facility"].pk, incident_id=data["incident"] or None,
                                 note=data["note"], actor=request.user)
    except InvalidInput as error:
        add_domain_errors(form, error)
        return render(request, "followup/referrals.html", _referral_context(contact, form), status=400)
    messages.success(request, _("Referral recorded."))
    return redirect("followup:referrals", contact_id=contact.pk)


@require_POST
@console_login_required
def referral_status(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Move a referral to accepted, rejected or completed."""
    require(request.user, WORK, "followup.referral", str(referral_id))
    referral = Referral.objects.filter(pk=referral_id).first()
    if referral is None:
        raise Http404(f"Referral {referral_id} not found.")
    contact = access_contact_by_id(request.user, referral.contact_id, fields=SHOWN_FIELDS)
    # Accept every status here, so a page left open while the referral moved
    # on gets the service's Conflict naming the current status.
    form = ReferralStatusForm(request.POST, prefix=f"referral-{referral_id}")
    if not form.is_valid():
        return render(request, "followup/referrals.html",
                      _referral_context(contact, status_forms={referral_id: form}), status=400)
    try:
        services.advance_referral(referral_id, form.cleaned_data["status"], reason=form.cleaned_data["reason"])
    except InvalidInput as error:
        add_domain_errors(form, error)
        return render(request, "followup/referrals.html",
                      _referral_context(contact, status_forms={referral_id: form}), status=400)
    except Conflict as error:
        return render(request, "followup/referrals.html",
                      _referral_context(contact, error=error.message), status=409)
    messages.success(request, _("Referral updated."))
    return redirect("followup:referrals", contact_id=contact.pk)
