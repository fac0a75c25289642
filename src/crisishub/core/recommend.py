"""Rank available teams for an incident.

Ranking is by estimated arrival first; a team without the person's
language and a team already busy this shift are pushed back by penalties
expressed in minutes, so every reason reads as a time trade-off. The
penalties are program policy, not measurements: the service reads
``settings.RECOMMENDATION_PENALTIES`` (keys ``language_penalty`` and
``workload_penalty``, minutes). The travel-time model's constants are
estimates, set by ``settings.TRAVEL_MODEL`` (see
:meth:`StraightLineTravelModel.from_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from django.core.signals import setting_changed
from django.utils.translation import gettext, ngettext

from crisishub.rules.travel import StraightLineTravelModel, as_points, unit_vectors

# Minutes added to a team's ETA when it has no member who speaks the
# person's language (an interpreter line will be needed).
LANGUAGE_MISMATCH_PENALTY_MINUTES = 15.0
# Minutes added per response the team has already worked this shift, to
# spread the workload.
WORKLOAD_PENALTY_MINUTES = 2.0


@dataclass(frozen=True)
class Recommendation:
    team_id: int
    team_name: str
    eta_minutes: float
    score: float
    language_match: bool
    workload: int
    reasons: tuple[str, ...]


@dataclass
class _Candidates:
    """The available teams' columns, with their unit vectors precomputed."""

    index: np.ndarray  # rows of the snapshot
    ids: np.ndarray
    positions: np.ndarray
    unit_vectors: np.ndarray  # (n, 3) points on the unit sphere
    workload: np.ndarray


@dataclass
class TeamSnapshot:
    """Columnar view of the fleet, rebuilt from the database when it changes.

    The arrays must not be changed after the first ``recommend`` call,
    because the available teams' columns are cached.
    """

    ids: np.ndarray
    names: list[str]
    positions: np.ndarray  # (n, 2) latitude, longitude
    available: np.ndarray  # bool
    languages: list[frozenset[str]]
    workload: np.ndarray  # responses this shift
    _language_masks: dict[str, np.ndarray] = field(default_factory=dict)
    _candidates: _Candidates | None = None
    _candidate_language_masks: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[tuple[int, str, float, float, bool, Sequence[str], int]],
    ) -> "TeamSnapshot":
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        positions = np.array([[r[2], r[3]] for r in rows], dtype=float).reshape(-1, 2)
        return cls(
            ids=ids,
            names=[r[1] for r in rows],
            positions=positions,
            available=np.array([r[4] for r in rows], dtype=bool),
            languages=[frozenset(r[5]) for r in rows],
            workload=np.array([r[6] for r in rows], dtype=float),
        )

    def speaks(self, language: str) -> np.ndarray:
        mask = self._language_masks.get(language)
        if mask is None:
            mask = np.array([language in langs for langs in self.languages], dtype=bool)
            self._language_masks[language] = mask
        return mask

    def candidates(self) -> _Candidates:
        if self._candidates is None:
            index = np.flatnonzero(self.available)
            positions = as_points(self.positions[index], "team positions")
            self._candidates = _Candidates(
                index=index,
                ids=self.ids[index],
                positions=positions,
                unit_vectors=unit_vectors(positions),
                workload=self.workload[index],
            )
        return self._candidates

    def candidates_speak(self, language: str) -> np.ndarray:
        mask = self._candidate_language_masks.get(language)
        if mask is None:
            mask = self.speaks(language)[self.candidates().index]
            self._candidate_language_masks[language] = mask
        return mask


def _eta_minutes(model, candidates: _Candidates, latitude: float, longitude: float) -> np.ndarray:
    """Minutes from each candidate to the point. The default model's fast path
    reuses the cached unit vectors and agrees with ``minutes_many`` to about
    1e-6 minutes."""
    if type(model) is StraightLineTravelModel:
        return model.minutes_from_unit_vectors(candidates.unit_vectors, latitude, longitude)
    return model.minutes_many(candidates.positions, np.array([latitude, longitude]))


