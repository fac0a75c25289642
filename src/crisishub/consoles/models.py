"""Console working state that is not part of the clinical record."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisishub.core.models import Contact
from crisishub.rules import cssrs


class ContactDraft(models.Model):
    """The counselor's work in progress on one contact.

    The start key is the one-time token of the form that started the
    contact, so a repeated submit returns the same contact. The screening
    answers given so far live here until the screening is recorded.
    """

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="draft")
    start_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    cssrs_version = models.CharField(max_length=60, default=cssrs.INSTRUMENT_VERSION)
    # Item id to True/False for the items answered so far.
    cssrs_answers = models.JSONField(default=dict, blank=True)
    # Call flags the matrix reads besides the screening: medical_emergency,
    # weapon_present (bools) and caller_safe_at_phone (bool or None).
    triage_flags = models.JSONField(default=dict, blank=True)
    # Imminent-risk steps that have no field on Contact: the least invasive
    # option tried, and when active rescue was started.
    least_invasive_at = models.DateTimeField(null=True, blank=True)
    least_invasive_note = models.CharField(max_length=300, blank=True)
    active_rescue_at = models.DateTimeField(null=True, blank=True)
    # Unsubmitted values of the step forms, by form prefix: field name to
    # the list of posted values. A step's entry is dropped once it is saved.
    form_drafts = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Draft of contact {self.contact_id}"
