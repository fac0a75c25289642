"""Permission-checked fetch helpers; views never fetch protected rows raw.

Every denial is written to the audit trail, and every successful fetch of a
record about a person is recorded as a view.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from crisishub.audit.signals import record_denied, record_view
from crisishub.core.models import Contact, Incident
from crisishub.core.roles import has_capability


def require(user, capability: str, object_type: str = "", object_id: str = "") -> None:
    """Raise PermissionDenied, and audit it, unless ``user`` has ``capability``."""
    if has_capability(user, capability):
        return
    record_denied(object_type or capability, object_id or "-", f"missing capability {capability}")
    raise PermissionDenied(f"Your role does not allow {capability}.")


def access_contact_by_id(user, contact_id: int, *, fields: list[str] | None = None) -> Contact:
    require(user, "contact.view", "core.contact", str(contact_id))
    try:
        contact = Contact.objects.select_related("person").get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404(f"Contact {contact_id} not found.") from None
    record_view(contact, fields)
    if contact.person is not None:
        # The contact page shows the linked person too, so that is a view
        # of the person's record.
        record_view(contact.person, fields, message=f"via contact {contact.pk}")
    return contact


def access_incident_by_id(user, incident_id: int, *, fields: list[str] | None = None) -> Incident:
    """Fetch an incident for a dispatcher, supervisor, counselor, or a member
    of the team assigned to it."""
    try:
        incident = Incident.objects.select_related("contact", "team").get(pk=incident_id)
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404(f"Incident {incident_id} not found.") from None
    if not has_capability(user, "incident.view"):
        own = (
            has_capability(user, "incident.view_own")
            and incident.team_id is not None
            and incident.team.members.filter(user=user).exists()
        )
        if not own:
            record_denied("core.incident", str(incident_id), "not a member of the assigned team")
            raise PermissionDenied("Only the assigned team and dispatch staff may open this incident.")
    record_view(incident, fields)
    return incident
