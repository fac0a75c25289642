"""Tests for the C-SSRS screener rules.

The table tests enumerate every assignment of yes / no / not-asked to the
seven items, keep those that a separately written skip-logic check accepts,
and compare the module's risk level with a literal expected table.
"""

import itertools
import json

import pytest

from crisishub.rules import cssrs
from crisishub.rules.cssrs import (
    INSTRUMENT_VERSION,
    SINCE_LAST_CONTACT_VERSION,
    ItemId,
    RiskLevel,
    ScreeningError,
)

ITEM_KEYS = ("1", "2", "3", "4", "5", "6", "6a")
SYMBOLS = {"Y": True, "N": False, "-": None}

# Columns: items 1 2 3 4 5 6 6a; Y = yes, N = no, - = not asked.
EXPECTED_RECENT = {
    "N N - - - N -": RiskLevel.NONE,
    "N N - - - Y N": RiskLevel.MODERATE,
    "N N - - - Y Y": RiskLevel.HIGH,
    "N Y N N N N -": RiskLevel.LOW,
    "N Y N N N Y N": RiskLevel.MODERATE,
    "N Y N N N Y Y": RiskLevel.HIGH,
    "N Y N N Y N -": RiskLevel.HIGH,
    "N Y N N Y Y N": RiskLevel.HIGH,
    "N Y N N Y Y Y": RiskLevel.HIGH,
    "N Y N Y N N -": RiskLevel.HIGH,
    "N Y N Y N Y N": RiskLevel.HIGH,
    "N Y N Y N Y Y": RiskLevel.HIGH,
    "N Y N Y Y N -": RiskLevel.HIGH,
    "N Y N Y Y Y N": RiskLevel.HIGH,
    "N Y N Y Y Y Y": RiskLevel.HIGH,
    "N Y Y N N N -": RiskLevel.MODERATE,
    "N Y Y N N Y N": RiskLevel.MODERATE,
    "N Y Y N N Y Y": RiskLevel.HIGH,
    "N Y Y N Y N -": RiskLevel.HIGH,
    "N Y Y N Y Y N": RiskLevel.HIGH,
    "N Y Y N Y Y Y": RiskLevel.HIGH,
    "N Y Y Y N N -": RiskLevel.HIGH,
    "N Y Y Y N Y N": RiskLevel.HIGH,
    "N Y Y Y N Y Y": RiskLevel.HIGH,
    "N Y Y Y Y N -": RiskLevel.HIGH,
    "N Y Y Y Y Y N": RiskLevel.HIGH,
    "N Y Y Y Y Y Y": RiskLevel.HIGH,
    "Y N - - - N -": RiskLevel.LOW,
    "Y N - - - Y N": RiskLevel.MODERATE,
    "Y N - - - Y Y": RiskLevel.HIGH,
    "Y Y N N N N -": RiskLevel.LOW,
    "Y Y N N N Y N": RiskLevel.MODERATE,
    "Y Y N N N Y Y": RiskLevel.HIGH,
    "Y Y N N Y N -": RiskLevel.HIGH,
    "Y Y N N Y Y N": RiskLevel.HIGH,
    "Y Y N N Y Y Y": RiskLevel.HIGH,
    "Y Y N Y N N -": RiskLevel.HIGH,
    "Y Y N Y N Y N": RiskLevel.HIGH,
    "Y Y N Y N Y Y": RiskLevel.HIGH,
    "Y Y N Y Y N -": RiskLevel.HIGH,
    "Y Y N Y Y Y N": RiskLevel.HIGH,
    "Y Y N Y Y Y Y": RiskLevel.HIGH,
    "Y Y Y N N N -": RiskLevel.MODERATE,
    "Y Y Y N N Y N": RiskLevel.MODERATE,
    "Y Y Y N N Y Y": RiskLevel.HIGH,
    "Y Y Y N Y N -": RiskLevel.HIGH,
    "Y Y Y N Y Y N": RiskLevel.HIGH,
    "Y Y Y N Y Y Y": RiskLevel.HIGH,
    "Y Y Y Y N N -": RiskLevel.HIGH,
    "Y Y Y Y N Y N": RiskLevel.HIGH,
    "Y Y Y Y N Y Y": RiskLevel.HIGH,
    "Y Y Y Y Y N -": RiskLevel.HIGH,
    "Y Y Y Y Y Y N": RiskLevel.HIGH,
    "Y Y Y Y Y Y Y": RiskLevel.HIGH,
}

