"""May this enrolment take this session? Either nothing happens or a RuleViolation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules, module_name
from diversion.domain.vocabulary import (
    HOLDS_MODULE,
    OPEN_ENROLMENT,
    BookingStatus,
    SessionStatus,
)


@dataclass(frozen=True)
class SessionFacts:
    id: int
    module: int
    starts_at: datetime
    status: str = SessionStatus.SCHEDULED
    capacity: int = 10
    booked: int = 0


@dataclass(frozen=True)
class BookingFacts:
    id: int
    session_id: int
    module: int
    starts_at: datetime
    status: str


@dataclass(frozen=True)
class EnrolmentFacts:
    status: str
    start_date: date
    core_deadline: date
    follow_up_window: tuple[date, date] | None
    bookings: tuple[BookingFacts, ...] = ()

    # Worked out once per enrolment: a page judges one enrolment against every
    # session that could fit, nationally well over a thousand.
    @cached_property
    def attended(self) -> frozenset[int]:
        return frozenset(b.module for b in self.bookings if b.status == BookingStatus.ATTENDED)

    @cached_property
    def active_core(self) -> tuple[BookingFacts, ...]:
        return tuple(b for b in self.bookings
                     if b.status in HOLDS_MODULE and b.module != FOLLOW_UP)


def attended_modules(enrolment: EnrolmentFacts) -> frozenset[int]:
    """Return the modules (FOLLOW_UP included) the enrolment has attended."""
    return enrolment.attended


def booked_modules(enrolment: EnrolmentFacts) -> set[int]:
    """Return the modules the enrolment holds a not-yet-attended booking for."""
    return {b.module for b in enrolment.bookings if b.status == BookingStatus.BOOKED}


def core_complete(rules: ProgrammeRules, enrolment: EnrolmentFacts) -> bool:
    """Tell whether every core module has been attended."""
    return set(rules.core_module_numbers) <= attended_modules(enrolment)


def register_missing(booking: BookingFacts, now: datetime) -> bool:
    """Tell whether a booking's session has started and its outcome is still not recorded."""
    return booking.status == BookingStatus.BOOKED and booking.starts_at <= now


def register_overdue(rules: ProgrammeRules, booking: BookingFacts) -> RuleViolation:
    """Say that this booking's register must be taken before anything can depend on it."""
    return RuleViolation(
        "register_overdue",
        f"Record the register for {module_name(booking.module)} on "
        f"{format_date(rules.local_date(booking.starts_at))} first: until then nobody "
        "knows whether it was attended.",
    )


def check_booking(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    session: SessionFacts,
    now: datetime,
) -> None:
    """Refuse, with the first rule that says no, booking this session for this enrolment.

    When the booking in the way is one whose session has happened with no outcome
    recorded, the refusal says so (``register_overdue``): the register decides whether
    that module still holds its place, so it, not the order or spacing, is what to fix.
    """
    try:
        _check_enrolment_and_session(enrolment, session, now)
        if session.module == FOLLOW_UP:
            _check_follow_up(rules, enrolment, session)
        else:
            _check_core(rules, enrolment, session)
    except _Blocked as blocked:
        if register_missing(blocked.booking, now):
            raise register_overdue(rules, blocked.booking) from None
        raise blocked.violation from None


class _Blocked(Exception):
    """A refusal caused by one of the enrolment's own bookings, which it names."""

    def __init__(self, booking: BookingFacts, violation: RuleViolation) -> None:
        super().__init__(violation.message)
        self.booking = booking
        self.violation = violation


def check_open(enrolment: EnrolmentFacts) -> None:
    """Refuse any booking or plan for an enrolment that is no longer open."""
    if enrolment.status not in OPEN_ENROLMENT:
        raise RuleViolation(
            "enrolment_closed",
            f"This enrolment is {enrolment.status.replace('_', ' ')}; "
            "no more sessions can be booked for it.",
        )


def _check_enrolment_and_session(
    enrolment: EnrolmentFacts, session: SessionFacts, now: datetime
) -> None:
    name = module_name(session.module)
    check_open(enrolment)
    if session.status == SessionStatus.CANCELLED:
        raise RuleViolation("session_cancelled", "This session has been cancelled.")
    if session.starts_at <= now:
        raise RuleViolation("session_in_past", "This session has already started.")
    if session.module in attended_modules(enrolment):
        raise RuleViolation(
            "module_already_attended",
            f"The participant has already attended {name}.",
        )
    for held in enrolment.bookings:
        if held.module == session.module and held.status == BookingStatus.BOOKED:
            raise _Blocked(held, RuleViolation(
                "already_booked",
                f"The participant is already booked for {name}; cancel that booking first.",
            ))
    if session.booked >= session.capacity:
        raise RuleViolation("session_full", f"This session is full ({session.capacity} places).")


def _check_follow_up(
    rules: ProgrammeRules, enrolment: EnrolmentFacts, session: SessionFacts
) -> None:
    window = enrolment.follow_up_window
    if window is None or not core_complete(rules, enrolment):
        raise RuleViolation(
            "follow_up_not_due",
            f"The follow-up session is not due yet: all {rules.core_modules} core "
            "modules must be attended first.",
        )
    opens, closes = window
    on = rules.local_date(session.starts_at)
    if not opens <= on <= closes:
        raise RuleViolation(
            "outside_follow_up_window",
            f"This session on {format_date(on)} is outside the follow-up window "
            f"({format_date(opens)} to {format_date(closes)}).",
        )


def _check_core(rules: ProgrammeRules, enrolment: EnrolmentFacts, session: SessionFacts) -> None:
    on = rules.local_date(session.starts_at)
    if on > enrolment.core_deadline:
        raise RuleViolation(
            "after_deadline",
            f"This session on {format_date(on)} is after the core deadline "
            f"({format_date(enrolment.core_deadline)}).",
        )
    active_core = enrolment.active_core
    if rules.modules_in_order:
        _check_order(rules, active_core, session)
    _check_spacing(rules, active_core, session, on)


def _check_order(
    rules: ProgrammeRules, active_core: Sequence[BookingFacts], session: SessionFacts
) -> None:
    k = session.module
    for m in range(1, k):
        if not any(b.module == m and b.starts_at < session.starts_at for b in active_core):
            raise RuleViolation(
                "module_order",
                f"Modules are taken in order: module {m} must be attended or booked "
                f"before module {k}.",
            )
    for b in active_core:
        if b.module > k and b.starts_at <= session.starts_at:
            raise _Blocked(b, RuleViolation(
                "module_order",
                f"Modules are taken in order: module {k} must come before module "
                f"{b.module}, which is on {format_date(rules.local_date(b.starts_at))}.",
            ))


def _check_spacing(
    rules: ProgrammeRules, active_core: Sequence[BookingFacts], session: SessionFacts, on: date
) -> None:
    minimum = rules.min_days_between_sessions
    for b in active_core:
        other = rules.local_date(b.starts_at)
        gap = abs((other - on).days)
        if gap < minimum:
            raise _Blocked(b, RuleViolation(
                "spacing",
                f"Module {session.module} on {format_date(on)} would be {gap} day"
                f"{'' if gap == 1 else 's'} from module {b.module} on {format_date(other)}; "
                f"core sessions must be at least {minimum} days apart.",
            ))
