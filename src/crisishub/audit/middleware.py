from __future__ import annotations

from crisishub.audit.context import acting_as


class AuditActorMiddleware:
    """Attribute audited changes made during a request to the signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with acting_as(user=user, label="" if user else "anonymous", request_path=request.path[:300]):
            return self.get_response(request)
