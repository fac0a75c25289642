"""988 Lifeline suicide risk domains and the imminent-risk rule.

The Lifeline risk assessment standard groups what a counselor hears into
four domains: suicidal desire, suicidal capability, suicidal intent and
buffers against suicide. Danger to others is assessed alongside them.

The Lifeline Imminent Risk Policy (2011) treats a person as at imminent
risk when they state both desire and intent and have the capability, or
when an attempt is in progress. This module applies that rule with one
program-configurable addition: endorsed buffers can offset desire, intent
and capability (see `ImminentRiskRule`). An attempt in progress is always
imminent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class DesireFactor(StrEnum):
    IDEATION = "ideation"
    PSYCHOLOGICAL_PAIN = "psychological_pain"
    HOPELESSNESS = "hopelessness"
    HELPLESSNESS = "helplessness"
    PERCEIVED_BURDEN = "perceived_burden"
    FEELING_TRAPPED = "feeling_trapped"
    INTOLERABLY_ALONE = "intolerably_alone"


class CapabilityFactor(StrEnum):
    PRIOR_ATTEMPTS = "prior_attempts"
    EXPOSURE_TO_SUICIDE = "exposure_to_suicide"
    VIOLENCE_TOWARD_OTHERS = "violence_toward_others"
    AVAILABLE_MEANS = "available_means"
    INTOXICATION = "intoxication"
    ACUTE_SYMPTOMS = "acute_symptoms"
    AGITATION_OR_RAGE = "agitation_or_rage"


class IntentFactor(StrEnum):
    ATTEMPT_IN_PROGRESS = "attempt_in_progress"
    PLAN_WITH_KNOWN_METHOD = "plan_with_known_method"
    PREPARATORY_BEHAVIOR = "preparatory_behavior"
    STATED_INTENT = "stated_intent"


class BufferFactor(StrEnum):
    IMMEDIATE_SUPPORTS = "immediate_supports"
    SOCIAL_SUPPORTS = "social_supports"
    FUTURE_PLANS = "future_plans"
    ENGAGEMENT_WITH_HELPER = "engagement_with_helper"
    AMBIVALENCE = "ambivalence"
    CORE_VALUES = "core_values"
    SENSE_OF_PURPOSE = "sense_of_purpose"


class DangerToOthersFactor(StrEnum):
    HOMICIDAL_IDEATION = "homicidal_ideation"
    PLAN = "plan"
    MEANS = "means"
    HISTORY_OF_VIOLENCE = "history_of_violence"


class Domain(StrEnum):
    DESIRE = "desire"
    CAPABILITY = "capability"
    INTENT = "intent"
    BUFFERS = "buffers"
    DANGER_TO_OTHERS = "danger_to_others"


DOMAIN_FACTORS: Mapping[Domain, type[StrEnum]] = {
    Domain.DESIRE: DesireFactor,
    Domain.CAPABILITY: CapabilityFactor,
    Domain.INTENT: IntentFactor,
    Domain.BUFFERS: BufferFactor,
    Domain.DANGER_TO_OTHERS: DangerToOthersFactor,
}


class LifelineError(ValueError):
    """Invalid Lifeline assessment input; `field` names the domain or key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ImminentRiskRule:
    """Program-configurable imminent-risk rule.

    `buffers_offset_at` is the number of endorsed buffers at which desire,
    intent and capability together no longer count as imminent. The default
    of 1 means imminent only when no buffer is endorsed. None applies the
    policy's wording literally, so buffers never offset.
    """

    buffers_offset_at: int | None = 1

    def __post_init__(self) -> None:
        offset = self.buffers_offset_at
        if offset is not None and (isinstance(offset, bool) or offset < 1):
            raise LifelineError(
                "buffers_offset_at",
                f"buffers_offset_at must be a positive integer or None, got "
                f"{offset!r}; use None to ignore buffers.",
            )

    @classmethod
    def policy_literal(cls) -> ImminentRiskRule:
        """Rule that ignores buffers, as the policy's own wording reads."""
        return cls(buffers_offset_at=None)


DEFAULT_IMMINENT_RULE = ImminentRiskRule()


