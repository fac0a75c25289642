"""Tests for the Crisis Risk Level Matrix configuration and evaluation."""

import copy
import dataclasses
import datetime as dt
import json
from importlib import resources

import pytest

from crisishub.rules import cssrs, lifeline
from crisishub.rules.cssrs import RiskLevel
from crisishub.rules.matrix import (
    Matrix,
    MatrixError,
    MatrixRegistry,
    ResponsePath,
    TriageFacts,
    TriageResult,
    load_example_matrix,
)


def example_document() -> dict:
    path = resources.files("crisishub.rules").joinpath("example_matrix.json")
    return json.loads(path.read_text(encoding="utf-8"))


def minimal_document() -> dict:
    return {
        "version": "test-1",
        "label": "test matrix",
        "effective_from": "2026-02-01",
        "levels": [
            {"id": "low", "severity": 1, "label": "Low"},
            {"id": "high", "severity": 2, "label": "High"},
        ],
        "rules": [
            {
                "id": "high-risk",
                "when": {"cssrs_risk_min": "high"},
                "level": "high",
                "path": "mobile_response",
                "priority": 1,
            },
            {
                "id": "default",
                "when": {},
                "level": "low",
                "path": "resolve_by_phone",
            },
        ],
    }


def screening(**answers: bool) -> cssrs.ScreeningResult:
    return cssrs.screen({key.replace("q", ""): value for key, value in answers.items()})


HIGH_ITEM5 = {"q1": True, "q2": True, "q3": False, "q4": False, "q5": True, "q6": False}
MODERATE_ITEM3 = {
    "q1": True,
    "q2": True,
    "q3": True,
    "q4": False,
    "q5": False,
    "q6": False,
}
LOW_ONLY = {"q1": True, "q2": False, "q6": False}
NONE_ENDORSED = {"q1": False, "q2": False, "q6": False}


# Each mutation breaks a copy of minimal_document in one way.
def set_condition(doc):
    doc["rules"][0]["when"]["weapon"] = True


def set_path(doc):
    doc["rules"][0]["path"] = "police"


def drop_priority(doc):
    del doc["rules"][0]["priority"]


def priority_out_of_range(doc):
    doc["rules"][0]["priority"] = 4


def priority_on_phone(doc):
    doc["rules"][1]["priority"] = 2


def empty_rules(doc):
    doc["rules"] = []


def drop_default(doc):
    doc["rules"].pop()


def default_not_last(doc):
    doc["rules"].reverse()


def unknown_level(doc):
    doc["rules"][0]["level"] = "severe"


def duplicate_rule_id(doc):
    doc["rules"][1]["id"] = "high-risk"


def bad_date(doc):
    doc["effective_from"] = "01/02/2026"


def missing_version(doc):
    del doc["version"]


def bool_condition_text(doc):
    doc["rules"][0]["when"] = {"weapon_present": "yes"}


def unknown_risk_level(doc):
    doc["rules"][0]["when"]["cssrs_risk_min"] = "severe"


def empty_risk_list(doc):
    doc["rules"][0]["when"] = {"cssrs_risk_in": []}


def unknown_top_key(doc):
    doc["owner"] = "county"


def missing_when(doc):
    del doc["rules"][0]["when"]


def duplicate_level(doc):
    doc["levels"][1]["id"] = "low"


def duplicate_severity(doc):
    doc["levels"][1]["severity"] = 1


def unknown_rule_key(doc):
    doc["rules"][0]["notes"] = "typo"


