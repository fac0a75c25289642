"""Create follow-up tasks when contacts close and field encounters clear.

Hooked to post_save, so the counselor console, the team console and any
other caller of the core services need no follow-up code of their own.
Bulk inserts (the bulk replay writer) send no signals and make no tasks.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from crisishub.core.models import Contact, IncidentEvent


@receiver(post_save, sender=Contact, dispatch_uid="followup_contact_closed")
def contact_saved(sender, instance: Contact, raw=False, **kwargs):
    if raw or instance.status != Contact.Status.CLOSED:
        return
    from crisishub.followup.services import ensure_task

    ensure_task(instance)


@receiver(post_save, sender=IncidentEvent, dispatch_uid="followup_encounter_cleared")
def incident_event_saved(sender, instance: IncidentEvent, created, raw=False, **kwargs):
    if raw or not created or instance.kind != IncidentEvent.Kind.CLEARED:
        return
    from crisishub.followup.services import extend_for_cleared_encounter

    extend_for_cleared_encounter(instance.incident, instance.occurred_at)
