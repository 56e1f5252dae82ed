"""What the service itself did to a participant's chances, read from their history.

A referral summary puts this first, so nobody is referred for prosecution for the
service's own failure without the prosecutor seeing it: sessions the service
cancelled or moved, and weeks in which no session with a free place fitted the
participant's rules. Pure: the service reads the rows, these functions say what
they mean.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from diversion.domain.booking import BookingFacts, EnrolmentFacts, SessionFacts, check_booking
from diversion.domain.dates import format_weekday_date
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.domain.vocabulary import BookingStatus, EnrolmentStatus, MessageKind

# Who may have asked for a booking's cancellation: the participant's own request is
# theirs, not the service's doing.
PARTICIPANT = "participant"

# Why a week's sessions could not be taken: the booking rules' codes, and one more.
NO_SESSION = "no_session"
REFUSAL_WORDS = {
    "session_full": "full",
    "session_cancelled": "cancelled by the service",
    "spacing": "too close to another of their sessions",
    "module_order": "out of order with their other bookings",
    "after_deadline": "after the core deadline",
}


@dataclass(frozen=True)
class BookingRecord:
    """A booking with when it was made and cancelled: its history, not only its state."""

    id: int
    session_id: int
    module: int
    starts_at: datetime
    status: str
    booked_at: datetime
    cancelled_at: datetime | None = None
    session_cancelled: bool = False
    requested_by: str | None = None

    def as_at(self, moment: datetime) -> BookingFacts | None:
        """Return the booking as it stood at a moment, or None if it was not held then."""
        if self.booked_at > moment:
            return None
        if self.status == BookingStatus.CANCELLED and (
            self.cancelled_at is None or self.cancelled_at <= moment
        ):
            return None
        # An outcome is known only once the session has been held.
        happened = self.starts_at <= moment and self.status != BookingStatus.CANCELLED
        return BookingFacts(
            id=self.id,
            session_id=self.session_id,
            module=self.module,
            starts_at=self.starts_at,
            status=self.status if happened else BookingStatus.BOOKED,
        )


@dataclass(frozen=True)
class WeekWithoutPlace:
    """A week the participant needed a session and no session with a free place fitted."""

    week_start: date
    # Each module still needed, with the rule codes that refused its sessions that
    # week; no codes means no session of it was held.
    by_module: tuple[tuple[int, tuple[str, ...]], ...]

    @property
    def modules(self) -> tuple[int, ...]:
        return tuple(module for module, _ in self.by_module)

    @property
    def refusals(self) -> tuple[str, ...]:
        """Every reason a session that week was refused; NO_SESSION if a module had none."""
        codes = {code for _, found in self.by_module for code in found}
        if any(not found for _, found in self.by_module):
            codes.add(NO_SESSION)
        return tuple(sorted(codes))

    def why(self) -> str:
        """Say why nothing could be booked that week, module by module."""
        groups: dict[tuple[str, ...], list[int]] = {}
        for module, found in self.by_module:
            groups.setdefault(found, []).append(module)
        parts = []
        for found, modules in groups.items():
            if not found:
                parts.append(f"no session of {modules_in_words(modules)} was held")
            else:
                words = ", ".join(REFUSAL_WORDS.get(code, code.replace("_", " "))
                                  for code in found)
                parts.append(f"every session of {modules_in_words(modules)} was {words}")
        return "; ".join(parts)

    def in_words(self) -> str:
        """Say, as a sentence, why nothing could be booked that week."""
        why = self.why()
        return f"{why[:1].upper()}{why[1:]}."


def weeks_without_a_place(
    rules: ProgrammeRules,
    *,
    start_date: date,
    core_deadline: date,
    bookings: Sequence[BookingRecord],
    sessions: Sequence[SessionFacts],
    until: datetime,
) -> list[WeekWithoutPlace]:
    """List the programme's weeks, begun by ``until``, in which nothing could be booked.

    A week counts when, at its start, the participant still had core modules to attend,
    held no booking for a session still to come, and no session that week of a module
    they needed had a free place and passed every booking rule, judged against their
    bookings as they stood then. Places are as recorded now: a seat the participant
    themselves took is counted as free for them.
    """
    ordered = sorted((s for s in sessions if s.module != FOLLOW_UP),
                     key=lambda s: (s.starts_at, s.id))
    starts = [s.starts_at for s in ordered]
    own = {b.session_id for b in bookings if b.status != BookingStatus.CANCELLED}
    found = []
    for week in weeks_checked(rules, start_date=start_date, core_deadline=core_deadline,
                              until=until):
        moment, ends = week_bounds(rules, week, core_deadline)
        in_week = ordered[bisect_left(starts, moment):bisect_left(starts, ends)]
        gap = _week(rules, week, moment, start_date, core_deadline, bookings, in_week, own)
        if gap is not None:
            found.append(gap)
    return found


def weeks_checked(
    rules: ProgrammeRules, *, start_date: date, core_deadline: date, until: datetime
) -> list[date]:
    """Return the first days of the programme's weeks, to the deadline, begun by ``until``.

    Weeks are counted from the start date, so each is seven whole days of the
    programme (the last ends at the deadline): a calendar week cut short by the start
    date would count a single day without a session as a week without one.
    """
    weeks = []
    week = start_date
    while week <= core_deadline and _week_opens(rules, week) < until:
        weeks.append(week)
        week += timedelta(days=7)
    return weeks


def week_bounds(rules: ProgrammeRules, week: date, core_deadline: date
                ) -> tuple[datetime, datetime]:
    """Return when a programme week opens and when it ends (the last ends at the deadline).

    Only sessions starting after it opens and before it ends count for that week.
    """
    return (_week_opens(rules, week),
            min(rules.day_ends(week + timedelta(days=6)), rules.day_ends(core_deadline)))


def _week_opens(rules: ProgrammeRules, week: date) -> datetime:
    return datetime.combine(week, time(0), tzinfo=rules.tz)


def _week(
    rules: ProgrammeRules,
    week: date,
    moment: datetime,
    start_date: date,
    core_deadline: date,
    bookings: Sequence[BookingRecord],
    sessions: Sequence[SessionFacts],
    own: set[int],
) -> WeekWithoutPlace | None:
    held = tuple(f for b in bookings if (f := b.as_at(moment)) is not None)
    if any(f.status == BookingStatus.BOOKED and f.starts_at > moment for f in held):
        return None
    done = {f.module for f in held if f.status in (BookingStatus.ATTENDED, BookingStatus.BOOKED)}
    needed = tuple(m for m in rules.core_module_numbers if m not in done)
    if not needed:
        return None
    facts = EnrolmentFacts(status=EnrolmentStatus.ENROLLED, start_date=start_date,
                           core_deadline=core_deadline, follow_up_window=None, bookings=held)
    refusals: dict[int, set[str]] = {module: set() for module in needed}
    for session in sessions:
        if session.module not in refusals or session.starts_at <= moment:
            continue
        mine = 1 if session.id in own else 0
        places = dataclasses.replace(session, booked=session.booked - mine)
        try:
            check_booking(rules, facts, places, moment)
        except RuleViolation as refusal:
            refusals[session.module].add(refusal.code)
            continue
        return None
    return WeekWithoutPlace(week, tuple((module, tuple(sorted(codes)))
                                        for module, codes in refusals.items()))


def cancelled_by_the_service(
    bookings: Sequence[BookingRecord], closed_at: datetime | None
) -> list[BookingRecord]:
    """Return the cancelled bookings the participant did not ask for.

    A decision that closed the enrolment (a referral, a withdrawal) cancels what was
    still to come: those are its consequence, not a failure of the service.
    """
    return [
        b for b in bookings
        if b.status == BookingStatus.CANCELLED
        and b.requested_by != PARTICIPANT
        and not (closed_at is not None and b.cancelled_at is not None
                 and b.cancelled_at >= closed_at)
    ]


def replacement(
    cancelled: BookingRecord, bookings: Sequence[BookingRecord]
) -> BookingRecord | None:
    """Return the booking that took a cancelled one's place: same module, booked since."""
    if cancelled.cancelled_at is None:
        return None
    later = [b for b in bookings
             if b.module == cancelled.module and b.id != cancelled.id
             and b.booked_at >= cancelled.cancelled_at]
    return min(later, key=lambda b: (b.booked_at, b.id), default=None)


