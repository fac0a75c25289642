from __future__ import annotations

from django.core.exceptions import PermissionDenied

from crisishub.audit.context import acting_as, current_actor


class AuditActorMiddleware:
    """Attribute audited changes made during a request to the signed-in user,
    and record every 403 that a view raised without recording it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        with acting_as(user=user, label="" if signed_in else "anonymous", request_path=request.path[:300]):
            return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and not current_actor().denials:
            from crisishub.audit.signals import record_denied

            record_denied("request", request.path[:64], str(exception) or "permission denied")
        return None
