"""Parse and carry out a partner's mobile-response referral.

The whole referral is one transaction: the contact, screening, triage
decision, incident and the idempotency record commit together or not at
all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crisishub.audit.context import acting_as
from crisishub.core.errors import FieldError, InvalidInput
from crisishub.core.models import Contact, Language, LocationPrecision, Partner, Path
from crisishub.core.services import dispatch, intake, triage

TOP_LEVEL_FIELDS = {
    "external_reference", "received_at", "channel", "caller_relationship",
    "preferred_language", "interpreter_used", "caller", "location", "screening",
    "mobile_response_requested", "priority", "safety_notes",
}
LOCATION_FIELDS = {"latitude", "longitude", "precision", "description", "unknown_reason"}
SCREENING_FIELDS = {"cssrs", "instrument_version", "lifeline", "danger_to_others"}
CALLER_FIELDS = {"name", "phone"}


def _reject_unknown(data: dict, allowed: set[str], prefix: str = "") -> None:
    for key in data:
        if key not in allowed:
            raise InvalidInput.for_field(
                f"{prefix}{key}", f"Unknown field {prefix}{key!s}.",
                f"Remove it; allowed fields are: {', '.join(sorted(allowed))}.",
            )


def _require_object(data: Any, field: str) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput.for_field(field, f"{field} must be a JSON object.", "Send an object with named fields.")
    return data


def _string(data: dict, key: str, field: str, default: str = "", max_length: int = 300) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, f"{field} must be a string.", "Send text in quotes.")
    if len(value) > max_length:
        raise InvalidInput.for_field(field, f"{field} is longer than {max_length} characters.", "Shorten it.")
    return value


def _bool(data: dict, key: str, field: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput.for_field(field, f"{field} must be true or false, not {value!r}.", "Send a JSON boolean.")
    return value


def _number(data: dict, key: str, field: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput.for_field(field, f"{field} must be a number, not {value!r}.", "Send decimal degrees as a JSON number.")
    return float(value)


def _datetime(data: dict, key: str, field: str) -> dt.datetime | None:
    value = data.get(key)
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise InvalidInput.for_field(
            field, f"{field} {value!r} is not an ISO 8601 time with a UTC offset.",
            "Send a time like 2026-01-31T22:05:00-08:00.",
        )
    return parsed


@dataclass(frozen=True)
class Referral:
    external_reference: str
    received_at: dt.datetime | None
    channel: str
    caller_relationship: str
    preferred_language: str
    interpreter_used: bool
    caller_name: str
    caller_phone: str
    location: intake.LocationInput
    screening: dict | None
    mobile_response_requested: bool
    priority: int | None
    safety_notes: str


def parse_referral(body: Any) -> Referral:
    data = _require_object(body, "body")
    _reject_unknown(data, TOP_LEVEL_FIELDS)
    caller = _require_object(data.get("caller", {}), "caller")
    _reject_unknown(caller, CALLER_FIELDS, "caller.")
    if "location" not in data:
        raise InvalidInput.for_field(
            "location", "The location is missing.",
            "Send location with latitude, longitude and precision, or with unknown_reason.",
        )
    location_data = _require_object(data["location"], "location")
    _reject_unknown(location_data, LOCATION_FIELDS, "location.")
    location = intake.LocationInput(
        latitude=_number(location_data, "latitude", "location.latitude"),
        longitude=_number(location_data, "longitude", "location.longitude"),
        precision=_string(location_data, "precision", "location.precision", LocationPrecision.UNKNOWN),
        text=_string(location_data, "description", "location.description", max_length=200),
        unknown_reason=_string(location_data, "unknown_reason", "location.unknown_reason"),
    )
    intake.validate_location(location)

    screening = None
    if data.get("screening") is not None:
        screening = _require_object(data["screening"], "screening")
        _reject_unknown(screening, SCREENING_FIELDS, "screening.")
        _require_object(screening.get("cssrs"), "screening.cssrs")
        _bool(screening, "danger_to_others", "screening.danger_to_others", False)
        _string(screening, "instrument_version", "screening.instrument_version", max_length=60)
        if screening.get("lifeline") is not None:
            _require_object(screening["lifeline"], "screening.lifeline")

    priority = data.get("priority")
    if priority is not None and (isinstance(priority, bool) or priority not in (1, 2, 3)):
        raise InvalidInput.for_field("priority", f"Invalid priority {priority!r}.", "Use 1 (most urgent), 2 or 3.")
    language = _string(data, "preferred_language", "preferred_language", Language.ENGLISH)
    if language not in Language.values:
        raise InvalidInput.for_field(
            "preferred_language", f"Unknown language code {language!r}.", f"Use one of: {', '.join(Language.values)}."
        )
    mobile = _bool(data, "mobile_response_requested", "mobile_response_requested", True)
    if mobile and screening is None and priority is None:
        raise InvalidInput.for_field(
            "screening", "A mobile-response referral needs a screening or a priority.",
            "Send screening.cssrs answers, or a priority from 1 to 3.",
        )
    return Referral(
        external_reference=_string(data, "external_reference", "external_reference", max_length=100),
        received_at=_datetime(data, "received_at", "received_at"),
        channel=_string(data, "channel", "channel", Contact.Channel.PHONE),
        caller_relationship=_string(data, "caller_relationship", "caller_relationship", Contact.CallerRelationship.SELF),
        preferred_language=language,
        interpreter_used=_bool(data, "interpreter_used", "interpreter_used", False),
        caller_name=_string(caller, "name", "caller.name", max_length=150),
        caller_phone=_string(caller, "phone", "caller.phone", max_length=32),
        location=location,
        screening=screening,
        mobile_response_requested=mobile,
        priority=priority,
        safety_notes=_string(data, "safety_notes", "safety_notes", max_length=2000),
    )


def submit_referral(partner: Partner, referral: Referral) -> dict[str, Any]:
    """Create the records for one referral; the caller wraps it in a transaction."""
    now = timezone.now()
    with acting_as(label=f"partner:{partner.name}"):
        contact = intake.do_create_contact(
            source=Contact.Source.LIFELINE_988, channel=referral.channel,
            offered_at=referral.received_at or now, answered_at=referral.received_at or now,
            caller_relationship=referral.caller_relationship,
            preferred_language=referral.preferred_language,
            interpreter_used=referral.interpreter_used,
            caller_name=referral.caller_name, caller_phone=referral.caller_phone,
            location=referral.location, partner=partner,
            external_reference=referral.external_reference, at=now,
        )
        decision = None
        if referral.screening is not None:
            screening = _record_screening(contact, referral.screening, now)
            if referral.mobile_response_requested:
                decision = _partner_decision(contact, screening, referral, now)
        incident = None
        if referral.mobile_response_requested and (decision is None or decision.final_path == Path.MOBILE_RESPONSE):
            incident = dispatch.do_request_mobile_response(
                contact, decision=decision, priority=referral.priority,
                safety_notes=referral.safety_notes, actor=f"partner:{partner.name}", at=now,
            )
    return {
        "ok": True,
        "contact": {"id": contact.pk, "external_reference": contact.external_reference},
        "triage": _triage_body(decision),
        "incident": _incident_body(incident),
    }


def _record_screening(contact, data: dict, now):
    """Record the screening; field errors name the path in the request body."""
    try:
        return triage.do_record_screening(
            contact,
            cssrs_answers=data["cssrs"],
            version=data.get("instrument_version") or triage.cssrs.INSTRUMENT_VERSION,
            lifeline_factors=data.get("lifeline") or {},
            danger_to_others=bool(data.get("danger_to_others", False)),
            at=now,
        )
    except InvalidInput as error:
        errors = [FieldError(f"screening.{e.field}", e.message, e.fix) for e in error.errors]
        raise InvalidInput(error.message, errors) from None


def _partner_decision(contact, screening, referral, now):
    """Apply the matrix. The partner's request for a mobile response is
    recorded as an override when the matrix chose another path."""
    decision = triage.do_decide_triage(contact, screening, at=now)
    if decision.final_path == Path.MOBILE_RESPONSE or decision.recommended_path == Path.EMERGENCY_911_EMS:
        return decision
    return triage.do_decide_triage(
        contact, screening, at=now, final_path=Path.MOBILE_RESPONSE,
        final_priority=referral.priority or 3,
        override_reason="988 partner requested a mobile response",
    )


def _triage_body(decision) -> dict | None:
    if decision is None:
        return None
    return {
        "matrix_version": decision.matrix_version,
        "crisis_level": decision.crisis_level,
        "recommended_path": decision.recommended_path,
        "final_path": decision.final_path,
        "priority": decision.final_priority,
        "reasons": decision.reasons,
    }


def _incident_body(incident) -> dict | None:
    if incident is None:
        return None
    return {
        "id": incident.pk,
        "number": incident.number,
        "status": incident.status,
        "priority": incident.priority,
        "t0": incident.t0.isoformat(),
        "area_class": incident.area_class or None,
        "no_team_reason": incident.no_team_reason or None,
    }
