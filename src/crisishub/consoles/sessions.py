"""Idle sign-out: which requests count as activity.

A session ends ``SESSION_COOKIE_AGE`` seconds (30 minutes by default)
after the last request that renewed it. ``SESSION_SAVE_EVERY_REQUEST``
saves the session, and so moves its expiry, on every response. A request
that a page sends on its own, such as the team page's fallback poll, is
marked with :func:`passive_request`, and :class:`IdleSessionMiddleware`
then leaves the session and its cookie as they were, so an idle page
still signs out.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# Request attribute that marks a request as not user activity.
PASSIVE_ATTRIBUTE = "session_passive"


def passive_request(view):
    """Mark the requests to ``view`` as not renewing the session.

    Apply it outside any sign-in check, so the mark is set for every
    request the view gets.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        setattr(request, PASSIVE_ATTRIBUTE, True)
        return view(request, *args, **kwargs)

    return wrapper


class IdleSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except that a passive request does not
    save an unchanged session, so it does not move the session's expiry.

    A passive request that changed the session (signing in or out, a
    message) is saved as usual, and an ended session still has its cookie
    deleted.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            getattr(request, PASSIVE_ATTRIBUTE, False)
            and session is not None
            and not session.modified
            and not session.is_empty()
        ):
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)
