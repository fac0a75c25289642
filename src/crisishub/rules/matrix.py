"""Crisis Risk Level Matrix held as versioned configuration.

A matrix document is JSON with a version, a label, an effective date, the
crisis levels it uses and an ordered list of rules. Each rule has
conditions (all must hold), a crisis level and a recommended response path.
The first matching rule wins, and the last rule must be a default rule with
no conditions. Every TriageResult carries the matrix version that produced
it, so a stored decision can be traced after the matrix changes.

Facts that are unknown (None) never satisfy a condition, whether the
condition expects True or False.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from crisishub.rules.cssrs import RiskLevel, ScreeningResult
from crisishub.rules.lifeline import LifelineAssessment

logger = logging.getLogger(__name__)

EXAMPLE_MATRIX_FILE = "example_matrix.json"

MIN_PRIORITY = 1
MAX_PRIORITY = 3


class ResponsePath(StrEnum):
    RESOLVE_BY_PHONE = "resolve_by_phone"
    MOBILE_RESPONSE = "mobile_response"
    EMERGENCY_911_EMS = "emergency_911_ems"
    WARM_HANDOFF = "warm_handoff"

    @property
    def label(self) -> str:
        return _PATH_LABELS[self]


_PATH_LABELS = {
    ResponsePath.RESOLVE_BY_PHONE: "resolve by phone",
    ResponsePath.MOBILE_RESPONSE: "mobile response",
    ResponsePath.EMERGENCY_911_EMS: "911/EMS",
    ResponsePath.WARM_HANDOFF: "warm handoff",
}


class MatrixError(ValueError):
    """Invalid matrix document; `path` is the JSON path of the bad value."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class TriageFacts:
    """Inputs to `Matrix.evaluate`; None means the fact is unknown."""

    cssrs_risk: RiskLevel | None = None
    cssrs_reason: str | None = None
    imminent_risk: bool | None = None
    imminent_reasons: tuple[str, ...] = ()
    attempt_in_progress: bool = False
    danger_to_others: bool = False
    danger_reason: str | None = None
    medical_emergency: bool = False
    weapon_present: bool = False
    caller_safe_at_phone: bool | None = None
    has_supports: bool | None = None

    def __post_init__(self) -> None:
        if self.cssrs_risk is not None:
            object.__setattr__(self, "cssrs_risk", _parse_risk_fact(self.cssrs_risk))
        object.__setattr__(self, "imminent_reasons", tuple(self.imminent_reasons))
        for name in _BOOL_FACTS:
            _check_bool_fact(name, getattr(self, name))

    @classmethod
    def build(
        cls,
        screening: ScreeningResult | None = None,
        assessment: LifelineAssessment | None = None,
        *,
        attempt_in_progress: bool = False,
        danger_to_others: bool = False,
        medical_emergency: bool = False,
        weapon_present: bool = False,
        caller_safe_at_phone: bool | None = None,
    ) -> TriageFacts:
        """Combine a C-SSRS screening, a Lifeline assessment and call flags.

        An attempt in progress or danger to others counts when either the
        assessment or the explicit flag reports it.
        """
        _check_build_types(screening, assessment)
        lifeline_facts = _lifeline_facts(assessment, attempt_in_progress)
        if assessment is not None:
            attempt_in_progress = attempt_in_progress or assessment.attempt_in_progress
            danger_to_others = danger_to_others or assessment.danger_to_others

        return cls(
            cssrs_risk=None if screening is None else screening.risk,
            cssrs_reason=None if screening is None else screening.reason(),
            attempt_in_progress=attempt_in_progress,
            danger_to_others=danger_to_others,
            medical_emergency=medical_emergency,
            weapon_present=weapon_present,
            caller_safe_at_phone=caller_safe_at_phone,
            **lifeline_facts,
        )


_BOOL_FACTS = (
    "imminent_risk",
    "attempt_in_progress",
    "danger_to_others",
    "medical_emergency",
    "weapon_present",
    "caller_safe_at_phone",
    "has_supports",
)


def _check_build_types(
    screening: ScreeningResult | None, assessment: LifelineAssessment | None
) -> None:
    if screening is not None and not isinstance(screening, ScreeningResult):
        raise TypeError(
            f"screening must be a ScreeningResult or None, got "
            f"{type(screening).__name__}; pass a Lifeline assessment as "
            "assessment=."
        )
    if assessment is not None and not isinstance(assessment, LifelineAssessment):
        raise TypeError(
            f"assessment must be a LifelineAssessment or None, got "
            f"{type(assessment).__name__}."
        )