# Since-last-contact version: item 6a is never asked, item 6 yes is High.
EXPECTED_SINCE_LAST_CONTACT = {
    "N N - - - N -": RiskLevel.NONE,
    "N N - - - Y -": RiskLevel.HIGH,
    "N Y N N N N -": RiskLevel.LOW,
    "N Y N N N Y -": RiskLevel.HIGH,
    "N Y N N Y N -": RiskLevel.HIGH,
    "N Y N N Y Y -": RiskLevel.HIGH,
    "N Y N Y N N -": RiskLevel.HIGH,
    "N Y N Y N Y -": RiskLevel.HIGH,
    "N Y N Y Y N -": RiskLevel.HIGH,
    "N Y N Y Y Y -": RiskLevel.HIGH,
    "N Y Y N N N -": RiskLevel.MODERATE,
    "N Y Y N N Y -": RiskLevel.HIGH,
    "N Y Y N Y N -": RiskLevel.HIGH,
    "N Y Y N Y Y -": RiskLevel.HIGH,
    "N Y Y Y N N -": RiskLevel.HIGH,
    "N Y Y Y N Y -": RiskLevel.HIGH,
    "N Y Y Y Y N -": RiskLevel.HIGH,
    "N Y Y Y Y Y -": RiskLevel.HIGH,
    "Y N - - - N -": RiskLevel.LOW,
    "Y N - - - Y -": RiskLevel.HIGH,
    "Y Y N N N N -": RiskLevel.LOW,
    "Y Y N N N Y -": RiskLevel.HIGH,
    "Y Y N N Y N -": RiskLevel.HIGH,
    "Y Y N N Y Y -": RiskLevel.HIGH,
    "Y Y N Y N N -": RiskLevel.HIGH,
    "Y Y N Y N Y -": RiskLevel.HIGH,
    "Y Y N Y Y N -": RiskLevel.HIGH,
    "Y Y N Y Y Y -": RiskLevel.HIGH,
    "Y Y Y N N N -": RiskLevel.MODERATE,
    "Y Y Y N N Y -": RiskLevel.HIGH,
    "Y Y Y N Y N -": RiskLevel.HIGH,
    "Y Y Y N Y Y -": RiskLevel.HIGH,
    "Y Y Y Y N N -": RiskLevel.HIGH,
    "Y Y Y Y N Y -": RiskLevel.HIGH,
    "Y Y Y Y Y N -": RiskLevel.HIGH,
    "Y Y Y Y Y Y -": RiskLevel.HIGH,
}


def to_answers(row: str) -> dict[str, bool | None]:
    return {key: SYMBOLS[s] for key, s in zip(ITEM_KEYS, row.split(), strict=True)}


def to_row(combo: tuple[bool | None, ...]) -> str:
    reverse = {value: symbol for symbol, value in SYMBOLS.items()}
    return " ".join(reverse[value] for value in combo)


def follows_skip_logic(
    combo: tuple[bool | None, ...], since_last_contact: bool
) -> bool:
    """Check skip logic independently of the module under test."""
    q1, q2, q3, q4, q5, q6, q6a = combo
    if q1 is None or q2 is None or q6 is None:
        return False

    middle = (q3, q4, q5)
    if q2 and None in middle:
        return False
    if not q2 and middle != (None, None, None):
        return False

    if since_last_contact:
        return q6a is None
    if q6:
        return q6a is not None
    return q6a is None


def all_combinations() -> list[tuple[bool | None, ...]]:
    return list(itertools.product((True, False, None), repeat=7))


def valid_rows(since_last_contact: bool) -> set[str]:
    combos = all_combinations()
    return {to_row(c) for c in combos if follows_skip_logic(c, since_last_contact)}


