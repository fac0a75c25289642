"""Translatable labels for rule codes shown to staff.

The rules modules (``crisishub.rules``) keep English text and stable codes,
so that stored results and the matrix document do not depend on the
interface language. The consoles show those codes through the labels here,
keyed by code, so staff never read a raw code such as ``moderate`` and the
Spanish interface shows Spanish labels. The few English sentences that the
rules build into reasons (the Lifeline imminent-risk finding, the danger
factors) are translated here by matching their known wording.
"""

from __future__ import annotations

import re

from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crisishub.rules import cssrs, lifeline
from crisishub.rules import matrix as matrix_rules

RISK_LABELS = {
    cssrs.RiskLevel.NONE.value: _("None"),
    cssrs.RiskLevel.LOW.value: _("Low"),
    cssrs.RiskLevel.MODERATE.value: _("Moderate"),
    cssrs.RiskLevel.HIGH.value: _("High"),
}

# Paraphrased construct labels of the C-SSRS screener items. The licensed
# question wording is read to the caller, never these labels.
CSSRS_ITEM_LABELS = {
    cssrs.ItemId.Q1.value: _("wish to be dead"),
    cssrs.ItemId.Q2.value: _("non-specific active suicidal thoughts"),
    cssrs.ItemId.Q3.value: _("thoughts of a method, no plan or intent"),
    cssrs.ItemId.Q4.value: _("some intent to act, no specific plan"),
    cssrs.ItemId.Q5.value: _("plan with intent"),
    cssrs.ItemId.Q6.value: _("suicidal behavior: did, started or prepared"),
    cssrs.ItemId.Q6A.value: _("suicidal behavior within the past 3 months"),
}

PERIOD_LABELS = {
    cssrs.Period.PAST_MONTH.value: _("past month"),
    cssrs.Period.LIFETIME.value: _("lifetime"),
    cssrs.Period.PAST_3_MONTHS.value: _("past 3 months"),
    cssrs.Period.SINCE_LAST_CONTACT.value: _("since last contact"),
}

# Lifeline risk-assessment factors, keyed by domain and factor code.
FACTOR_LABELS = {
    lifeline.Domain.DESIRE: {
        lifeline.DesireFactor.IDEATION.value: _("Ideation"),
        lifeline.DesireFactor.PSYCHOLOGICAL_PAIN.value: _("Psychological pain"),
        lifeline.DesireFactor.HOPELESSNESS.value: _("Hopelessness"),
        lifeline.DesireFactor.HELPLESSNESS.value: _("Helplessness"),
        lifeline.DesireFactor.PERCEIVED_BURDEN.value: _("Perceived burden"),
        lifeline.DesireFactor.FEELING_TRAPPED.value: _("Feeling trapped"),
        lifeline.DesireFactor.INTOLERABLY_ALONE.value: _("Intolerably alone"),
    },
    lifeline.Domain.CAPABILITY: {
        lifeline.CapabilityFactor.PRIOR_ATTEMPTS.value: _("Prior attempts"),
        lifeline.CapabilityFactor.EXPOSURE_TO_SUICIDE.value: _("Exposure to suicide"),
        lifeline.CapabilityFactor.VIOLENCE_TOWARD_OTHERS.value: _("Violence toward others"),
        lifeline.CapabilityFactor.AVAILABLE_MEANS.value: _("Available means"),
        lifeline.CapabilityFactor.INTOXICATION.value: _("Intoxication"),
        lifeline.CapabilityFactor.ACUTE_SYMPTOMS.value: _("Acute symptoms"),
        lifeline.CapabilityFactor.AGITATION_OR_RAGE.value: _("Agitation or rage"),
    },
    lifeline.Domain.INTENT: {
        lifeline.IntentFactor.ATTEMPT_IN_PROGRESS.value: _("Attempt in progress"),
        lifeline.IntentFactor.PLAN_WITH_KNOWN_METHOD.value: _("Plan with known method"),
        lifeline.IntentFactor.PREPARATORY_BEHAVIOR.value: _("Preparatory behavior"),
        lifeline.IntentFactor.STATED_INTENT.value: _("Stated intent"),
    },
    lifeline.Domain.BUFFERS: {
        lifeline.BufferFactor.IMMEDIATE_SUPPORTS.value: _("Immediate supports"),
        lifeline.BufferFactor.SOCIAL_SUPPORTS.value: _("Social supports"),
        lifeline.BufferFactor.FUTURE_PLANS.value: _("Future plans"),
        lifeline.BufferFactor.ENGAGEMENT_WITH_HELPER.value: _("Engagement with helper"),
        lifeline.BufferFactor.AMBIVALENCE.value: _("Ambivalence"),
        lifeline.BufferFactor.CORE_VALUES.value: _("Core values"),
        lifeline.BufferFactor.SENSE_OF_PURPOSE.value: _("Sense of purpose"),
    },
    lifeline.Domain.DANGER_TO_OTHERS: {
        lifeline.DangerToOthersFactor.HOMICIDAL_IDEATION.value: _("Homicidal ideation"),
        lifeline.DangerToOthersFactor.PLAN.value: _("Plan"),
        lifeline.DangerToOthersFactor.MEANS.value: _("Means"),
        lifeline.DangerToOthersFactor.HISTORY_OF_VIOLENCE.value: _("History of violence"),
    },
}

