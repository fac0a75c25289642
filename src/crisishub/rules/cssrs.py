"""C-SSRS screener: items, skip logic and the derived risk level.

The Columbia-Suicide Severity Rating Scale screener is copyrighted and its
question wording must be used unaltered, so this module stores only short
paraphrased construct labels. A program that holds the licence loads the
licensed wording from a JSON file with `load_item_wording`.

Answers are a mapping from item id ("1" ... "6", "6a") to True (yes), False
(no) or None (not asked). A missing key is the same as None.

Two instrument versions are supported:

* the recent screener: items 1-5 cover the past month, item 6 is lifetime
  and item 6a asks whether that behavior was within the past 3 months.
* the since-last-contact screener: every item covers the time since the
  last contact, item 6a is never asked and a yes on item 6 counts as recent
  behavior (High risk).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

logger = logging.getLogger(__name__)

LOINC_SYSTEM = "http://loinc.org"

# LOINC panel "Columbia-suicide severity rating scale screener - recent".
PANEL_LOINC = "93373-9"

# LOINC "Suicide risk level" observation that carries the derived risk.
DERIVED_RISK_LOINC = "93374-7"

YES_LOINC_ANSWER = "LA33-6"
NO_LOINC_ANSWER = "LA32-8"


class InstrumentVersion(StrEnum):
    """Screener version; the value is stored with every screening."""

    RECENT = "cssrs-screener-recent-2024"
    SINCE_LAST_CONTACT = "cssrs-screener-since-last-contact-2024"


INSTRUMENT_VERSION = InstrumentVersion.RECENT.value
SINCE_LAST_CONTACT_VERSION = InstrumentVersion.SINCE_LAST_CONTACT.value


class ItemId(StrEnum):
    Q1 = "1"
    Q2 = "2"
    Q3 = "3"
    Q4 = "4"
    Q5 = "5"
    Q6 = "6"
    Q6A = "6a"


class Period(StrEnum):
    PAST_MONTH = "past month"
    LIFETIME = "lifetime"
    PAST_3_MONTHS = "past 3 months"
    SINCE_LAST_CONTACT = "since last contact"


class RiskLevel(StrEnum):
    """Screener risk level, ordered NONE < LOW < MODERATE < HIGH."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RISK_ORDER.index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def loinc_answer(self) -> str | None:
        """LOINC answer code for 93374-7; LOINC has no code for NONE."""
        return _RISK_LOINC_ANSWERS.get(self)


_RISK_ORDER = (RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH)

_RISK_LOINC_ANSWERS = {
    RiskLevel.LOW: "LA9194-7",
    RiskLevel.MODERATE: "LA6751-7",
    RiskLevel.HIGH: "LA9193-9",
}


@dataclass(frozen=True)
class Item:
    """One screener item: paraphrased construct label, period and LOINC."""

    id: ItemId
    label: str
    period: Period
    loinc: str


ITEMS: Mapping[ItemId, Item] = MappingProxyType(
    {
        ItemId.Q1: Item(ItemId.Q1, "wish to be dead", Period.PAST_MONTH, "93246-7"),
        ItemId.Q2: Item(
            ItemId.Q2,
            "non-specific active suicidal thoughts",
            Period.PAST_MONTH,
            "93247-5",
        ),
        ItemId.Q3: Item(
            ItemId.Q3,
            "thoughts of a method, no plan or intent",
            Period.PAST_MONTH,
            "93248-3",
        ),
        ItemId.Q4: Item(
            ItemId.Q4,
            "some intent to act, no specific plan",
            Period.PAST_MONTH,
            "93249-1",
        ),
        ItemId.Q5: Item(ItemId.Q5, "plan with intent", Period.PAST_MONTH, "93250-9"),
        ItemId.Q6: Item(
            ItemId.Q6,
            "suicidal behavior (did, started or prepared)",
            Period.LIFETIME,
            "93267-3",
        ),
        ItemId.Q6A: Item(
            ItemId.Q6A,
            "suicidal behavior within the past 3 months",
            Period.PAST_3_MONTHS,
            "93269-9",
        ),
    }
)