def _parse_risk_fact(value: Any) -> RiskLevel:
    try:
        return RiskLevel(value)
    except ValueError:
        valid = ", ".join(level.value for level in RiskLevel)
        raise ValueError(
            f"cssrs_risk {value!r} is not a C-SSRS risk level; use one of: {valid}."
        ) from None


def _check_bool_fact(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            f"Triage fact {name} must be True, False or None, got {value!r}."
        )


def _lifeline_facts(
    assessment: LifelineAssessment | None, attempt_in_progress: bool
) -> dict[str, Any]:
    if assessment is None:
        imminent = True if attempt_in_progress else None
        reasons = ("Attempt in progress",) if attempt_in_progress else ()
        return {"imminent_risk": imminent, "imminent_reasons": reasons}

    finding = assessment.assess_imminent_risk()
    reasons = finding.reasons
    if attempt_in_progress and not finding.imminent:
        reasons = ("Attempt in progress",)
    return {
        "imminent_risk": finding.imminent or attempt_in_progress,
        "imminent_reasons": reasons,
        "danger_reason": assessment.danger_reason(),
        "has_supports": assessment.has_supports(),
    }


@dataclass(frozen=True)
class CrisisLevel:
    id: str
    severity: int
    label: str


@dataclass(frozen=True)
class Condition:
    key: str
    value: Any

    def matches(self, facts: TriageFacts) -> bool:
        return CONDITIONS[self.key].matches(facts, self.value)

    def reason(self, facts: TriageFacts) -> str:
        return CONDITIONS[self.key].reason(facts, self.value)


@dataclass(frozen=True)
class Rule:
    id: str
    conditions: tuple[Condition, ...]
    level: CrisisLevel
    path: ResponsePath
    priority: int | None
    note: str

    @property
    def is_default(self) -> bool:
        return not self.conditions

    def matches(self, facts: TriageFacts) -> bool:
        return all(condition.matches(facts) for condition in self.conditions)


@dataclass(frozen=True)
class TriageResult:
    """Immutable triage recommendation with the matrix version behind it."""

    level: str
    level_label: str
    severity: int
    path: ResponsePath
    priority: int | None
    rule_id: str
    reasons: tuple[str, ...]
    matrix_version: str


@dataclass(frozen=True)
class _ConditionSpec:
    """Validation kind, match test and reason text of one condition key."""

    kind: str
    matches: Callable[[TriageFacts, Any], bool]
    reason: Callable[[TriageFacts, Any], str]


def _bool_spec(
    fact: str, when_true: str, when_false: str, detail: Callable[[TriageFacts], str]
) -> _ConditionSpec:
    def matches(facts: TriageFacts, expected: bool) -> bool:
        actual = getattr(facts, fact)
        return actual is not None and actual == expected

    def reason(facts: TriageFacts, expected: bool) -> str:
        text = when_true if expected else when_false
        extra = detail(facts)
        return f"{text} ({extra})" if extra else text

    return _ConditionSpec("bool", matches, reason)


def _no_detail(facts: TriageFacts) -> str:
    return ""


def _imminent_detail(facts: TriageFacts) -> str:
    return "; ".join(facts.imminent_reasons)


def _danger_detail(facts: TriageFacts) -> str:
    reason = facts.danger_reason or ""
    prefix = "Danger to others ("
    if reason.startswith(prefix) and reason.endswith(")"):
        return reason[len(prefix) : -1]
    return ""


def _cssrs_reason(facts: TriageFacts, expected: Any) -> str:
    if facts.cssrs_reason:
        return facts.cssrs_reason
    return f"C-SSRS risk {facts.cssrs_risk.label}"


def _risk_min_matches(facts: TriageFacts, minimum: RiskLevel) -> bool:
    return facts.cssrs_risk is not None and facts.cssrs_risk.rank >= minimum.rank


def _risk_in_matches(facts: TriageFacts, levels: frozenset[RiskLevel]) -> bool:
    return facts.cssrs_risk in levels


def _screened_matches(facts: TriageFacts, expected: bool) -> bool:
    return (facts.cssrs_risk is not None) == expected


def _screened_reason(facts: TriageFacts, expected: bool) -> str:
    if expected:
        return "C-SSRS screener completed"
    return "No C-SSRS screener recorded"


