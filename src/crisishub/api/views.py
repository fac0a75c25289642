"""JSON API for partners: mobile-response referrals and incident status."""

from __future__ import annotations

import hashlib
import json
import logging

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
    response = error_response(
        401, "unauthorized", "A valid partner API token is required.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="crisishub"'
    return response


def _replayed(record: IdempotencyRecord) -> JsonResponse:
    response = JsonResponse(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def _method_not_allowed(request, allowed: str) -> JsonResponse:
    response = error_response(
        405, "method_not_allowed", f"Method {request.method} is not allowed here; use {allowed}."
    )
    response["Allow"] = allowed
    return response


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


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
    # Checked before reading the body, so an oversized upload is never
    # buffered.
    if _declared_length(request) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
        return error_response(413, "too_large", f"The body is larger than {MAX_BODY_BYTES} bytes.")
    body_hash = hashlib.sha256(request.body).hexdigest()

    existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
    if existing is not None:
        return _replay_or_conflict(existing, body_hash)

    try:
        body = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        message = f"The body is not valid JSON: {error}."
        return error_response(400, "invalid_json", message, [
            FieldError("body", message, "Send a JSON object with Content-Type application/json."),
        ])
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
        return _replay_or_conflict(existing, body_hash)
    logger.info("Referral from partner %s created contact %s", partner.pk, result["contact"]["id"])
    return JsonResponse(result, status=201)


def _replay_or_conflict(record: IdempotencyRecord, body_hash: str) -> JsonResponse:
    if record.request_sha256 != body_hash:
        message = "This Idempotency-Key was already used with a different body."
        return error_response(422, "idempotency_key_reused", message, [
            FieldError(
                "Idempotency-Key", message,
                "Use a new key for a new referral; retries must send the same body.",
            ),
        ])
    return _replayed(record)


def incident_status(request, number: str):
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    partner = partner_for_request(request)
    if partner is None:
        return _unauthorized()
    incident = Incident.objects.filter(number=number, contact__partner=partner).first()
    if incident is None:
        return error_response(404, "not_found", f"Incident {number} was not found for this partner.")
    return JsonResponse({
        "ok": True,
        "incident": {
            "number": incident.number, "status": incident.status, "priority": incident.priority,
            "t0": incident.t0.isoformat(), "no_team_reason": incident.no_team_reason or None,
        },
    })


def openapi(request):
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 2})


@csrf_exempt
def not_found(request):
    return error_response(
        404, "not_found", f"No API endpoint at {request.path}; see /api/openapi.json for the routes."
    )
