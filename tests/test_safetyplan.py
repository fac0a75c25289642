"""Safety plans: the six steps, versions, the person's words and the
printable copy, through the services and Django's test client."""

from __future__ import annotations

import re

import pytest

from crisishub.audit.models import AuditEntry
from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import Facility, Team
from crisishub.core.services.dispatch import do_assign_team
from crisishub.safetyplan import services
from crisishub.safetyplan.models import MAX_ENTRY_CHARS, SafetyPlan, SafetyPlanEntry, Step

HX = {"HTTP_HX_REQUEST": "true"}
# The person's words, kept exactly: accents, CJK, right-to-left, emoji,
# markup and a line break.
WORDS = [
    "Cuando no duermo y pienso que soy una carga",
    "眠れない夜が続くとき",
    "عندما أشعر بالوحدة",
    "Walking my dog 🐕 by the river",
    '<script>alert("x")</script> & <b>bold</b>',
    "Line one\nline two",
]


@pytest.fixture
def member(personas, fleet):
    """The team-member persona, on team CWRT-1."""
    team = Team.objects.get(name="CWRT-1")
    team.members.filter(role="counselor").update(user=personas["team_member"])
    return personas["team_member"]


@pytest.fixture
def incident(make_incident, member, personas):
    incident = make_incident(priority=1, caller_name="Test Caller Name",
                             caller_phone="916-555-0100")
    incident.safety_notes = "Gate code 4321"
    incident.risk_level = "high"
    incident.save(update_fields=["safety_notes", "risk_level"])
    contact = incident.contact
    contact.handled_by = personas["call_counselor"]
    contact.save(update_fields=["handled_by"])
    do_assign_team(incident.pk, Team.objects.get(name="CWRT-1").pk, actor="test")
    incident.refresh_from_db()
    return incident


@pytest.fixture
def plan(incident, member):
    return services.start_plan(incident, member)


@pytest.fixture
def team_client(client, member):
    client.force_login(member)
    return client


def step_url(plan, step):
    return f"/safety-plans/{plan.pk}/steps/{step}/"


def test_steps_in_fixed_order(plan):
    services.save_step(plan, Step.SAFE_ENVIRONMENT, ["Give the pills to my sister"])
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])

    steps = plan.entries_by_step()

    assert [step.value for step, _ in steps] == [1, 2, 3, 4, 5, 6]
    assert [entry.text for entry in steps[0][1]] == ["Not sleeping"]
    assert steps[1][1] == []
    assert [entry.text for entry in steps[5][1]] == ["Give the pills to my sister"]


def test_step_entries_keep_order_and_drop_blanks(plan):
    services.save_step(plan, Step.INTERNAL_COPING, ["Music", "", "  ", "Shower", "Breathe"])
    services.save_step(plan, Step.INTERNAL_COPING, ["Breathe", "Music"])

    rows = list(plan.entries.filter(step=Step.INTERNAL_COPING).values_list("position", "text"))

    assert rows == [(0, "Breathe"), (1, "Music")]


def test_invalid_step_rejected(plan):
    with pytest.raises(InvalidInput):
        services.save_step(plan, 7, ["x"])


def test_step_pages_walk_in_order(team_client, plan):
    first = team_client.post(step_url(plan, 1), {"entry": ["Racing thoughts"], "go": "next"})
    skipped = team_client.post(step_url(plan, 2), {"entry": [""], "go": "next"})
    back = team_client.post(step_url(plan, 3), {"entry": [""], "go": "back"})
    last = team_client.post(step_url(plan, 7), {"reason_for_living": "Mi hija", "go": "next"})

    assert first["Location"] == step_url(plan, 2)
    assert skipped["Location"] == step_url(plan, 3)
    assert back["Location"] == step_url(plan, 2)
    assert last["Location"] == f"/safety-plans/{plan.pk}/"
    assert team_client.get(step_url(plan, 8)).status_code == 404
    assert team_client.get(step_url(plan, 0)).status_code == 404
    plan.refresh_from_db()
    assert plan.reason_for_living == "Mi hija"


def test_step_page_shows_saved_entries(team_client, plan):
    team_client.post(step_url(plan, 4), {"entry": ["Ana 916-555-0111", "Tío Luis"]}, **HX)

    page = team_client.get(step_url(plan, 4)).content.decode()

    assert "Step 4 of 6" in page
    assert ">Ana 916-555-0111</textarea>" in page
    assert ">Tío Luis</textarea>" in page
    assert "not a no-suicide contract" in page