CONDITIONS: Mapping[str, _ConditionSpec] = {
    "cssrs_risk_min": _ConditionSpec("risk", _risk_min_matches, _cssrs_reason),
    "cssrs_risk_in": _ConditionSpec("risk_list", _risk_in_matches, _cssrs_reason),
    "cssrs_screened": _ConditionSpec("bool", _screened_matches, _screened_reason),
    "imminent_risk": _bool_spec(
        "imminent_risk", "Imminent risk", "Not at imminent risk", _imminent_detail
    ),
    "attempt_in_progress": _bool_spec(
        "attempt_in_progress",
        "Attempt in progress",
        "No attempt in progress",
        _no_detail,
    ),
    "danger_to_others": _bool_spec(
        "danger_to_others", "Danger to others", "No danger to others", _danger_detail
    ),
    "medical_emergency": _bool_spec(
        "medical_emergency",
        "Medical emergency reported",
        "No medical emergency reported",
        _no_detail,
    ),
    "weapon_present": _bool_spec(
        "weapon_present", "Weapon present", "No weapon reported", _no_detail
    ),
    "caller_safe_at_phone": _bool_spec(
        "caller_safe_at_phone",
        "Caller safe at the phone",
        "Caller not safe at the phone",
        _no_detail,
    ),
    "has_supports": _bool_spec(
        "has_supports",
        "Immediate or social supports present",
        "No immediate or social supports identified",
        _no_detail,
    ),
}


@dataclass(frozen=True)
class Matrix:
    """A validated, immutable Crisis Risk Level Matrix."""

    version: str
    label: str
    effective_from: dt.date
    levels: tuple[CrisisLevel, ...]
    rules: tuple[Rule, ...]
    digest: str

    @classmethod
    def from_dict(cls, document: Any) -> Matrix:
        """Validate a matrix document and build the matrix.

        Raises MatrixError naming the JSON path of the first invalid value.
        """
        return _parse_document(document)

    @classmethod
    def from_json(cls, text: str, source: str = "matrix") -> Matrix:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise MatrixError(
                "$",
                f"{source} is not valid JSON ({error}); fix the syntax and reload.",
            ) from None
        return cls.from_dict(document)

    @classmethod
    def load(cls, path: str | Path) -> Matrix:
        path = Path(path)
        matrix = cls.from_json(path.read_text(encoding="utf-8"), source=str(path))
        logger.info("Loaded crisis matrix %s from %s", matrix.version, path)
        return matrix

    def evaluate(self, facts: TriageFacts) -> TriageResult:
        """Return the recommendation of the first rule that matches `facts`."""
        rule = next(rule for rule in self.rules if rule.matches(facts))
        reasons = [condition.reason(facts) for condition in rule.conditions]
        if rule.is_default:
            reasons.append("No earlier rule matched")
        reasons.append(self._closing_reason(rule))

        return TriageResult(
            level=rule.level.id,
            level_label=rule.level.label,
            severity=rule.level.severity,
            path=rule.path,
            priority=rule.priority,
            rule_id=rule.id,
            reasons=tuple(reasons),
            matrix_version=self.version,
        )

    def _closing_reason(self, rule: Rule) -> str:
        path = rule.path.label
        if rule.priority is not None:
            path = f"{path}, priority {rule.priority}"
        return f"{rule.level.label} → {path} (rule {rule.id!r}, matrix {self.version})"


def load_example_matrix() -> Matrix:
    """Load the EXAMPLE matrix shipped with the package (not a real policy)."""
    text = resources.files("crisishub.rules").joinpath(EXAMPLE_MATRIX_FILE)
    return Matrix.from_json(text.read_text(encoding="utf-8"), EXAMPLE_MATRIX_FILE)


