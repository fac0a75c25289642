"""Records of the crisis hub: contacts, screening, triage, incidents, teams.

Vocabulary used throughout: a *contact* is one call, text or chat with the
call center; a *screening* is the risk assessment made on it; a *triage
decision* applies the Crisis Risk Level Matrix; an *incident* is a mobile
response, numbered, with an append-only timeline of *incident events*; a
*team* is a counselor and a peer with a vehicle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crisishub.audit.registry import audited
from crisishub.core.errors import Conflict


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")
    CHINESE = "zh", _("Chinese")
    VIETNAMESE = "vi", _("Vietnamese")
    TAGALOG = "tl", _("Tagalog")
    RUSSIAN = "ru", _("Russian")
    HMONG = "hmn", _("Hmong")
    PUNJABI = "pa", _("Punjabi")
    UKRAINIAN = "uk", _("Ukrainian")
    PERSIAN = "fa", _("Persian")
    ARABIC = "ar", _("Arabic")
    ASL = "ase", _("American Sign Language")
    OTHER = "other", _("Other")


class LocationPrecision(models.TextChoices):
    DEVICE = "device", _("Device or GPS position")
    MAP_PIN = "map_pin", _("Map pin")
    COORDINATES = "coordinates", _("Typed coordinates")
    ADDRESS = "address", _("Address")
    BLOCK = "block", _("Block")
    ZIP_CENTROID = "zip_centroid", _("ZIP code centre (coarse)")
    GENERAL_AREA = "general_area", _("General area from 988 georouting (coarse)")
    UNKNOWN = "unknown", _("Unknown")


@audited(redact=("display_name", "phone_number", "date_of_birth"))
class Person(models.Model):
    """Someone who has been in crisis, so repeat contacts can be linked."""

    display_name = models.CharField(_("name"), max_length=150, blank=True)
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True, db_index=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Person {self.pk}"


@audited(redact=("token_sha256",))
class Partner(models.Model):
    """A 988 or other partner that sends referrals through the API."""

    name = models.CharField(max_length=150, unique=True)
    # SHA-256 of the API token; the token itself is shown once and not kept.
    token_sha256 = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


@audited(redact=("caller_name", "caller_phone", "location_text", "notes"))
class Contact(models.Model):
    """One call, text or chat handled by the crisis call center."""

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        TEXT = "text", _("Text")
        CHAT = "chat", _("Chat")

    class Source(models.TextChoices):
        LIFELINE_988 = "988_transfer", _("988 transfer")
        DIRECT_LINE = "direct_line", _("Direct line")
        TRANSFER_911 = "911_transfer", _("911 transfer")
        OTHER = "other", _("Other")

    class CallerRelationship(models.TextChoices):
        SELF = "self", _("Self")
        THIRD_PARTY = "third_party", _("Third party")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.PHONE)
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    offered_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    caller_relationship = models.CharField(
        max_length=12, choices=CallerRelationship.choices, default=CallerRelationship.SELF
    )
    caller_name = models.CharField(max_length=150, blank=True)
    caller_phone = models.CharField(max_length=32, blank=True, db_index=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    # The language the service was actually given in.
    service_language = models.CharField(max_length=8, choices=Language.choices, blank=True)
    interpreter_used = models.BooleanField(default=False)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_precision = models.CharField(
        max_length=16, choices=LocationPrecision.choices, default=LocationPrecision.UNKNOWN
    )
    location_text = models.CharField(max_length=200, blank=True)
    location_unknown_reason = models.CharField(max_length=300, blank=True)
    in_service_area = models.BooleanField(null=True)
    notes = models.TextField(blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="handled_contacts",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="entered_contacts",
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    external_reference = models.CharField(max_length=100, blank=True)
    # Imminent-risk handling: the contact cannot close until emergency
    # services reached the person, or the reason they could not is given.
    imminent_risk = models.BooleanField(default=False)
    supervisor_notified_at = models.DateTimeField(null=True, blank=True)
    emergency_contact_confirmed_at = models.DateTimeField(null=True, blank=True)
    emergency_contact_not_confirmed_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-offered_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="contact_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True)
                | Q(longitude__gte=-180, longitude__lte=180),
                name="contact_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Contact {self.pk}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@audited()
class Screening(models.Model):
    """A risk assessment on a contact: C-SSRS screener and Lifeline domains."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="screenings")
    instrument_version = models.CharField(max_length=60)
    # Item code ("1".."6a") to True/False; items skipped by the skip logic
    # are absent.
    cssrs_answers = models.JSONField(default=dict)
    risk_level = models.CharField(max_length=10)
    # Domain name to list of endorsed factor codes.
    lifeline_domains = models.JSONField(default=dict, blank=True)
    danger_to_others = models.BooleanField(default=False)
    imminent_risk = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Screening {self.pk} ({self.risk_level})"


