"""The sweep's candidates never leave out an enrolment the rules would flag.

The sweep asks SQL only for candidates and lets ``flags_due`` decide. On random
histories, and on every day either side of where a rule changes its answer, it must
raise exactly what ``flags_due`` calls for when every open enrolment is judged one by
one, less what was raised before.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion import clock
from diversion.domain.compliance import Cause, cause, flags_due
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    EnrolmentStatus,
    FlagKind,
    FlagStatus,
    Role,
)
from diversion.extensions import db
from diversion.models import (
    Booking,
    Case,
    CourseSession,
    Enrolment,
    Flag,
    Force,
    Programme,
    User,
    Venue,
)
from diversion.services import compliance
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for

AT = datetime(2026, 1, 1, tzinfo=UTC)
# Instants around midnight and the daylight-saving changes, where a programme's local
# date differs from the UTC one, besides any instant of the year.
NOW = st.one_of(
    st.sampled_from([
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
        datetime(2027, 3, 27, 23, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 4, 30, tzinfo=UTC),
        datetime(2027, 1, 1, 4, 59, tzinfo=UTC),
    ]),
    st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2027, 12, 31),
                 timezones=st.just(UTC)),
)
BOOKING = st.fixed_dictionaries({
    "module": st.integers(0, 5),
    "minutes": st.integers(-150 * 1440, 60 * 1440),
    "status": st.sampled_from(list(BookingStatus)),
})
DEADLINES = sorted({edge + step for edge in (0, 7, 10, 14, 20, 21, 28) for step in (-1, 0, 1)}
                   | {-30, 45})
ENROLMENT = st.fixed_dictionaries({
    "programme": st.integers(0, 1),
    "status": st.sampled_from([EnrolmentStatus.ENROLLED] * 3
                              + [EnrolmentStatus.AWAITING_FOLLOW_UP] * 3
                              + list(EnrolmentStatus)),
    # Days from today: deadlines on and beside the days where a rule changes its answer
    # (today, each multiple of either programme's spacing, the warning distance), and
    # windows closing around today.
    "deadline": st.sampled_from(DEADLINES),
    "closes": st.none() | st.integers(-2, 1),
    # A plan: so many core modules attended from the first, then so many booked.
    "planned": st.tuples(st.integers(0, 5), st.integers(0, 5)),
    "bookings": st.lists(BOOKING, max_size=6),
    # Yesterday's sweep raised what was due then; and the causes, as today's deadline,
    # window and absences key them, raised at some time before (when they were due).
    "yesterday": st.booleans(),
    "earlier": st.sets(st.sampled_from(list(Cause)), max_size=2),
    # An earlier run flagged the core deadline before an extension moved it.
    "stale": st.booleans(),
})


@pytest.fixture
def world(ctx):
    """A force, an officer and a venue, and a second programme with other rules."""
    force = Force(code="RND", name="Random Police", created_at=AT)
    db.session.add(force)
    db.session.flush()
    officer = User(email="officer@rnd.test", role=Role.CASE_OFFICER, force_id=force.id,
                   created_at=AT)
    venue = Venue(name="Hall", address="1 Street", created_at=AT)
    db.session.add_all([officer, venue, Programme(
        name="Other rules", core_modules=3, min_days_between_sessions=10,
        follow_up_window_days=7)])
    db.session.commit()
    programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
    return {"force": force.id, "officer": officer.id, "venue": venue.id,
            "programmes": programmes}


def _clear() -> None:
    for model in (Flag, Booking, CourseSession, Enrolment, Case):
        db.session.execute(sa.delete(model))
    db.session.commit()


def _build(world, now: datetime, histories: list[dict]) -> None:
    """Write the histories, and the flags an earlier run raised for them."""
    written = []
    for n, history in enumerate(histories):
        programme = world["programmes"][history["programme"]]
        rules = rules_for(programme)
        today = clock.today(rules.tz)
        deadline = today + timedelta(days=history["deadline"])
        closes = (None if history["closes"] is None
                  else today + timedelta(days=history["closes"]))
        case = Case(force_id=world["force"], reference=f"R/{n}", given_name="A",
                    family_name="B", date_of_birth=date(1990, 1, 1), email="a@b.test",
                    previous_sexual_or_violent_conviction=False, first_offence=True,
                    image_category="C", contact_offending_suspected=False,
                    children_at_risk=False, prosecutor_agreed=True,
                    participant_consented=True, eligible=True,
                    created_by_id=world["officer"], created_at=AT)
        enrolment = Enrolment(
            case=case, force_id=world["force"], programme_id=programme.id,
            status=history["status"], start_date=deadline - timedelta(days=120),
            original_core_deadline=deadline, core_deadline=deadline,
            follow_up_opens=None if closes is None else closes - timedelta(days=20),
            follow_up_closes=closes, created_by_id=world["officer"], created_at=AT)
        attended, booked = history["planned"]
        plan = [{"module": module, "minutes": 1440 * 7 * (module - attended - 1),
                 "status": BookingStatus.ATTENDED if module <= attended else BookingStatus.BOOKED}
                for module in range(1, min(attended + booked, rules.core_modules) + 1)]
        held = set()
        bookings = []
        for i, b in enumerate(plan + history["bookings"]):
            module = b["module"] % (rules.core_modules + 1)
            status = b["status"]
            if status == BookingStatus.BOOKED and module in held:
                status = BookingStatus.CANCELLED  # one booking still to happen per module
            held.add(module)
            starts = now + timedelta(minutes=b["minutes"])
            session = CourseSession(
                programme_id=programme.id, module=module, starts_at=starts,
                ends_at=starts + timedelta(minutes=90), venue_id=world["venue"],
                capacity=10, booked=0, created_at=AT, updated_at=AT)
            bookings.append(Booking(enrolment=enrolment, session=session, module=module,
                                    status=status, uid=f"{n}-{i}@test", created_at=AT,
                                    updated_at=AT))
        db.session.add_all([case, enrolment, *bookings])
        written.append((history, rules, today, enrolment, bookings))
    db.session.flush()
    for history, rules, today, enrolment, bookings in written:
        keys = {reason: [enrolment.core_deadline] for reason in (
            Cause.CORE_DEADLINE, Cause.CANNOT_FIT, Cause.UNBOOKED_NEAR_DEADLINE)}
        keys[Cause.FOLLOW_UP_WINDOW] = [closes] if closes is not None else []
        keys[Cause.UNEXCUSED_ABSENCE] = [
            b.id for b in bookings if b.status == BookingStatus.ABSENT_UNEXCUSED]
        earlier = {cause(reason, key) for reason in history["earlier"] for key in keys[reason]}
        if history["yesterday"]:
            facts = enrolment_facts(enrolment, bookings)
            earlier |= {f.cause for f in flags_due(rules, facts, today - timedelta(days=1))}
        if history["stale"]:
            earlier.add(cause(Cause.CORE_DEADLINE, deadline - timedelta(days=14)))
        db.session.add_all(
            Flag(enrolment_id=enrolment.id, kind=FlagKind.AT_RISK, cause=flag_cause,
                 detail="Earlier", status=FlagStatus.CLOSED, raised_at=now - timedelta(days=3))
            for flag_cause in earlier)
    db.session.commit()


def _due_one_by_one() -> set[tuple[int, str]]:
    """Judge every open enrolment alone: the (enrolment, cause) of each flag it calls for."""
    due = set()
    for enrolment in db.session.scalars(
            sa.select(Enrolment).where(Enrolment.status.in_(OPEN_ENROLMENT))
            .options(so.selectinload(Enrolment.bookings).joinedload(Booking.session))):
        rules = rules_for(enrolment.programme)
        for flag in flags_due(rules, enrolment_facts(enrolment), clock.today(rules.tz)):
            due.add((enrolment.id, flag.cause))
    db.session.rollback()
    return due


def _flags() -> set[tuple[int, str]]:
    return {tuple(row) for row in db.session.execute(sa.select(Flag.enrolment_id, Flag.cause))}


def _history(*, programme: int = 0, status: str = EnrolmentStatus.ENROLLED,
             deadline: int = 60, closes: int | None = None, planned: tuple[int, int] = (0, 0),
             bookings: list[dict] = (), earlier: tuple[Cause, ...] = ()) -> dict:
    """One enrolment's history as the strategy draws it."""
    return {"programme": programme, "status": status, "deadline": deadline, "closes": closes,
            "planned": planned, "bookings": list(bookings), "yesterday": False,
            "earlier": set(earlier), "stale": False}