def recommend(
    snapshot: TeamSnapshot,
    latitude: float,
    longitude: float,
    language: str,
    *,
    limit: int = 3,
    travel_model=None,
    language_penalty: float = LANGUAGE_MISMATCH_PENALTY_MINUTES,
    workload_penalty: float = WORKLOAD_PENALTY_MINUTES,
) -> list[Recommendation]:
    """Return up to ``limit`` available teams, best first, with reasons.

    Equal scores are ordered by team id.
    """
    candidates = snapshot.candidates()
    count = candidates.index.size
    if count == 0:
        return []
    model = travel_model or _default_model()
    eta = _eta_minutes(model, candidates, latitude, longitude)
    speaks = snapshot.candidates_speak(language)
    score = eta + candidates.workload * workload_penalty
    score[~speaks] += language_penalty

    k = min(limit, count)
    if k < count:
        top = np.argpartition(score, k - 1)[:k]
        # Teams tied with the k-th score may have been left out arbitrarily;
        # take every tied team in, so the id order below decides.
        within = score <= score[top].max()
        if np.count_nonzero(within) > k:
            top = np.flatnonzero(within)
    else:
        top = np.arange(count)
    top = top[np.lexsort((candidates.ids[top], score[top]))][:k]

    results = []
    for position in top.tolist():
        index = int(candidates.index[position])
        team_eta = float(eta[position])
        team_speaks = bool(speaks[position])
        team_workload = int(candidates.workload[position])
        results.append(
            Recommendation(
                team_id=int(snapshot.ids[index]),
                team_name=snapshot.names[index],
                eta_minutes=round(team_eta, 1),
                score=round(float(score[position]), 2),
                language_match=team_speaks,
                workload=team_workload,
                reasons=_reasons(team_eta, team_speaks, language, team_workload),
            )
        )
    return results


def _reasons(eta: float, speaks: bool, language: str, workload: int) -> tuple[str, ...]:
    """Return the reasons shown beside a team, in the active language."""
    minutes = f"{eta:.0f}"
    reasons = [gettext("Estimated arrival %(minutes)s min (straight-line estimate)") % {"minutes": minutes}]
    if speaks:
        reasons.append(gettext("A member speaks the person's language (%(language)s)") % {"language": language})
    else:
        reasons.append(
            gettext("No member speaks %(language)s: an interpreter is needed") % {"language": language}
        )
    reasons.append(gettext("Counselor and peer on board"))
    if workload:
        reasons.append(
            ngettext(
                "%(count)d response already this shift",
                "%(count)d responses already this shift",
                workload,
            )
            % {"count": workload}
        )
    return tuple(reasons)


_model = None


def _default_model():
    """Return the travel-time model built from ``settings.TRAVEL_MODEL``."""
    global _model
    if _model is None:
        from django.conf import settings

        _model = StraightLineTravelModel.from_config(getattr(settings, "TRAVEL_MODEL", {}))
    return _model


def penalties_from_settings() -> dict[str, float]:
    """Return the ``recommend`` penalty arguments set in ``settings.RECOMMENDATION_PENALTIES``."""
    from django.conf import settings

    configured = dict(getattr(settings, "RECOMMENDATION_PENALTIES", {}))
    unknown = sorted(set(configured) - {"language_penalty", "workload_penalty"})
    if unknown:
        raise ValueError(
            f"Unknown RECOMMENDATION_PENALTIES key(s) {unknown}; use language_penalty "
            "and workload_penalty (minutes)."
        )
    for name, value in configured.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"RECOMMENDATION_PENALTIES[{name!r}] must be minutes >= 0, got {value!r}.")
    return {name: float(value) for name, value in configured.items()}


def _reset_on_setting_change(setting, **kwargs):
    global _model
    if setting == "TRAVEL_MODEL":
        _model = None


setting_changed.connect(_reset_on_setting_change)
