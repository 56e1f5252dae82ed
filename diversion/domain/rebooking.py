"""What a change to a session does to the people booked into it, and how they are re-planned.

A change (a move, a cancellation, a missed module) may leave someone with a booking
that breaks a rule, or with a module to book again. Re-planning tries the least
disruptive plan first: book only what is missing around the bookings they keep. If
none exists, their later future bookings are released and every remaining module is
planned again together, earliest first. Either a whole plan exists or none is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from diversion.domain.booking import (
    EnrolmentFacts,
    SessionFacts,
    check_booking,
    check_open,
    register_missing,
    register_overdue,
)
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import no_plan, plan
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import OPEN_ENROLMENT, BookingStatus


def breach_if_moved(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    booking_id: int,
    moved: SessionFacts,
    now: datetime,
) -> RuleViolation | None:
    """Say which rule this booking would break if its session became ``moved``, if any."""
    if enrolment.status not in OPEN_ENROLMENT:
        return None
    others = tuple(b for b in enrolment.bookings if b.id != booking_id)
    # The participant already holds a place: the session's capacity is not theirs to fail.
    held = replace(moved, booked=0, capacity=max(moved.capacity, 1))
    try:
        check_booking(rules, replace(enrolment, bookings=others), held, now)
    except RuleViolation as breach:
        return breach
    return None


@dataclass(frozen=True)
class Replan:
    """A complete re-plan: the bookings to release, and the sessions to book in order."""

    release: tuple[int, ...]
    sessions: tuple[SessionFacts, ...]


def replan(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    modules: Sequence[int],
    sessions: Sequence[SessionFacts],
    now: datetime,
) -> Replan:
    """Book these modules again, or refuse with the reason in words.

    ``sessions`` are the published sessions with their places as they stand; places a
    released booking holds become free for the second attempt.
    """
    check_open(enrolment)
    check_registers(rules, enrolment, now)
    kept = plan(rules, enrolment, sessions, now, modules)
    if kept is not None:
        return Replan(release=(), sessions=tuple(kept))
    release = later_future_bookings(rules, enrolment, min_module=min(modules), now=now)
    if release:
        released = [b for b in enrolment.bookings if b.id in release]
        freed: dict[int, int] = {}
        for booking in released:
            freed[booking.session_id] = freed.get(booking.session_id, 0) + 1
        remaining = replace(
            enrolment, bookings=tuple(b for b in enrolment.bookings if b.id not in release))
        open_places = [
            replace(s, booked=s.booked - freed[s.id]) if s.id in freed else s for s in sessions
        ]
        wanted = sorted({*modules, *(b.module for b in released)})
        fresh = plan(rules, remaining, open_places, now, wanted)
        if fresh is not None:
            return Replan(release=release, sessions=tuple(fresh))
        modules = wanted
    raise no_plan(rules, enrolment, list(modules))


def later_future_bookings(
    rules: ProgrammeRules, enrolment: EnrolmentFacts, *, min_module: int, now: datetime
) -> tuple[int, ...]:
    """Return the core bookings still to happen that a re-plan may release.

    In order, the later modules; in any order, every core booking still to come.
    """
    return tuple(sorted(
        b.id
        for b in enrolment.bookings
        if b.status == BookingStatus.BOOKED and b.starts_at > now and b.module != FOLLOW_UP
        and (b.module > min_module or not rules.modules_in_order)
        and min_module != FOLLOW_UP
    ))


def check_registers(rules: ProgrammeRules, enrolment: EnrolmentFacts, now: datetime) -> None:
    """Refuse to plan around a session whose register was never taken: say which one."""
    overdue = sorted((b for b in enrolment.bookings if register_missing(b, now)),
                     key=lambda b: (b.starts_at, b.id))
    if overdue:
        raise register_overdue(rules, overdue[0])
