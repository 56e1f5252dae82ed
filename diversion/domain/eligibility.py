"""Screening answers -> eligible, with every failed criterion kept as a reason code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from diversion.domain.intake import ADULT_AGE, age_on

IMAGE_CATEGORIES = ("A", "B", "C")

# Reason codes and the words a case officer reads for each.
REASONS: dict[str, str] = {
    "previous_sexual_or_violent_conviction": (
        "Has a previous conviction for a sexual or violent offence"
    ),
    "not_first_offence": "This is not a first offence",
    "image_category_above_c": "Images are above the lowest level of seriousness (Category C)",
    "contact_offending_suspected": (
        "Suspected of contact offending or of trying to contact children"
    ),
    "children_at_risk": "Children are at risk (safeguarding checks)",
    "prosecutor_not_agreed": "The prosecutor has not agreed to defer prosecution",
    "participant_not_consented": "The participant has not consented to the agreement",
    "under_18": "Was under 18 on the day of screening",
}


@dataclass(frozen=True)
class Screening:
    previous_sexual_or_violent_conviction: bool
    first_offence: bool
    image_category: str
    contact_offending_suspected: bool
    children_at_risk: bool
    prosecutor_agreed: bool
    participant_consented: bool


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reasons: tuple[str, ...]


def assess(
    screening: Screening, *, date_of_birth: date | None = None, screened_on: date | None = None
) -> EligibilityResult:
    """Decide eligibility; every criterion that fails adds its reason code.

    Given a date of birth and the day of screening, someone under 18 that day is not
    eligible: the scheme is for adults.
    """
    failed = []
    if screening.previous_sexual_or_violent_conviction:
        failed.append("previous_sexual_or_violent_conviction")
    if not screening.first_offence:
        failed.append("not_first_offence")
    if screening.image_category != "C":
        failed.append("image_category_above_c")
    if screening.contact_offending_suspected:
        failed.append("contact_offending_suspected")
    if screening.children_at_risk:
        failed.append("children_at_risk")
    if not screening.prosecutor_agreed:
        failed.append("prosecutor_not_agreed")
    if not screening.participant_consented:
        failed.append("participant_not_consented")
    if date_of_birth is not None and screened_on is not None:
        if age_on(date_of_birth, screened_on) < ADULT_AGE:
            failed.append("under_18")
    return EligibilityResult(eligible=not failed, reasons=tuple(failed))


def describe(reason: str) -> str:
    """Return the sentence a case officer reads for a reason code."""
    return REASONS.get(reason, reason)
