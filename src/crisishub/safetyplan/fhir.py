"""A safety plan as a FHIR R4 CarePlan resource (hl7.org/fhir/R4/careplan.html).

The plan maps to one CarePlan with ``intent`` "plan" and one ``activity``
per Stanley-Brown step, in step order, whose ``detail.description`` lists
the person's entries one per line. The reason for living goes in
``note``. A version replaced by a review is exported with status
"revoked", and the version after it names it in ``replaces``.
"""

from __future__ import annotations

from django.utils import timezone

from crisishub.safetyplan.models import SafetyPlan, Step

# English step titles, fixed so the export reads the same in any UI language.
STEP_TITLES = {
    Step.WARNING_SIGNS: "Step 1: Warning signs",
    Step.INTERNAL_COPING: "Step 2: Internal coping strategies",
    Step.DISTRACTION: "Step 3: People and social settings that provide distraction",
    Step.PEOPLE_TO_ASK: "Step 4: People to ask for help",
    Step.PROFESSIONALS: "Step 5: Professionals and agencies to contact in a crisis",
    Step.SAFE_ENVIRONMENT: "Step 6: Making the environment safe",
}
IDENTIFIER_SYSTEM = "urn:crisishub:safety-plan"
CONTACT_SYSTEM = "urn:crisishub:contact"


def _subject(plan: SafetyPlan) -> dict:
    person = plan.contact.person
    if person is not None:
        return {"reference": f"Patient/{person.pk}"}
    # NOTE: a contact without a linked person has no Patient resource, so the
    # subject is a logical reference by the contact's id.
    return {"identifier": {"system": CONTACT_SYSTEM, "value": str(plan.contact_id)},
            "display": f"Person of contact {plan.contact_id}"}


def care_plan(plan: SafetyPlan, base_url: str = "") -> dict:
    """Return ``plan`` as a FHIR R4 CarePlan resource (a JSON-ready dict)."""
    current = plan.is_current
    activities = []
    for step, entries in plan.entries_by_step():
        activities.append({
            "detail": {
                "code": {"text": STEP_TITLES[step]},
                "status": "in-progress" if current else "stopped",
                "description": "\n".join(entry.text for entry in entries),
            }
        })
    resource = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"versionId": str(plan.version),
                 "lastUpdated": timezone.localtime(plan.updated_at).isoformat()},
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"{plan.contact_id}-v{plan.version}"}],
        "status": "active" if current else "revoked",
        "intent": "plan",
        "title": "Safety plan (Stanley-Brown Safety Planning Intervention)",
        "description": "Written with the person in their own words. It is not a no-suicide contract.",
        "subject": _subject(plan),
        "created": timezone.localtime(plan.created_at).isoformat(),
        "activity": activities,
    }
    if plan.team is not None:
        # The mobile team that wrote the plan with the person (a CareTeam).
        resource["author"] = {"display": plan.team.name}
    if plan.previous_id is not None:
        resource["replaces"] = [{"reference": f"CarePlan/{plan.previous_id}"}]
    if plan.incident_id is not None:
        resource["supportingInfo"] = [{
            "identifier": {"system": "urn:crisishub:incident", "value": plan.incident.number},
            "display": f"Incident {plan.incident.number}",
        }]
    if plan.reason_for_living:
        resource["note"] = [{"text": "The one thing most important to me: " + plan.reason_for_living}]
    if base_url:
        resource["meta"]["source"] = base_url
    return resource