def test_autosave_returns_save_status(team_client, plan):
    response = team_client.post(step_url(plan, 1), {"entry": ["Pacing"]}, **HX)

    assert response.status_code == 200
    assert 'id="sp-save-status"' in response.content.decode()
    assert "Saved at" in response.content.decode()
    assert list(plan.entries.values_list("text", flat=True)) == ["Pacing"]


def test_add_line_gives_extra_blank(team_client, plan):
    response = team_client.post(step_url(plan, 2), {"entry": ["Music", ""], "go": "add"})
    page = team_client.get(response["Location"]).content.decode()

    assert response["Location"].startswith(step_url(plan, 2) + "?more=1")
    assert page.count('name="entry"') == 3


def test_words_stored_unchanged(team_client, plan):
    long_text = ("Quiero ver crecer a mis nietos. " * 70)[:MAX_ENTRY_CHARS]

    team_client.post(step_url(plan, 3), {"entry": WORDS + [long_text]}, **HX)

    stored = list(plan.entries.filter(step=3).order_by("position").values_list("text", flat=True))
    assert stored == WORDS + [long_text]


def test_words_escaped_in_output(team_client, plan, personas, client):
    services.save_step(plan, Step.WARNING_SIGNS, WORDS)
    services.save_reason_for_living(plan, "<i>Mi hija</i>")

    pages = [team_client.get(f"/safety-plans/{plan.pk}/").content.decode(),
             team_client.get(f"/safety-plans/{plan.pk}/copy/").content.decode(),
             team_client.get(step_url(plan, 1)).content.decode()]

    for page in pages:
        assert '<script>alert("x")</script>' not in page
        assert "<b>bold</b>" not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
        assert "眠れない夜が続くとき" in page
        assert "عندما أشعر بالوحدة" in page
    assert "&lt;i&gt;Mi hija&lt;/i&gt;" in pages[0]


def test_too_long_entry_rejected_keeps_saved(team_client, plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["Kept"])

    response = team_client.post(step_url(plan, 1), {"entry": ["x" * (MAX_ENTRY_CHARS + 1)]}, **HX)

    assert response.status_code == 400
    assert "2001 characters, more than 2000" in response.content.decode()
    assert list(plan.entries.values_list("text", flat=True)) == ["Kept"]


def test_review_creates_new_version(team_client, plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])
    services.save_reason_for_living(plan, "My cat")

    response = team_client.post(f"/safety-plans/{plan.pk}/review/",
                                {"review_reason": "Lost job; risk now high"})

    successor = SafetyPlan.objects.get(contact=plan.contact, superseded_at__isnull=True)
    plan.refresh_from_db()
    assert response["Location"] == step_url(successor, 1)
    assert successor.version == 2
    assert successor.previous_id == plan.pk
    assert successor.review_reason == "Lost job; risk now high"
    assert successor.reason_for_living == "My cat"
    assert list(successor.entries.values_list("text", flat=True)) == ["Not sleeping"]
    assert plan.superseded_at is not None
    assert plan.version == 1


def test_old_version_read_only(team_client, plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])
    successor = services.review(plan, "Risk went up", None)
    plan.refresh_from_db()

    team_client.post(step_url(plan, 1), {"entry": ["Changed"], "go": "next"})
    with pytest.raises(Conflict):
        services.save_step(plan, Step.WARNING_SIGNS, ["Changed"])
    with pytest.raises(Conflict):
        plan.entries.get().save()
    with pytest.raises(Conflict):
        plan.entries.get().delete()
    with pytest.raises(Conflict):
        plan.save()
    page = team_client.get(f"/safety-plans/{plan.pk}/").content.decode()

    assert list(plan.entries.values_list("text", flat=True)) == ["Not sleeping"]
    assert 'id="sp-superseded"' in page
    assert 'id="sp-edit"' not in page
    assert successor.entries.get().text == "Not sleeping"


def test_review_without_reason_rejected(team_client, plan):
    response = team_client.post(f"/safety-plans/{plan.pk}/review/", {"review_reason": "  "})

    assert response.status_code == 400
    assert "reason for the review is missing" in response.content.decode()
    assert SafetyPlan.objects.filter(contact=plan.contact).count() == 1


