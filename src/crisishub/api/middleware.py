"""Give every error response under /api/ the JSON error body of the API.

The views return that body themselves. This middleware covers what they
never see: Django's own error pages (CSRF failure, a body Django rejects,
an unknown path resolved elsewhere) and uncaught exceptions.
"""

from __future__ import annotations

import logging

from crisishub.api.errors import error_response
from crisishub.core.errors import FieldError

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Status of a non-JSON error page -> code, message and fix of the JSON body.
_ERRORS = {
    400: ("invalid", "The request is invalid.", "Check the request against /api/openapi.json."),
    403: ("forbidden", "The request was rejected.", "Send the partner token in Authorization: Bearer <token>."),
    404: ("not_found", "Not found.", "Use a path listed in /api/openapi.json."),
    405: ("method_not_allowed", "The method is not allowed here.", "Use the method listed in /api/openapi.json."),
    413: ("too_large", "The body is too large.", "Send a smaller body."),
    500: ("server_error", "The hub failed to handle the request; nothing was saved.",
          "Retry later with the same Idempotency-Key; if it keeps failing, tell the hub's administrator."),
}


def json_error_for_status(status: int):
    code, message, fix = _ERRORS.get(status, _ERRORS[500 if status >= 500 else 400])
    return error_response(status, code, message, [FieldError("request", message, fix)])


class ApiErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replacement = json_error_for_status(response.status_code)
        for header in ("Allow", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        logger.exception("API request %s %s failed", request.method, request.path)
        return json_error_for_status(500)