# Domains named in the imminent-risk finding, in lower case as they appear
# inside a sentence.
CORE_DOMAIN_NAMES = {
    lifeline.Domain.DESIRE.value: _("desire"),
    lifeline.Domain.INTENT.value: _("intent"),
    lifeline.Domain.CAPABILITY.value: _("capability"),
}

# Crisis levels of the shipped example matrix. A matrix with other level
# ids shows its own (untranslated) labels.
LEVEL_LABELS = {
    "routine": _("Routine"),
    "urgent": _("Urgent"),
    "emergent": _("Emergent"),
    "imminent": _("Imminent"),
}

# Reason of each matrix condition, keyed by (condition key, expected value).
CONDITION_LABELS = {
    ("cssrs_screened", True): _("C-SSRS screener completed"),
    ("cssrs_screened", False): _("No C-SSRS screener recorded"),
    ("imminent_risk", True): _("Imminent risk"),
    ("imminent_risk", False): _("Not at imminent risk"),
    ("attempt_in_progress", True): _("Attempt in progress"),
    ("attempt_in_progress", False): _("No attempt in progress"),
    ("danger_to_others", True): _("Danger to others"),
    ("danger_to_others", False): _("No danger to others"),
    ("medical_emergency", True): _("Medical emergency reported"),
    ("medical_emergency", False): _("No medical emergency reported"),
    ("weapon_present", True): _("Weapon present"),
    ("weapon_present", False): _("No weapon reported"),
    ("caller_safe_at_phone", True): _("Caller safe at the phone"),
    ("caller_safe_at_phone", False): _("Caller not safe at the phone"),
    ("has_supports", True): _("Immediate or social supports present"),
    ("has_supports", False): _("No immediate or social supports identified"),
}

RISK_CONDITIONS = ("cssrs_risk_min", "cssrs_risk_in")


def risk_label(code: str | None) -> str:
    """Return the display label of a risk level code, or "Not screened"."""
    if not code:
        return gettext("Not screened")
    label = RISK_LABELS.get(str(code))
    return str(label) if label is not None else str(code).capitalize()


def item_label(item_id: str) -> str:
    return str(CSSRS_ITEM_LABELS.get(str(item_id), cssrs.ITEMS[cssrs.ItemId(item_id)].label))


def period_label(period: str) -> str:
    return str(PERIOD_LABELS.get(str(period), period))


def factor_label(domain: str, code: str) -> str:
    """Return the label of a Lifeline factor, or the code made readable."""
    label = FACTOR_LABELS.get(lifeline.Domain(domain), {}).get(str(code))
    return str(label) if label is not None else str(code).replace("_", " ").capitalize()


def factor_choices(domain: str) -> list[tuple[str, object]]:
    """Return (code, lazy label) choices of one domain's factors, in rule order."""
    domain = lifeline.Domain(domain)
    labels = FACTOR_LABELS[domain]
    return [(member.value, labels[member.value]) for member in lifeline.DOMAIN_FACTORS[domain]]


def _in_sentence(label: str) -> str:
    return label[:1].lower() + label[1:]


def _factor_list(domain: lifeline.Domain, text: str) -> str | None:
    """Translate a comma-separated list of factors as the rules write them
    ("immediate supports, social supports"), or return None if a name is
    not a factor of ``domain``."""
    names = []
    for name in text.split(", "):
        code = name.replace(" ", "_")
        if code not in FACTOR_LABELS[domain]:
            return None
        names.append(_in_sentence(str(FACTOR_LABELS[domain][code])))
    return ", ".join(names)


# The sentences of lifeline.LifelineAssessment.assess_imminent_risk, which
# the rules keep in English for stored results.
# NOTE: a reworded sentence there must be matched here too, or it shows in
# English; tests/test_i18n_labels.py runs every branch of the rule.
_CORE_PRESENT = "Desire, intent and capability present"
_NOT_IMMINENT = re.compile(r"^Not imminent: no (?P<domains>.+) endorsed$")
_BUFFERS_OFFSET = re.compile(
    rf"^{_CORE_PRESENT}; not imminent because buffers offset them \((?P<buffers>.+)\)$"
)