Answers = Mapping[Any, Any]


class ScreeningError(ValueError):
    """Invalid screener answers; `field` is the item id or "version"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ScreeningResult:
    """Validated answers with the derived risk and the items that drove it."""

    version: InstrumentVersion
    answers: Mapping[ItemId, bool | None]
    risk: RiskLevel
    drivers: tuple[ItemId, ...]

    def reason(self) -> str:
        """Describe the risk level and its driving items in one sentence."""
        if not self.drivers:
            return f"C-SSRS risk {self.risk.label} (no item endorsed)"

        parts = [f"item {item}: {ITEMS[item].label}" for item in self.drivers]
        return f"C-SSRS risk {self.risk.label} ({'; '.join(parts)})"


def item_period(item: ItemId, version: str = INSTRUMENT_VERSION) -> Period:
    """Return the recall period of `item` in the given instrument version."""
    if parse_version(version) is InstrumentVersion.SINCE_LAST_CONTACT:
        return Period.SINCE_LAST_CONTACT
    return ITEMS[item].period


def parse_version(version: str) -> InstrumentVersion:
    try:
        return InstrumentVersion(version)
    except ValueError:
        valid = ", ".join(v.value for v in InstrumentVersion)
        raise ScreeningError(
            "version",
            f"Unknown C-SSRS instrument version {version!r}; use one of: {valid}.",
        ) from None


def load_item_wording(
    path: str | Path, version: str = INSTRUMENT_VERSION
) -> dict[ItemId, str]:
    """Load licensed question wording from a JSON object keyed by item id.

    Raises ScreeningError naming the first item the file lacks. Item 6a is
    required only for the recent version, which asks it.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)

    wording = wording_from_dict(data, version, source=str(path))
    logger.info("Loaded C-SSRS wording for %d items from %s", len(wording), path)
    return wording


def wording_from_dict(
    data: Any, version: str = INSTRUMENT_VERSION, source: str = "wording"
) -> dict[ItemId, str]:
    """Validate a wording mapping (item id -> question text) and return it."""
    if not isinstance(data, Mapping):
        raise ScreeningError(
            "wording",
            f"{source}: expected a JSON object keyed by item id (1-6, 6a), "
            f"got {type(data).__name__}.",
        )

    unknown = sorted(set(map(str, data)) - {item.value for item in ItemId})
    if unknown:
        raise ScreeningError(
            unknown[0],
            f"{source}: unknown C-SSRS item key(s) {unknown}; valid keys are "
            "1, 2, 3, 4, 5, 6 and 6a.",
        )

    wording: dict[ItemId, str] = {}
    for item in _worded_items(version):
        text = data.get(item.value)
        if not isinstance(text, str) or not text.strip():
            raise ScreeningError(
                item.value,
                f"{source}: missing wording for C-SSRS item {item.value} "
                f"({ITEMS[item].label}); add a non-empty string under key "
                f"{item.value!r}.",
            )
        wording[item] = text
    return wording


def _worded_items(version: str) -> list[ItemId]:
    if parse_version(version) is InstrumentVersion.SINCE_LAST_CONTACT:
        return [item for item in ItemId if item is not ItemId.Q6A]
    return list(ItemId)


def normalize_answers(answers: Answers) -> dict[ItemId, bool | None]:
    """Convert keys to ItemId and check that every value is a bool or None."""
    normalized: dict[ItemId, bool | None] = dict.fromkeys(ItemId)
    for key, value in answers.items():
        item = _parse_item_id(key)
        if value is not None and not isinstance(value, bool):
            raise ScreeningError(
                item.value,
                f"C-SSRS item {item.value} answer {value!r} is not a boolean; "
                "use True for yes, False for no or None when not asked.",
            )
        normalized[item] = value
    return normalized


