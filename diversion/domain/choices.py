"""What a participant could be booked into: every session that passes every rule.

The sessions offered are exactly those ``check_booking`` allows, so a choice on a page is
never refused for a rule (only, rarely, for a place someone took meanwhile). When none
fits, the refusals are summed up in words: the rule that refused most, with an example.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from diversion.domain.booking import EnrolmentFacts, SessionFacts, check_booking
from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules, module_name

# How a count of refused sessions reads for each rule: "19 are out of module order".
REFUSED_AS = {
    "session_full": "full",
    "spacing": "too close to another of their sessions",
    "module_order": "out of module order",
    "register_overdue": "waiting for a register to be taken",
    "after_deadline": "after the core deadline",
    "outside_follow_up_window": "outside the follow-up window",
    "follow_up_not_due": "not due yet",
    "already_booked": "for a module already booked",
    "module_already_attended": "for a module already attended",
}


@dataclass(frozen=True)
class ModuleChoice:
    """The sessions of one module that fit, earliest first, or why none does."""

    module: int
    fits: tuple[SessionFacts, ...]
    why_none: str | None = None
    # The rule the reason leads with; "none_published" when there was nothing to judge.
    code: str | None = None


def last_day(enrolment: EnrolmentFacts, module: int) -> date | None:
    """The last local day a session of this module could be booked on, if one is known."""
    if module == FOLLOW_UP:
        window = enrolment.follow_up_window
        return window[1] if window is not None else None
    return enrolment.core_deadline


def choices(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    modules: Sequence[int],
    sessions: Sequence[SessionFacts],
    now: datetime,
) -> list[ModuleChoice]:
    """For each module, the published sessions this enrolment may book, or why none.

    ``sessions`` are the published sessions up to the module's last day, full ones
    included, as they stand; each is judged by the booking rules on its own.
    """
    found = []
    for module in modules:
        fits: list[SessionFacts] = []
        refusals: list[RuleViolation] = []
        for session in sorted((s for s in sessions if s.module == module),
                              key=lambda s: (s.starts_at, s.id)):
            try:
                check_booking(rules, enrolment, session, now)
            except RuleViolation as refusal:
                refusals.append(refusal)
            else:
                fits.append(session)
        if fits:
            found.append(ModuleChoice(module, tuple(fits)))
        else:
            code, why = why_none(rules, enrolment, module, refusals)
            found.append(ModuleChoice(module, (), why, code))
    return found


def why_none(
    rules: ProgrammeRules, enrolment: EnrolmentFacts, module: int, refusals: list[RuleViolation]
) -> tuple[str, str]:
    """Say in words why no session of a module can be booked, from each one's refusal.

    Returns the code of the rule the words lead with, and the words.
    """
    last = last_day(enrolment, module)
    sessions = "follow-up sessions" if module == FOLLOW_UP else f"{module_name(module)} sessions"
    if not refusals:
        if module == FOLLOW_UP:
            if enrolment.follow_up_window is None:
                return "follow_up_not_due", (
                    f"The follow-up session is not due yet: all {rules.core_modules} core "
                    "modules must be attended first.")
            opens, closes = enrolment.follow_up_window
            return "none_published", (
                f"No follow-up session is published in the follow-up window "
                f"({format_date(opens)} to {format_date(closes)}).")
        return "none_published", (
            f"No {sessions[:-1]} is published before the core deadline "
            f"({format_date(enrolment.core_deadline)}).")
    counts = Counter(r.code for r in refusals)
    # A register to take comes first: it is what to do before anything else can fit.
    lead = next((r for r in refusals if r.code == "register_overdue"), None)
    if lead is None:
        top = max(counts.values())
        lead = next(r for r in refusals if counts[r.code] == top)
    by_rule = [f"{count} {'is' if count == 1 else 'are'} {REFUSED_AS.get(code, code)}"
               for code, count in counts.most_common()]
    up_to = f" up to {format_date(last)}" if last is not None else ""
    if len(refusals) == 1:
        return lead.code, (
            f"The only {sessions[:-1]} published{up_to} cannot be booked. {lead.message}")
    return lead.code, (f"None of the {len(refusals)} {sessions} published{up_to} can be "
                       f"booked ({_and(by_rule)}). {lead.message}")


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
