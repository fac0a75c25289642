"""Stanley-Brown safety plans written with a person by the mobile team.

A plan belongs to the contact whose person it was written with, and names
the incident during which the team wrote it. Each of the six steps is an
ordered list of entries in the person's own words. A review after a risk
change copies the current version into a new one and freezes the old
version: its rows then reject every save and delete.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisishub.audit.registry import audited
from crisishub.core.errors import Conflict


class Step(models.IntegerChoices):
    """The six steps of the Stanley-Brown Safety Planning Intervention, in order."""

    WARNING_SIGNS = 1, _("Warning signs")
    INTERNAL_COPING = 2, _("Internal coping strategies")
    DISTRACTION = 3, _("People and social settings that provide distraction")
    PEOPLE_TO_ASK = 4, _("People I can ask for help")
    PROFESSIONALS = 5, _("Professionals and agencies to contact in a crisis")
    SAFE_ENVIRONMENT = 6, _("Making the environment safe")


# Maximum length of one entry and of the reason for living, in characters.
MAX_ENTRY_CHARS = 2000
# Maximum entries in one step.
MAX_ENTRIES_PER_STEP = 30


@audited(redact=("reason_for_living",))
class SafetyPlan(models.Model):
    """One version of a person's safety plan."""

    contact = models.ForeignKey(
        "core.Contact", on_delete=models.PROTECT, related_name="safety_plans"
    )
    incident = models.ForeignKey(
        "core.Incident", null=True, blank=True, on_delete=models.PROTECT,
        related_name="safety_plans",
    )
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    reason_for_living = models.TextField(_("the one thing most important to me"), blank=True)
    # Staff who wrote the plan with the person, as printed on the copy.
    written_with = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # Why this version replaced the previous one (the risk change).
    review_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["contact_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "version"], name="unique_plan_version"),
            models.UniqueConstraint(
                fields=["contact"], condition=Q(superseded_at__isnull=True),
                name="one_current_plan_per_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"Safety plan {self.pk} (contact {self.contact_id}, version {self.version})"

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = SafetyPlan.objects.filter(pk=self.pk).values_list("superseded_at", flat=True).first()
            if stored is not None:
                raise Conflict(
                    _("Version %(version)s of this safety plan was replaced by a review, so it "
                      "is read-only. Edit the current version instead.") % {"version": self.version}
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict(_("Safety plans are kept; a review replaces a version instead."))

    def entries_by_step(self) -> list[tuple[Step, list["SafetyPlanEntry"]]]:
        """Return every step in order with its entries, empty steps included."""
        grouped: dict[int, list[SafetyPlanEntry]] = {step.value: [] for step in Step}
        for entry in self.entries.order_by("step", "position"):
            grouped[entry.step].append(entry)
        return [(step, grouped[step.value]) for step in Step]


@audited(redact=("text",))
class SafetyPlanEntry(models.Model):
    """One line of a step, in the person's own words."""

    plan = models.ForeignKey(SafetyPlan, on_delete=models.PROTECT, related_name="entries")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    # Order within the step, from 0.
    position = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=MAX_ENTRY_CHARS)
    # The directory facility this entry was suggested from (step 5 only).
    facility = models.ForeignKey(
        "core.Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan_id", "step", "position"]
        verbose_name_plural = "safety plan entries"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "step", "position"], name="unique_entry_position"
            ),
            models.CheckConstraint(condition=Q(step__gte=1, step__lte=6), name="entry_step_range"),
        ]

    def __str__(self) -> str:
        return f"Safety plan {self.plan_id} step {self.step} entry {self.position}"

    def _reject_if_frozen(self) -> None:
        if SafetyPlan.objects.filter(pk=self.plan_id, superseded_at__isnull=False).exists():
            raise Conflict(
                _("This safety plan version was replaced by a review, so it is read-only.")
            )

    def save(self, *args, **kwargs):
        self._reject_if_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._reject_if_frozen()
        return super().delete(*args, **kwargs)
