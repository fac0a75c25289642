"""Forms of the counselor console and the team app.

Each form checks what a person can fix on the screen. The services check
the rules again, and ``add_domain_errors`` puts a service's InvalidInput
back on the form's fields.
"""

from __future__ import annotations

import math

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crisishub.core.errors import DomainError
from crisishub.core.models import (
    Contact, Disposition, Facility, Language, LawEnforcement, Path,
)
from crisishub.consoles import labels
from crisishub.core.services.intake import normalize_phone
from crisishub.rules import lifeline


def add_domain_errors(form: forms.Form, error: DomainError, aliases: dict | None = None) -> None:
    """Attach a service error to the form field it names, or to the form.

    ``aliases`` maps a service field name to the form's field name.
    """
    aliases = aliases or {}
    if not error.errors:
        form.add_error(None, error.message)
        return
    for field_error in error.errors:
        name = aliases.get(field_error.field, field_error.field)
        message = field_error.message
        if field_error.fix:
            message = f"{message} {field_error.fix}"
        if name in form.fields:
            form.add_error(name, message)
        else:
            form.add_error(None, message)


def clean_phone_number(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    digits = normalize_phone(value)
    if len(digits) != 10:
        raise forms.ValidationError(
            _("Phone number %(value)s has %(count)s digits; enter a 10-digit number such as 916-555-0123."),
            params={"value": value, "count": len(digits)},
        )
    return value


LANGUAGE_CHOICES = Language.choices
BLANK_LANGUAGE = [("", _("Not yet known"))] + list(Language.choices)


class StartContactForm(forms.Form):
    """Start a new contact. ``start_key`` is rendered once per page, so a
    double submit of the same page finds the contact it already made."""

    start_key = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=16)
    source = forms.ChoiceField(label=_("How the call came in"), choices=Contact.Source.choices,
                               initial=Contact.Source.LIFELINE_988)
    channel = forms.ChoiceField(label=_("Channel"), choices=Contact.Channel.choices,
                                initial=Contact.Channel.PHONE)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=150, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone number"), max_length=32, required=False,
                                   widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=LANGUAGE_CHOICES,
                                           initial=Language.ENGLISH)

    def clean_caller_phone(self) -> str:
        return clean_phone_number(self.cleaned_data["caller_phone"])


class CallerDetailsForm(forms.Form):
    """The caller's details, saved as the counselor types."""

    caller_relationship = forms.ChoiceField(label=_("Who is calling"),
                                            choices=Contact.CallerRelationship.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Contact.Channel.choices)
    caller_name = forms.CharField(label=_("Caller's name"), max_length=150, required=False)
    caller_phone = forms.CharField(label=_("Caller's phone number"), max_length=32, required=False,
                                   widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=LANGUAGE_CHOICES)
    service_language = forms.ChoiceField(
        label=_("Language the service is given in"), choices=BLANK_LANGUAGE, required=False,
    )
    interpreter_used = forms.BooleanField(label=_("An interpreter is used"), required=False)
    notes = forms.CharField(label=_("Call notes"), required=False, max_length=10000,
                            widget=forms.Textarea(attrs={"rows": 5}))

    FIELDS = ("caller_relationship", "channel", "caller_name", "caller_phone",
              "preferred_language", "service_language", "interpreter_used", "notes")

    @classmethod
    def initial_from(cls, contact: Contact) -> dict:
        return {name: getattr(contact, name) for name in cls.FIELDS}

    def clean_caller_phone(self) -> str:
        return clean_phone_number(self.cleaned_data["caller_phone"])


