"""The OpenAPI 3.1 description of the partner API, served at /api/openapi.json.

Tests check that every route in ``urls.py`` is described here and that the
documented error body matches what the views return.
"""

from __future__ import annotations

from crisishub.core.models import Contact, Language, LocationPrecision, NoTeamReason
from crisishub.rules.cssrs import INSTRUMENT_VERSION, InstrumentVersion
from crisishub.rules.lifeline import (
    BufferFactor, CapabilityFactor, DangerToOthersFactor, DesireFactor, IntentFactor,
)

ERROR_BODY = {
    "type": "object",
    "required": ["ok", "code", "error", "errors"],
    "properties": {
        "ok": {"const": False},
        "code": {
            "type": "string",
            "description": "Stable machine-readable code.",
            "enum": [
                "invalid", "invalid_json", "unauthorized", "not_found", "conflict",
                "idempotency_key_missing", "idempotency_key_reused", "too_large",
                "method_not_allowed", "unsupported_media_type", "forbidden", "server_error",
            ],
        },
        "error": {"type": "string", "description": "What failed, in a sentence."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "fix"],
                "properties": {
                    "field": {"type": "string", "description": "Dotted path of the field."},
                    "message": {"type": "string"},
                    "fix": {"type": "string", "description": "How to correct the request."},
                },
            },
        },
    },
}

LOCATION = {
    "type": "object",
    "description": (
        "Either latitude, longitude and precision, or unknown_reason; a location with both gets 400."
    ),
    "additionalProperties": False,
    "properties": {
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "precision": {"type": "string", "enum": [p for p in LocationPrecision.values if p != "unknown"]},
        "description": {"type": "string", "maxLength": 200},
        "unknown_reason": {"type": "string", "maxLength": 300},
    },
}

SCREENING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["cssrs"],
    "properties": {
        "cssrs": {
            "type": "object",
            "description": (
                "C-SSRS screener answers by item (\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"6a\"), "
                "true or false. Items 1, 2 and 6 are always asked; 3-5 only when 2 is true; "
                "6a only when 6 is true. Answers to items the skip logic does not ask are rejected."
            ),
            "additionalProperties": {"type": "boolean"},
        },
        "instrument_version": {
            "type": "string", "enum": [v.value for v in InstrumentVersion], "default": INSTRUMENT_VERSION,
        },
        "lifeline": {
            "type": "object",
            "description": (
                "988 Lifeline risk domains (desire, capability, intent, buffers) and danger_factors "
                "(needs danger_to_others true) to lists of endorsed factor codes."
            ),
            "additionalProperties": False,
            "properties": {
                domain: {"type": "array", "items": {"type": "string", "enum": [f.value for f in factors]}}
                for domain, factors in (
                    ("desire", DesireFactor), ("capability", CapabilityFactor), ("intent", IntentFactor),
                    ("buffers", BufferFactor), ("danger_factors", DangerToOthersFactor),
                )
            },
        },
        "danger_to_others": {"type": "boolean"},
    },
}

REFERRAL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["location"],
    "properties": {
        "external_reference": {
            "type": "string", "maxLength": 100,
            "description": "The partner's case id. A second referral with the same id gets 409.",
        },
        "received_at": {
            "type": "string", "format": "date-time",
            "description": (
                "When the partner received the call, with a UTC offset: at most 5 minutes ahead of the "
                "hub's clock and at most 7 days back. Default: the time of the request."
            ),
        },
        "channel": {"type": "string", "enum": Contact.Channel.values, "default": "phone"},
        "caller_relationship": {"type": "string", "enum": Contact.CallerRelationship.values, "default": "self"},
        "preferred_language": {"type": "string", "enum": Language.values, "default": "en"},
        "interpreter_used": {"type": "boolean", "default": False},
        "caller": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "phone": {"type": "string"}},
        },
        "location": LOCATION,
        "screening": SCREENING,
        "mobile_response_requested": {"type": "boolean", "default": True},
        "priority": {"type": "integer", "enum": [1, 2, 3], "description": "1 is most urgent."},
        "safety_notes": {"type": "string", "maxLength": 2000},
    },
}

INCIDENT = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "string"},
        "status": {"type": "string"},
        "priority": {"type": "integer"},
        "t0": {"type": "string", "format": "date-time"},
        "area_class": {"type": ["string", "null"], "enum": ["urban", "rural", None]},
        "no_team_reason": {"type": ["string", "null"], "enum": [*NoTeamReason.values, None]},
    },
}

REFERRAL_RESULT = {
    "type": "object",
    "required": ["ok", "contact", "triage", "incident"],
    "properties": {
        "ok": {"const": True},
        "contact": {"type": "object", "properties": {"id": {"type": "integer"}, "external_reference": {"type": "string"}}},
        "triage": {"type": ["object", "null"]},
        "incident": INCIDENT,
    },
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crisishub partner API",
            "version": "1.0.0",
            "description": (
                "Referrals from 988 and other partners to the county's mobile crisis response. "
                "Every error has the Error body."
            ),
        },
        "servers": [{"url": "/api"}],
        "components": {
            "securitySchemes": {"partnerToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR_BODY, "Referral": REFERRAL, "ReferralResult": REFERRAL_RESULT,
                "Location": LOCATION, "Screening": SCREENING, "Incident": INCIDENT,
            },
        },
        "security": [{"partnerToken": []}],
        "paths": {
            "/v1/referrals": {
                "post": {
                    "operationId": "createReferral",
                    "summary": "Refer a person for a mobile crisis response.",
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": True,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": (
                            "Unique per referral. A retry with the same key and the same JSON body "
                            "(compared after parsing, so whitespace and key order may differ) returns the "
                            "first result with header Idempotent-Replayed: true and creates nothing."
                        ),
                    }],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Referral"}}}},
                    "responses": {
                        "201": {"description": "Created (or replayed).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReferralResult"}}}},
                        "400": _error("Invalid body or missing Idempotency-Key; nothing was saved."),
                        "401": _error("Missing or invalid token."),
                        "405": _error("Method other than POST."),
                        "409": _error(
                            "The request conflicts with the hub's state: no active matrix, or the "
                            "external_reference was already referred."
                        ),
                        "413": _error("Body larger than 65536 bytes."),
                        "415": _error("Content-Type other than application/json."),
                        "422": _error("Idempotency-Key reused with a different body."),
                    },
                }
            },
            "/v1/incidents/{number}": {
                "get": {
                    "operationId": "getIncident",
                    "summary": "Status of an incident this partner referred.",
                    "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The incident.", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": _error("Missing or invalid token."),
                        "404": _error("No such incident for this partner."),
                        "405": _error("Method other than GET."),
                    },
                }
            },
            "/openapi.json": {
                "get": {"operationId": "getOpenAPI", "security": [], "summary": "This document.",
                        "responses": {"200": {"description": "OpenAPI document."}}}
            },
        },
    }
