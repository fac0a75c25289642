"""Safety plan export as a FHIR R4 CarePlan, checked against the
resource's required elements and value sets (hl7.org/fhir/R4/careplan.html)."""

from __future__ import annotations

import json

import pytest

from crisishub.core.models import Person, Team
from crisishub.core.services.dispatch import do_assign_team
from crisishub.safetyplan import services
from crisishub.safetyplan.models import Step

# CarePlan.status, CarePlan.intent and CarePlan.activity.detail.status
# value sets of FHIR R4 (4.0.1), all required bindings.
CAREPLAN_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                   "unknown"}
CAREPLAN_INTENT = {"proposal", "plan", "order", "option"}
ACTIVITY_STATUS = {"not-started", "scheduled", "in-progress", "on-hold", "completed",
                   "cancelled", "stopped", "unknown", "entered-in-error"}


def assert_valid_careplan(resource: dict) -> None:
    """Check the elements that FHIR R4 requires of a CarePlan."""
    assert resource["resourceType"] == "CarePlan"
    assert resource["status"] in CAREPLAN_STATUS
    assert resource["intent"] in CAREPLAN_INTENT
    subject = resource["subject"]
    assert "reference" in subject or "identifier" in subject
    if "reference" in subject:
        assert subject["reference"].startswith("Patient/")
    for activity in resource.get("activity", []):
        detail = activity["detail"]
        # A detail needs its status, and an activity has a reference or a
        # detail but not both (invariant cpl-3).
        assert detail["status"] in ACTIVITY_STATUS
        assert "reference" not in activity
        assert isinstance(detail.get("description", ""), str)


@pytest.fixture
def member(personas, fleet):
    team = Team.objects.get(name="CWRT-1")
    team.members.filter(role="counselor").update(user=personas["team_member"])
    return personas["team_member"]


@pytest.fixture
def plan(make_incident, member):
    incident = make_incident(priority=1)
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    incident.refresh_from_db()
    plan = services.start_plan(incident, member)
    services.save_step(plan, Step.WARNING_SIGNS, ["No duermo", "<b>Rabia</b>"])
    services.save_step(plan, Step.SAFE_ENVIRONMENT, ["Mi hermana guarda las pastillas"])
    services.save_reason_for_living(plan, "Mis nietos 🌱")
    return plan


def test_export_is_valid_careplan(client, personas, plan):
    client.force_login(personas["supervisor"])

    response = client.get(f"/safety-plans/fhir/CarePlan/{plan.pk}")
    resource = json.loads(response.content.decode("utf-8"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert_valid_careplan(resource)
    assert resource["status"] == "active"
    assert resource["intent"] == "plan"
    assert resource["id"] == str(plan.pk)
    assert resource["subject"]["identifier"]["value"] == str(plan.contact_id)
    assert resource["author"] == {"display": "CWRT-1"}


def test_export_one_activity_per_step(client, personas, plan):
    client.force_login(personas["supervisor"])

    resource = client.get(f"/safety-plans/fhir/CarePlan/{plan.pk}").json()
    activities = resource["activity"]

    assert len(activities) == 6
    titles = [activity["detail"]["code"]["text"] for activity in activities]
    assert [title.split(":")[0] for title in titles] == [f"Step {n}" for n in range(1, 7)]
    assert activities[0]["detail"]["description"] == "No duermo\n<b>Rabia</b>"
    assert activities[1]["detail"]["description"] == ""
    assert activities[5]["detail"]["description"] == "Mi hermana guarda las pastillas"
    assert resource["note"][0]["text"].endswith("Mis nietos 🌱")


def test_export_subject_is_patient(client, personas, plan, at):
    person = Person.objects.create(created_at=at(0))
    plan.contact.person = person
    plan.contact.save(update_fields=["person"])
    client.force_login(personas["supervisor"])

    resource = client.get(f"/safety-plans/fhir/CarePlan/{plan.pk}").json()

    assert resource["subject"] == {"reference": f"Patient/{person.pk}"}
    assert_valid_careplan(resource)


def test_export_of_replaced_version(client, personas, plan):
    successor = services.review(plan, "Risk went down", None)
    client.force_login(personas["supervisor"])

    old = client.get(f"/safety-plans/fhir/CarePlan/{plan.pk}").json()
    new = client.get(f"/safety-plans/fhir/CarePlan/{successor.pk}").json()

    assert_valid_careplan(old)
    assert_valid_careplan(new)
    assert old["status"] == "revoked"
    assert {a["detail"]["status"] for a in old["activity"]} == {"stopped"}
    assert new["status"] == "active"
    assert new["replaces"] == [{"reference": f"CarePlan/{plan.pk}"}]
    assert new["meta"]["versionId"] == "2"


def test_validator_rejects_missing_intent(client, personas, plan):
    client.force_login(personas["supervisor"])
    resource = client.get(f"/safety-plans/fhir/CarePlan/{plan.pk}").json()
    del resource["intent"]

    with pytest.raises(KeyError):
        assert_valid_careplan(resource)
