"""Translatable labels for rule codes shown to staff.

The rules modules (``crisishub.rules``) keep English text and stable codes,
so that stored results and the matrix document do not depend on the
interface language. The consoles show those codes through the labels here,
keyed by code, so staff never read a raw code such as ``moderate`` and the
Spanish interface shows Spanish labels.
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crisishub.rules import cssrs
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
        # NOTE: the detail (Lifeline imminent-risk and danger findings) comes
        # from the rules in English.
        _base, _sep, detail = english[index].partition(" (")
        if detail.endswith(")"):
            text = f"{text}: {detail[:-1]}"
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