def _parse_item_id(key: Any) -> ItemId:
    if isinstance(key, int) and not isinstance(key, bool):
        key = str(key)
    if isinstance(key, str):
        try:
            return ItemId(key.lower())
        except ValueError:
            pass
    raise ScreeningError(
        str(key),
        f"Unknown C-SSRS item {key!r}; valid items are 1, 2, 3, 4, 5, 6 and 6a.",
    )


def asked_items(
    answers: Answers, version: str = INSTRUMENT_VERSION
) -> tuple[list[ItemId], bool]:
    """Return the items the skip logic asks, given the answers so far.

    The boolean is False while an answer that decides a branch (item 2, or
    item 6 in the recent version) is still missing, so later items are not
    known yet.
    """
    parsed = parse_version(version)
    normalized = normalize_answers(answers)
    sequence = [ItemId.Q1, ItemId.Q2]

    if normalized[ItemId.Q2] is None:
        return sequence, False
    if normalized[ItemId.Q2]:
        sequence += [ItemId.Q3, ItemId.Q4, ItemId.Q5]
    sequence.append(ItemId.Q6)

    if parsed is InstrumentVersion.SINCE_LAST_CONTACT:
        return sequence, True
    if normalized[ItemId.Q6] is None:
        return sequence, False
    if normalized[ItemId.Q6]:
        sequence.append(ItemId.Q6A)
    return sequence, True


def next_item(answers: Answers, version: str = INSTRUMENT_VERSION) -> Item | None:
    """Return the next item to ask, or None when the screener is complete.

    Raises ScreeningError when the answers so far include one that the skip
    logic does not ask; call `prune` after changing an earlier answer.
    """
    _reject_unasked(answers, version)
    normalized = normalize_answers(answers)
    sequence, _ = asked_items(normalized, version)

    for item in sequence:
        if normalized[item] is None:
            return ITEMS[item]
    return None


def prune(answers: Answers, version: str = INSTRUMENT_VERSION) -> dict[ItemId, bool]:
    """Drop answers the skip logic no longer asks (after an answer changed)."""
    normalized = normalize_answers(answers)
    sequence, _ = asked_items(normalized, version)

    asked = {item: normalized[item] for item in sequence}
    return {item: value for item, value in asked.items() if value is not None}


def validate(
    answers: Answers, version: str = INSTRUMENT_VERSION
) -> dict[ItemId, bool | None]:
    """Check a complete set of answers against the skip logic.

    Returns the normalized answers. Raises ScreeningError for an unknown
    item, a non-boolean value, an answer to an item the skip logic does not
    ask, or a missing answer to an item it does ask.
    """
    normalized = normalize_answers(answers)
    _reject_unasked(normalized, version)
    sequence, _ = asked_items(normalized, version)

    for item in sequence:
        if normalized[item] is None:
            raise ScreeningError(
                item.value,
                f"C-SSRS item {item.value} ({ITEMS[item].label}) is required "
                f"but has no answer; record yes or no. {_skip_rule(item)}",
            )
    return normalized


def _reject_unasked(answers: Answers, version: str) -> None:
    normalized = normalize_answers(answers)
    sequence, _ = asked_items(normalized, version)

    for item, value in normalized.items():
        if value is not None and item not in sequence:
            raise ScreeningError(
                item.value,
                f"C-SSRS item {item.value} ({ITEMS[item].label}) was answered "
                f"but the skip logic does not ask it: {_skip_rule(item)} "
                "Remove the answer or correct the earlier item.",
            )


def _skip_rule(item: ItemId) -> str:
    rules = {
        ItemId.Q1: "Item 1 is always asked.",
        ItemId.Q2: "Item 2 is always asked.",
        ItemId.Q3: "Item 3 is asked only when item 2 is yes.",
        ItemId.Q4: "Item 4 is asked only when item 2 is yes.",
        ItemId.Q5: "Item 5 is asked only when item 2 is yes.",
        ItemId.Q6: "Item 6 is always asked once item 2 is answered.",
        ItemId.Q6A: (
            "Item 6a is asked only when item 6 is yes, and never in the "
            "since-last-contact version."
        ),
    }
    return rules[item]


