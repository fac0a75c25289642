"""Tests for the 988 Lifeline risk domains and the imminent-risk rule."""

import dataclasses

import pytest

from crisishub.rules import lifeline
from crisishub.rules.lifeline import (
    BufferFactor,
    CapabilityFactor,
    DangerToOthersFactor,
    DesireFactor,
    ImminentRiskRule,
    IntentFactor,
    LifelineAssessment,
    LifelineError,
)

CORE = {
    "desire": ["hopelessness"],
    "intent": ["stated_intent"],
    "capability": ["available_means"],
}


def test_desire_factor_names():
    assert {f.value for f in DesireFactor} == {
        "ideation",
        "psychological_pain",
        "hopelessness",
        "helplessness",
        "perceived_burden",
        "feeling_trapped",
        "intolerably_alone",
    }


def test_capability_factor_names():
    assert {f.value for f in CapabilityFactor} == {
        "prior_attempts",
        "exposure_to_suicide",
        "violence_toward_others",
        "available_means",
        "intoxication",
        "acute_symptoms",
        "agitation_or_rage",
    }


def test_intent_factor_names():
    assert {f.value for f in IntentFactor} == {
        "attempt_in_progress",
        "plan_with_known_method",
        "preparatory_behavior",
        "stated_intent",
    }


def test_buffer_factor_names():
    assert {f.value for f in BufferFactor} == {
        "immediate_supports",
        "social_supports",
        "future_plans",
        "engagement_with_helper",
        "ambivalence",
        "core_values",
        "sense_of_purpose",
    }


def test_danger_factor_names():
    assert {f.value for f in DangerToOthersFactor} == {
        "homicidal_ideation",
        "plan",
        "means",
        "history_of_violence",
    }


def test_validate_parses_factors():
    assessment = lifeline.validate(CORE)
    assert assessment.desire == frozenset({DesireFactor.HOPELESSNESS})


def test_validate_unknown_factor_lists_valid_names():
    with pytest.raises(LifelineError, match="Unknown desire factor 'sadness'") as info:
        lifeline.validate({"desire": ["sadness"]})
    assert "hopelessness" in str(info.value)


def test_validate_unknown_factor_field():
    with pytest.raises(LifelineError) as info:
        lifeline.validate({"buffers": ["pets"]})
    assert info.value.field == "buffers"


def test_validate_unknown_key():
    with pytest.raises(LifelineError, match="Unknown Lifeline assessment key"):
        lifeline.validate({"wishes": ["ideation"]})


def test_validate_string_instead_of_list():
    with pytest.raises(LifelineError, match="must be a list of factor names"):
        lifeline.validate({"desire": "ideation"})


def test_validate_danger_not_boolean():
    with pytest.raises(LifelineError, match="danger_to_others must be True or False"):
        lifeline.validate({"danger_to_others": "yes"})


def test_validate_danger_factors_without_flag():
    with pytest.raises(LifelineError, match="danger_to_others is False"):
        lifeline.validate({"danger_factors": ["means"]})


def test_validate_not_mapping():
    with pytest.raises(LifelineError, match="must be a mapping"):
        lifeline.validate(["ideation"])


def test_lifeline_error_is_value_error():
    assert issubclass(LifelineError, ValueError)


def test_imminent_attempt_in_progress_alone():
    assessment = lifeline.validate({"intent": ["attempt_in_progress"]})
    assert assessment.imminent_risk is True


def test_imminent_attempt_in_progress_despite_buffers():
    data = {"intent": ["attempt_in_progress"], "buffers": list(BufferFactor)}
    assert lifeline.validate(data).imminent_risk is True


def test_imminent_core_without_buffers():
    assert lifeline.validate(CORE).imminent_risk is True


def test_not_imminent_core_with_buffer_default_rule():
    data = CORE | {"buffers": ["immediate_supports"]}
    assert lifeline.validate(data).imminent_risk is False


@pytest.mark.parametrize("missing", ["desire", "intent", "capability"])
def test_not_imminent_missing_core_domain(missing):
    data = {key: value for key, value in CORE.items() if key != missing}
    assert lifeline.validate(data).imminent_risk is False


def test_not_imminent_reason_names_missing_domain():
    data = {"desire": ["ideation"], "capability": ["intoxication"]}
    finding = lifeline.validate(data).assess_imminent_risk()
    assert finding.reasons == ("Not imminent: no intent endorsed",)


def test_policy_literal_rule_ignores_buffers():
    data = CORE | {"buffers": ["immediate_supports", "future_plans"]}
    assessment = lifeline.validate(data, rule=ImminentRiskRule.policy_literal())
    assert assessment.imminent_risk is True


def test_rule_threshold_two_buffers():
    data = CORE | {"buffers": ["ambivalence"]}
    assessment = lifeline.validate(data, rule=ImminentRiskRule(buffers_offset_at=2))
    assert assessment.imminent_risk is True


def test_rule_threshold_two_buffers_met():
    data = CORE | {"buffers": ["ambivalence", "core_values"]}
    assessment = lifeline.validate(data, rule=ImminentRiskRule(buffers_offset_at=2))
    assert assessment.imminent_risk is False


def test_rule_insufficient_buffers_reason():
    data = CORE | {"buffers": ["ambivalence"]}
    rule = ImminentRiskRule(buffers_offset_at=2)
    finding = lifeline.validate(data).assess_imminent_risk(rule)
    assert finding.reasons == (
        "Desire, intent and capability present; buffers insufficient",
    )


def test_rule_rejects_zero_threshold():
    with pytest.raises(LifelineError, match="positive integer or None"):
        ImminentRiskRule(buffers_offset_at=0)


def test_offset_reason_lists_buffers():
    data = CORE | {"buffers": ["future_plans"]}
    finding = lifeline.validate(data).assess_imminent_risk()
    assert "(future plans)" in finding.reasons[0]


def test_has_supports_social():
    assert lifeline.validate({"buffers": ["social_supports"]}).has_supports() is True


def test_has_supports_other_buffer_only():
    assert lifeline.validate({"buffers": ["core_values"]}).has_supports() is False


def test_danger_reason_lists_factors():
    data = {"danger_to_others": True, "danger_factors": ["plan", "means"]}
    reason = lifeline.validate(data).danger_reason()
    assert reason == "Danger to others (means, plan)"


def test_danger_reason_absent():
    assert LifelineAssessment().danger_reason() is None


def test_assessment_is_frozen():
    assessment = LifelineAssessment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        assessment.danger_to_others = True  # type: ignore[misc]
