"""What an administrator may set on a programme: each setting's limits, and what a change
affects.

A programme's settings change over time. An enrolment keeps the terms it was enrolled
under (``EnrolmentTerms``: its core deadline and follow-up dates never move); spacing,
order, reminder hours and self-service limits apply to bookings made after the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from diversion.domain.errors import RuleViolation, RuleViolations
from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.privacy import disclosing_words
from diversion.domain.programme import ProgrammeRules, check_timezone
from diversion.domain.retention import AUDIT_FLOOR_MONTHS, RetentionSchedule
from diversion.domain.self_service import SelfServiceLimits

# Whole numbers, each within its (inclusive) range.
COUNT_LIMITS: dict[str, tuple[int, int]] = {
    "core_modules": (1, 12),
    "session_minutes": (15, 480),
    "core_months": (1, 24),
    "follow_up_months": (1, 24),
    "follow_up_window_days": (0, 60),
    "min_days_between_sessions": (0, 60),
    "reminder_hours": (1, 168),
    "self_service_cutoff_hours": (0, 336),
    "self_service_moves": (0, 10),
    "retention_ineligible_months": (1, 120),
    "retention_closed_months": (1, 240),
    "retention_message_months": (1, 120),
    # Never below the floor the database holds (domain/retention.py, AUDIT_FLOOR_MONTHS).
    "retention_audit_months": (AUDIT_FLOOR_MONTHS, 240),
}

# Text, at most this many characters, never blank.
TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "invite_title": 200,
    "invite_title_cy": 200,
    "contact_phone": 40,
    "organizer_email": 254,
}

# Text that reaches participants, or paper handed to them: it must not reveal the
# programme (docs/domain.md, "Privacy").
NEUTRAL_TEXTS = ("name", "invite_title", "invite_title_cy", "organizer_email")

LABELS: dict[str, str] = {
    "name": "Name",
    "core_modules": "Core modules",
    "session_minutes": "Session length (minutes)",
    "core_months": "Months to finish the core modules",
    "follow_up_months": "Months from the last core module to the follow-up",
    "follow_up_window_days": "Follow-up window (days either side)",
    "min_days_between_sessions": "Days between sessions (at least)",
    "reminder_hours": "Reminder (hours before a session)",
    "timezone": "Time zone",
    "holiday_region": "Public holidays of",
    "modules_in_order": "Modules taken in order",
    "invite_title": "Calendar title",
    "invite_title_cy": "Calendar title in Welsh",
    "self_service_cutoff_hours": "Self-service moves close (hours before a session)",
    "self_service_moves": "Self-service moves per enrolment",
    "contact_phone": "Contact phone number",
    "organizer_email": "Calendar organiser email",
    "retention_ineligible_months": "Months to keep ineligible screenings",
    "retention_closed_months": "Months to keep closed enrolments",
    "retention_message_months": "Months to keep message contents",
    "retention_audit_months": "Months to keep the audit trail",
}

# What a change to each setting affects: shown to the administrator before they confirm.
EFFECTS: dict[str, str] = {
    "name": "How staff see the programme on pages and in exports.",
    "core_modules": "Every enrolment on the programme. It cannot change while any enrolment "
                    "is in progress.",
    "session_minutes": "Sessions published or moved from now on. Sessions already published "
                       "keep their times.",
    "core_months": "The core deadline of new enrolments. Existing enrolments keep the "
                   "deadline they were enrolled under.",
    "follow_up_months": "The follow-up due date of new enrolments. Existing enrolments keep "
                        "the terms they were enrolled under.",
    "follow_up_window_days": "The follow-up window of new enrolments. Existing enrolments "
                             "keep the terms they were enrolled under.",
    "min_days_between_sessions": "Bookings made from now on, for every enrolment. Bookings "
                                 "already made stay as they are.",
    "reminder_hours": "Reminders for bookings made, or sessions moved, from now on. "
                      "Reminders already scheduled keep their time.",
    "timezone": "Nothing else: every programme runs in Europe/London.",
    "holiday_region": "Sessions published or moved from now on. Sessions already published "
                      "stay where they are.",
    "modules_in_order": "Bookings made from now on, for every enrolment. Bookings already "
                        "made stay as they are.",
    "invite_title": "Invitations, updates, cancellations and reminders sent from now on, "
                    "and the calendar feed.",
    "invite_title_cy": "Welsh invitations, updates, cancellations and reminders sent from "
                       "now on, and the Welsh calendar feed.",
    "self_service_cutoff_hours": "Participants' own moves from now on.",
    "self_service_moves": "Participants' own moves from now on, counting the moves already "
                          "made.",
    "contact_phone": "Messages sent from now on, and the calendar feed.",
    "organizer_email": "Invitations, updates and cancellations sent from now on.",
    "retention_ineligible_months": "The next retention run: screenings found ineligible "
                                   "this long ago lose their personal data.",
    "retention_closed_months": "The next retention run: enrolments closed this long ago "
                               "lose their personal data.",
    "retention_message_months": "The next retention run: messages sent or failed this long "
                                "ago lose their recipient and contents.",
    "retention_audit_months": "The next retention run: audit entries older than the longest "
                              "period set on any programme are deleted.",
}

_PHONE = re.compile(r"[0-9 +()\-]+")
# The plain address the calendar writes as ORGANIZER: no display name, nothing a
# content line or a parameter could be split on.
_EMAIL = re.compile(r"[^\s@:;,<>()\[\]\"\\]+@[^\s@:;,<>()\[\]\"\\]+\.[^\s@:;,<>()\[\]\"\\]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


@dataclass(frozen=True)
class ProgrammeSettings:
    """Everything an administrator sets on a programme; the defaults are docs/domain.md's."""

    name: str
    # The rules' defaults are ProgrammeRules' own, so they are written once.
    core_modules: int = ProgrammeRules.core_modules
    session_minutes: int = ProgrammeRules.session_minutes
    core_months: int = ProgrammeRules.core_months
    follow_up_months: int = ProgrammeRules.follow_up_months
    follow_up_window_days: int = ProgrammeRules.follow_up_window_days
    min_days_between_sessions: int = ProgrammeRules.min_days_between_sessions
    reminder_hours: int = ProgrammeRules.reminder_hours
    timezone: str = ProgrammeRules.timezone
    holiday_region: str = ProgrammeRules.holiday_region
    modules_in_order: bool = ProgrammeRules.modules_in_order
    invite_title: str = "Appointment"
    invite_title_cy: str = "Apwyntiad"
    self_service_cutoff_hours: int = SelfServiceLimits.cutoff_hours
    self_service_moves: int = SelfServiceLimits.moves
    contact_phone: str = "0300 123 4567"
    organizer_email: str = "appointments@appointments.invalid"
    retention_ineligible_months: int = 12
    retention_closed_months: int = 72
    retention_message_months: int = 12
    retention_audit_months: int = 84

    @property
    def retention(self) -> RetentionSchedule:
        """How long each kind of record on this programme keeps its personal data."""
        return RetentionSchedule(**{f.name: getattr(self, f.name)
                                    for f in fields(RetentionSchedule)})

    @property
    def self_service(self) -> SelfServiceLimits:
        """How late and how often a participant may move their own appointment."""
        return SelfServiceLimits(cutoff_hours=self.self_service_cutoff_hours,
                                 moves=self.self_service_moves)

    @property
    def rules(self) -> ProgrammeRules:
        """The booking and deadline rules these settings make."""
        return ProgrammeRules(**{f.name: getattr(self, f.name)
                                 for f in fields(ProgrammeRules)})