INVALID_CASES = [
    (set_condition, "$.rules[0].when.weapon", "unknown condition key 'weapon'"),
    (set_path, "$.rules[0].path", "unknown response path 'police'"),
    (drop_priority, "$.rules[0].priority", "mobile_response needs a priority"),
    (priority_out_of_range, "$.rules[0].priority", "got 4"),
    (priority_on_phone, "$.rules[1].priority", "applies only to mobile_response"),
    (empty_rules, "$.rules", "non-empty list of rules"),
    (drop_default, "$.rules[0].when", "no default rule"),
    (default_not_last, "$.rules[0].when", "never match"),
    (unknown_level, "$.rules[0].level", "unknown crisis level 'severe'"),
    (duplicate_rule_id, "$.rules[1].id", "duplicate rule id"),
    (bad_date, "$.effective_from", "invalid date '01/02/2026'"),
    (missing_version, "$.version", "missing or empty 'version'"),
    (bool_condition_text, "$.rules[0].when.weapon_present", "must be true or false"),
    (unknown_risk_level, "$.rules[0].when.cssrs_risk_min", "unknown C-SSRS risk"),
    (empty_risk_list, "$.rules[0].when.cssrs_risk_in", "C-SSRS risk levels"),
    (unknown_top_key, "$.owner", "unknown key 'owner'"),
    (missing_when, "$.rules[0].when", 'missing "when"'),
    (duplicate_level, "$.levels[1].id", "duplicate crisis level id"),
    (duplicate_severity, "$.levels[1].severity", "already used by level"),
    (unknown_rule_key, "$.rules[0].notes", "unknown key 'notes'"),
]


def build_error(mutate) -> MatrixError:
    doc = minimal_document()
    mutate(doc)
    with pytest.raises(MatrixError) as info:
        Matrix.from_dict(doc)
    return info.value


@pytest.mark.parametrize(
    ("mutate", "json_path", "text"),
    INVALID_CASES,
    ids=[c[0].__name__ for c in INVALID_CASES],
)
def test_from_dict_invalid_path(mutate, json_path, text):
    assert build_error(mutate).path == json_path


@pytest.mark.parametrize(
    ("mutate", "json_path", "text"),
    INVALID_CASES,
    ids=[c[0].__name__ for c in INVALID_CASES],
)
def test_from_dict_invalid_message(mutate, json_path, text):
    assert text in str(build_error(mutate))


def test_from_dict_error_messages_distinct():
    messages = [str(build_error(case[0])) for case in INVALID_CASES]
    assert len(set(messages)) == len(messages)


def test_from_dict_unknown_condition_lists_valid_keys():
    assert "weapon_present" in str(build_error(set_condition))


def test_from_dict_not_object():
    with pytest.raises(MatrixError, match="expected a JSON object"):
        Matrix.from_dict(["rules"])


def test_from_json_syntax_error():
    with pytest.raises(MatrixError, match="is not valid JSON"):
        Matrix.from_json("{", source="broken.json")


def test_matrix_error_is_value_error():
    assert issubclass(MatrixError, ValueError)


def test_minimal_document_loads():
    assert Matrix.from_dict(minimal_document()).version == "test-1"


def test_load_reads_file(tmp_path):
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps(minimal_document()), encoding="utf-8")
    assert Matrix.load(path).effective_from == dt.date(2026, 2, 1)


def test_example_label_marks_example():
    assert load_example_matrix().label.startswith("EXAMPLE")


def test_example_every_rule_has_note():
    missing = [rule.id for rule in load_example_matrix().rules if not rule.note]
    assert missing == []


def test_example_last_rule_is_default():
    assert load_example_matrix().rules[-1].is_default


def facts_for(case: str) -> TriageFacts:
    supports = lifeline.validate({"buffers": ["immediate_supports"]})
    core = {
        "desire": ["hopelessness"],
        "intent": ["stated_intent"],
        "capability": ["available_means"],
    }
    cases = {
        "attempt": TriageFacts.build(
            assessment=lifeline.validate({"intent": ["attempt_in_progress"]})
        ),
        "attempt_flag": TriageFacts.build(attempt_in_progress=True),
        "medical": TriageFacts.build(screening(**LOW_ONLY), medical_emergency=True),
        "weapon_danger": TriageFacts.build(
            assessment=lifeline.validate(
                {"danger_to_others": True, "danger_factors": ["means"]}
            ),
            weapon_present=True,
        ),
        "weapon_only": TriageFacts.build(
            screening(**NONE_ENDORSED), weapon_present=True
        ),
        "imminent_unsafe": TriageFacts.build(
            screening(**HIGH_ITEM5),
            lifeline.validate(core),
            caller_safe_at_phone=False,
        ),
        "imminent_safe": TriageFacts.build(
            screening(**HIGH_ITEM5), lifeline.validate(core), caller_safe_at_phone=True
        ),
        "danger_no_weapon": TriageFacts.build(
            assessment=lifeline.validate({"danger_to_others": True})
        ),
        "high": TriageFacts.build(screening(**HIGH_ITEM5), supports),
        "moderate": TriageFacts.build(screening(**MODERATE_ITEM3), supports),
        "low_unsafe": TriageFacts.build(
            screening(**LOW_ONLY), supports, caller_safe_at_phone=False
        ),
        "low_supports": TriageFacts.build(screening(**LOW_ONLY), supports),
        "low_alone": TriageFacts.build(
            screening(**LOW_ONLY), lifeline.validate({"buffers": ["core_values"]})
        ),
        "low_unknown_supports": TriageFacts.build(screening(**LOW_ONLY)),
        "none": TriageFacts.build(screening(**NONE_ENDORSED), supports),
        "unscreened": TriageFacts(),
    }
    return cases[case]