def _absence(*, minutes: int) -> dict:
    return {"module": 2, "minutes": minutes, "status": BookingStatus.ABSENT_UNEXCUSED}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(now=NOW, histories=st.lists(ENROLMENT, min_size=1, max_size=8))
def test_the_sweep_raises_every_flag_the_rules_call_for_and_no_other(world, now, histories):
    clock.set_now(now)
    _clear()
    _build(world, now, histories)
    earlier = _flags()
    due = _due_one_by_one()

    result = compliance.sweep()

    raised = _flags() - earlier
    assert raised == due - earlier
    assert result.raised == len(raised)
    assert result.evaluated == sum(h["status"] in OPEN_ENROLMENT for h in histories)


def _on_the_edges(world) -> list[dict]:
    """Open enrolments on and beside each day where a rule changes its answer."""
    histories = []
    for n, programme in enumerate(world["programmes"]):
        spacing, modules = programme.min_days_between_sessions, programme.core_modules
        # Where non-completion starts, where so many missing modules stop fitting, and
        # where an unbooked module starts to count.
        edges = {spacing * missing for missing in range(modules)} | {28}
        histories += [
            # Nothing held, everything booked, or some attended and the rest booked. Two
            # rules watch the weeks before the deadline: with one's flag raised before,
            # the other must find the enrolment on its own.
            _history(programme=n, deadline=edge + step, planned=planned, earlier=earlier)
            for edge in edges for step in (-1, 0, 1)
            for planned in ((0, 0), *((done, modules - done) for done in range(modules - 1)))
            for earlier in ((), (Cause.CANNOT_FIT,), (Cause.UNBOOKED_NEAR_DEADLINE,))
        ]
        histories += [
            _history(programme=n, status=EnrolmentStatus.AWAITING_FOLLOW_UP, deadline=-60,
                     closes=closes, planned=(modules, 0),
                     bookings=[{"module": 0, "minutes": -1440, "status": status}])
            for closes in (-1, 0, 1)
            for status in (BookingStatus.ATTENDED, BookingStatus.ABSENT_EXCUSED)
        ]
    return histories


