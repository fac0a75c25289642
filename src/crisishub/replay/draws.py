"""Values the real events do not carry, drawn from stated distributions.

The January 2006 police file gives each crisis event a time and a place
and nothing else. Everything the hub needs beyond that is drawn here with
the replay's seed, and :data:`DRAWN_FIELDS` describes each distribution so
the output can say which fields are real and which are drawn. All of them
are planning estimates, not measurements of the Sacramento program.

The draws come from ``numpy.random.default_rng(seed)``, one vector over
all events (sorted by time, then event id) per field, in the order of
:data:`DRAWN_FIELDS`: language, risk level, attempt in progress, answer
delay, assessment, turnout, time on scene, transport, hand-off and
law-enforcement involvement. So anyone can recompute them from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Share of people by preferred language. Estimate loosely based on the
# county's most spoken languages at home; English-only speakers dominate.
LANGUAGE_SHARES = {
    "en": 0.70, "es": 0.12, "zh": 0.03, "vi": 0.03, "ru": 0.02, "tl": 0.02,
    "hmn": 0.02, "pa": 0.02, "uk": 0.01, "fa": 0.01, "ar": 0.01, "other": 0.01,
}

# C-SSRS risk level among people in these events (police 5150 holds are
# acute). Estimate.
RISK_SHARES = {"high": 0.45, "moderate": 0.30, "low": 0.15, "none": 0.10}

# Answers that produce each level under the screener's triage rules.
CSSRS_ANSWERS = {
    "high": {"1": True, "2": True, "3": True, "4": True, "5": False, "6": False},
    "moderate": {"1": True, "2": True, "3": True, "4": False, "5": False, "6": False},
    "low": {"1": True, "2": False, "6": False},
    "none": {"1": False, "2": False, "6": False},
}

# Share of calls where an attempt is in progress (the matrix routes these
# to 911/EMS).
ATTEMPT_IN_PROGRESS_SHARE = 0.05
ANSWER_DELAY_MEAN_MINUTES = 0.5          # exponential
ASSESSMENT_MINUTES = (5.0, 15.0)         # uniform, answer to T0
TURNOUT_MINUTES = (1.0, 4.0)             # uniform, assigned to en route
ON_SCENE_MEDIAN_MINUTES = 45.0           # lognormal
ON_SCENE_SIGMA = 0.5
# About 30% of mobile responses are referred on to a facility (Crisis
# Resource Need Calculator planning assumption).
TRANSPORT_SHARE = 0.30
HANDOFF_MINUTES = (10.0, 30.0)           # uniform, at destination to clear
LAW_ENFORCEMENT_REQUESTED_SHARE = 0.02
LAW_ENFORCEMENT_ON_SCENE_SHARE = 0.03

DRAWN_FIELDS = {
    "preferred_language": f"categorical {LANGUAGE_SHARES}",
    "cssrs_answers": f"risk level categorical {RISK_SHARES}, then fixed answers per level",
    "attempt_in_progress": f"Bernoulli({ATTEMPT_IN_PROGRESS_SHARE})",
    "answered_at": f"offered + exponential(mean {ANSWER_DELAY_MEAN_MINUTES} min)",
    "t0": f"answered + uniform{ASSESSMENT_MINUTES} min",
    "en_route": f"assigned + uniform{TURNOUT_MINUTES} min",
    "on_scene": "en route + travel-time model minutes (including its fixed overhead)",
    "on_scene_duration": f"lognormal(median {ON_SCENE_MEDIAN_MINUTES} min, sigma {ON_SCENE_SIGMA})",
    "transport": (
        f"Bernoulli({TRANSPORT_SHARE}) to the nearest active mental health urgent care or "
        "emergency department, travel-time model minutes"
    ),
    "handoff": f"uniform{HANDOFF_MINUTES} min at destination",
    "law_enforcement": (
        f"requested_by_team Bernoulli({LAW_ENFORCEMENT_REQUESTED_SHARE}), "
        f"already_on_scene Bernoulli({LAW_ENFORCEMENT_ON_SCENE_SHARE})"
    ),
}
REAL_FIELDS = ["occurred_at (as offered_at)", "latitude and longitude (as given in the events file)", "kind"]


@dataclass(frozen=True)
class EventDraws:
    language: str
    risk: str
    attempt_in_progress: bool
    answer_delay: float
    assessment: float
    turnout: float
    on_scene: float
    transported: bool
    handoff: float
    law_enforcement: str


def draw_for_events(count: int, rng: np.random.Generator) -> list[EventDraws]:
    """Draw every event's values up front, so the result is the same for a
    seed however the simulation interleaves events."""
    languages = rng.choice(list(LANGUAGE_SHARES), size=count, p=_normalized(LANGUAGE_SHARES))
    risks = rng.choice(list(RISK_SHARES), size=count, p=_normalized(RISK_SHARES))
    attempts = rng.random(count) < ATTEMPT_IN_PROGRESS_SHARE
    answer = rng.exponential(ANSWER_DELAY_MEAN_MINUTES, count)
    assessment = rng.uniform(*ASSESSMENT_MINUTES, count)
    turnout = rng.uniform(*TURNOUT_MINUTES, count)
    on_scene = rng.lognormal(np.log(ON_SCENE_MEDIAN_MINUTES), ON_SCENE_SIGMA, count)
    transported = rng.random(count) < TRANSPORT_SHARE
    handoff = rng.uniform(*HANDOFF_MINUTES, count)
    le_draw = rng.random(count)
    law = np.where(
        le_draw < LAW_ENFORCEMENT_REQUESTED_SHARE, "requested_by_team",
        np.where(le_draw < LAW_ENFORCEMENT_REQUESTED_SHARE + LAW_ENFORCEMENT_ON_SCENE_SHARE,
                 "already_on_scene", "none"),
    )
    return [
        EventDraws(
            language=str(languages[i]), risk=str(risks[i]), attempt_in_progress=bool(attempts[i]),
            answer_delay=float(answer[i]), assessment=float(assessment[i]), turnout=float(turnout[i]),
            on_scene=float(on_scene[i]), transported=bool(transported[i]), handoff=float(handoff[i]),
            law_enforcement=str(law[i]),
        )
        for i in range(count)
    ]


def _normalized(shares: dict[str, float]) -> np.ndarray:
    values = np.array(list(shares.values()), dtype=float)
    return values / values.sum()