class LocationForm(forms.Form):
    """One way of placing the person: pin, coordinates, ZIP, address or unknown."""

    prefix = "location"

    METHOD_CHOICES = [
        ("map_pin", _("Map pin")),
        ("coordinates", _("Typed coordinates")),
        ("zip", _("ZIP code (coarse)")),
        ("address", _("Address from the address index")),
        ("unknown", _("Location unknown")),
    ]

    method = forms.ChoiceField(label=_("How the location is given"), choices=METHOD_CHOICES,
                               widget=forms.RadioSelect)
    latitude = forms.CharField(label=_("Latitude"), required=False, max_length=30,
                               help_text=_("Decimal degrees, for example 38.5816"))
    longitude = forms.CharField(label=_("Longitude"), required=False, max_length=30,
                                help_text=_("Decimal degrees, for example -121.4944"))
    # An example value for each coordinate's error messages.
    COORDINATE_EXAMPLES = {"latitude": "38.5816", "longitude": "-121.4944"}
    zip_code = forms.CharField(label=_("ZIP code"), required=False, max_length=10)
    address_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    location_text = forms.CharField(label=_("Location description"), required=False, max_length=200,
                                    help_text=_("Landmark, cross street or apartment, for the team"))
    unknown_reason = forms.CharField(label=_("Why the location is unknown"), required=False,
                                     max_length=300)

    def clean(self):
        data = super().clean()
        method = data.get("method")
        if method in ("map_pin", "coordinates"):
            data["lat"] = self._coordinate("latitude", 90)
            data["lon"] = self._coordinate("longitude", 180)
        elif method == "zip":
            if not (data.get("zip_code") or "").strip():
                self.add_error("zip_code", _("Enter the five-digit ZIP code."))
        elif method == "address":
            if not data.get("address_id"):
                self.add_error("address_id", _("Search the address index and choose an address."))
        elif method == "unknown":
            if not (data.get("unknown_reason") or "").strip():
                self.add_error("unknown_reason", _("Record why the location is unknown."))
        return data

    def _coordinate(self, name: str, limit: float) -> float | None:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            self.add_error(name, _("Enter the %(name)s in decimal degrees.") % {"name": self.fields[name].label})
            return None
        # The Spanish interface shows a decimal comma ("38,5816"), so one
        # comma without a point is read as the decimal separator.
        number = raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw
        try:
            value = float(number)
        except ValueError:
            self.add_error(name, _("%(value)s is not a number; use decimal degrees such as %(example)s.")
                           % {"value": raw, "example": self.COORDINATE_EXAMPLES[name]})
            return None
        if not math.isfinite(value) or abs(value) > limit:
            self.add_error(name, _("%(value)s is out of range; use a value between -%(limit)s and %(limit)s.")
                           % {"value": raw, "limit": int(limit)})
            return None
        return value


class CssrsAnswerForm(forms.Form):
    item = forms.CharField(max_length=3)
    answer = forms.ChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))])


class AssessmentForm(forms.Form):
    """The Lifeline domains, danger to others and the call flags."""

    prefix = "assessment"

    SAFE_CHOICES = [("", _("Not known")), ("yes", _("Yes")), ("no", _("No"))]

    desire = forms.MultipleChoiceField(label=_("Suicidal desire"), required=False,
                                       choices=labels.factor_choices(lifeline.Domain.DESIRE),
                                       widget=forms.CheckboxSelectMultiple)
    capability = forms.MultipleChoiceField(label=_("Suicidal capability"), required=False,
                                           choices=labels.factor_choices(lifeline.Domain.CAPABILITY),
                                           widget=forms.CheckboxSelectMultiple)
    intent = forms.MultipleChoiceField(label=_("Suicidal intent"), required=False,
                                       choices=labels.factor_choices(lifeline.Domain.INTENT),
                                       widget=forms.CheckboxSelectMultiple)
    buffers = forms.MultipleChoiceField(label=_("Buffers"), required=False,
                                        choices=labels.factor_choices(lifeline.Domain.BUFFERS),
                                        widget=forms.CheckboxSelectMultiple)
    danger_to_others = forms.BooleanField(label=_("Danger to others"), required=False)
    danger_factors = forms.MultipleChoiceField(label=_("Danger-to-others factors"), required=False,
                                               choices=labels.factor_choices(lifeline.Domain.DANGER_TO_OTHERS),
                                               widget=forms.CheckboxSelectMultiple)
    medical_emergency = forms.BooleanField(label=_("Medical emergency"), required=False)
    weapon_present = forms.BooleanField(label=_("Weapon present"), required=False)
    caller_safe_at_phone = forms.ChoiceField(label=_("Is the caller safe at the phone?"),
                                             choices=SAFE_CHOICES, required=False)

    def clean(self):
        data = super().clean()
        if data.get("danger_factors") and not data.get("danger_to_others"):
            self.add_error("danger_to_others", _("Danger-to-others factors are checked; check Danger to others too, or clear the factors."))
        return data

    def lifeline_data(self) -> dict:
        data = self.cleaned_data
        return {
            "desire": list(data["desire"]), "capability": list(data["capability"]),
            "intent": list(data["intent"]), "buffers": list(data["buffers"]),
            "danger_factors": list(data["danger_factors"]),
        }

    def flags(self) -> dict:
        safe = self.cleaned_data.get("caller_safe_at_phone") or ""
        return {
            "medical_emergency": bool(self.cleaned_data["medical_emergency"]),
            "weapon_present": bool(self.cleaned_data["weapon_present"]),
            "caller_safe_at_phone": {"yes": True, "no": False}.get(safe),
        }


PRIORITY_CHOICES = [("", pgettext_lazy("priority", "None")), ("1", _("1 (most urgent)")), ("2", "2"), ("3", "3")]