@audited()
class RiskMatrix(models.Model):
    """One version of the Crisis Risk Level Matrix, held as configuration.

    A version that a triage decision used is frozen: editing it is rejected,
    so the administrator adds a new version instead.
    """

    version = models.CharField(max_length=60, unique=True)
    label = models.CharField(max_length=200)
    document = models.JSONField()
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "crisis risk level matrix"
        verbose_name_plural = "crisis risk level matrices"
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_matrix"
            )
        ]

    # Fields a triage decision depends on, frozen once a decision used the row.
    FROZEN_FIELDS = ("version", "document")

    def __str__(self) -> str:
        return f"{self.label} ({self.version})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            self._reject_edit_of_used_version()
        super().save(*args, **kwargs)

    def _reject_edit_of_used_version(self) -> None:
        # NOTE: QuerySet.update() bypasses this check.
        stored = RiskMatrix.objects.filter(pk=self.pk).values(*self.FROZEN_FIELDS).first()
        if stored is None:
            return
        changed = [name for name in self.FROZEN_FIELDS if stored[name] != getattr(self, name)]
        used = self.decisions.count() if changed else 0
        if used:
            raise Conflict(
                f"Matrix version {stored['version']!r} was used by {used} triage "
                f"decision(s), so its {' and '.join(changed)} cannot change; install "
                "the edited matrix as a new version instead."
            )


class Path(models.TextChoices):
    RESOLVE_BY_PHONE = "resolve_by_phone", _("Resolve by phone")
    MOBILE_RESPONSE = "mobile_response", _("Mobile response")
    EMERGENCY_911_EMS = "emergency_911_ems", _("911 / EMS")
    WARM_HANDOFF = "warm_handoff", _("Warm hand-off")


