"""Forms of the dispatcher console's incident actions.

Each form has its own prefix, so several can sit in one incident panel
with distinct field ids. The forms check what a person typed. The dispatch
services still check the records' state (team available, incident
pending), and the view attaches their errors to these forms by field name.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crisishub.core.models import Incident, NoTeamReason, Team, TeamStatus
from crisishub.core.services.dispatch import OPEN_STATUSES


def available_team_choices(exclude_id: int | None = None) -> list[tuple[str, str]]:
    teams = Team.objects.filter(is_active=True, status=TeamStatus.AVAILABLE).order_by("name")
    if exclude_id is not None:
        teams = teams.exclude(pk=exclude_id)
    return [("", _("Choose a team"))] + [(str(team.pk), team.name) for team in teams]


class AssignForm(forms.Form):
    prefix = "assign"

    team_id = forms.TypedChoiceField(label=_("Team"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team_id"].choices = available_team_choices()
        self.fields["team_id"].error_messages["invalid_choice"] = _(
            "Team %(value)s is not available now. Choose an available team."
        )
        self.fields["team_id"].error_messages["required"] = _("Choose the team to send.")


class ReassignForm(forms.Form):
    prefix = "reassign"

    team_id = forms.TypedChoiceField(label=_("Send instead"), coerce=int)
    reason = forms.CharField(
        label=_("Why the current team is taken off"), max_length=300,
        error_messages={"required": _("Say why the current team is taken off.")},
    )

    def __init__(self, *args, current_team_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team_id"].choices = available_team_choices(exclude_id=current_team_id)
        self.fields["team_id"].error_messages["invalid_choice"] = _(
            "Team %(value)s is not available now. Choose an available team."
        )
        self.fields["team_id"].error_messages["required"] = _("Choose the team to send instead.")


class CancelForm(forms.Form):
    prefix = "cancel"

    reason = forms.CharField(
        label=_("Reason for cancelling"), max_length=300,
        error_messages={"required": _("Say why the response is cancelled.")},
    )


class DuplicateForm(forms.Form):
    prefix = "duplicate"

    original_id = forms.TypedChoiceField(label=_("Duplicate of"), coerce=int)

    def __init__(self, *args, incident: Incident | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        targets = Incident.objects.filter(status__in=OPEN_STATUSES).order_by("-t0")
        if incident is not None:
            targets = targets.exclude(pk=incident.pk)
        choices = [("", _("Choose the open incident"))]
        choices += [
            (str(target.pk), f"{target.number} · {target.get_status_display()}")
            for target in targets[:50]
        ]
        field = self.fields["original_id"]
        field.choices = choices
        field.error_messages["required"] = _("Choose the open incident this call duplicates.")
        field.error_messages["invalid_choice"] = _(
            "Incident %(value)s is not open. Choose an open incident."
        )


class NoTeamForm(forms.Form):
    prefix = "noteam"

    reason = forms.ChoiceField(
        label=_("Why no team is sent"),
        error_messages={"required": _("Choose why no team is sent.")},
    )
    detail = forms.CharField(
        label=_("Details"), max_length=300, required=False,
        help_text=_("Required when the reason is Other."),
    )

    def __init__(self, *args, team_within_standard: tuple[str, float, float] | None = None,
                 **kwargs):
        """``team_within_standard`` is (team name, ETA in minutes, minutes
        left of the standard) of the best available team that could arrive
        within the standard, or None when there is none."""
        super().__init__(*args, **kwargs)
        # A duplicate is recorded through the duplicate form, which links
        # the original incident.
        self.fields["reason"].choices = [("", _("Choose a reason"))] + [
            choice for choice in NoTeamReason.choices if choice[0] != NoTeamReason.DUPLICATE
        ]
        self.team_within_standard = team_within_standard
        if team_within_standard is not None:
            self.fields["reason"].help_text = self._available_warning()

    def _available_warning(self) -> str:
        name, eta, left = self.team_within_standard
        return _(
            "%(team)s is available with an ETA of %(eta)s min, within the %(left)s min "
            "left of the standard. To record \"No team available within the standard\", "
            "say in Details why it cannot go."
        ) % {"team": name, "eta": round(eta), "left": max(0, int(left))}

    def clean(self):
        cleaned = super().clean()
        reason = cleaned.get("reason")
        detail = cleaned.get("detail", "").strip()
        if reason == NoTeamReason.OTHER and not detail:
            self.add_error("detail", _("Describe why no team is sent when the reason is Other."))
        if (reason == NoTeamReason.NO_TEAM_AVAILABLE and not detail
                and self.team_within_standard is not None):
            self.add_error("detail", self._available_warning())
        return cleaned