@dataclass(frozen=True)
class Notice:
    """What one message told the participant about a booking."""

    kind: str
    queued_at: datetime
    starts_at: datetime
    location: str
    message_id: int = 0  # the outbox row, whose fate says whether it reached them


@dataclass(frozen=True)
class Move:
    """A booked session's time or place changed, and the update that told the participant."""

    told_at: datetime
    update_id: int
    from_starts_at: datetime
    to_starts_at: datetime
    from_location: str
    to_location: str


def moves(notices: Sequence[Notice]) -> list[Move]:
    """Read a booking's moves from its invitation and updates, taken in the order sent."""
    found = []
    last: Notice | None = None
    for notice in notices:
        if notice.kind == MessageKind.INVITATION:
            last = notice
        elif notice.kind == MessageKind.UPDATE:
            if last is not None and (last.starts_at, last.location) != (
                notice.starts_at, notice.location
            ):
                found.append(Move(notice.queued_at, notice.message_id, last.starts_at,
                                  notice.starts_at, last.location, notice.location))
            last = notice
    return found


def modules_in_words(modules: Sequence[int]) -> str:
    """Name modules for people: "module 2", "modules 2 and 4", "modules 2 to 5"."""
    core = sorted(m for m in modules if m != FOLLOW_UP)
    names = []
    if core:
        if len(core) == 1:
            names.append(f"module {core[0]}")
        elif core == list(range(core[0], core[-1] + 1)) and len(core) > 2:
            names.append(f"modules {core[0]} to {core[-1]}")
        else:
            names.append("modules " + ", ".join(map(str, core[:-1])) + f" and {core[-1]}")
    if FOLLOW_UP in modules:
        names.append("the follow-up session")
    return " and ".join(names)