def test_saves_are_audited_redacted(plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])
    entry = plan.entries.get()

    created = AuditEntry.objects.get(object_type="safetyplan.safetyplanentry",
                                     object_id=str(entry.pk), action="create")
    plan_created = AuditEntry.objects.filter(object_type="safetyplan.safetyplan",
                                             object_id=str(plan.pk), action="create")

    assert created.changes["text"] == [None, "[redacted]"]
    assert "Not sleeping" not in str(created.changes)
    assert plan_created.count() == 1


def test_suggestions_from_directory(team_client, plan):
    urgent_care = Facility.objects.get(kind="mental_health_urgent_care")

    page = team_client.get(step_url(plan, 5)).content.decode()
    team_client.post(f"/safety-plans/{plan.pk}/suggestions/", {"facility_id": ""})
    team_client.post(f"/safety-plans/{plan.pk}/suggestions/", {"facility_id": str(urgent_care.pk)})
    after = team_client.get(step_url(plan, 5)).content.decode()

    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert urgent_care.name in page
    entries = list(plan.entries.filter(step=5).order_by("position"))
    assert entries[0].text == services.LIFELINE_988
    assert entries[0].facility_id is None
    assert entries[1].facility_id == urgent_care.pk
    assert 'id="sp-suggestions"' not in after


def test_unknown_suggestion_rejected(team_client, plan):
    response = team_client.post(f"/safety-plans/{plan.pk}/suggestions/", {"facility_id": "999999"})

    assert response.status_code == 400
    assert "Facility 999999 not found" in response.content.decode()
    assert not plan.entries.exists()


def test_open_from_assignment(team_client, incident):
    team_page = team_client.get("/team/").content.decode()
    before = team_client.get(f"/safety-plans/incidents/{incident.pk}/")
    started = team_client.post(f"/safety-plans/incidents/{incident.pk}/")
    again = team_client.post(f"/safety-plans/incidents/{incident.pk}/")
    opened = team_client.get(f"/safety-plans/incidents/{incident.pk}/")

    plan = SafetyPlan.objects.get(contact=incident.contact)
    assert f'href="/safety-plans/incidents/{incident.pk}/"' in team_page
    assert 'id="sp-start"' in before.content.decode()
    assert started["Location"] == step_url(plan, 1)
    assert again["Location"] == step_url(plan, 1)
    assert opened["Location"] == f"/safety-plans/{plan.pk}/"
    assert plan.team.name == "CWRT-1"
    assert plan.incident_id == incident.pk


def test_printable_copy(team_client, plan):
    services.save_step(plan, Step.PEOPLE_TO_ASK, ["Ana 916-555-0111"])
    services.save_reason_for_living(plan, "Mi hija")

    response = team_client.get(f"/safety-plans/{plan.pk}/copy/")
    page = response.content.decode()

    assert response.status_code == 200
    assert "My safety plan" in page
    assert "Ana 916-555-0111" in page
    assert "Mi hija" in page
    assert "safetyplan/print.css" in page
    # The copy contains the plan only, without details of the record.
    for private in ("Gate code 4321", "Test Caller Name", "916-555-0100",
                    plan.incident.number, "High", "risk"):
        assert private not in page, private
    assert 'class="site-header"' not in page
    assert len(re.findall(r'data-step="\d"', page)) == 6


def test_print_stylesheet_has_print_rules(client):
    from django.contrib.staticfiles import finders

    css = open(finders.find("safetyplan/print.css"), encoding="utf-8").read()

    assert "@media print" in css
    assert ".no-print { display: none; }" in css


def test_old_version_step_page_redirects(team_client, plan):
    services.review(plan, "Risk went up", None)

    response = team_client.get(step_url(plan, 1))

    assert response.status_code == 302
    assert response["Location"] == f"/safety-plans/{plan.pk}/"