def imminent_reason(text: str) -> str:
    """Translate one reason of a Lifeline imminent-risk finding.

    A sentence this module does not know is returned in English.
    """
    if text == "Attempt in progress":
        return gettext("Attempt in progress")
    if text == f"{_CORE_PRESENT}; no buffers":
        return gettext("Desire, intent and capability present; no buffers")
    if text == f"{_CORE_PRESENT}; buffers insufficient":
        return gettext("Desire, intent and capability present; buffers insufficient")
    match = _NOT_IMMINENT.match(text)
    if match:
        domains = match.group("domains").split(", no ")
        if all(domain in CORE_DOMAIN_NAMES for domain in domains):
            names = get_text_list([str(CORE_DOMAIN_NAMES[domain]) for domain in domains], gettext("or"))
            return gettext("Not imminent: no %(domains)s endorsed") % {"domains": names}
    match = _BUFFERS_OFFSET.match(text)
    if match:
        buffers = _factor_list(lifeline.Domain.BUFFERS, match.group("buffers"))
        if buffers is not None:
            return gettext(
                "Desire, intent and capability present; not imminent because buffers "
                "offset them (%(buffers)s)"
            ) % {"buffers": buffers}
    return text


def danger_detail(reason: str | None) -> str:
    """Translate the factors of a danger-to-others reason
    ("Danger to others (plan, means)"), or return "" when it names none."""
    prefix = "Danger to others ("
    if not reason or not reason.startswith(prefix) or not reason.endswith(")"):
        return ""
    factors = reason[len(prefix):-1]
    translated = _factor_list(lifeline.Domain.DANGER_TO_OTHERS, factors)
    return translated if translated is not None else factors


def _condition_detail(key: str, facts: matrix_rules.TriageFacts) -> str:
    """Return the translated detail the rules add to a condition's reason."""
    if key == "imminent_risk":
        return "; ".join(imminent_reason(reason) for reason in facts.imminent_reasons)
    if key == "danger_to_others":
        return danger_detail(facts.danger_reason)
    return ""


def level_label(level_id: str, fallback: str) -> str:
    label = LEVEL_LABELS.get(level_id)
    return str(label) if label is not None else fallback


def cssrs_reason(result: cssrs.ScreeningResult) -> str:
    """Describe a screener result's risk level and the items behind it."""
    level = risk_label(result.risk.value)
    if not result.drivers:
        return gettext("C-SSRS risk %(level)s: no item endorsed.") % {"level": level}
    items = "; ".join(
        gettext("item %(id)s, %(label)s") % {"id": item.value, "label": item_label(item.value)}
        for item in result.drivers
    )
    return gettext("C-SSRS risk %(level)s because of %(items)s.") % {"level": level, "items": items}


def recommendation_reasons(
    matrix: matrix_rules.Matrix,
    outcome: matrix_rules.TriageResult,
    facts: matrix_rules.TriageFacts,
    screening: cssrs.ScreeningResult | None,
) -> list[str]:
    """Return the reasons of ``outcome`` in the interface language.

    The list has the same entries as ``outcome.reasons``: one per condition
    of the matched rule, then the closing level and path.
    """
    rule = next((rule for rule in matrix.rules if rule.id == outcome.rule_id), None)
    if rule is None:
        return list(outcome.reasons)
    english = list(outcome.reasons)
    reasons = []
    for index, condition in enumerate(rule.conditions):
        if condition.key in RISK_CONDITIONS and screening is not None:
            reasons.append(cssrs_reason(screening))
            continue
        label = CONDITION_LABELS.get((condition.key, bool(condition.value)))
        if label is None:
            reasons.append(english[index])
            continue
        text = str(label)
        detail = _condition_detail(condition.key, facts)
        if detail:
            text = f"{text}: {detail}"
        reasons.append(text)
    if rule.is_default:
        reasons.append(gettext("No earlier rule matched"))
    from crisishub.core.models import Path

    path = str(Path(str(outcome.path)).label)
    level = level_label(outcome.level, outcome.level_label)
    if outcome.priority is not None:
        closing = gettext("%(level)s, so %(path)s at priority %(priority)s.") % {
            "level": level, "path": path, "priority": outcome.priority}
    else:
        closing = gettext("%(level)s, so %(path)s.") % {"level": level, "path": path}
    reasons.append(closing)
    return reasons