def rules_in_words(
    rules: ProgrammeRules,
    *,
    start_date: date,
    core_deadline: date,
    original_core_deadline: date,
    follow_up_due: date | None = None,
    follow_up_window: tuple[date, date] | None = None,
) -> list[str]:
    """Say what the agreement asks of the participant, one sentence a rule."""
    n = rules.core_modules
    order = ("in order, module 1 first" if rules.modules_in_order else "in any order")
    deadline = f"Attend all {n} by the core deadline, {format_weekday_date(core_deadline)}"
    if core_deadline != original_core_deadline:
        deadline += (f" (extended from {format_weekday_date(original_core_deadline)}, "
                     f"{rules.core_months} months after the start on "
                     f"{format_weekday_date(start_date)})")
    else:
        deadline += (f": {rules.core_months} months after the start on "
                     f"{format_weekday_date(start_date)}")
    follow_up = (f"Then attend one follow-up session, due {rules.follow_up_months} months after "
                 f"the last core module, within {rules.follow_up_window_days} days either side "
                 "of the due date")
    if follow_up_due is not None:
        follow_up += f": due {format_weekday_date(follow_up_due)}"
        if follow_up_window is not None:
            follow_up += (f", between {format_weekday_date(follow_up_window[0])} and "
                          f"{format_weekday_date(follow_up_window[1])}")
    return [
        f"Attend {n} core modules, each one session of {rules.session_minutes} minutes, "
        f"{order}, at least {rules.min_days_between_sessions} days apart.",
        f"{deadline}.",
        "An absence, excused or not, must be made up before the deadline; an unexcused "
        "absence puts the enrolment at risk at once.",
        f"{follow_up}.",
        "A deadline may be extended only by a case officer's decision, with a reason. If the "
        "course is not completed, a case officer decides whether to refer the case back to "
        "prosecution.",
    ]