class DecisionForm(forms.Form):
    prefix = "decision"

    choice = forms.ChoiceField(choices=[("accept", _("Accept the recommendation")),
                                        ("override", _("Override"))],
                               widget=forms.RadioSelect, label=_("Decision"), initial="accept")
    final_path = forms.ChoiceField(label=_("Response path"), choices=[("", "—")] + list(Path.choices),
                                   required=False)
    final_priority = forms.TypedChoiceField(label=_("Priority"), choices=PRIORITY_CHOICES,
                                            coerce=int, empty_value=None, required=False)
    override_reason = forms.CharField(label=_("Reason for the override"), max_length=300,
                                      required=False)

    def clean(self):
        data = super().clean()
        if data.get("choice") == "override":
            if not data.get("final_path"):
                self.add_error("final_path", _("Choose the response path you decided on."))
            if not (data.get("override_reason") or "").strip():
                self.add_error("override_reason", _("Say why the recommended path does not fit this person."))
        return data


class MobileResponseForm(forms.Form):
    prefix = "response"

    priority = forms.TypedChoiceField(label=_("Priority"), choices=PRIORITY_CHOICES[1:], coerce=int)
    safety_notes = forms.CharField(label=_("Safety notes for the team"), required=False, max_length=2000,
                                   widget=forms.Textarea(attrs={"rows": 3}))


class ImminentStepForm(forms.Form):
    prefix = "imminent"

    STEPS = [
        ("supervisor", _("Supervisor notified")),
        ("least_invasive", _("Least invasive option tried")),
        ("active_rescue", _("Active rescue started")),
        ("emergency_confirmed", _("Emergency services reached the person")),
        ("emergency_not_confirmed", _("Emergency contact could not be confirmed")),
    ]
    step = forms.ChoiceField(choices=STEPS)
    note = forms.CharField(label=_("What was tried"), required=False, max_length=300)
    reason = forms.CharField(label=_("Why contact by emergency services could not be confirmed"),
                             required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("step") == "least_invasive" and not (data.get("note") or "").strip():
            self.add_error("note", _("Describe the least invasive option that was tried."))
        if data.get("step") == "emergency_not_confirmed" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Record why contact by emergency services could not be confirmed."))
        return data


class CloseContactForm(forms.Form):
    prefix = "close"

    service_language = forms.ChoiceField(label=_("Language the service was given in"),
                                         choices=LANGUAGE_CHOICES)
    interpreter_used = forms.BooleanField(label=_("An interpreter was used"), required=False)


# --- Team app ---------------------------------------------------------------

class PositionForm(forms.Form):
    """An optional browser position sent with a status or check-in."""

    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def position(self) -> tuple[float | None, float | None]:
        lat = self.cleaned_data.get("latitude")
        lon = self.cleaned_data.get("longitude")
        if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
            return None, None
        return lat, lon


class CloseOutForm(forms.Form):
    prefix = "closeout"

    CONSENT_CHOICES = [("", _("Not asked (no transport)")), ("yes", _("Yes, the person agreed")),
                       ("no", _("No"))]

    disposition = forms.ChoiceField(
        label=_("Disposition"), choices=[("", "—")] + list(Disposition.choices),
        error_messages={"required": _("Choose the disposition: how the response ended.")},
    )
    law_enforcement = forms.ChoiceField(label=_("Law-enforcement involvement"),
                                        choices=LawEnforcement.choices, initial=LawEnforcement.NONE)
    law_enforcement_reason = forms.CharField(label=_("Reason for law-enforcement involvement"),
                                             required=False, max_length=300)
    transport_destination = forms.ModelChoiceField(
        label=_("Transport destination"), required=False,
        queryset=Facility.objects.filter(is_active=True).order_by("name"),
        empty_label=_("No transport"),
    )
    transport_consent = forms.ChoiceField(label=_("Did the person consent to transport?"),
                                          choices=CONSENT_CHOICES, required=False)

    def clean(self):
        data = super().clean()
        if data.get("law_enforcement") not in (None, LawEnforcement.NONE):
            if not (data.get("law_enforcement_reason") or "").strip():
                self.add_error("law_enforcement_reason", _("Say why law enforcement was involved."))
        if data.get("disposition") == Disposition.VOLUNTARY_TRANSPORT:
            if data.get("transport_destination") is None:
                self.add_error("transport_destination", _("Choose the destination from the directory."))
            if data.get("transport_consent") != "yes":
                self.add_error("transport_consent", _("A voluntary transport needs the person's recorded consent."))
        return data

    def consent(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("transport_consent") or "")