def test_enumeration_recent_count():
    assert len(valid_rows(since_last_contact=False)) == 54


def test_enumeration_since_last_contact_count():
    assert len(valid_rows(since_last_contact=True)) == 36


def test_expected_table_recent_covers_valid():
    assert set(EXPECTED_RECENT) == valid_rows(since_last_contact=False)


def test_expected_table_since_last_contact_covers_valid():
    assert set(EXPECTED_SINCE_LAST_CONTACT) == valid_rows(since_last_contact=True)


@pytest.mark.parametrize("row", sorted(EXPECTED_RECENT))
def test_derive_risk_recent_table(row):
    risk = cssrs.derive_risk(to_answers(row), INSTRUMENT_VERSION)
    assert risk is EXPECTED_RECENT[row]


@pytest.mark.parametrize("row", sorted(EXPECTED_SINCE_LAST_CONTACT))
def test_derive_risk_since_last_contact_table(row):
    risk = cssrs.derive_risk(to_answers(row), SINCE_LAST_CONTACT_VERSION)
    assert risk is EXPECTED_SINCE_LAST_CONTACT[row]


@pytest.mark.parametrize("since_last_contact", [False, True])
def test_validate_rejects_every_invalid_combination(since_last_contact):
    version = SINCE_LAST_CONTACT_VERSION if since_last_contact else INSTRUMENT_VERSION
    accepted = []
    for combo in all_combinations():
        if follows_skip_logic(combo, since_last_contact):
            continue
        try:
            cssrs.validate(to_answers(to_row(combo)), version)
        except ScreeningError:
            continue
        accepted.append(to_row(combo))
    assert accepted == []


@pytest.mark.parametrize("since_last_contact", [False, True])
def test_validate_accepts_every_valid_combination(since_last_contact):
    version = SINCE_LAST_CONTACT_VERSION if since_last_contact else INSTRUMENT_VERSION
    rejected = []
    for row in valid_rows(since_last_contact):
        try:
            cssrs.validate(to_answers(row), version)
        except ScreeningError as error:
            rejected.append((row, str(error)))
    assert rejected == []


def test_validate_item3_when_item2_no():
    answers = {"1": True, "2": False, "3": True, "6": False}
    with pytest.raises(
        ScreeningError, match="Item 3 is asked only when item 2"
    ) as info:
        cssrs.validate(answers)
    assert info.value.field == "3"


def test_validate_item6a_when_item6_no():
    answers = {"1": False, "2": False, "6": False, "6a": True}
    with pytest.raises(ScreeningError, match="6a is asked only when item 6") as info:
        cssrs.validate(answers)
    assert info.value.field == "6a"


def test_validate_item6a_since_last_contact():
    answers = {"1": False, "2": False, "6": True, "6a": True}
    with pytest.raises(ScreeningError, match="since-last-contact") as info:
        cssrs.validate(answers, SINCE_LAST_CONTACT_VERSION)
    assert info.value.field == "6a"


def test_validate_missing_item4():
    answers = {"1": True, "2": True, "3": False, "5": False, "6": False}
    with pytest.raises(ScreeningError, match="item 4 .* is required") as info:
        cssrs.validate(answers)
    assert info.value.field == "4"


def test_validate_missing_item6a():
    answers = {"1": True, "2": False, "6": True}
    with pytest.raises(ScreeningError, match="item 6a .* is required") as info:
        cssrs.validate(answers)
    assert info.value.field == "6a"


def test_validate_missing_item1():
    with pytest.raises(ScreeningError, match="item 1 .* is required") as info:
        cssrs.validate({"2": False, "6": False})
    assert info.value.field == "1"


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", 1.0])
def test_validate_non_boolean(value):
    answers = {"1": value, "2": False, "6": False}
    with pytest.raises(ScreeningError, match="not a boolean; use True") as info:
        cssrs.validate(answers)
    assert info.value.field == "1"


def test_validate_unknown_item():
    answers = {"1": False, "2": False, "6": False, "7": True}
    with pytest.raises(ScreeningError, match="Unknown C-SSRS item '7'") as info:
        cssrs.validate(answers)
    assert info.value.field == "7"


