"""Whatever a coordinator does, in whatever order, no active booking breaks a rule.

Random sequences of publish, book, wait, move, cancel, attend, correct and re-plan run
through the real services on both databases; after every step every active booking
(those the waitlist made included) is checked against order, spacing, deadline,
capacity and public holidays, and no one waits for a session they are booked into.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.domain.holidays import is_public_holiday
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import HOLDS_MODULE, LONDON, BookingStatus, SessionStatus
from diversion.extensions import db
from diversion.models import Booking, CourseSession, Enrolment, Programme, WaitlistEntry
from diversion.services import (
    Actor,
    InvalidInput,
    attendance,
    bookings,
    planning,
    rebooking,
    waitlist,
)
from diversion.services import sessions as session_service
from diversion.services.programmes import rules_for
from tests.conftest import enrol_case

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
REFUSED = (RuleViolation, InvalidInput)


def _local_day(instant: datetime) -> date:
    return instant.astimezone(LONDON).date()


def check_every_active_booking(programme: Programme) -> None:
    """Assert the rules over everything in the database, as a reader of it would."""
    rules = rules_for(programme)
    for session in db.session.scalars(sa.select(CourseSession)):
        held = db.session.scalar(sa.select(sa.func.count()).where(
            Booking.session_id == session.id, Booking.status != BookingStatus.CANCELLED))
        assert session.booked == held, f"session {session.id} counts {session.booked}, has {held}"
        assert session.booked <= session.capacity
        assert not is_public_holiday(_local_day(session.starts_at), rules.holiday_region)
        assert session.ends_at - session.starts_at == timedelta(minutes=rules.session_minutes)
    for enrolment in db.session.scalars(sa.select(Enrolment)):
        active = sorted(
            (b for b in enrolment.bookings
             if b.status in HOLDS_MODULE and b.module != FOLLOW_UP),
            key=lambda b: b.session.starts_at)
        modules = [b.module for b in active]
        assert len(modules) == len(set(modules)), f"module held twice: {modules}"
        assert modules == sorted(modules), f"modules out of order: {modules}"
        days = [_local_day(b.session.starts_at) for b in active]
        for earlier, later in zip(days, days[1:], strict=False):
            assert (later - earlier).days >= rules.min_days_between_sessions, days
        for booking in active:
            if booking.status == BookingStatus.BOOKED:
                assert _local_day(booking.session.starts_at) <= enrolment.core_deadline
        for booking in enrolment.bookings:
            if booking.status == BookingStatus.BOOKED:
                assert booking.session.status == SessionStatus.SCHEDULED
    for entry in db.session.scalars(
            sa.select(WaitlistEntry).where(WaitlistEntry.removed_at.is_(None))):
        assert entry.session.status == SessionStatus.SCHEDULED, f"entry {entry.id}"
        assert not any(b.session_id == entry.session_id and b.status == BookingStatus.BOOKED
                       for b in entry.enrolment.bookings), f"entry {entry.id} booked"


class Messy(RuleBasedStateMachine):
    """A coordinator's week: publish, book, wait, move, cancel, time passing, registers,
    plans."""

    app = None
    coordinator: Actor
    venue_id: int
    enrolments: list[int] = []

    def __init__(self) -> None:
        super().__init__()
        clock.set_now(START.isoformat())
        self.sessions: list[int] = []

    @initialize()
    def a_published_grid_and_planned_participants(self):
        # Weekly sessions of every module, then everyone planned into them: the moves,
        # cancellations and registers that follow have people to affect.
        for week in range(6):
            for module in range(1, 6):
                starts = (START + timedelta(days=1 + 7 * (module - 1) + 7 * week)).astimezone(
                    LONDON).replace(hour=18, minute=0, second=0, microsecond=0)
                made = self._do(lambda s=starts, m=module: session_service.publish_session(
                    self.coordinator, programme_id=1, module=m, starts_at=s,
                    venue_id=self.venue_id, capacity=2))
                if made is not None:
                    self.sessions.append(made.id)
        for enrolment_id in self.enrolments:
            self._do(lambda e=enrolment_id: planning.plan_enrolment(self.coordinator, e))

    def _do(self, action):
        with self.app.app_context():
            try:
                return action()
            except REFUSED:
                return None

    @rule(module=st.integers(1, 5), day=st.integers(1, 90), capacity=st.integers(1, 3))
    def publish(self, module, day, capacity):
        starts = (clock.now() + timedelta(days=day)).astimezone(LONDON).replace(
            hour=18, minute=0, second=0, microsecond=0)
        made = self._do(lambda: session_service.publish_session(
            self.coordinator, programme_id=1, module=module, starts_at=starts,
            venue_id=self.venue_id, capacity=capacity))
        if made is not None:
            self.sessions.append(made.id)

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
    def book(self, who, pick):
        if self.sessions:
            session_id = self.sessions[pick % len(self.sessions)]
            self._do(lambda: bookings.book(self.coordinator, self.enrolments[who], session_id))

    @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
    def wait(self, who, pick):
        if self.sessions:
            session_id = self.sessions[pick % len(self.sessions)]
            self._do(lambda: waitlist.add(self.coordinator, session_id, self.enrolments[who]))

    @rule(pick=st.integers(0, 50), days=st.sampled_from([-6, -3, -1, 1, 3, 6]),
          rebook=st.booleans())
    def move(self, pick, days, rebook):
        def moving():
            # A session people are booked into: the move that can hurt someone.
            booked = db.session.scalars(
                sa.select(CourseSession).where(CourseSession.booked > 0,
                                               CourseSession.starts_at > clock.now())
                .order_by(CourseSession.id)).all()
            if booked:
                session = booked[pick % len(booked)]
                rebooking.change_session(self.coordinator, session.id, rebook=rebook,
                                         starts_at=session.starts_at + timedelta(days=days))
        self._do(moving)

    @rule(pick=st.integers(0, 50), rebook=st.booleans())
    def cancel_session(self, pick, rebook):
        if self.sessions:
            session_id = self.sessions[pick % len(self.sessions)]
            self._do(lambda: rebooking.cancel_session(self.coordinator, session_id,
                                                      reason="Room flooded", rebook=rebook))

    @rule(pick=st.integers(0, 200))
    def cancel_booking(self, pick):
        def cancelling():
            ids = db.session.scalars(sa.select(Booking.id).order_by(Booking.id)).all()
            if ids:
                bookings.cancel_booking(self.coordinator, ids[pick % len(ids)], reason="Asked")
        self._do(cancelling)

    @rule(days=st.integers(1, 20))
    def time_passes(self, days):
        clock.set_now((clock.now() + timedelta(days=days)).isoformat())

    @rule(pick=st.integers(0, 200), outcome=st.sampled_from(
        ["attended", "absent_excused", "absent_unexcused"]))
    def record_or_correct(self, pick, outcome):
        def recording():
            ids = db.session.scalars(sa.select(Booking.id).order_by(Booking.id)).all()
            if ids:
                attendance.record(self.coordinator, ids[pick % len(ids)], outcome,
                                  "Recorded in the property test")
        self._do(recording)

    @rule(who=st.integers(0, 2))
    def replan(self, who):
        self._do(lambda: planning.plan_enrolment(self.coordinator, self.enrolments[who]))

    @invariant()
    def rules_hold(self):
        with self.app.app_context():
            check_every_active_booking(db.session.get(Programme, 1))
            db.session.rollback()


def test_no_sequence_of_changes_leaves_an_active_booking_that_breaks_a_rule(app, api_as):
    officer = api_as("case_officer")
    coordinator_api = api_as("coordinator", force=None)
    clock.set_now(START.isoformat())
    venue = coordinator_api.post("/venues", {"name": "Hall", "address": "1 Street"}).get_json()
    Messy.app = app
    Messy.coordinator = Actor(user_id=None, email="coordinator@example.gov.uk",
                              role="coordinator")
    Messy.venue_id = venue["id"]
    Messy.enrolments = [enrol_case(officer, f"PROP/{n}", "2027-01-04")["id"] for n in range(3)]
    run_state_machine_as_test(Messy, settings=settings(
        max_examples=6, stateful_step_count=15, deadline=None,
        suppress_health_check=list(HealthCheck)))
