"""Safety plans: who may read, write and export them; each 403 is audited."""

from __future__ import annotations

import pytest

from crisishub.audit.models import AuditEntry
from crisishub.core.models import Team, TeamMember
from crisishub.core.services.dispatch import do_assign_team
from crisishub.safetyplan import services
from crisishub.safetyplan.models import SafetyPlan, Step


@pytest.fixture
def member(personas, fleet):
    team = Team.objects.get(name="CWRT-1")
    team.members.filter(role="counselor").update(user=personas["team_member"])
    return personas["team_member"]


@pytest.fixture
def other_member(fleet, user_factory):
    user = user_factory("other-team", "team_member")
    team = Team.objects.get(name="CWRT-2")
    team.members.filter(role="counselor").update(user=user)
    return user


@pytest.fixture
def plan(make_incident, member, personas):
    incident = make_incident(priority=1)
    contact = incident.contact
    contact.handled_by = personas["call_counselor"]
    contact.save(update_fields=["handled_by"])
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    incident.refresh_from_db()
    plan = services.start_plan(incident, member)
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])
    return plan


def paths(plan):
    return {
        "detail": f"/safety-plans/{plan.pk}/",
        "copy": f"/safety-plans/{plan.pk}/copy/",
        "step": f"/safety-plans/{plan.pk}/steps/1/",
        "contact": f"/safety-plans/contacts/{plan.contact_id}/",
        "incident": f"/safety-plans/incidents/{plan.incident_id}/",
        "fhir": f"/safety-plans/fhir/CarePlan/{plan.pk}",
    }


# Which persona may open which page (GET).
ALLOWED = {
    "team_member": {"detail", "copy", "step", "contact", "incident"},
    "call_counselor": {"detail", "copy", "contact"},
    "supervisor": {"detail", "copy", "contact", "fhir"},
    "dispatcher": set(),
    "analyst": set(),
    "administrator": set(),
    "outsider": set(),
    "other_counselor": set(),
    "other_member": set(),
}


@pytest.mark.parametrize("persona", sorted(ALLOWED))
def test_read_pages_by_persona(client, personas, plan, other_member, user_factory, persona):
    if persona == "other_counselor":
        user = user_factory("other-counselor", "call_counselor")
    elif persona == "other_member":
        user = other_member
    else:
        user = personas[persona]
    client.force_login(user)

    for name, path in paths(plan).items():
        denials_before = AuditEntry.objects.filter(action="denied", actor=user).count()
        response = client.get(path)
        denials = AuditEntry.objects.filter(action="denied", actor=user).count() - denials_before
        if name in ALLOWED[persona]:
            assert response.status_code in (200, 302), f"{persona} {name}: {response.status_code}"
            assert denials == 0, f"{persona} {name}"
        else:
            assert response.status_code == 403, f"{persona} {name}: {response.status_code}"
            assert denials == 1, f"{persona} {name}"


def test_counselor_read_is_audited(client, personas, plan):
    client.force_login(personas["call_counselor"])

    response = client.get(f"/safety-plans/contacts/{plan.contact_id}/", follow=True)

    assert response.status_code == 200
    assert "Not sleeping" in response.content.decode()
    assert 'id="sp-edit"' not in response.content.decode()
    assert AuditEntry.objects.filter(action="view", object_type="safetyplan.safetyplan",
                                     object_id=str(plan.pk), actor=personas["call_counselor"]).exists()


def test_contact_without_plan(client, personas, make_contact):
    contact = make_contact()
    client.force_login(personas["supervisor"])

    response = client.get(f"/safety-plans/contacts/{contact.pk}/")

    assert response.status_code == 200
    assert 'id="sp-none"' in response.content.decode()


@pytest.mark.parametrize("persona", ["call_counselor", "supervisor", "other_member", "dispatcher"])
def test_writes_denied_change_nothing(client, personas, plan, other_member, persona):
    user = other_member if persona == "other_member" else personas[persona]
    client.force_login(user)

    edit = client.post(f"/safety-plans/{plan.pk}/steps/1/", {"entry": ["Changed"]})
    review = client.post(f"/safety-plans/{plan.pk}/review/", {"review_reason": "x"})
    suggest = client.post(f"/safety-plans/{plan.pk}/suggestions/", {"facility_id": ""})
    start = client.post(f"/safety-plans/incidents/{plan.incident_id}/")

    assert [edit.status_code, review.status_code, suggest.status_code, start.status_code] == [403] * 4
    assert AuditEntry.objects.filter(action="denied", actor=user).count() == 4
    assert list(plan.entries.values_list("text", flat=True)) == ["Not sleeping"]
    assert SafetyPlan.objects.filter(contact=plan.contact).count() == 1


def test_member_leaving_team_loses_access(client, member, plan):
    client.force_login(member)
    TeamMember.objects.filter(user=member).update(user=None)

    response = client.get(f"/safety-plans/{plan.pk}/steps/1/")

    assert response.status_code == 403
    denial = AuditEntry.objects.filter(action="denied", actor=member).get()
    assert denial.object_type == "safetyplan.safetyplan"
    assert denial.object_id == str(plan.pk)


def test_anonymous_sent_to_sign_in(client, plan):
    for path in paths(plan).values():
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/accounts/login/" in response["Location"], path


def test_contact_page_links_plan(client, personas, plan):
    client.force_login(personas["call_counselor"])

    page = client.get(f"/counselor/contacts/{plan.contact_id}/").content.decode()

    assert f'href="/safety-plans/contacts/{plan.contact_id}/"' in page
