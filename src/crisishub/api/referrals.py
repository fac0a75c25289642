"""Parse and carry out a partner's mobile-response referral.

The whole referral is one transaction: the contact, screening, triage
decision, incident and the idempotency record commit together or not at
all.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crisishub.audit.context import acting_as
from crisishub.core.errors import Conflict, FieldError, InvalidInput
from crisishub.core.models import Contact, Incident, Language, LocationPrecision, Partner, Path
from crisishub.core.services import dispatch, intake, triage
from crisishub.rules import cssrs, lifeline

TOP_LEVEL_FIELDS = {
    "external_reference", "received_at", "channel", "caller_relationship",
    "preferred_language", "interpreter_used", "caller", "location", "screening",
    "mobile_response_requested", "priority", "safety_notes",
}
LOCATION_FIELDS = {"latitude", "longitude", "precision", "description", "unknown_reason"}
SCREENING_FIELDS = {"cssrs", "instrument_version", "lifeline", "danger_to_others"}
CALLER_FIELDS = {"name", "phone"}
LIFELINE_DOMAINS = ("desire", "capability", "intent", "buffers", "danger_factors")
COORDINATE_PRECISIONS = [p for p in LocationPrecision.values if p != LocationPrecision.UNKNOWN]

# received_at may run ahead of the hub's clock by this much (clock skew
# between the partner and the hub) and may lie at most this far back.
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_REFERRAL_AGE = dt.timedelta(days=7)


class _Errors:
    """Collect every field error of one request, so one response lists all."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str, fix: str) -> None:
        self.items.append(FieldError(field, message, fix))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        count = len(self.items)
        summary = (
            f"The referral has {count} invalid field{'s' if count > 1 else ''}; nothing was saved. "
            "See errors for each field and its fix."
        )
        raise InvalidInput(summary, self.items)


def _json_repr(value: Any) -> str:
    """Show a request value as JSON, the notation the partner sent it in."""
    try:
        return json.dumps(value, ensure_ascii=False)[:80]
    except (TypeError, ValueError):
        return repr(value)[:80]


def _reject_unknown(errors: _Errors, data: dict, allowed: set[str], prefix: str = "") -> None:
    for key in data:
        if key not in allowed:
            errors.add(
                f"{prefix}{key}", f"Unknown field {prefix}{key}.",
                f"Remove it; allowed fields are: {', '.join(sorted(allowed))}.",
            )


def _object(errors: _Errors, data: Any, field: str) -> dict | None:
    if not isinstance(data, dict):
        errors.add(field, f"{field} must be a JSON object, not {_json_repr(data)}.", "Send an object with named fields.")
        return None
    return data


def _string(errors: _Errors, data: dict, key: str, field: str, default: str = "", max_length: int = 300) -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        errors.add(field, f"{field} must be a string, not {_json_repr(value)}.", "Send text in quotes.")
        return default
    if len(value) > max_length:
        errors.add(
            field, f"{field} has {len(value)} characters; the maximum is {max_length}.",
            f"Shorten it to {max_length} characters or fewer.",
        )
        return default
    return value


def _choice(errors: _Errors, data: dict, key: str, field: str, default: str, choices: list[str]) -> str:
    count = len(errors.items)
    value = _string(errors, data, key, field, default, max_length=60)
    if len(errors.items) == count and value not in choices:
        errors.add(field, f"Invalid {field} {_json_repr(value)}.", f"Use one of: {', '.join(choices)}.")
        return default
    return value