EVALUATION_TABLE = [
    (
        "attempt",
        "attempt-in-progress",
        ResponsePath.EMERGENCY_911_EMS,
        None,
        "imminent",
    ),
    (
        "attempt_flag",
        "attempt-in-progress",
        ResponsePath.EMERGENCY_911_EMS,
        None,
        "imminent",
    ),
    ("medical", "medical-emergency", ResponsePath.EMERGENCY_911_EMS, None, "imminent"),
    (
        "weapon_danger",
        "weapon-danger-to-others",
        ResponsePath.EMERGENCY_911_EMS,
        None,
        "imminent",
    ),
    ("weapon_only", "default", ResponsePath.RESOLVE_BY_PHONE, None, "routine"),
    (
        "imminent_unsafe",
        "imminent-not-safe",
        ResponsePath.EMERGENCY_911_EMS,
        None,
        "imminent",
    ),
    ("imminent_safe", "imminent-risk", ResponsePath.MOBILE_RESPONSE, 1, "imminent"),
    (
        "danger_no_weapon",
        "danger-to-others",
        ResponsePath.MOBILE_RESPONSE,
        1,
        "emergent",
    ),
    ("high", "high-risk", ResponsePath.MOBILE_RESPONSE, 1, "emergent"),
    ("moderate", "moderate-risk", ResponsePath.MOBILE_RESPONSE, 2, "urgent"),
    ("low_unsafe", "low-not-safe", ResponsePath.MOBILE_RESPONSE, 3, "urgent"),
    (
        "low_supports",
        "low-with-supports",
        ResponsePath.RESOLVE_BY_PHONE,
        None,
        "routine",
    ),
    ("low_alone", "low-without-supports", ResponsePath.WARM_HANDOFF, None, "routine"),
    (
        "low_unknown_supports",
        "low-without-supports",
        ResponsePath.WARM_HANDOFF,
        None,
        "routine",
    ),
    ("none", "default", ResponsePath.RESOLVE_BY_PHONE, None, "routine"),
    ("unscreened", "default", ResponsePath.RESOLVE_BY_PHONE, None, "routine"),
]

TABLE_IDS = [row[0] for row in EVALUATION_TABLE]


@pytest.mark.parametrize(
    ("case", "rule_id", "path", "priority", "level"), EVALUATION_TABLE, ids=TABLE_IDS
)
def test_evaluate_example_rule(case, rule_id, path, priority, level):
    assert load_example_matrix().evaluate(facts_for(case)).rule_id == rule_id


@pytest.mark.parametrize(
    ("case", "rule_id", "path", "priority", "level"), EVALUATION_TABLE, ids=TABLE_IDS
)
def test_evaluate_example_path(case, rule_id, path, priority, level):
    assert load_example_matrix().evaluate(facts_for(case)).path is path


@pytest.mark.parametrize(
    ("case", "rule_id", "path", "priority", "level"), EVALUATION_TABLE, ids=TABLE_IDS
)
def test_evaluate_example_priority(case, rule_id, path, priority, level):
    assert load_example_matrix().evaluate(facts_for(case)).priority == priority


