"""The date-range form of the reports page."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crisishub.reports.periods import (
    ReportInputError, ReportRange, last_complete_period_end, parse_date,
)


def default_range(today: dt.date | None = None) -> ReportRange:
    """Return the last twelve whole months that ended before today."""
    today = today or timezone.localdate()
    end = last_complete_period_end(today, "month")
    month = end.month - 11
    year = end.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return ReportRange(dt.date(year, month, 1), end, "month")


class PlainTextErrorDict(ErrorDict):
    """Form errors whose ``as_text`` is plain text, without HTML escaping,
    for the text/plain error of the CSV download."""

    def as_text(self) -> str:
        lines = []
        for field, errors in self.items():
            indent = ""
            if field != NON_FIELD_ERRORS:
                lines.append(f"* {field}")
                indent = "  "
            lines.extend(f"{indent}* {message}" for error in errors.as_data() for message in error)
        return "\n".join(lines) + "\n"


class ReportForm(forms.Form):
    # Dates are text fields so the error can name the value, which
    # DateField's message cannot. The date input still offers a picker.
    start = forms.CharField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("First day of a month (or of a quarter), YYYY-MM-DD."))
    end = forms.CharField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("Last day of a month (or of a quarter), included, YYYY-MM-DD."))
    group = forms.ChoiceField(label=_("Group by"), initial="month",
                              choices=[("month", _("Month")), ("quarter", _("Quarter"))])

    def full_clean(self) -> None:
        super().full_clean()
        self._errors = PlainTextErrorDict(self._errors, renderer=self.renderer)

    def clean_start(self) -> dt.date:
        return self._date("start", "from")

    def clean_end(self) -> dt.date:
        return self._date("end", "to")

    def _date(self, field: str, name: str) -> dt.date:
        try:
            return parse_date(self.cleaned_data[field], name)
        except ReportInputError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        if {"start", "end", "group"} <= data.keys():
            try:
                report_range = ReportRange(data["start"], data["end"], data["group"])
                report_range.check_complete(timezone.localdate())
                data["range"] = report_range
            except ReportInputError as error:
                raise forms.ValidationError(str(error)) from None
        return data
