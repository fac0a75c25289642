"""Home page routing and the pages every role shares."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve

from crisishub.core import roles
from crisishub.core.access import require

# Where each role starts, in the order checked. A user with several roles
# whose first start page is not installed gets the home page's list.
ROLE_START_PAGES = [
    (roles.ADMINISTRATOR, "/admin/"),
    (roles.CALL_COUNSELOR, "/counselor/"),
    (roles.DISPATCHER, "/dispatch/"),
    (roles.TEAM_MEMBER, "/team/"),
    (roles.ANALYST, "/planning/"),
]


def console_login_required(view):
    """Like ``login_required``, but an htmx request after the session
    expired sends the whole page to sign-in (``HX-Redirect``) instead of
    swapping the sign-in form into a fragment. After signing in, the user
    returns to the page they were on."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("HX-Request") == "true":
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            next_path = current.path or request.path
            response = redirect_to_login(next_path, settings.LOGIN_URL)
            answer = HttpResponse(status=200)
            answer["HX-Redirect"] = response["Location"]
            return answer
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    return wrapper


# Browser-session cookie that tells the sign-in page why no user is signed
# in. Signing in sets "active", so finding it while signed out means the
# session timed out. Signing out sets "signed-out".
SIGN_IN_STATE_COOKIE = "crisishub_sign_in_state"
STATE_ACTIVE = "active"
STATE_SIGNED_OUT = "signed-out"


def _set_sign_in_state(response: HttpResponse, state: str) -> None:
    response.set_cookie(
        SIGN_IN_STATE_COOKIE, state, httponly=True, samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


class SignInView(LoginView):
    """Sign-in page that shows the "session ended" notice only after a
    session timed out or the user signed out, never on a first visit.

    A user who is already signed in goes to their own screen instead.
    """

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        state = self.request.COOKIES.get(SIGN_IN_STATE_COOKIE)
        signed_in = self.request.user.is_authenticated
        context["session_timed_out"] = state == STATE_ACTIVE and not signed_in
        context["signed_out"] = state == STATE_SIGNED_OUT and not signed_in
        return context

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if not request.user.is_authenticated and SIGN_IN_STATE_COOKIE in request.COOKIES:
            # Say it once: a reload of the sign-in page shows no notice.
            response.delete_cookie(SIGN_IN_STATE_COOKIE, samesite="Lax")
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        _set_sign_in_state(response, STATE_ACTIVE)
        return response


class SignOutView(LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        _set_sign_in_state(response, STATE_SIGNED_OUT)
        return response


def start_page_for(user) -> str | None:
    """Return the path of the user's own screen, or None for the home list."""
    user_roles = roles.user_roles(user)
    if user.is_superuser and not user_roles:
        return "/admin/"
    if roles.SUPERVISOR in user_roles:
        return None
    for role, path in ROLE_START_PAGES:
        if role in user_roles and _is_routed(path):
            return path
    return None


def _is_routed(path: str) -> bool:
    if path == "/admin/":
        return True
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to its screen; others see the list of their screens."""
    start = start_page_for(request.user)
    if start is not None:
        return redirect(start)
    has_role = bool(roles.user_roles(request.user)) or request.user.is_superuser
    return render(request, "consoles/home.html", {"has_role": has_role})


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """Public reports with small-cell suppression, as a page or with
    ``?download=csv`` as a CSV of the same suppressed tables."""
    from crisishub.reports.forms import ReportForm, default_range
    from crisishub.reports.output import report_csv
    from crisishub.reports.views import report_context

    require(request.user, "reports.view", "reports")
    if request.GET:
        form = ReportForm(request.GET)
    else:
        initial = default_range()
        form = ReportForm({"start": initial.start.isoformat(), "end": initial.end.isoformat(), "group": "month"})
    if not form.is_valid():
        if request.GET.get("download") == "csv":
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
        return render(request, "consoles/reports.html", {"form": form}, status=400)
    report_range = form.cleaned_data["range"]
    context = report_context(report_range)
    if request.GET.get("download") == "csv":
        response = HttpResponse(report_csv(context["report"]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="crisishub-report-{report_range.start}-{report_range.end}.csv"'
        )
        return response
    return render(request, "consoles/reports.html", context | {"form": form})
