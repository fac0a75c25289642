"""The API's one error body.

Every 4xx and 5xx answer of the JSON API has this shape::

    {"ok": false, "code": "invalid", "error": "A sentence.",
     "errors": [{"field": "location.latitude", "message": "...", "fix": "..."}]}

``code`` is stable and machine-readable; ``errors`` lists field problems
and is empty when the problem is not about one field.
"""

from __future__ import annotations

from django.http import JsonResponse

from crisishub.core.errors import DomainError, FieldError


def error_response(status: int, code: str, message: str, errors: list[FieldError] | None = None) -> JsonResponse:
    body = {
        "ok": False,
        "code": code,
        "error": message,
        "errors": [e.as_dict() for e in errors or []],
    }
    return JsonResponse(body, status=status)


def domain_error_response(error: DomainError) -> JsonResponse:
    return error_response(error.http_status, error.code, error.message, error.errors)