SETTING_NAMES = tuple(f.name for f in fields(ProgrammeSettings))


def normalised(values: dict[str, Any]) -> dict[str, Any]:
    """Trim text and write a holiday region in capitals, as the settings are kept."""
    clean = {}
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
            if name == "holiday_region":
                value = value.upper()
        clean[name] = value
    return clean


def changes(before: ProgrammeSettings, after: ProgrammeSettings) -> dict[str, tuple[Any, Any]]:
    """Return each setting that differs, as (before, after), in the settings' order."""
    return {name: (getattr(before, name), getattr(after, name)) for name in SETTING_NAMES
            if getattr(before, name) != getattr(after, name)}


def check_settings(settings: ProgrammeSettings) -> None:
    """Refuse settings that break a rule, naming every field that does."""
    problems = settings_problems(settings)
    if problems:
        raise RuleViolations(problems)


def check_change(before: ProgrammeSettings, after: ProgrammeSettings, *,
                 enrolments_in_progress: int) -> None:
    """Refuse a change to a programme that breaks a rule, naming every field that does."""
    problems = settings_problems(after)
    if before.core_modules != after.core_modules and enrolments_in_progress:
        # An enrolment part-way through would suddenly be complete, or owe modules it
        # was never told about; a new programme is the way to change the course.
        problems.append(RuleViolation(
            "programme_in_use",
            f"The number of core modules cannot change while {enrolments_in_progress} "
            f"{'enrolment is' if enrolments_in_progress == 1 else 'enrolments are'} in "
            "progress on this programme; add a new programme instead",
            "core_modules",
        ))
    if problems:
        raise RuleViolations(problems)


def settings_problems(settings: ProgrammeSettings) -> list[RuleViolation]:
    """List every setting that breaks a rule, each as a violation naming its field."""
    problems = []
    for name, (low, high) in COUNT_LIMITS.items():
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(RuleViolation(
                "out_of_range", f"{LABELS[name]} must be a whole number from {low} to {high}",
                name))
    for name, longest in TEXT_LIMITS.items():
        problem = _text_problem(name, getattr(settings, name), longest)
        if problem:
            problems.append(problem)
    if not isinstance(settings.modules_in_order, bool):
        problems.append(RuleViolation("invalid", "Say whether modules are taken in order",
                                      "modules_in_order"))
    if settings.holiday_region not in UK_HOLIDAY_REGIONS:
        known = ", ".join(f"{code} ({place})" for code, place in UK_HOLIDAY_REGIONS.items())
        problems.append(RuleViolation(
            "unknown_holiday_region",
            f"The holiday region must be one of the UK's: {known}", "holiday_region"))
    try:
        check_timezone(settings.timezone)
    except ValueError as refusal:
        problems.append(RuleViolation("unsupported_timezone", _sentence(str(refusal)),
                                      "timezone"))
    return problems


def _text_problem(name: str, value: object, longest: int) -> RuleViolation | None:
    label = LABELS[name]
    if not isinstance(value, str) or not value.strip():
        return RuleViolation("invalid_text", f"Enter the {label[0].lower()}{label[1:]}", name)
    if len(value) > longest:
        return RuleViolation("invalid_text", f"{label} must be {longest} characters or fewer",
                             name)
    if _CONTROL.search(value):
        return RuleViolation("invalid_text", f"{label} must be on one line", name)
    if name == "contact_phone" and not _PHONE.fullmatch(value):
        return RuleViolation("invalid_text", "Enter a phone number, like 0300 123 4567", name)
    if name == "organizer_email" and not _EMAIL.fullmatch(value):
        return RuleViolation(
            "invalid_text", "Enter an email address, like appointments@example.gov.uk", name)
    if name in NEUTRAL_TEXTS:
        found = disclosing_words(value)
        if found:
            return RuleViolation(
                "reveals_programme",
                f"{label} must not contain words that reveal what the programme is: "
                f"{', '.join(found)}",
                name,
            )
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
