"""JSON API for partners: mobile-response referrals and incident status."""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from crisishub.api.auth import partner_for_request
from crisishub.api.errors import domain_error_response, error_response
from crisishub.api.openapi import openapi_document
from crisishub.api.referrals import parse_referral, submit_referral
from crisishub.core.errors import DomainError, FieldError
from crisishub.core.models import IdempotencyRecord, Incident

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_KEY_LENGTH = 200


def _unauthorized() -> JsonResponse:
    message = "A valid partner API token is required."
    response = error_response(401, "unauthorized", message, [FieldError(
        "Authorization", message,
        "Send the header Authorization: Bearer <token> with the token from 'crisishub manage create_partner'.",
    )])
    response["WWW-Authenticate"] = 'Bearer realm="crisishub"'
    return response


def _replayed(record: IdempotencyRecord) -> JsonResponse:
    response = JsonResponse(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def _method_not_allowed(request, allowed: str) -> JsonResponse:
    message = f"Method {request.method} is not allowed here; use {allowed}."
    response = error_response(405, "method_not_allowed", message, [
        FieldError("method", message, f"Send the request with {allowed}; see /api/openapi.json."),
    ])
    response["Allow"] = allowed
    return response


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large_response() -> JsonResponse:
    message = f"The body is larger than {MAX_BODY_BYTES} bytes."
    return error_response(413, "too_large", message, [
        FieldError("body", message, f"Send one referral of at most {MAX_BODY_BYTES} bytes."),
    ])


def _unsupported_media_type(content_type: str) -> JsonResponse | None:
    """Return a 415 response unless the body is declared as UTF-8 JSON."""
    media_type, _, parameters = content_type.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() == "application/json" and charset in ("", "utf-8"):
        return None
    shown = content_type.strip() or "(none)"
    message = f"Content-Type {shown} is not supported."
    return error_response(415, "unsupported_media_type", message, [
        FieldError("Content-Type", message, "Send the JSON body with Content-Type: application/json."),
    ])


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"key {repeated[0]!r} appears more than once in one object")
    return dict(pairs)


def parse_json_body(raw: bytes):
    """Parse a strict JSON body: no NaN or Infinity and no repeated keys.

    Raises ValueError with a message fit for the partner.
    """
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          object_pairs_hook=_object_without_repeats)
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 text") from None
    except RecursionError:
        raise ValueError("the body nests arrays or objects too deeply") from None
    except json.JSONDecodeError as error:
        raise ValueError(str(error)) from None


def canonical_sha256(body) -> str:
    """Hash the parsed body, so whitespace and key order do not matter."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@csrf_exempt
def referrals(request):
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    partner = partner_for_request(request)
    if partner is None:
        return _unauthorized()

    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        problem = "is missing" if not key else f"is longer than {MAX_KEY_LENGTH} characters"
        return error_response(
            400, "idempotency_key_missing",
            f"The Idempotency-Key header {problem}.",
            [FieldError(
                "Idempotency-Key", f"The Idempotency-Key header {problem}.",
                "Send a unique key, such as a UUID, per referral; reuse it on retries.",
            )],
        )
    # The declared length is checked before the body is read. A chunked
    # body has none, and the ASGI layer (api/asgi.py) counts its bytes.
    try:
        if _declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            return too_large_response()
    except RequestDataTooBig:
        return too_large_response()
    if not request.body.strip():
        message = "The body is empty."
        return error_response(400, "invalid_json", message, [
            FieldError("body", message, "Send one JSON object with Content-Type application/json."),
        ])
    unsupported = _unsupported_media_type(request.headers.get("Content-Type", ""))
    if unsupported is not None:
        return unsupported

    try:
        body = parse_json_body(request.body)
    except ValueError as error:
        message = f"The body is not valid JSON: {error}."
        return error_response(400, "invalid_json", message, [
            FieldError("body", message, "Send one JSON object with Content-Type application/json."),
        ])
    body_hash = canonical_sha256(body)
    raw_hash = hashlib.sha256(request.body).hexdigest()

    existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
    if existing is not None:
        return _replay_or_conflict(existing, body_hash, raw_hash)
    try:
        referral = parse_referral(body)
        with transaction.atomic():
            result = submit_referral(partner, referral)
            IdempotencyRecord.objects.create(
                partner=partner, key=key, request_sha256=body_hash,
                response_status=201, response_body=result, created_at=timezone.now(),
            )
    except DomainError as error:
        return domain_error_response(error)
    except IntegrityError:
        # A concurrent request with the same key committed first; its
        # records stand and this one's were rolled back.
        existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
        if existing is None:
            raise
        return _replay_or_conflict(existing, body_hash, raw_hash)
    logger.info("Referral from partner %s created contact %s", partner.pk, result["contact"]["id"])
    return JsonResponse(result, status=201)


def _replay_or_conflict(record: IdempotencyRecord, body_hash: str, raw_hash: str) -> JsonResponse:
    # Records stored before bodies were compared in canonical form hold
    # the hash of the raw bytes.
    if record.request_sha256 not in (body_hash, raw_hash):
        message = "This Idempotency-Key was already used with a different body."
        return error_response(422, "idempotency_key_reused", message, [
            FieldError(
                "Idempotency-Key", message,
                "Use a new key for a new referral; a retry must send the same JSON "
                "(whitespace and key order may differ).",
            ),
        ])
    return _replayed(record)


@csrf_exempt
def incident_status(request, number: str):
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    partner = partner_for_request(request)
    if partner is None:
        return _unauthorized()
    incident = Incident.objects.filter(number=number, contact__partner=partner).first()
    if incident is None:
        message = f"Incident {number} was not found for this partner."
        return error_response(404, "not_found", message, [FieldError(
            "number", message, "Use the incident number from the 201 response to the referral (incident.number).",
        )])
    return JsonResponse({
        "ok": True,
        "incident": {
            "number": incident.number, "status": incident.status, "priority": incident.priority,
            "t0": incident.t0.isoformat(), "no_team_reason": incident.no_team_reason or None,
        },
    })


@csrf_exempt
def openapi(request):
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 2})


@csrf_exempt
def not_found(request):
    message = f"No API endpoint at {request.path}."
    return error_response(404, "not_found", message, [
        FieldError("path", message, "Use a path listed in /api/openapi.json, such as /api/v1/referrals."),
    ])