@audited()
class TriageDecision(models.Model):
    """The matrix's recommendation for a contact and what the counselor chose."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="triage_decisions")
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="+")
    matrix = models.ForeignKey(RiskMatrix, on_delete=models.PROTECT, related_name="decisions")
    # Copied so the decision reads the same even if the matrix row changed.
    matrix_version = models.CharField(max_length=60)
    crisis_level = models.CharField(max_length=30)
    rule_id = models.CharField(max_length=60)
    reasons = models.JSONField(default=list)
    recommended_path = models.CharField(max_length=20, choices=Path.choices)
    recommended_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    final_path = models.CharField(max_length=20, choices=Path.choices)
    final_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Triage {self.pk}: {self.final_path}"

    @property
    def is_override(self) -> bool:
        return (
            self.final_path != self.recommended_path
            or self.final_priority != self.recommended_priority
        )


@audited()
class Station(models.Model):
    name = models.CharField(max_length=150, unique=True)
    address = models.CharField(max_length=200, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    def __str__(self) -> str:
        return self.name


class TeamStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    ASSIGNED = "assigned", _("Assigned")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    AT_DESTINATION = "at_destination", _("At destination")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")
    OFF_DUTY = "off_duty", _("Off duty")


@audited()
class Team(models.Model):
    """A mobile crisis team: one mental health counselor and one peer."""

    name = models.CharField(max_length=60, unique=True)
    vehicle = models.CharField(max_length=60, blank=True)
    station = models.ForeignKey(Station, null=True, blank=True, on_delete=models.PROTECT)
    shift_start = models.TimeField(null=True, blank=True)
    shift_end = models.TimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=TeamStatus.choices, default=TeamStatus.OFF_DUTY)
    status_since = models.DateTimeField()
    last_latitude = models.FloatField(null=True, blank=True)
    last_longitude = models.FloatField(null=True, blank=True)
    last_position_at = models.DateTimeField(null=True, blank=True)
    last_checkin_at = models.DateTimeField(null=True, blank=True)
    # Union of the members' languages, kept for fast recommendation.
    languages = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MemberRole(models.TextChoices):
    COUNSELOR = "counselor", _("Mental health counselor")
    PEER = "peer", _("Peer support specialist")


@audited()
class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="team_memberships",
    )
    display_name = models.CharField(max_length=150)
    role = models.CharField(max_length=12, choices=MemberRole.choices)
    languages = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role})"


class IncidentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ASSIGNED = "assigned", _("Assigned")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    AT_DESTINATION = "at_destination", _("At destination")
    CLEARED = "cleared", _("Cleared")
    CANCELLED = "cancelled", _("Cancelled")
    NO_TEAM = "no_team", _("No team sent")


class LawEnforcement(models.TextChoices):
    NONE = "none", _("None")
    REQUESTED_BY_TEAM = "requested_by_team", _("Requested by the team")
    DISPATCHED_BY_CALL_CENTER = "dispatched_by_call_center", _("Dispatched by the call center")
    ALREADY_ON_SCENE = "already_on_scene", _("Already on scene")


class NoTeamReason(models.TextChoices):
    NO_TEAM_AVAILABLE = "no_team_available", _("No team available within the standard")
    OUTSIDE_SERVICE_AREA = "outside_service_area", _("Outside the service area")
    LOCATION_UNKNOWN = "location_unknown", _("Location unknown")
    ROUTED_TO_911_EMS = "routed_to_911_ems", _("Routed to 911 / EMS")
    RESOLVED_BY_PHONE = "resolved_by_phone", _("Resolved by phone")
    PERSON_DECLINED = "person_declined", _("Person declined")
    DUPLICATE = "duplicate", _("Duplicate of another incident")
    SAFETY_CONCERN = "safety_concern", _("Scene safety concern")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    RESOLVED_IN_COMMUNITY = "resolved_in_community", _("Resolved in the community")
    VOLUNTARY_TRANSPORT = "voluntary_transport", _("Voluntary transport")
    INVOLUNTARY_HOLD_BY_OTHERS = "involuntary_hold_by_others", _("Involuntary hold initiated by others")
    DECLINED = "declined", _("Declined services")
    GONE_ON_ARRIVAL = "gone_on_arrival", _("Person gone on arrival")


@audited(redact=("safety_notes",))
class Incident(models.Model):
    """A mobile crisis response, from T0 to cleared."""

    number = models.CharField(max_length=20, unique=True)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="incidents")
    triage_decision = models.ForeignKey(
        TriageDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Another incident this one duplicates (a second call about one crisis).
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )
    priority = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.PENDING)
    # When the call center determined that a mobile response is needed.
    t0 = models.DateTimeField(db_index=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_precision = models.CharField(max_length=16, choices=LocationPrecision.choices)
    tract_geoid = models.CharField(max_length=11, blank=True)
    # "urban" or "rural": under 50 people per square mile is rural.
    area_class = models.CharField(max_length=5, blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    risk_level = models.CharField(max_length=10, blank=True)
    safety_notes = models.TextField(blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    law_enforcement = models.CharField(
        max_length=28, choices=LawEnforcement.choices, default=LawEnforcement.NONE
    )
    law_enforcement_reason = models.CharField(max_length=300, blank=True)
    no_team_reason = models.CharField(max_length=24, choices=NoTeamReason.choices, blank=True)
    no_team_detail = models.CharField(max_length=300, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    disposition = models.CharField(max_length=28, choices=Disposition.choices, blank=True)
    transport_destination = models.ForeignKey(
        "Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transport_consent = models.BooleanField(null=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["priority", "t0"]
        indexes = [models.Index(fields=["status", "priority", "t0"])]

    def __str__(self) -> str:
        return self.number

    @property
    def standard_minutes(self) -> int:
        return 120 if self.area_class == "rural" else 60


@audited()
class Assignment(models.Model):
    """A team working an incident. At most one active row per team and per
    incident, enforced by partial unique indexes on both databases."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="assignments")
    active = models.BooleanField(default=True)
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team"], condition=Q(active=True), name="one_active_assignment_per_team"
            ),
            models.UniqueConstraint(
                fields=["incident"], condition=Q(active=True),
                name="one_active_assignment_per_incident",
            ),
        ]


