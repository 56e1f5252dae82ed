"""Who a freed place goes to, and who on a waitlist can no longer be given one.

Every judgement here is ``check_booking``'s: an entry is promoted when booking its
session passes every rule, and leaves the list when the rule that says no is one
that time and attendance only make firmer (a deadline passed, the module attended,
the enrolment closed). A refusal that can clear (the order of modules, spacing, a
booking of the module elsewhere) keeps the entry waiting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from diversion.domain.booking import EnrolmentFacts, SessionFacts, check_booking
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import ProgrammeRules
from diversion.domain.vocabulary import BookingStatus

# The refusals that time passing and modules attended only make firmer: no booking,
# cancellation or register taken elsewhere can clear them for this session.
FOR_GOOD = frozenset({
    "enrolment_closed",
    "module_already_attended",
    "after_deadline",
    "outside_follow_up_window",
    "session_in_past",
    "session_cancelled",
})


@dataclass(frozen=True)
class Waiting:
    """One entry on a session's waitlist, with its enrolment as the rules see it."""

    entry_id: int
    enrolment: EnrolmentFacts


@dataclass(frozen=True)
class Promotion:
    """The entry a free place goes to (if any), and the entries that must leave, with why."""

    promote: int | None
    leaving: tuple[tuple[int, RuleViolation], ...] = ()


def refusal_with_a_place(rules: ProgrammeRules, enrolment: EnrolmentFacts,
                         session: SessionFacts, now: datetime) -> RuleViolation | None:
    """Say which rule would refuse this booking if the session had a place free, if any."""
    with_a_place = dataclasses.replace(
        session, booked=min(session.booked, session.capacity - 1))
    try:
        check_booking(rules, enrolment, with_a_place, now)
    except RuleViolation as refusal:
        return refusal
    return None


def never_takeable(rules: ProgrammeRules, enrolment: EnrolmentFacts,
                   session: SessionFacts, now: datetime) -> RuleViolation | None:
    """Return the rule that rules this session out for this enrolment for good, if one does."""
    refusal = refusal_with_a_place(rules, enrolment, session, now)
    if refusal is not None and (refusal.code in FOR_GOOD or _holds_a_place(enrolment, session)):
        return refusal
    return None


def _holds_a_place(enrolment: EnrolmentFacts, session: SessionFacts) -> bool:
    # Booked into this very session: there is nothing to wait for.
    return any(b.session_id == session.id and b.status == BookingStatus.BOOKED
               for b in enrolment.bookings)


def has_a_place(session: SessionFacts) -> bool:
    return session.booked < session.capacity


def choose(rules: ProgrammeRules, waiting: Sequence[Waiting], session: SessionFacts,
           now: datetime) -> Promotion:
    """Pick, in list order, the first entry whose booking passes every rule now.

    Every entry the rules rule out for good leaves, wherever it stands; one that
    would pass but finds no place free stays where it is.
    """
    promote = None
    leaving = []
    for entry in waiting:
        refusal = refusal_with_a_place(rules, entry.enrolment, session, now)
        if refusal is None:
            if promote is None and has_a_place(session):
                promote = entry.entry_id
        elif refusal.code in FOR_GOOD:
            leaving.append((entry.entry_id, refusal))
    return Promotion(promote=promote, leaving=tuple(leaving))