def test_step_page_in_spanish(team_client, plan):
    page = team_client.get(step_url(plan, 1), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    copy = team_client.get(f"/safety-plans/{plan.pk}/copy/", HTTP_ACCEPT_LANGUAGE="es")

    assert "Paso 1 de 6" in page
    assert "Señales de advertencia" in page
    assert "no es un contrato de no suicidio" in page
    assert "Mi plan de seguridad" in copy.content.decode()


def test_copy_leaves_lines_for_empty_steps(team_client, plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["Not sleeping"])

    copy = team_client.get(f"/safety-plans/{plan.pk}/copy/").content.decode()
    detail = team_client.get(f"/safety-plans/{plan.pk}/").content.decode()

    # Steps 2 to 6 and the reason for living are empty.
    assert copy.count("data-blank") == 6
    assert "Nothing written yet." not in copy
    assert detail.count("Nothing written yet.") == 6


def test_new_screening_asks_for_review(team_client, plan):
    from django.utils import timezone

    from crisishub.core.models import Screening

    before = team_client.get(f"/safety-plans/{plan.pk}/").content.decode()
    Screening.objects.create(contact=plan.contact, instrument_version="test", risk_level="high",
                             created_at=timezone.now())
    after = team_client.get(f"/safety-plans/{plan.pk}/").content.decode()
    step = team_client.get(step_url(plan, 1)).content.decode()
    successor = services.review(plan, "New screening: high", None)
    reviewed = team_client.get(f"/safety-plans/{successor.pk}/").content.decode()

    assert 'id="sp-review-due"' not in before
    assert 'id="sp-review-due"' in after
    assert "(High)" in after
    assert 'id="sp-review-due"' in step
    assert 'id="sp-review-due"' not in reviewed


def test_other_device_change_not_overwritten(team_client, plan):
    services.save_step(plan, Step.PEOPLE_TO_ASK, ["Ana"])
    base = services.step_digest(["Ana"])
    # The other phone adds a line after this form loaded.
    services.save_step(plan, Step.PEOPLE_TO_ASK, ["Ana", "Luis"], base_digest=base)

    autosave = team_client.post(step_url(plan, 4), {"entry": ["Ana", "Marta"], "base": base}, **HX)
    merged = team_client.post(step_url(plan, 4), {"entry": ["Ana", "Marta"], "base": base,
                                                  "go": "next"})
    merged_page = merged.content.decode()
    merged_base = re.search(r'name="base" id="sp-base" value="([0-9a-f]{64})"', merged_page).group(1)
    saved = team_client.post(step_url(plan, 4), {"entry": ["Ana", "Luis", "Marta"],
                                                 "base": merged_base, "go": "next"})

    assert autosave.status_code == 409
    assert "changed on another device" in autosave.content.decode()
    assert 'id="sp-base"' not in autosave.content.decode()
    assert merged.status_code == 409
    assert ">Luis</textarea>" in merged_page
    assert ">Marta</textarea>" in merged_page
    assert saved.status_code == 302
    assert services.step_texts(plan, Step.PEOPLE_TO_ASK) == ["Ana", "Luis", "Marta"]


def test_own_autosaves_chain_by_digest(team_client, plan):
    page = team_client.get(step_url(plan, 2)).content.decode()
    base = re.search(r'id="sp-base" value="([0-9a-f]{64})"', page).group(1)

    first = team_client.post(step_url(plan, 2), {"entry": ["Mus"], "base": base}, **HX)
    next_base = re.search(r'id="sp-base" value="([0-9a-f]{64})"', first.content.decode()).group(1)
    second = team_client.post(step_url(plan, 2), {"entry": ["Music"], "base": next_base}, **HX)

    assert first.status_code == 200
    assert second.status_code == 200
    assert services.step_texts(plan, Step.INTERNAL_COPING) == ["Music"]


def test_suggestion_saves_typed_lines_first(team_client, plan):
    base = services.step_digest([])

    response = team_client.post(step_url(plan, 5), {
        "entry": ["Dr. Ortiz 916-555-0122", ""], "base": base, "go": "suggest:"})
    stored = services.step_texts(plan, 5)
    bad = team_client.post(step_url(plan, 5), {
        "entry": stored, "base": services.step_digest(stored), "go": "suggest:abc"})

    assert response.status_code == 302
    assert response["Location"] == step_url(plan, 5)
    assert stored == ["Dr. Ortiz 916-555-0122", services.LIFELINE_988]
    assert services.step_texts(plan, 5) == stored
    assert bad.status_code == 400
    assert "Facility abc not found" in bad.content.decode()


def test_copy_in_person_language(team_client, plan):
    services.save_step(plan, Step.WARNING_SIGNS, ["No duermo"])

    detail = team_client.get(f"/safety-plans/{plan.pk}/").content.decode()
    spanish = team_client.get(f"/safety-plans/{plan.pk}/copy/?lang=es")
    invalid = team_client.get(f"/safety-plans/{plan.pk}/copy/?lang=xx")

    assert f'href="/safety-plans/{plan.pk}/copy/?lang=es"' in detail
    assert "Mi plan de seguridad" in spanish.content.decode()
    assert 'lang="es"' in spanish.content.decode()
    assert "No duermo" in spanish.content.decode()
    assert invalid.status_code == 400
    assert "Invalid lang 'xx'" in invalid.content.decode()