@dataclass(frozen=True)
class ImminentRiskFinding:
    imminent: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LifelineAssessment:
    """Endorsed factors per domain, as the counselor recorded them."""

    desire: frozenset[DesireFactor] = frozenset()
    capability: frozenset[CapabilityFactor] = frozenset()
    intent: frozenset[IntentFactor] = frozenset()
    buffers: frozenset[BufferFactor] = frozenset()
    danger_to_others: bool = False
    danger_factors: frozenset[DangerToOthersFactor] = frozenset()
    rule: ImminentRiskRule = field(default=DEFAULT_IMMINENT_RULE, compare=False)

    def __post_init__(self) -> None:
        if self.danger_factors and not self.danger_to_others:
            names = ", ".join(sorted(self.danger_factors))
            raise LifelineError(
                "danger_to_others",
                f"Danger-to-others factors ({names}) were given but "
                "danger_to_others is False; set it to True or remove them.",
            )

    @property
    def attempt_in_progress(self) -> bool:
        return IntentFactor.ATTEMPT_IN_PROGRESS in self.intent

    @property
    def imminent_risk(self) -> bool:
        """Whether the person is at imminent risk under `self.rule`."""
        return self.assess_imminent_risk().imminent

    def assess_imminent_risk(
        self, rule: ImminentRiskRule | None = None
    ) -> ImminentRiskFinding:
        """Apply the imminent-risk rule and return the finding with its reasons."""
        rule = self.rule if rule is None else rule
        if self.attempt_in_progress:
            return ImminentRiskFinding(True, ("Attempt in progress",))

        missing = self._missing_core_domains()
        if missing:
            reason = f"Not imminent: no {', no '.join(missing)} endorsed"
            return ImminentRiskFinding(False, (reason,))

        core = "Desire, intent and capability present"
        offset = rule.buffers_offset_at
        if offset is not None and len(self.buffers) >= offset:
            buffers = ", ".join(_label(b) for b in sorted(self.buffers))
            reason = f"{core}; not imminent because buffers offset them ({buffers})"
            return ImminentRiskFinding(False, (reason,))

        if self.buffers:
            return ImminentRiskFinding(True, (f"{core}; buffers insufficient",))
        return ImminentRiskFinding(True, (f"{core}; no buffers",))

    def _missing_core_domains(self) -> list[str]:
        present = {
            "desire": self.desire,
            "intent": self.intent,
            "capability": self.capability,
        }
        return [name for name, factors in present.items() if not factors]

    def has_supports(self) -> bool:
        """Return True when immediate or social supports are endorsed buffers."""
        supports = {BufferFactor.IMMEDIATE_SUPPORTS, BufferFactor.SOCIAL_SUPPORTS}
        return bool(self.buffers & supports)

    def danger_reason(self) -> str | None:
        """Describe danger to others in one sentence, or None if absent."""
        if not self.danger_to_others:
            return None
        if not self.danger_factors:
            return "Danger to others"

        factors = ", ".join(_label(f) for f in sorted(self.danger_factors))
        return f"Danger to others ({factors})"


def _label(factor: StrEnum) -> str:
    return factor.value.replace("_", " ")


def validate(
    data: Mapping[str, Any], rule: ImminentRiskRule | None = None
) -> LifelineAssessment:
    """Build a LifelineAssessment from plain data, rejecting unknown names.

    `data` has optional keys desire, capability, intent, buffers (lists of
    factor names), danger_to_others (bool) and danger_factors (list).
    """
    if not isinstance(data, Mapping):
        raise LifelineError(
            "assessment",
            f"Lifeline assessment must be a mapping, got {type(data).__name__}.",
        )
    _reject_unknown_keys(data)

    danger = data.get("danger_to_others", False)
    if not isinstance(danger, bool):
        raise LifelineError(
            "danger_to_others",
            f"danger_to_others must be True or False, got {danger!r}.",
        )

    return LifelineAssessment(
        desire=parse_factors(Domain.DESIRE, data.get("desire", ())),
        capability=parse_factors(Domain.CAPABILITY, data.get("capability", ())),
        intent=parse_factors(Domain.INTENT, data.get("intent", ())),
        buffers=parse_factors(Domain.BUFFERS, data.get("buffers", ())),
        danger_to_others=danger,
        danger_factors=parse_factors(
            Domain.DANGER_TO_OTHERS, data.get("danger_factors", ())
        ),
        rule=DEFAULT_IMMINENT_RULE if rule is None else rule,
    )


_VALID_KEYS = (
    "desire",
    "capability",
    "intent",
    "buffers",
    "danger_to_others",
    "danger_factors",
)


def _reject_unknown_keys(data: Mapping[str, Any]) -> None:
    unknown = sorted(str(key) for key in data if key not in _VALID_KEYS)
    if unknown:
        raise LifelineError(
            unknown[0],
            f"Unknown Lifeline assessment key(s) {unknown}; valid keys are "
            f"{', '.join(_VALID_KEYS)}.",
        )


def parse_factors(domain: Domain | str, names: Iterable[Any]) -> frozenset[Any]:
    """Convert factor names of one domain to enum members.

    Raises LifelineError listing the valid names when a name is unknown.
    """
    domain = Domain(domain)
    factor_type = DOMAIN_FACTORS[domain]
    if isinstance(names, str) or not isinstance(names, Iterable):
        raise LifelineError(
            domain.value,
            f"{domain.value} must be a list of factor names, got {names!r}.",
        )

    parsed = set()
    for name in names:
        try:
            parsed.add(factor_type(name))
        except ValueError:
            valid = ", ".join(member.value for member in factor_type)
            raise LifelineError(
                domain.value,
                f"Unknown {domain.value} factor {name!r}; valid names: {valid}.",
            ) from None
    return frozenset(parsed)