@pytest.mark.parametrize(
    ("case", "rule_id", "path", "priority", "level"), EVALUATION_TABLE, ids=TABLE_IDS
)
def test_evaluate_example_level(case, rule_id, path, priority, level):
    assert load_example_matrix().evaluate(facts_for(case)).level == level


def test_evaluate_reason_cssrs_item():
    result = load_example_matrix().evaluate(facts_for("high"))
    assert result.reasons[0] == "C-SSRS risk High (item 5: plan with intent)"


def test_evaluate_reason_attempt():
    result = load_example_matrix().evaluate(facts_for("attempt"))
    assert result.reasons[0] == "Attempt in progress"


def test_evaluate_reason_closing_sentence():
    result = load_example_matrix().evaluate(facts_for("attempt"))
    expected = "Imminent → 911/EMS (rule 'attempt-in-progress', matrix example-2026.1)"
    assert result.reasons[-1] == expected


def test_evaluate_reason_mobile_priority():
    result = load_example_matrix().evaluate(facts_for("moderate"))
    assert "mobile response, priority 2" in result.reasons[-1]


def test_evaluate_reason_danger_factors():
    result = load_example_matrix().evaluate(facts_for("weapon_danger"))
    assert result.reasons[1] == "Danger to others (means)"


def test_evaluate_reason_imminent_detail():
    result = load_example_matrix().evaluate(facts_for("imminent_safe"))
    expected = "Imminent risk (Desire, intent and capability present; no buffers)"
    assert result.reasons[0] == expected


def test_evaluate_reason_default_rule():
    result = load_example_matrix().evaluate(facts_for("unscreened"))
    assert result.reasons[0] == "No earlier rule matched"


def test_evaluate_records_matrix_version():
    result = load_example_matrix().evaluate(facts_for("none"))
    assert result.matrix_version == "example-2026.1"


def test_evaluate_unknown_fact_matches_neither_value():
    doc = minimal_document()
    doc["rules"].insert(
        0,
        {
            "id": "unsafe",
            "when": {"caller_safe_at_phone": False},
            "level": "high",
            "path": "emergency_911_ems",
        },
    )
    doc["rules"].insert(
        0,
        {
            "id": "safe",
            "when": {"caller_safe_at_phone": True},
            "level": "low",
            "path": "resolve_by_phone",
        },
    )
    result = Matrix.from_dict(doc).evaluate(TriageFacts(caller_safe_at_phone=None))
    assert result.rule_id == "default"


def test_evaluate_risk_min_includes_higher():
    doc = minimal_document()
    doc["rules"][0]["when"] = {"cssrs_risk_min": "moderate"}
    result = Matrix.from_dict(doc).evaluate(TriageFacts(cssrs_risk=RiskLevel.HIGH))
    assert result.rule_id == "high-risk"


def test_evaluate_risk_min_excludes_lower():
    doc = minimal_document()
    doc["rules"][0]["when"] = {"cssrs_risk_min": "moderate"}
    result = Matrix.from_dict(doc).evaluate(TriageFacts(cssrs_risk=RiskLevel.LOW))
    assert result.rule_id == "default"


def test_evaluate_cssrs_screened_false():
    doc = minimal_document()
    doc["rules"][0]["when"] = {"cssrs_screened": False}
    result = Matrix.from_dict(doc).evaluate(TriageFacts())
    assert result.reasons[0] == "No C-SSRS screener recorded"


def test_version_b_leaves_result_a_unchanged():
    matrix_a = load_example_matrix()
    result_a = matrix_a.evaluate(facts_for("high"))
    snapshot = dataclasses.replace(result_a)

    doc_b = example_document()
    doc_b["version"] = "example-2026.2"
    for rule in doc_b["rules"]:
        if rule["id"] == "high-risk":
            rule["path"] = "emergency_911_ems"
            del rule["priority"]
    matrix_b = Matrix.from_dict(doc_b)
    result_b = matrix_b.evaluate(facts_for("high"))

    assert result_b.path is ResponsePath.EMERGENCY_911_EMS
    assert result_a == snapshot
    assert matrix_a.evaluate(facts_for("high")) == snapshot
    assert result_a.matrix_version == "example-2026.1"


