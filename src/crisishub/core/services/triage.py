"""Screening and triage: the C-SSRS, the Lifeline domains and the matrix."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from crisishub.core.errors import Conflict, InvalidInput
from crisishub.core.models import Contact, Path, RiskMatrix, Screening, TriageDecision
from crisishub.rules import cssrs, lifeline, matrix as matrix_rules

logger = logging.getLogger(__name__)


def build_screening(
    contact: Contact,
    *,
    cssrs_answers: dict[str, Any],
    version: str = cssrs.INSTRUMENT_VERSION,
    lifeline_factors: dict[str, list[str]] | None = None,
    danger_to_others: bool = False,
    created_by=None,
    at: dt.datetime | None = None,
) -> Screening:
    """Validate the answers under the skip logic and return the screening,
    with its derived risk, not yet saved.

    Saving it must also mark the contact at imminent risk when the
    screening is (see :func:`do_record_screening`).
    """
    now = at or timezone.now()
    try:
        result = cssrs.screen(cssrs_answers, version)
    except cssrs.ScreeningError as error:
        raise InvalidInput.for_field(
            f"cssrs.{error.field}", str(error), "Answer the items the skip logic asks, yes or no."
        ) from None
    lifeline_data = dict(lifeline_factors or {})
    lifeline_data["danger_to_others"] = bool(
        danger_to_others or lifeline_data.get("danger_to_others", False)
    )
    try:
        assessment = lifeline.validate(lifeline_data)
    except lifeline.LifelineError as error:
        raise InvalidInput.for_field(f"lifeline.{error.field}", str(error), "Use a listed factor code.") from None
    return Screening(
        contact=contact,
        instrument_version=str(result.version),
        cssrs_answers={str(item): value for item, value in result.answers.items()},
        risk_level=str(result.risk),
        lifeline_domains=_assessment_data(assessment),
        danger_to_others=assessment.danger_to_others,
        imminent_risk=assessment.imminent_risk,
        created_by=created_by,
        created_at=now,
    )


def do_record_screening(contact: Contact, **fields: Any) -> Screening:
    """Validate the answers under the skip logic, derive the risk and save.

    Takes the keyword arguments of :func:`build_screening`.
    """
    screening = build_screening(contact, **fields)
    with transaction.atomic():
        screening.save(force_insert=True)
        if screening.imminent_risk and not contact.imminent_risk:
            contact.imminent_risk = True
            contact.updated_at = screening.created_at
            contact.save(update_fields=["imminent_risk", "updated_at"])
    return screening


def _assessment_data(assessment: lifeline.LifelineAssessment) -> dict[str, Any]:
    """Store the assessment in the same shape ``lifeline.validate`` reads."""
    return {
        "desire": sorted(str(f) for f in assessment.desire),
        "capability": sorted(str(f) for f in assessment.capability),
        "intent": sorted(str(f) for f in assessment.intent),
        "buffers": sorted(str(f) for f in assessment.buffers),
        "danger_to_others": assessment.danger_to_others,
        "danger_factors": sorted(str(f) for f in assessment.danger_factors),
    }


def get_active_matrix() -> RiskMatrix:
    matrix = RiskMatrix.objects.filter(is_active=True).first()
    if matrix is None:
        raise Conflict("No Crisis Risk Level Matrix is active; an administrator must activate one.")
    return matrix


def do_install_matrix(document: dict[str, Any], *, activate: bool = True, at: dt.datetime | None = None) -> RiskMatrix:
    """Validate a matrix document and store it as a new version."""
    try:
        parsed = matrix_rules.Matrix.from_dict(document)
    except matrix_rules.MatrixError as error:
        raise InvalidInput.for_field(
            f"matrix{getattr(error, 'path', '')}", str(error), "Correct the matrix document."
        ) from None
    if RiskMatrix.objects.filter(version=parsed.version).exists():
        raise Conflict(
            f"Matrix version {parsed.version!r} already exists; give the edited matrix a new version."
        )
    now = at or timezone.now()
    with transaction.atomic():
        if activate:
            # One save per row, not QuerySet.update(), so the audit trail
            # records the deactivation.
            for previous in RiskMatrix.objects.select_for_update().filter(is_active=True):
                previous.is_active = False
                previous.save(update_fields=["is_active"])
        row = RiskMatrix.objects.create(
            version=parsed.version, label=parsed.label, document=document,
            is_active=activate, created_at=now,
        )
    logger.info("Installed risk matrix %s (active=%s)", row.version, activate)
    return row


_parsed_cache: dict[tuple[int, str], matrix_rules.Matrix] = {}


def parsed_matrix(row: RiskMatrix) -> matrix_rules.Matrix:
    key = (row.pk, row.version)
    if key not in _parsed_cache:
        _parsed_cache[key] = matrix_rules.Matrix.from_dict(row.document)
    return _parsed_cache[key]


def build_facts(screening: Screening, **flags: Any) -> matrix_rules.TriageFacts:
    """Rebuild the rules' view of a stored screening, plus call flags such
    as ``attempt_in_progress``, ``medical_emergency`` or ``weapon_present``."""
    result = cssrs.screen(screening.cssrs_answers, screening.instrument_version)
    assessment = lifeline.validate(screening.lifeline_domains or {})
    try:
        return matrix_rules.TriageFacts.build(result, assessment, **flags)
    except TypeError as error:
        raise InvalidInput.for_field("flags", f"Unknown triage flag: {error}.", "Use the matrix's fact names.") from None


def build_triage_decision(
    contact: Contact,
    screening: Screening,
    matrix_row: RiskMatrix,
    *,
    final_path: str | None = None,
    final_priority: int | None = None,
    override_reason: str = "",
    decided_by=None,
    at: dt.datetime | None = None,
    **flags: Any,
) -> TriageDecision:
    """Apply ``matrix_row`` and return the decision, not yet saved; a
    counselor may override with a reason."""
    now = at or timezone.now()
    result = parsed_matrix(matrix_row).evaluate(build_facts(screening, **flags))
    recommended_path = str(result.path)
    final_path = final_path or recommended_path
    if final_path not in Path.values:
        raise InvalidInput.for_field(
            "final_path", f"Invalid path {final_path!r}.", f"Use one of: {', '.join(Path.values)}."
        )
    if final_priority is None and final_path == recommended_path:
        final_priority = result.priority
    if final_path == Path.MOBILE_RESPONSE and final_priority not in (1, 2, 3):
        raise InvalidInput.for_field(
            "final_priority", f"Invalid priority {final_priority!r} for a mobile response.",
            "Use 1 (most urgent), 2 or 3.",
        )
    if final_path != Path.MOBILE_RESPONSE:
        final_priority = None
    overridden = final_path != recommended_path or final_priority != result.priority
    if overridden and not override_reason.strip():
        raise InvalidInput.for_field(
            "override_reason", "Overriding the matrix's recommendation needs a reason.",
            "Say why the recommended path does not fit this person.",
        )
    return TriageDecision(
        contact=contact, screening=screening, matrix=matrix_row,
        matrix_version=matrix_row.version, crisis_level=str(result.level),
        rule_id=result.rule_id, reasons=list(result.reasons),
        recommended_path=recommended_path, recommended_priority=result.priority,
        final_path=final_path, final_priority=final_priority,
        override_reason=override_reason.strip() if overridden else "",
        decided_by=decided_by, decided_at=now,
    )


def do_decide_triage(contact: Contact, screening: Screening, **fields: Any) -> TriageDecision:
    """Apply the active matrix; a counselor may override with a reason.

    Takes the keyword arguments and flags of :func:`build_triage_decision`.
    """
    decision = build_triage_decision(contact, screening, get_active_matrix(), **fields)
    decision.save(force_insert=True)
    return decision
