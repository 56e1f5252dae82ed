"""Where an enrolment stands at a glance: what needs attention, and its next session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from diversion.domain.booking import BookingFacts, EnrolmentFacts
from diversion.domain.programme import ProgrammeRules
from diversion.domain.registers import overdue_bookings
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    Concern,
    EnrolmentStatus,
    FlagKind,
)

# An open flag of each kind shows as this concern.
FLAG_CONCERNS = {
    FlagKind.AT_RISK: Concern.AT_RISK,
    FlagKind.NON_COMPLETION: Concern.DEADLINE_PASSED,
    FlagKind.FOLLOW_UP_MISSED: Concern.FOLLOW_UP_MISSED,
}


@dataclass(frozen=True)
class Standing:
    """What a list shows about one enrolment beside its status."""

    concerns: tuple[Concern, ...]
    next_session: BookingFacts | None


def standing(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    open_flags: Iterable[str],
    now: datetime,
) -> Standing:
    """Work out an enrolment's concerns (in Concern's order) and its next booked session.

    A core deadline that has passed shows at once, before the morning sweep raises its
    flag; every other concern but an overdue register is an open flag, shown until a case
    officer's decision closes it. The next session is one still to come: a booking whose
    session has happened is never "next".
    """
    upcoming = sorted(
        (b for b in enrolment.bookings if b.status == BookingStatus.BOOKED and b.starts_at > now),
        key=lambda b: (b.starts_at, b.id),
    )
    next_session = upcoming[0] if upcoming else None
    if enrolment.status not in OPEN_ENROLMENT:
        return Standing((), next_session)
    found = {FLAG_CONCERNS[FlagKind(kind)] for kind in open_flags if kind in FLAG_CONCERNS}
    today = rules.local_date(now)
    if enrolment.status == EnrolmentStatus.ENROLLED and today > enrolment.core_deadline:
        found.add(Concern.DEADLINE_PASSED)
    if overdue_bookings(rules, enrolment, now):
        found.add(Concern.REGISTER_OVERDUE)
    return Standing(tuple(c for c in Concern if c in found), next_session)