def test_result_is_frozen():
    result = load_example_matrix().evaluate(facts_for("none"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.path = ResponsePath.WARM_HANDOFF  # type: ignore[misc]


def test_result_reasons_is_tuple():
    result = load_example_matrix().evaluate(facts_for("none"))
    assert isinstance(result.reasons, tuple)


def test_source_dict_mutation_after_load():
    doc = minimal_document()
    matrix = Matrix.from_dict(doc)
    doc["rules"][0]["path"] = "warm_handoff"
    doc["rules"][0]["when"]["cssrs_risk_min"] = "low"
    result = matrix.evaluate(TriageFacts(cssrs_risk=RiskLevel.HIGH))
    assert result.path is ResponsePath.MOBILE_RESPONSE


def test_triage_result_fields():
    names = [f.name for f in dataclasses.fields(TriageResult)]
    assert names[:2] == ["level", "level_label"]


def test_registry_duplicate_version():
    registry = MatrixRegistry([Matrix.from_dict(minimal_document())])
    changed = minimal_document()
    changed["rules"][0]["priority"] = 2
    with pytest.raises(MatrixError, match="duplicate matrix version 'test-1'"):
        registry.add(Matrix.from_dict(changed))


def test_registry_same_content_is_noop():
    registry = MatrixRegistry([Matrix.from_dict(minimal_document())])
    registry.add(Matrix.from_dict(copy.deepcopy(minimal_document())))
    assert registry.versions() == ["test-1"]


def test_registry_same_effective_date():
    registry = MatrixRegistry([Matrix.from_dict(minimal_document())])
    other = minimal_document() | {"version": "test-2"}
    with pytest.raises(MatrixError, match="same effective_from"):
        registry.add(Matrix.from_dict(other))


def test_registry_active_on_picks_latest():
    first = Matrix.from_dict(minimal_document())
    second = Matrix.from_dict(
        minimal_document() | {"version": "test-2", "effective_from": "2026-06-01"}
    )
    registry = MatrixRegistry([first, second])
    assert registry.active_on(dt.date(2026, 7, 1)).version == "test-2"


def test_registry_active_on_between_versions():
    first = Matrix.from_dict(minimal_document())
    second = Matrix.from_dict(
        minimal_document() | {"version": "test-2", "effective_from": "2026-06-01"}
    )
    registry = MatrixRegistry([first, second])
    assert registry.active_on(dt.date(2026, 5, 31)).version == "test-1"


def test_registry_active_on_before_all():
    registry = MatrixRegistry([Matrix.from_dict(minimal_document())])
    with pytest.raises(LookupError, match="No matrix is effective on 2025-01-01"):
        registry.active_on(dt.date(2025, 1, 1))


def test_registry_get_unknown():
    with pytest.raises(LookupError, match="not registered"):
        MatrixRegistry().get("missing")


def test_facts_accepts_risk_string():
    assert TriageFacts(cssrs_risk="high").cssrs_risk is RiskLevel.HIGH


def test_facts_rejects_unknown_risk():
    with pytest.raises(ValueError, match="not a C-SSRS risk level"):
        TriageFacts(cssrs_risk="severe")


def test_facts_rejects_non_bool_flag():
    with pytest.raises(ValueError, match="weapon_present must be True, False or None"):
        TriageFacts(weapon_present="no")


def test_facts_build_attempt_flag_sets_imminent():
    facts = TriageFacts.build(
        assessment=lifeline.validate({}), attempt_in_progress=True
    )
    assert facts.imminent_risk is True


def test_facts_build_without_assessment_unknown_imminent():
    assert TriageFacts.build(screening(**LOW_ONLY)).imminent_risk is None


def test_facts_build_copies_screening_reason():
    facts = TriageFacts.build(screening(**MODERATE_ITEM3))
    assert (
        facts.cssrs_reason
        == "C-SSRS risk Moderate (item 3: thoughts of a method, no plan or intent)"
    )


def test_facts_build_rejects_swapped_arguments():
    with pytest.raises(TypeError, match="screening must be a ScreeningResult"):
        TriageFacts.build(lifeline.validate({}))
