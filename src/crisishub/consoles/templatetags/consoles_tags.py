"""Template helpers shared by every console: role navigation and accessible
form fields."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext_lazy as _

from crisishub.core.roles import user_capabilities

register = template.Library()

# (URL path, label, capability that shows the link). A link whose path
# has no view installed yet is left out, so a console can land later.
NAV_LINKS = [
    ("/counselor/", _("Calls"), "contact.edit"),
    ("/followup/", _("Follow-up"), "followup.work"),
    ("/dispatch/", _("Dispatch"), "incident.dispatch"),
    ("/team/", _("My team"), "incident.field_update"),
    ("/reports/", _("Reports"), "reports.view"),
    ("/planning/", _("Planning"), "planning.use"),
]


@register.simple_tag(takes_context=True)
def role_nav(context) -> list[dict]:
    """Return the navigation links the signed-in user's roles allow."""
    request = context.get("request")
    user = getattr(request, "user", None)
    capabilities = user_capabilities(user)
    links = []
    for url, label, capability in NAV_LINKS:
        if capability not in capabilities or not _is_routed(url):
            continue
        links.append({"url": url, "label": label, "current": _is_current(request, url)})
    if user is not None and user.is_authenticated and user.is_staff:
        links.append({"url": reverse("admin:index"), "label": _("Administration"),
                      "current": False})
    return links


def _is_routed(url: str) -> bool:
    try:
        resolve(url)
    except Resolver404:
        return False
    return True


def _is_current(request, url: str) -> bool:
    if request is None:
        return False
    if url == "/":
        return request.path == "/"
    return request.path.startswith(url)


@register.filter
def accessible(field: BoundField) -> str:
    """Render a field's widget linked to its error and help text by
    ``aria-describedby``, with ``aria-invalid`` when it has errors."""
    described = []
    attrs = {}
    if field.errors:
        described.append(f"{field.auto_id}_error")
        attrs["aria-invalid"] = "true"
    if field.help_text:
        described.append(f"{field.auto_id}_helptext")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def risk_label(code) -> str:
    """Return the display label of a C-SSRS risk level code ("moderate")."""
    from crisishub.consoles.labels import risk_label as label_for

    return label_for(code)
