"""Safety plan on the team's phone in Chromium: entries typed into two
steps are saved as the team types and are there after a reload."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from hub_server import open_incident_code

ASSIGN_CWRT1_CODE = (
    open_incident_code(2)
    + "from crisishub.core.services.dispatch import do_assign_team\n"
    + "do_assign_team(incident.pk, TEAM['CWRT-1'], actor='test')\n"
    + "result = {'id': incident.pk, 'number': incident.number}\n"
)
READ_PLAN_CODE = """\
from crisishub.safetyplan.models import SafetyPlanEntry
result = list(SafetyPlanEntry.objects.filter(plan__incident_id={incident_id})
              .order_by('step', 'position').values_list('step', 'text'))
"""
WARNING_SIGN = "No puedo dormir y me aíslo"
COPING = "Escuchar música 🎧 con mi perro"


def is_step_save(response) -> bool:
    return "/steps/" in response.url and response.request.method == "POST"


def test_phone_fills_two_steps_and_reloads(open_page, prepare_hub, hub, page_errors):
    incident = prepare_hub(ASSIGN_CWRT1_CODE)
    phone = open_page("team1", phone=True, path="/team/")
    width = phone.evaluate("document.documentElement.clientWidth")

    phone.locator("#open-safety-plan").click()
    phone.locator("#sp-start").click()
    expect(phone.locator("#sp-step-title")).to_contain_text("Step 1 of 6")
    start_box = phone.locator("#sp-start")
    expect(start_box).to_have_count(0)

    # Two autosaves of one line: the second is based on the first's save.
    for text in (WARNING_SIGN[:8], WARNING_SIGN):
        with phone.expect_response(is_step_save) as saved:
            phone.locator("#sp-line-1").fill(text)
        assert saved.value.status == 200
    expect(phone.locator("#sp-save-status")).to_contain_text("Saved at")
    next_button = phone.locator("#sp-next")
    box = next_button.bounding_box()
    next_button.click()
    expect(phone.locator("#sp-step-title")).to_contain_text("Step 2 of 6")
    phone.locator("#sp-line-1").fill(COPING)
    expect(phone.locator("#sp-save-status")).to_contain_text("Saved at")

    phone.reload()
    expect(phone.locator("#sp-line-1")).to_have_value(COPING)
    phone.goto(re.sub(r"/steps/2/.*$", "/steps/1/", phone.url))
    expect(phone.locator("#sp-line-1")).to_have_value(WARNING_SIGN)

    stored = hub.run_django(READ_PLAN_CODE.format(incident_id=incident["id"]))
    assert stored == [[1, WARNING_SIGN], [2, COPING]]
    assert width <= 390
    # A large touch target: at least 44 CSS pixels high.
    assert box is not None and box["height"] >= 44
    assert page_errors == []


def test_phone_adds_988_keeping_typed_line(open_page, prepare_hub):
    prepare_hub(ASSIGN_CWRT1_CODE)
    phone = open_page("team1", phone=True, path="/team/")
    phone.locator("#open-safety-plan").click()
    phone.locator("#sp-start").click()
    phone.goto(re.sub(r"/steps/1/.*$", "/steps/5/", phone.url))

    # Tap a suggestion right after typing, before the autosave runs.
    phone.locator("#sp-line-1").fill("Dra. Ortiz 916-555-0122")
    phone.locator(".sp-suggestion", has_text="988").click()

    expect(phone.locator("#sp-line-1")).to_have_value("Dra. Ortiz 916-555-0122")
    expect(phone.locator("#sp-line-2")).to_have_value(re.compile(r"^988 Suicide & Crisis Lifeline"))
