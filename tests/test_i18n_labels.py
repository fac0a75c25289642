"""Spanish labels of the Lifeline factors and of the rules' reason details.

The rules keep English text and stable codes for stored results, and
``consoles.labels`` translates what the counselor reads: the factor
checkboxes and the details of the matrix reasons.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from crisishub.consoles import labels
from crisishub.core.models import Contact, Screening
from crisishub.rules import lifeline

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def counselor(client, personas, reference_data):
    client.force_login(personas["call_counselor"])
    return client


def spanish(function, *args):
    with translation.override("es"):
        return function(*args)


# --- Factor labels ---------------------------------------------------------------


@pytest.mark.parametrize("domain", list(lifeline.Domain))
def test_every_factor_has_label(domain):
    codes = [member.value for member in lifeline.DOMAIN_FACTORS[domain]]

    assert list(labels.FACTOR_LABELS[domain]) == codes
    assert [code for code, _label in labels.factor_choices(domain)] == codes


@pytest.mark.parametrize(("domain", "code", "english", "expected"), [
    ("desire", "hopelessness", "Hopelessness", "Desesperanza"),
    ("desire", "feeling_trapped", "Feeling trapped", "Sensación de no tener salida"),
    ("capability", "available_means", "Available means", "Medios disponibles"),
    ("intent", "stated_intent", "Stated intent", "Intención expresada"),
    ("buffers", "immediate_supports", "Immediate supports", "Apoyos inmediatos"),
    ("danger_to_others", "history_of_violence", "History of violence", "Antecedentes de violencia"),
])
def test_factor_label_in_both_languages(domain, code, english, expected):
    with translation.override("en"):
        assert labels.factor_label(domain, code) == english
    assert spanish(labels.factor_label, domain, code) == expected


def test_every_factor_translated():
    """No factor shows its English label in the Spanish interface, except
    "Plan", which Spanish spells the same."""
    untranslated = []
    for domain, factors in labels.FACTOR_LABELS.items():
        for code, label in factors.items():
            with translation.override("en"):
                english = str(label)
            if spanish(str, label) == english and english != "Plan":
                untranslated.append(f"{domain}.{code}")

    assert untranslated == []


def test_assessment_form_spanish_factors(counselor):
    contact = screened_contact(counselor)

    page = counselor.get(f"/counselor/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    boxes = re.findall(r'<label for="id_assessment-\w+_\d+">([^<]+)</label>', page)

    assert len(boxes) == sum(len(factors) for factors in labels.FACTOR_LABELS.values())
    assert "Desesperanza" in boxes
    assert "Apoyos inmediatos" in boxes
    assert "Ideación homicida" in boxes
    assert "Hopelessness" not in boxes
    assert "Immediate supports" not in boxes


# --- Details of the imminent-risk finding -------------------------------------------


def finding_reason(**domains) -> str:
    """Return the reason that the real Lifeline rule gives for ``domains``."""
    rule = domains.pop("rule", None)
    assessment = lifeline.validate(domains)
    (reason,) = assessment.assess_imminent_risk(rule).reasons
    return reason


CORE = {"desire": ["hopelessness"], "intent": ["stated_intent"], "capability": ["available_means"]}


@pytest.mark.parametrize(("domains", "expected"), [
    ({"intent": ["attempt_in_progress"]}, "Intento en curso"),
    ({"desire": ["hopelessness"]}, "No inminente: no se marcó intención o capacidad"),
    ({}, "No inminente: no se marcó deseo, intención o capacidad"),
    (CORE, "Deseo, intención y capacidad presentes; sin factores protectores"),
    (CORE | {"buffers": ["immediate_supports", "core_values"]},
     "Deseo, intención y capacidad presentes; no inminente porque los factores protectores "
     "los compensan (valores fundamentales, apoyos inmediatos)"),
    (CORE | {"buffers": ["ambivalence"], "rule": lifeline.ImminentRiskRule(buffers_offset_at=2)},
     "Deseo, intención y capacidad presentes; factores protectores insuficientes"),
])
def test_imminent_reason_in_spanish(domains, expected):
    reason = finding_reason(**domains)

    assert spanish(labels.imminent_reason, reason) == expected


@pytest.mark.parametrize(("domains", "expected"), [
    ({"desire": ["hopelessness"]}, "Not imminent: no intent or capability endorsed"),
    (CORE, "Desire, intent and capability present; no buffers"),
    (CORE | {"buffers": ["social_supports"]},
     "Desire, intent and capability present; not imminent because buffers offset them "
     "(social supports)"),
])
def test_imminent_reason_in_english(domains, expected):
    with translation.override("en"):
        assert labels.imminent_reason(finding_reason(**domains)) == expected


def test_unknown_reason_kept_in_english():
    text = "Desire, intent and capability present; buffers offset them (unknown factor)"

    assert spanish(labels.imminent_reason, text) == text


def test_danger_detail_in_spanish():
    assessment = lifeline.validate({"danger_to_others": True, "danger_factors": ["plan", "means"]})

    assert spanish(labels.danger_detail, assessment.danger_reason()) == "medios, plan"
    assert labels.danger_detail(lifeline.validate({"danger_to_others": True}).danger_reason()) == ""
    assert labels.danger_detail(None) == ""


# --- The counselor's recommendation reasons, end to end -----------------------------


def started_contact(client) -> Contact:
    client.post("/counselor/start/", {
        "start_key": "start-key-labels-0123456789", "source": "988_transfer", "channel": "phone",
        "preferred_language": "es",
    })
    return Contact.objects.get()


def screened_contact(client) -> Contact:
    contact = started_contact(client)
    for item, value in [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "no"), ("5", "no"),
                        ("6", "no")]:
        client.post(f"/counselor/contacts/{contact.pk}/cssrs/", {"item": item, "answer": value}, **HX)
    return contact


def assessed_contact(client, **fields) -> Contact:
    contact = screened_contact(client)
    data = {f"assessment-{key}": value for key, value in fields.items()}
    response = client.post(f"/counselor/contacts/{contact.pk}/assessment/", data, **HX)
    assert response.status_code == 200
    assert Screening.objects.filter(contact=contact).exists()
    return contact


def reasons_of(client, contact, language: str) -> list[str]:
    page = client.get(f"/counselor/contacts/{contact.pk}/workflow/",
                      HTTP_ACCEPT_LANGUAGE=language).content.decode()
    block = re.search(r'id="recommendation-reasons">(.*?)</ul>', page, re.S).group(1)
    return [" ".join(item.split()) for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_imminent_detail_in_spanish_reasons(counselor):
    contact = assessed_contact(counselor, **CORE)

    english = reasons_of(counselor, contact, "en")
    reasons = reasons_of(counselor, contact, "es")

    assert english[0] == "Imminent risk: Desire, intent and capability present; no buffers"
    assert reasons[0] == "Riesgo inminente: Deseo, intención y capacidad presentes; sin factores protectores"
    assert not any(re.search(r"\b(present|buffers)\b", reason) for reason in reasons), reasons


def test_danger_detail_in_spanish_reasons(counselor):
    contact = assessed_contact(
        counselor, danger_to_others="on", danger_factors=["homicidal_ideation", "means"],
    )

    english = reasons_of(counselor, contact, "en")
    reasons = reasons_of(counselor, contact, "es")

    assert english[0] == "Danger to others: homicidal ideation, means"
    assert reasons[0] == "Peligro para otras personas: ideación homicida, medios"
    # The stored result keeps the rule codes.
    screening = Screening.objects.get(contact=contact)
    assert screening.lifeline_domains["danger_factors"] == ["homicidal_ideation", "means"]