def _bool(errors: _Errors, data: dict, key: str, field: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        errors.add(
            field, f"{field} must be true or false, not {_json_repr(value)}.",
            "Send the JSON literal true or false, without quotes.",
        )
        return default
    return value


def _number(errors: _Errors, data: dict, key: str, field: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(field, f"{field} must be a number, not {_json_repr(value)}.", "Send decimal degrees as a JSON number.")
        return None
    return float(value)


def _received_at(errors: _Errors, data: dict, now: dt.datetime) -> dt.datetime | None:
    value = data.get("received_at")
    if value is None:
        return None
    fix = "Send the time the call was received, like 2026-01-31T22:05:00-08:00, or leave it out to use the time of this request."
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.add("received_at", f"received_at {_json_repr(value)} is not an ISO 8601 time with a UTC offset.", fix)
        return None
    if parsed > now + MAX_CLOCK_SKEW:
        errors.add(
            "received_at", f"received_at {value} is in the future (the hub's time is {now.isoformat(timespec='seconds')}).",
            fix + " Check the sending system's clock and time zone.",
        )
        return None
    if parsed < now - MAX_REFERRAL_AGE:
        errors.add(
            "received_at", f"received_at {value} is more than {MAX_REFERRAL_AGE.days} days ago.",
            fix + " A mobile-response referral must be sent within 7 days of the call.",
        )
        return None
    return parsed


def _priority(errors: _Errors, data: dict) -> int | None:
    value = data.get("priority")
    if value is None:
        return None
    # JSON Schema counts 2.0 as an integer, so it is read as 2.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or value not in (1, 2, 3):
        errors.add("priority", f"Invalid priority {_json_repr(data.get('priority'))}.", "Use the integer 1 (most urgent), 2 or 3.")
        return None
    return value


def _location(errors: _Errors, data: dict) -> intake.LocationInput | None:
    if "location" not in data:
        errors.add(
            "location", "The location is missing.",
            "Send location with latitude, longitude and precision, or with unknown_reason.",
        )
        return None
    location_data = _object(errors, data["location"], "location")
    if location_data is None:
        return None
    count = len(errors.items)
    _reject_unknown(errors, location_data, LOCATION_FIELDS, "location.")
    latitude = _number(errors, location_data, "latitude", "location.latitude")
    longitude = _number(errors, location_data, "longitude", "location.longitude")
    reason = _string(errors, location_data, "unknown_reason", "location.unknown_reason")
    has_coordinates = "latitude" in location_data or "longitude" in location_data
    precision = LocationPrecision.UNKNOWN
    if has_coordinates:
        if location_data.get("precision") is None:
            errors.add(
                "location.precision", "location.precision is missing; coordinates need it.",
                f"Say how the position was found, one of: {', '.join(COORDINATE_PRECISIONS)}.",
            )
        else:
            precision = _choice(
                errors, location_data, "precision", "location.precision",
                LocationPrecision.UNKNOWN, COORDINATE_PRECISIONS,
            )
        if reason.strip():
            errors.add(
                "location.unknown_reason", "The location has both coordinates and unknown_reason.",
                "Send either latitude, longitude and precision, or unknown_reason alone.",
            )
    elif "precision" in location_data:
        errors.add(
            "location.precision", "location.precision was sent without coordinates.",
            "Send latitude and longitude with it, or remove it.",
        )
    location = intake.LocationInput(
        latitude=latitude, longitude=longitude, precision=precision,
        text=_string(errors, location_data, "description", "location.description", max_length=200),
        unknown_reason=reason,
    )
    if len(errors.items) > count:
        return None
    try:
        intake.validate_location(location)
    except InvalidInput as error:
        errors.items.extend(error.errors)
        return None
    return location


def _screening(errors: _Errors, data: dict) -> dict | None:
    """Check a screening as the request states it, with request field paths.

    Returns the screening in the shape ``triage.do_record_screening`` takes.
    """
    if data.get("screening") is None:
        return None
    screening = _object(errors, data["screening"], "screening")
    if screening is None:
        return None
    count = len(errors.items)
    _reject_unknown(errors, screening, SCREENING_FIELDS, "screening.")
    danger = _bool(errors, screening, "danger_to_others", "screening.danger_to_others", False)
    versions = [v.value for v in cssrs.InstrumentVersion]
    version = _choice(
        errors, screening, "instrument_version", "screening.instrument_version", cssrs.INSTRUMENT_VERSION, versions,
    )
    answers = _cssrs_answers(errors, screening)
    lifeline_factors = _lifeline(errors, screening, danger)
    if len(errors.items) > count or answers is None:
        return None
    try:
        cssrs.validate(answers, version)
    except cssrs.ScreeningError as error:
        errors.add(
            f"screening.cssrs.{error.field}", str(error),
            "Send true or false for every item the skip logic asks and leave out the others: items 1, 2 "
            "and 6 always, 3-5 only when 2 is true, 6a only when 6 is true (recent version).",
        )
        return None
    return {"cssrs": answers, "version": version, "lifeline": lifeline_factors, "danger_to_others": danger}


def _cssrs_answers(errors: _Errors, screening: dict) -> dict | None:
    if "cssrs" not in screening:
        errors.add("screening.cssrs", "screening.cssrs is missing.", "Send the C-SSRS screener answers by item.")
        return None
    raw = _object(errors, screening["cssrs"], "screening.cssrs")
    if raw is None:
        return None
    items = [item.value for item in cssrs.ItemId]
    answers = {}
    for key, value in raw.items():
        field = f"screening.cssrs.{key}"
        if key not in items:
            errors.add(field, f"Unknown C-SSRS item {_json_repr(key)}.", f"Use the item ids {', '.join(items)}.")
        elif value is not None and not isinstance(value, bool):
            errors.add(
                field, f"{field} must be true or false, not {_json_repr(value)}.",
                "Send true for yes or false for no; leave out an item that was not asked.",
            )
        else:
            answers[key] = value
    return answers


def _lifeline(errors: _Errors, screening: dict, danger_to_others: bool) -> dict:
    if screening.get("lifeline") is None:
        return {}
    raw = _object(errors, screening["lifeline"], "screening.lifeline")
    if raw is None:
        return {}
    factors: dict[str, list[str]] = {}
    for key, names in raw.items():
        field = f"screening.lifeline.{key}"
        if key == "danger_to_others":
            errors.add(field, f"{field} is not a Lifeline domain.", "Send screening.danger_to_others instead.")
            continue
        if key not in LIFELINE_DOMAINS:
            errors.add(field, f"Unknown Lifeline domain {_json_repr(key)}.", f"Use one of: {', '.join(LIFELINE_DOMAINS)}.")
            continue
        valid = [member.value for member in lifeline.DOMAIN_FACTORS[lifeline.Domain(
            "danger_to_others" if key == "danger_factors" else key)]]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            errors.add(field, f"{field} must be a list of factor codes, not {_json_repr(names)}.",
                       f"Send a list such as [\"{valid[0]}\"].")
            continue
        unknown = [name for name in names if name not in valid]
        if unknown:
            errors.add(field, f"Unknown {key} factor code(s): {', '.join(unknown)}.", f"Use codes from: {', '.join(valid)}.")
            continue
        factors[key] = names
    if factors.get("danger_factors") and not danger_to_others:
        errors.add(
            "screening.lifeline.danger_factors", "Danger-to-others factors were sent but screening.danger_to_others is not true.",
            "Set screening.danger_to_others to true, or remove the factors.",
        )
    return factors


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


def parse_referral(body: Any, now: dt.datetime | None = None) -> Referral:
    """Check a referral body and return it parsed.

    Raises InvalidInput listing every invalid field, not only the first.
    """
    now = now or timezone.now()
    errors = _Errors()
    data = _object(errors, body, "body")
    errors.raise_if_any()
    _reject_unknown(errors, data, TOP_LEVEL_FIELDS)
    caller = _object(errors, data.get("caller", {}), "caller") or {}
    _reject_unknown(errors, caller, CALLER_FIELDS, "caller.")
    location = _location(errors, data)
    screening = _screening(errors, data)
    priority = _priority(errors, data)
    mobile = _bool(errors, data, "mobile_response_requested", "mobile_response_requested", True)
    if mobile and data.get("screening") is None and data.get("priority") is None:
        errors.add(
            "screening", "A mobile-response referral needs a screening or a priority.",
            "Send screening.cssrs answers, or a priority from 1 to 3.",
        )
    referral = Referral(
        external_reference=_string(errors, data, "external_reference", "external_reference", max_length=100).strip(),
        received_at=_received_at(errors, data, now),
        channel=_choice(errors, data, "channel", "channel", Contact.Channel.PHONE, Contact.Channel.values),
        caller_relationship=_choice(
            errors, data, "caller_relationship", "caller_relationship",
            Contact.CallerRelationship.SELF, Contact.CallerRelationship.values,
        ),
        preferred_language=_choice(errors, data, "preferred_language", "preferred_language", Language.ENGLISH, Language.values),
        interpreter_used=_bool(errors, data, "interpreter_used", "interpreter_used", False),
        caller_name=_string(errors, caller, "name", "caller.name", max_length=150),
        caller_phone=_string(errors, caller, "phone", "caller.phone", max_length=32),
        location=location,
        screening=screening,
        mobile_response_requested=mobile,
        priority=priority,
        safety_notes=_string(errors, data, "safety_notes", "safety_notes", max_length=2000),
    )
    errors.raise_if_any()
    return referral


def submit_referral(partner: Partner, referral: Referral) -> dict[str, Any]:
    """Create the records for one referral; the caller wraps it in a transaction."""
    now = timezone.now()
    _reject_repeated_reference(partner, referral.external_reference)
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


def _reject_repeated_reference(partner: Partner, reference: str) -> None:
    """Raise Conflict when this partner already referred ``reference``.

    Locking the partner row serializes its referrals, so two requests with
    one reference and different keys cannot both pass the check.
    """
    if not reference:
        return
    Partner.objects.select_for_update().filter(pk=partner.pk).first()
    earlier = Contact.objects.filter(partner=partner, external_reference=reference).order_by("pk").first()
    if earlier is None:
        return
    incident = Incident.objects.filter(contact=earlier).order_by("pk").first()
    record = f"incident {incident.number}" if incident else f"contact {earlier.pk}"
    message = f"external_reference {reference!r} was already referred as {record}."
    raise Conflict(message, [FieldError(
        "external_reference", message,
        "To retry, send the first request's Idempotency-Key and body again; for a new referral, "
        "send a new external_reference.",
    )])


def _record_screening(contact, data: dict, now):
    """Record the screening; field errors name the path in the request body."""
    try:
        return triage.do_record_screening(
            contact,
            cssrs_answers=data["cssrs"],
            version=data["version"],
            lifeline_factors=data["lifeline"],
            danger_to_others=data["danger_to_others"],
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