def document_digest(document: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the document's canonical JSON form."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class MatrixRegistry:
    """Matrix versions known to the program, looked up by version or date."""

    def __init__(self, matrices: Sequence[Matrix] = ()) -> None:
        self._by_version: dict[str, Matrix] = {}
        for matrix in matrices:
            self.add(matrix)

    def add(self, matrix: Matrix) -> Matrix:
        """Register a matrix; re-adding identical content is a no-op.

        Raises MatrixError when the version is already registered with
        different content, because a version must identify one document.
        """
        existing = self._by_version.get(matrix.version)
        if existing is None:
            self._reject_same_effective_date(matrix)
            self._by_version[matrix.version] = matrix
            return matrix
        if existing.digest == matrix.digest:
            return existing
        raise MatrixError(
            "$.version",
            f"duplicate matrix version {matrix.version!r} with different "
            "content; give the changed matrix a new version.",
        )

    def _reject_same_effective_date(self, matrix: Matrix) -> None:
        for other in self._by_version.values():
            if other.effective_from == matrix.effective_from:
                raise MatrixError(
                    "$.effective_from",
                    f"matrix {matrix.version!r} has the same effective_from "
                    f"({matrix.effective_from.isoformat()}) as {other.version!r}, "
                    "so the active matrix on that date is ambiguous; pick "
                    "another date.",
                )

    def get(self, version: str) -> Matrix:
        try:
            return self._by_version[version]
        except KeyError:
            known = ", ".join(sorted(self._by_version)) or "none"
            raise LookupError(
                f"Matrix version {version!r} is not registered; known: {known}."
            ) from None

    def versions(self) -> list[str]:
        return sorted(self._by_version)

    def active_on(self, day: dt.date) -> Matrix:
        """Return the matrix with the latest effective_from on or before day."""
        candidates = [m for m in self._by_version.values() if m.effective_from <= day]
        if not candidates:
            raise LookupError(
                f"No matrix is effective on {day.isoformat()}; register one "
                "with an earlier effective_from."
            )
        return max(candidates, key=lambda m: (m.effective_from, m.version))


# Document validation. Each helper raises MatrixError with the JSON path of
# the value it checks and the fix.

_TOP_KEYS = ("version", "label", "effective_from", "description", "levels", "rules")
_LEVEL_KEYS = ("id", "severity", "label", "description")
_RULE_KEYS = ("id", "when", "level", "path", "priority", "note")


def _parse_document(document: Any) -> Matrix:
    _require_object(document, "$")
    _reject_unknown_keys(document, _TOP_KEYS, "$")

    version = _require_text(document, "version", "$")
    label = _require_text(document, "label", "$")
    effective_from = _parse_date(document.get("effective_from"), "$.effective_from")
    levels = _parse_levels(document.get("levels"), "$.levels")
    rules = _parse_rules(document.get("rules"), "$.rules", levels)

    return Matrix(
        version=version,
        label=label,
        effective_from=effective_from,
        levels=tuple(levels.values()),
        rules=rules,
        digest=document_digest(document),
    )


def _require_object(value: Any, path: str) -> None:
    if not isinstance(value, Mapping):
        raise MatrixError(
            path, f"expected a JSON object, got {type(value).__name__} {value!r}."
        )


def _require_list(value: Any, path: str, what: str) -> None:
    if not isinstance(value, list) or not value:
        raise MatrixError(
            path,
            f"expected a non-empty list of {what}, got {value!r}; add at least one.",
        )


def _reject_unknown_keys(
    data: Mapping[str, Any], allowed: Sequence[str], path: str
) -> None:
    for key in data:
        if key not in allowed:
            raise MatrixError(
                f"{path}.{key}",
                f"unknown key {key!r}; valid keys are {', '.join(allowed)}.",
            )


def _require_text(data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(
            f"{path}.{key}",
            f"missing or empty {key!r}; set a non-empty string (got {value!r}).",
        )
    return value


def _parse_date(value: Any, path: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MatrixError(
            path, f'invalid date {value!r}; use an ISO date such as "2026-01-31".'
        ) from None


def _parse_levels(raw: Any, path: str) -> dict[str, CrisisLevel]:
    _require_list(raw, path, "crisis levels")
    levels: dict[str, CrisisLevel] = {}
    severities: dict[int, str] = {}

    for index, entry in enumerate(raw):
        level = _parse_level(entry, f"{path}[{index}]")
        if level.id in levels:
            raise MatrixError(
                f"{path}[{index}].id",
                f"duplicate crisis level id {level.id!r}; give each level a unique id.",
            )
        if level.severity in severities:
            raise MatrixError(
                f"{path}[{index}].severity",
                f"severity {level.severity} is already used by level "
                f"{severities[level.severity]!r}; give each level its own severity.",
            )
        levels[level.id] = level
        severities[level.severity] = level.id
    return levels


def _parse_level(entry: Any, path: str) -> CrisisLevel:
    _require_object(entry, path)
    _reject_unknown_keys(entry, _LEVEL_KEYS, path)

    severity = entry.get("severity")
    if isinstance(severity, bool) or not isinstance(severity, int):
        raise MatrixError(
            f"{path}.severity",
            f"severity must be an integer (higher is more severe), got {severity!r}.",
        )
    return CrisisLevel(
        id=_require_text(entry, "id", path),
        severity=severity,
        label=_require_text(entry, "label", path),
    )


def _parse_rules(
    raw: Any, path: str, levels: Mapping[str, CrisisLevel]
) -> tuple[Rule, ...]:
    _require_list(raw, path, "rules")
    rules: list[Rule] = []
    seen: set[str] = set()

    for index, entry in enumerate(raw):
        rule = _parse_rule(entry, f"{path}[{index}]", levels)
        if rule.id in seen:
            raise MatrixError(
                f"{path}[{index}].id",
                f"duplicate rule id {rule.id!r}; give each rule a unique id.",
            )
        seen.add(rule.id)
        rules.append(rule)

    _check_default_rule(rules, path)
    return tuple(rules)


def _check_default_rule(rules: Sequence[Rule], path: str) -> None:
    last = len(rules) - 1
    for index, rule in enumerate(rules[:last]):
        if rule.is_default:
            raise MatrixError(
                f"{path}[{index}].when",
                f"rule {rule.id!r} has no conditions, so the rules after it "
                "never match; move it to the end or add conditions.",
            )
    if not rules[last].is_default:
        raise MatrixError(
            f"{path}[{last}].when",
            'no default rule: the last rule must have an empty "when" so '
            'every call gets a recommendation; append a rule with "when": {}.',
        )


def _parse_rule(entry: Any, path: str, levels: Mapping[str, CrisisLevel]) -> Rule:
    _require_object(entry, path)
    _reject_unknown_keys(entry, _RULE_KEYS, path)

    rule_id = _require_text(entry, "id", path)
    conditions = _parse_conditions(entry.get("when"), f"{path}.when")
    level = _parse_level_ref(entry.get("level"), f"{path}.level", levels)
    response_path = _parse_path(entry.get("path"), f"{path}.path")
    priority = _parse_priority(entry.get("priority"), f"{path}.priority", response_path)

    note = entry.get("note", "")
    if not isinstance(note, str):
        raise MatrixError(f"{path}.note", f"note must be a string, got {note!r}.")

    return Rule(rule_id, conditions, level, response_path, priority, note)


def _parse_conditions(raw: Any, path: str) -> tuple[Condition, ...]:
    if raw is None:
        raise MatrixError(
            path,
            'missing "when"; give the rule\'s conditions, or {} for the default rule.',
        )
    _require_object(raw, path)
    return tuple(
        _parse_condition(key, value, f"{path}.{key}") for key, value in raw.items()
    )


def _parse_condition(key: str, value: Any, path: str) -> Condition:
    spec = CONDITIONS.get(key)
    if spec is None:
        valid = ", ".join(CONDITIONS)
        raise MatrixError(
            path, f"unknown condition key {key!r}; valid condition keys are {valid}."
        )

    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise MatrixError(path, f"{key} must be true or false, got {value!r}.")
        return Condition(key, value)
    if spec.kind == "risk":
        return Condition(key, _parse_risk(value, path))
    return Condition(key, _parse_risk_list(value, path))


def _parse_risk(value: Any, path: str) -> RiskLevel:
    try:
        return RiskLevel(value)
    except ValueError:
        valid = ", ".join(level.value for level in RiskLevel)
        raise MatrixError(
            path, f"unknown C-SSRS risk level {value!r}; use one of: {valid}."
        ) from None


def _parse_risk_list(value: Any, path: str) -> frozenset[RiskLevel]:
    _require_list(value, path, "C-SSRS risk levels")
    return frozenset(
        _parse_risk(item, f"{path}[{index}]") for index, item in enumerate(value)
    )


def _parse_level_ref(
    value: Any, path: str, levels: Mapping[str, CrisisLevel]
) -> CrisisLevel:
    if value not in levels:
        valid = ", ".join(levels)
        raise MatrixError(
            path,
            f"unknown crisis level {value!r}; use a level id defined in "
            f"$.levels ({valid}).",
        )
    return levels[value]


def _parse_path(value: Any, path: str) -> ResponsePath:
    try:
        return ResponsePath(value)
    except ValueError:
        valid = ", ".join(p.value for p in ResponsePath)
        raise MatrixError(
            path, f"unknown response path {value!r}; use one of: {valid}."
        ) from None


def _parse_priority(value: Any, path: str, response_path: ResponsePath) -> int | None:
    if response_path is not ResponsePath.MOBILE_RESPONSE:
        if value is not None:
            raise MatrixError(
                path,
                f"priority applies only to mobile_response, but the path is "
                f"{response_path.value}; remove the priority.",
            )
        return None

    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or not MIN_PRIORITY <= value <= MAX_PRIORITY:
        raise MatrixError(
            path,
            f"mobile_response needs a priority from {MIN_PRIORITY} (highest) to "
            f'{MAX_PRIORITY}, got {value!r}; set "priority".',
        )
    return value
