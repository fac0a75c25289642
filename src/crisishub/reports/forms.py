"""The date-range form of the reports page."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crisishub.reports.periods import ReportInputError, ReportRange, parse_date


def default_range(today: dt.date | None = None) -> ReportRange:
    """Return the last twelve months up to today, from the first of a month."""
    today = today or timezone.localdate()
    month = today.month - 11
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return ReportRange(dt.date(year, month, 1), today, "month")


class ReportForm(forms.Form):
    # Dates are text fields so the error can name the value, which
    # DateField's message cannot. The date input still offers a picker.
    start = forms.CharField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("First day, YYYY-MM-DD."))
    end = forms.CharField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}),
                          help_text=_("Last day, included, YYYY-MM-DD."))
    group = forms.ChoiceField(label=_("Group by"), initial="month",
                              choices=[("month", _("Month")), ("quarter", _("Quarter"))])

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
                data["range"] = ReportRange(data["start"], data["end"], data["group"])
            except ReportInputError as error:
                raise forms.ValidationError(str(error)) from None
        return data