def derive_risk(answers: Answers, version: str = INSTRUMENT_VERSION) -> RiskLevel:
    """Validate the answers and return the screener risk level."""
    return screen(answers, version).risk


def screen(answers: Answers, version: str = INSTRUMENT_VERSION) -> ScreeningResult:
    """Validate the answers and return the risk level with its drivers.

    High: item 4 or 5 yes, or item 6 and 6a yes (item 6 alone in the
    since-last-contact version). Moderate: item 3 yes, or item 6 yes but not
    within 3 months. Low: only item 1 and/or 2 yes. None: nothing endorsed.
    """
    parsed = parse_version(version)
    normalized = validate(answers, parsed.value)
    risk, drivers = _classify(normalized, parsed)

    frozen = MappingProxyType(dict(normalized))
    return ScreeningResult(parsed, frozen, risk, drivers)


def _classify(
    answers: Mapping[ItemId, bool | None], version: InstrumentVersion
) -> tuple[RiskLevel, tuple[ItemId, ...]]:
    yes = {item for item, value in answers.items() if value is True}
    behavior_is_recent = (
        version is InstrumentVersion.SINCE_LAST_CONTACT or ItemId.Q6A in yes
    )

    high = [item for item in (ItemId.Q4, ItemId.Q5) if item in yes]
    if ItemId.Q6 in yes and behavior_is_recent:
        high += [item for item in (ItemId.Q6, ItemId.Q6A) if item in yes]
    if high:
        return RiskLevel.HIGH, tuple(high)

    moderate = [item for item in (ItemId.Q3, ItemId.Q6) if item in yes]
    if moderate:
        return RiskLevel.MODERATE, tuple(moderate)

    low = [item for item in (ItemId.Q1, ItemId.Q2) if item in yes]
    if low:
        return RiskLevel.LOW, tuple(low)
    return RiskLevel.NONE, ()


def to_questionnaire_response(
    result: ScreeningResult,
    authored: str | None = None,
    subject_reference: str | None = None,
    wording: Mapping[ItemId, str] | None = None,
) -> dict[str, Any]:
    """Build a FHIR R4 QuestionnaireResponse-shaped dict for a screening.

    Item answers are LOINC Yes/No codings. The derived risk goes in an item
    with linkId 93374-7, omitted when the risk is NONE because LOINC has no
    answer code for it. `wording` adds the licensed question text.
    """
    items = [
        _response_item(item, value, wording)
        for item, value in result.answers.items()
        if value is not None
    ]
    if result.risk.loinc_answer is not None:
        items.append(_risk_item(result.risk))

    # NOTE: both versions cite the LOINC "screener - recent" panel, because
    # this module has no LOINC panel code for the since-last-contact version.
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": f"{LOINC_SYSTEM}/q/{PANEL_LOINC}",
        "meta": {"tag": [{"code": result.version.value}]},
        "item": items,
    }
    if authored is not None:
        response["authored"] = authored
    if subject_reference is not None:
        response["subject"] = {"reference": subject_reference}
    return response


def _response_item(
    item: ItemId, value: bool, wording: Mapping[ItemId, str] | None
) -> dict[str, Any]:
    answer = {
        "system": LOINC_SYSTEM,
        "code": YES_LOINC_ANSWER if value else NO_LOINC_ANSWER,
        "display": "Yes" if value else "No",
    }
    entry: dict[str, Any] = {
        "linkId": ITEMS[item].loinc,
        "answer": [{"valueCoding": answer}],
    }
    if wording is not None and item in wording:
        entry["text"] = wording[item]
    return entry


def _risk_item(risk: RiskLevel) -> dict[str, Any]:
    coding = {"system": LOINC_SYSTEM, "code": risk.loinc_answer, "display": risk.label}
    return {"linkId": DERIVED_RISK_LOINC, "answer": [{"valueCoding": coding}]}