class AppendOnlyQuerySet(models.QuerySet):
    """Reject bulk update and delete, which bypass ``Model.save`` and ``delete``."""

    def update(self, **kwargs):
        raise PermissionError(
            f"{self.model._meta.verbose_name_plural.capitalize()} are append-only and cannot be changed."
        )

    def delete(self):
        raise PermissionError(
            f"{self.model._meta.verbose_name_plural.capitalize()} are append-only and cannot be deleted."
        )


class IncidentEvent(models.Model):
    """One timestamped entry on an incident's timeline; never changed."""

    objects = AppendOnlyQuerySet.as_manager()

    class Kind(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ASSIGNED = "assigned", _("Assigned")
        EN_ROUTE = "en_route", _("En route")
        ON_SCENE = "on_scene", _("On scene")
        TRANSPORTING = "transporting", _("Transporting")
        AT_DESTINATION = "at_destination", _("At destination")
        CLEARED = "cleared", _("Cleared")
        CANCELLED = "cancelled", _("Cancelled")
        UNASSIGNED = "unassigned", _("Unassigned for reassignment")
        NO_TEAM = "no_team", _("No team sent")
        CHECK_IN = "check_in", _("Check-in")
        EMERGENCY = "emergency", _("Emergency alert")
        NOTE = "note", _("Note")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    occurred_at = models.DateTimeField()
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.occurred_at:%H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Incident events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Incident events are append-only and cannot be deleted.")


@audited()
class Facility(models.Model):
    """A place a person can go: an ED, urgent care, crisis bed or provider."""

    class Kind(models.TextChoices):
        EMERGENCY_DEPARTMENT = "emergency_department", _("Emergency department")
        PSYCHIATRIC_HOSPITAL = "psychiatric_hospital", _("Psychiatric hospital")
        MENTAL_HEALTH_URGENT_CARE = "mental_health_urgent_care", _("Mental health urgent care")
        CRISIS_RESIDENTIAL = "crisis_residential", _("Crisis residential")
        CRISIS_STABILIZATION = "crisis_stabilization", _("Crisis stabilization unit")
        MHP_PROVIDER = "mhp_provider", _("Mental health plan (MHP) provider")
        SUPT_PROVIDER = "supt_provider", _("Substance use prevention and treatment (SUPT) provider")
        HOSPITAL_NO_ED = "hospital_no_ed", _("Hospital without emergency department")
        LONG_TERM_ACUTE_CARE = "long_term_acute_care", _("Long-term acute care hospital")
        REHABILITATION = "rehabilitation", _("Rehabilitation facility")
        SHELTER = "shelter", _("Shelter")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    address = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=80, blank=True)
    zip_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    emergency_services = models.BooleanField(null=True)
    open_24_7 = models.BooleanField(default=False)
    hours = models.CharField(max_length=200, blank=True)
    languages = models.JSONField(default=list, blank=True)
    beds_total = models.PositiveIntegerField(null=True, blank=True)
    beds_available = models.PositiveIntegerField(null=True, blank=True)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(models.Model):
    """The first response to an API request, replayed for retries with the
    same ``Idempotency-Key``."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="unique_idempotency_key")
        ]


class AddressEntry(models.Model):
    """One entry of the local address index used to place a caller.

    ``normalized`` is the upper-case text with punctuation and repeated
    spaces removed, which lookups match against.
    """

    class Precision(models.TextChoices):
        ADDRESS = "address", _("Address")
        BLOCK = "block", _("Block")

    normalized = models.CharField(max_length=200, db_index=True)
    display = models.CharField(max_length=200)
    latitude = models.FloatField()
    longitude = models.FloatField()
    precision = models.CharField(max_length=8, choices=Precision.choices)
    source = models.CharField(max_length=100)

    class Meta:
        ordering = ["normalized"]
        verbose_name_plural = "address entries"
        constraints = [
            models.UniqueConstraint(
                fields=["normalized", "source"], name="unique_address_per_source"
            )
        ]

    def __str__(self) -> str:
        return self.display