def test_validate_unknown_version():
    with pytest.raises(ScreeningError, match="Unknown C-SSRS instrument version"):
        cssrs.validate({"1": False, "2": False, "6": False}, "cssrs-v0")


def test_screening_error_is_value_error():
    assert issubclass(ScreeningError, ValueError)


def test_validate_accepts_item_id_and_int_keys():
    answers = {ItemId.Q1: False, 2: False, "6": False}
    normalized = cssrs.validate(answers)
    assert normalized[ItemId.Q2] is False


def test_validate_uppercase_6a_key():
    answers = {"1": False, "2": False, "6": True, "6A": False}
    assert cssrs.derive_risk(answers) is RiskLevel.MODERATE


def test_next_item_empty_is_item1():
    assert cssrs.next_item({}).id is ItemId.Q1


def test_next_item_after_item1_is_item2():
    assert cssrs.next_item({"1": True}).id is ItemId.Q2


def test_next_item_item2_yes_asks_item3():
    assert cssrs.next_item({"1": True, "2": True}).id is ItemId.Q3


def test_next_item_item2_no_skips_to_item6():
    assert cssrs.next_item({"1": True, "2": False}).id is ItemId.Q6


def test_next_item_item6_yes_asks_6a():
    answers = {"1": False, "2": False, "6": True}
    assert cssrs.next_item(answers).id is ItemId.Q6A


def test_next_item_item6_no_completes():
    assert cssrs.next_item({"1": False, "2": False, "6": False}) is None


def test_next_item_since_last_contact_completes_after_item6():
    answers = {"1": False, "2": False, "6": True}
    assert cssrs.next_item(answers, SINCE_LAST_CONTACT_VERSION) is None


def test_next_item_sequence_full_path():
    answers: dict[str, bool] = {}
    asked = []
    while (item := cssrs.next_item(answers)) is not None:
        asked.append(item.id.value)
        answers[item.id.value] = True
    assert asked == ["1", "2", "3", "4", "5", "6", "6a"]


def test_next_item_rejects_unasked_answer():
    with pytest.raises(ScreeningError) as info:
        cssrs.next_item({"1": True, "2": False, "4": True})
    assert info.value.field == "4"


def test_next_item_rejects_item3_before_item2():
    with pytest.raises(ScreeningError) as info:
        cssrs.next_item({"1": True, "3": True})
    assert info.value.field == "3"


def test_prune_drops_items_after_item2_changes():
    answers = {"1": True, "2": False, "3": True, "4": False, "5": False, "6": False}
    assert cssrs.prune(answers) == {ItemId.Q1: True, ItemId.Q2: False, ItemId.Q6: False}


def test_prune_drops_6a_when_item6_no():
    answers = {"1": True, "2": False, "6": False, "6a": True}
    assert ItemId.Q6A not in cssrs.prune(answers)


def test_screen_drivers_item5():
    answers = {"1": True, "2": True, "3": False, "4": False, "5": True, "6": False}
    result = cssrs.screen(answers)
    assert result.drivers == (ItemId.Q5,)


def test_screen_reason_names_item():
    answers = {"1": True, "2": True, "3": False, "4": False, "5": True, "6": False}
    reason = cssrs.screen(answers).reason()
    assert reason == "C-SSRS risk High (item 5: plan with intent)"


def test_screen_reason_none():
    reason = cssrs.screen({"1": False, "2": False, "6": False}).reason()
    assert reason == "C-SSRS risk None (no item endorsed)"


def test_screen_moderate_old_behavior_drivers():
    answers = {"1": False, "2": False, "6": True, "6a": False}
    assert cssrs.screen(answers).drivers == (ItemId.Q6,)


def test_screen_result_answers_read_only():
    result = cssrs.screen({"1": False, "2": False, "6": False})
    with pytest.raises(TypeError):
        result.answers[ItemId.Q1] = True  # type: ignore[index]


def test_screen_records_version():
    result = cssrs.screen({"1": False, "2": False, "6": False})
    assert result.version.value == "cssrs-screener-recent-2024"


