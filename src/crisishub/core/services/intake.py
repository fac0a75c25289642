"""Call intake: contacts, their location and repeat-caller lookup."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crisishub.core.errors import InvalidInput
from crisishub.core.models import Contact, Language, LocationPrecision, Person

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocationInput:
    latitude: float | None = None
    longitude: float | None = None
    precision: str = LocationPrecision.UNKNOWN
    text: str = ""
    unknown_reason: str = ""


def _check_choice(field: str, value: str, choices) -> None:
    if value not in choices.values:
        raise InvalidInput.for_field(
            field,
            f"Invalid {field} {value!r}.",
            f"Use one of: {', '.join(choices.values)}.",
        )


def validate_location(location: LocationInput, field: str = "location") -> None:
    """Reject a location that has neither coordinates nor an unknown reason."""
    has_lat = location.latitude is not None
    has_lon = location.longitude is not None
    if has_lat != has_lon:
        raise InvalidInput.for_field(
            f"{field}.latitude" if not has_lat else f"{field}.longitude",
            "A location needs both latitude and longitude.",
            "Send both coordinates, or neither with unknown_reason.",
        )
    if has_lat:
        lat, lon = float(location.latitude), float(location.longitude)
        if not (math.isfinite(lat) and -90 <= lat <= 90):
            raise InvalidInput.for_field(
                f"{field}.latitude", f"Latitude {location.latitude!r} is out of range.",
                "Use decimal degrees between -90 and 90.",
            )
        if not (math.isfinite(lon) and -180 <= lon <= 180):
            raise InvalidInput.for_field(
                f"{field}.longitude", f"Longitude {location.longitude!r} is out of range.",
                "Use decimal degrees between -180 and 180.",
            )
        _check_choice(f"{field}.precision", location.precision, LocationPrecision)
        if location.precision == LocationPrecision.UNKNOWN:
            raise InvalidInput.for_field(
                f"{field}.precision", "Coordinates need a precision other than 'unknown'.",
                "Say how the position was found, for example 'device' or 'zip_centroid'.",
            )
    elif not location.unknown_reason.strip():
        raise InvalidInput.for_field(
            f"{field}.unknown_reason",
            "The location is missing and no reason is recorded.",
            "Give coordinates, or record why the location is unknown.",
        )


def _service_area(latitude: float | None, longitude: float | None) -> bool | None:
    if latitude is None:
        return None
    from crisishub.datapack import geo

    return geo.locate(latitude, longitude).in_service_area


def build_contact(
    *,
    source: str,
    offered_at: dt.datetime | None = None,
    answered_at: dt.datetime | None = None,
    channel: str = Contact.Channel.PHONE,
    caller_relationship: str = Contact.CallerRelationship.SELF,
    preferred_language: str = Language.ENGLISH,
    interpreter_used: bool = False,
    caller_name: str = "",
    caller_phone: str = "",
    location: LocationInput | None = None,
    handled_by=None,
    entered_by=None,
    partner=None,
    external_reference: str = "",
    notes: str = "",
    status: str = Contact.Status.OPEN,
    at: dt.datetime | None = None,
) -> Contact:
    """Validate every field and return the contact, not yet saved.

    :func:`do_create_contact` saves it; the replay writes many in bulk.
    """
    now = at or timezone.now()
    _check_choice("source", source, Contact.Source)
    _check_choice("channel", channel, Contact.Channel)
    _check_choice("caller_relationship", caller_relationship, Contact.CallerRelationship)
    _check_choice("preferred_language", preferred_language, Language)
    location = location or LocationInput(unknown_reason="not yet collected")
    # A draft contact may have no location yet, but any part of one that
    # is given must be valid.
    has_any = location.latitude is not None or location.longitude is not None
    if has_any or location.unknown_reason:
        validate_location(location)
    offered_at = offered_at or now
    if answered_at is not None and answered_at < offered_at:
        raise InvalidInput.for_field(
            "answered_at", "The answer time is before the offer time.",
            "Send answered_at at or after offered_at.",
        )
    return Contact(
        source=source, channel=channel, status=status,
        offered_at=offered_at, answered_at=answered_at,
        caller_relationship=caller_relationship,
        caller_name=caller_name.strip(), caller_phone=normalize_phone(caller_phone),
        preferred_language=preferred_language, interpreter_used=interpreter_used,
        latitude=location.latitude, longitude=location.longitude,
        location_precision=location.precision, location_text=location.text,
        location_unknown_reason=location.unknown_reason,
        in_service_area=_service_area(location.latitude, location.longitude),
        handled_by=handled_by, entered_by=entered_by, partner=partner,
        external_reference=external_reference, notes=notes,
        created_at=now, updated_at=now,
    )


def do_create_contact(**fields) -> Contact:
    """Create a contact after validating every field; nothing is saved on error.

    Takes the keyword arguments of :func:`build_contact`.
    """
    contact = build_contact(**fields)
    with transaction.atomic():
        contact.save(force_insert=True)
    logger.info("Created contact %s from %s", contact.pk, contact.source)
    return contact


def do_set_contact_location(contact: Contact, location: LocationInput, at: dt.datetime | None = None) -> Contact:
    validate_location(location)
    contact.latitude = location.latitude
    contact.longitude = location.longitude
    contact.location_precision = location.precision
    contact.location_text = location.text
    contact.location_unknown_reason = location.unknown_reason
    contact.in_service_area = _service_area(location.latitude, location.longitude)
    contact.updated_at = at or timezone.now()
    contact.save(update_fields=[
        "latitude", "longitude", "location_precision", "location_text",
        "location_unknown_reason", "in_service_area", "updated_at",
    ])
    return contact


def normalize_phone(phone: str) -> str:
    """Keep digits only, dropping a leading US country code, for matching."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def find_repeat_contacts(
    *, phone: str = "", name: str = "", exclude_id: int | None = None, limit: int = 10
) -> list[Contact]:
    """Return earlier contacts with the same phone number or caller name."""
    phone = normalize_phone(phone)
    condition = Q()
    if phone:
        condition |= Q(caller_phone=phone)
    if name.strip():
        condition |= Q(caller_name__iexact=name.strip())
    if not condition:
        return []
    query = Contact.objects.filter(condition).order_by("-offered_at")
    if exclude_id is not None:
        query = query.exclude(pk=exclude_id)
    return list(query[:limit])


def do_link_person(contact: Contact, person: Person | None = None, at: dt.datetime | None = None) -> Person:
    now = at or timezone.now()
    if person is None:
        person = Person.objects.create(
            display_name=contact.caller_name if contact.caller_relationship == "self" else "",
            phone_number=contact.caller_phone if contact.caller_relationship == "self" else "",
            preferred_language=contact.preferred_language,
            created_at=now,
        )
    contact.person = person
    contact.updated_at = now
    contact.save(update_fields=["person", "updated_at"])
    return person
