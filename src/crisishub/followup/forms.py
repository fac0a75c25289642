"""Forms of the follow-up queue and the referral list."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crisishub.core.models import Facility
from crisishub.followup.models import REFERRAL_TRANSITIONS, AttemptOutcome, ReferralStatus


class AttemptForm(forms.Form):
    # The blank first choice keeps a hurried submit from recording "reached".
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", "---------"), *AttemptOutcome.choices])
    note = forms.CharField(label=_("Note"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task_id: int | None = None, **kwargs):
        # One form per task on the page, so ids must differ.
        kwargs.setdefault("prefix", f"attempt-{task_id}" if task_id else "attempt")
        super().__init__(*args, **kwargs)


class ReferralForm(forms.Form):
    prefix = "referral"

    facility = forms.ModelChoiceField(
        label=_("Facility"), queryset=Facility.objects.filter(is_active=True).order_by("name"),
    )
    incident = forms.ChoiceField(label=_("Field encounter"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].choices = [("", _("None (referral from the call)"))] + [
            (str(incident.pk), incident.number) for incident in incidents
        ]


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(label=_("Reason (for a rejection)"), required=False, max_length=300)

    def __init__(self, *args, referral=None, **kwargs):
        kwargs.setdefault("prefix", f"referral-{referral.pk}" if referral else "referral-status")
        super().__init__(*args, **kwargs)
        # Offer only the moves the referral's current status allows.
        allowed = [target for target, source in REFERRAL_TRANSITIONS.items()
                   if referral is None or referral.status == source]
        self.fields["status"].choices = [("", "---------")] + [
            (target, ReferralStatus(target).label) for target in allowed
        ]