@pytest.mark.parametrize(
    ("item", "loinc"),
    [
        ("1", "93246-7"),
        ("2", "93247-5"),
        ("3", "93248-3"),
        ("4", "93249-1"),
        ("5", "93250-9"),
        ("6", "93267-3"),
        ("6a", "93269-9"),
    ],
)
def test_item_loinc_codes(item, loinc):
    assert cssrs.ITEMS[ItemId(item)].loinc == loinc


@pytest.mark.parametrize(
    ("risk", "code"),
    [
        (RiskLevel.LOW, "LA9194-7"),
        (RiskLevel.MODERATE, "LA6751-7"),
        (RiskLevel.HIGH, "LA9193-9"),
        (RiskLevel.NONE, None),
    ],
)
def test_risk_loinc_answers(risk, code):
    assert risk.loinc_answer == code


def test_risk_level_order():
    ranks = [level.rank for level in (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.HIGH)]
    assert ranks == [0, 1, 3]


def test_item_period_recent_6a():
    assert cssrs.item_period(ItemId.Q6A) is cssrs.Period.PAST_3_MONTHS


def test_item_period_since_last_contact():
    period = cssrs.item_period(ItemId.Q1, SINCE_LAST_CONTACT_VERSION)
    assert period is cssrs.Period.SINCE_LAST_CONTACT


def make_wording(skip: str | None = None) -> dict[str, str]:
    wording = {key: f"licensed text {key}" for key in ITEM_KEYS}
    if skip is not None:
        del wording[skip]
    return wording


def test_load_item_wording_reads_file(tmp_path):
    path = tmp_path / "wording.json"
    path.write_text(json.dumps(make_wording()), encoding="utf-8")
    wording = cssrs.load_item_wording(path)
    assert wording[ItemId.Q6A] == "licensed text 6a"


def test_load_item_wording_missing_item(tmp_path):
    path = tmp_path / "wording.json"
    path.write_text(json.dumps(make_wording(skip="4")), encoding="utf-8")
    with pytest.raises(ScreeningError, match="missing wording for C-SSRS item 4"):
        cssrs.load_item_wording(path)


def test_load_item_wording_since_last_contact_without_6a(tmp_path):
    path = tmp_path / "wording.json"
    path.write_text(json.dumps(make_wording(skip="6a")), encoding="utf-8")
    wording = cssrs.load_item_wording(path, SINCE_LAST_CONTACT_VERSION)
    assert ItemId.Q6A not in wording


def test_wording_from_dict_unknown_key():
    wording = make_wording() | {"8": "extra"}
    with pytest.raises(ScreeningError, match="unknown C-SSRS item key"):
        cssrs.wording_from_dict(wording)


def test_wording_from_dict_not_object():
    with pytest.raises(ScreeningError, match="expected a JSON object"):
        cssrs.wording_from_dict(["text"])


def test_questionnaire_response_answers():
    result = cssrs.screen({"1": True, "2": False, "6": True, "6a": True})
    response = cssrs.to_questionnaire_response(result, authored="2026-01-02T03:04:05Z")
    codes = {
        entry["linkId"]: entry["answer"][0]["valueCoding"]["code"]
        for entry in response["item"]
    }
    assert codes == {
        "93246-7": "LA33-6",
        "93247-5": "LA32-8",
        "93267-3": "LA33-6",
        "93269-9": "LA33-6",
        "93374-7": "LA9193-9",
    }


def test_questionnaire_response_none_has_no_risk_item():
    result = cssrs.screen({"1": False, "2": False, "6": False})
    response = cssrs.to_questionnaire_response(result)
    link_ids = [entry["linkId"] for entry in response["item"]]
    assert "93374-7" not in link_ids


def test_questionnaire_response_includes_wording():
    result = cssrs.screen({"1": False, "2": False, "6": False})
    wording = cssrs.wording_from_dict(make_wording())
    response = cssrs.to_questionnaire_response(result, wording=wording)
    assert response["item"][0]["text"] == "licensed text 1"