def test_on_each_day_a_rule_changes_its_answer_the_sweep_raises_what_the_rules_call_for(
        world):
    now = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    clock.set_now(now)
    _build(world, now, _on_the_edges(world))
    earlier = _flags()
    due = _due_one_by_one()

    compliance.sweep()

    assert _flags() - earlier == due - earlier


def test_a_second_sweep_raises_nothing(world):
    now = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    clock.set_now(now)
    _build(world, now, [
        _history(programme=programme, deadline=deadline, planned=(1, 0),
                 bookings=[_absence(minutes=-5000)])
        for programme in (0, 1) for deadline in (-3, 2, 20)
    ])
    first = compliance.sweep()
    assert first.raised > 0
    before = _flags()

    second = compliance.sweep()

    assert second.raised == 0
    assert _flags() == before
    assert "0 new flags (none)" in second.summary()


def _statements(function) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        function()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_sweep_runs_as_many_statements_for_30_enrolments_to_flag_as_for_3(world):
    now = datetime(2027, 6, 15, 12, tzinfo=UTC)
    clock.set_now(now)

    def histories(count: int) -> list[dict]:
        return [_history(programme=n % 2, deadline=-5, planned=(1, 0),
                         bookings=[_absence(minutes=-5000 - n)])
                for n in range(count)]

    _build(world, now, histories(3))
    few = _statements(compliance.sweep)
    _clear()
    _build(world, now, histories(30))
    many = _statements(compliance.sweep)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 60
    assert many == few
