import itertools
import time
from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from diversion.domain.booking import BookingFacts, SessionFacts, check_booking
from diversion.domain.errors import RuleViolation
from diversion.domain.planning import plan, remaining_modules
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules

from .builders import (
    NOW,
    START,
    attended_core,
    day,
    london,
    make_booking,
    make_enrolment,
    make_session,
)

RULES = ProgrammeRules()
ANY_ORDER = ProgrammeRules(modules_in_order=False)
WINDOW = (date(2027, 10, 20), date(2027, 11, 17))


def sessions_for(module: int, days: list[int], first_id: int) -> list[SessionFacts]:
    return [
        make_session(id=first_id + i, module=module, starts_at=day(n)) for i, n in enumerate(days)
    ]


def weekly_calendar(modules: int = 5, weeks: int = 20) -> list[SessionFacts]:
    return [
        make_session(id=100 * m + w, module=m, starts_at=day(7 * w + m))
        for m in range(1, modules + 1)
        for w in range(weeks)
    ]


class TestWhatRemains:
    def test_a_fresh_enrolment_has_every_core_module_to_book(self):
        assert remaining_modules(RULES, make_enrolment()) == [1, 2, 3, 4, 5]

    def test_booked_and_attended_modules_are_not_planned_again(self):
        enrolment = make_enrolment(
            bookings=[
                make_booking(id=1, module=1, status="attended", starts_at=day(0)),
                make_booking(id=2, module=2, status="absent_unexcused", starts_at=day(7)),
                make_booking(id=3, module=3, status="booked", starts_at=day(21)),
            ]
        )
        assert remaining_modules(RULES, enrolment) == [2, 4, 5]

    def test_an_enrolment_with_nothing_left_to_book_gets_an_empty_plan(self):
        enrolment = make_enrolment(bookings=attended_core())
        assert plan(RULES, enrolment, weekly_calendar(), NOW) == []


class TestEarliestPlan:
    def test_a_fresh_enrolment_gets_the_earliest_weekly_sessions(self):
        chosen = plan(RULES, make_enrolment(), weekly_calendar(), NOW)

        assert [s.module for s in chosen] == [1, 2, 3, 4, 5]
        assert [s.starts_at for s in chosen] == [day(1), day(9), day(17), day(25), day(33)]

    def test_no_plan_is_returned_when_the_modules_cannot_fit_before_the_deadline(self):
        late = [replace(s, starts_at=s.starts_at + timedelta(days=90)) for s in weekly_calendar()]
        assert plan(RULES, make_enrolment(), late, NOW) is None

    def test_no_plan_is_returned_when_a_module_has_no_sessions(self):
        assert plan(RULES, make_enrolment(), weekly_calendar(modules=4), NOW) is None

    def test_full_cancelled_and_past_sessions_are_passed_over(self):
        sessions = [
            make_session(id=1, module=1, starts_at=NOW - timedelta(hours=1)),
            make_session(id=2, module=1, starts_at=day(1), status="cancelled"),
            make_session(id=3, module=1, starts_at=day(2), booked=10),
            make_session(id=4, module=1, starts_at=day(3)),
        ]
        rules = ProgrammeRules(core_modules=1)
        assert plan(rules, make_enrolment(), sessions, NOW) == [sessions[3]]

    def test_planning_works_around_an_existing_booking_of_module_three(self):
        enrolment = make_enrolment(bookings=[make_booking(module=3, starts_at=day(24))])

        chosen = plan(RULES, enrolment, weekly_calendar(), NOW)

        assert [s.module for s in chosen] == [1, 2, 4, 5]
        # Modules 1 and 2 must fit before module 3 on day 24, at a week apart from it.
        assert [s.starts_at for s in chosen] == [day(1), day(9), day(32), day(40)]

    def test_backtracking_finds_a_plan_where_the_earliest_first_session_leads_nowhere(self):
        # Module 1's earliest session (day 0) leaves module 2's only session (day 3) too
        # close; taking module 2 first and module 1 on day 14 is the only plan.
        sessions = [
            *sessions_for(1, [0, 14], first_id=10),
            *sessions_for(2, [3], first_id=20),
        ]
        rules = ProgrammeRules(core_modules=2, modules_in_order=False)

        chosen = plan(rules, make_enrolment(), sessions, NOW)

        assert [(s.module, s.starts_at) for s in chosen] == [(1, day(14)), (2, day(3))]

    def test_the_earliest_sessions_leave_room_for_the_last_module_before_the_deadline(self):
        # Module 2 on day 10 leaves module 3's last chance (day 16) six days away.
        sessions = [
            *sessions_for(1, [0], first_id=10),
            *sessions_for(2, [7, 10], first_id=20),
            *sessions_for(3, [16], first_id=30),
        ]
        enrolment = make_enrolment(core_deadline=START + timedelta(days=16))
        rules = ProgrammeRules(core_modules=3)

        chosen = plan(rules, enrolment, sessions, NOW)

        assert [s.starts_at for s in chosen] == [day(0), day(7), day(16)]

    def test_an_any_order_programme_may_start_with_any_module(self):
        sessions = [*sessions_for(1, [20], first_id=10), *sessions_for(2, [5, 30], first_id=20)]
        rules = ProgrammeRules(core_modules=2, modules_in_order=False)

        chosen = plan(rules, make_enrolment(), sessions, NOW)

        assert [(s.module, s.starts_at) for s in chosen] == [(1, day(20)), (2, day(5))]

    def test_the_plan_for_an_in_order_programme_keeps_the_modules_in_order(self):
        sessions = [*sessions_for(1, [20], first_id=10), *sessions_for(2, [5, 30], first_id=20)]
        rules = ProgrammeRules(core_modules=2)

        chosen = plan(rules, make_enrolment(), sessions, NOW)

        assert [(s.module, s.starts_at) for s in chosen] == [(1, day(20)), (2, day(30))]


class TestFollowUpPlanning:
    def enrolment(self, extra=()):
        return make_enrolment(
            status="awaiting_follow_up",
            follow_up_window=WINDOW,
            bookings=[*attended_core(), *extra],
        )

    def follow_ups(self):
        return [
            make_session(id=1, module=FOLLOW_UP, starts_at=london(WINDOW[0] - timedelta(days=1))),
            make_session(id=2, module=FOLLOW_UP, starts_at=london(WINDOW[0] + timedelta(days=3))),
            make_session(id=3, module=FOLLOW_UP, starts_at=london(WINDOW[1] + timedelta(days=1))),
        ]

    def test_the_follow_up_is_planned_in_the_first_session_inside_the_window(self):
        assert plan(RULES, self.enrolment(), self.follow_ups(), NOW) == [self.follow_ups()[1]]

    def test_a_follow_up_already_booked_leaves_nothing_to_plan(self):
        booked = make_booking(id=9, module=FOLLOW_UP, starts_at=london(WINDOW[0]))
        assert plan(RULES, self.enrolment([booked]), self.follow_ups(), NOW) == []

    def test_no_follow_up_is_planned_without_a_session_in_the_window(self):
        outside = [self.follow_ups()[0], self.follow_ups()[2]]
        assert plan(RULES, self.enrolment(), outside, NOW) is None


def test_planning_a_thousand_enrolments_against_six_months_of_sessions_is_fast():
    sessions = [
        make_session(id=1000 * m + k, module=m, starts_at=day(k * 7 // 2 + m, hour=18))
        for m in range(1, 6)
        for k in range(52)
    ]
    enrolments = [
        make_enrolment(
            bookings=[make_booking(module=1, starts_at=day(i % 20), status="attended")]
            if i % 3
            else [],
        )
        for i in range(1000)
    ]
    started = time.perf_counter()
    plans = [plan(RULES, e, sessions, NOW) for e in enrolments]
    elapsed = time.perf_counter() - started

    assert all(p is not None for p in plans)
    assert elapsed < 10


# --- plan() against a brute-force enumeration on small random calendars ---------------

BASE = datetime(2027, 1, 4, 18, 0, tzinfo=NOW.tzinfo)


def _at(offset: int, hour: int) -> datetime:
    return (BASE + timedelta(days=offset)).replace(hour=hour)


@st.composite
def scenarios(draw):
    core = draw(st.integers(1, 4))
    rules = ProgrammeRules(
        core_modules=core,
        modules_in_order=draw(st.booleans()),
        min_days_between_sessions=draw(st.sampled_from([0, 3, 7, 7, 10])),
    )
    now = _at(draw(st.integers(0, 10)), 12)
    horizon = draw(st.integers(20, 150))
    deadline = BASE.date() + timedelta(days=horizon)
    follow_up = draw(st.integers(0, 3)) == 0

    bookings = []
    for m in range(1, core + 1):
        status = (
            "attended"
            if follow_up
            else draw(st.sampled_from([None] * 5 + ["attended", "booked", "absent_unexcused"]))
        )
        if status:
            offset = draw(st.integers(-30, 150))
            bookings.append(
                BookingFacts(
                    id=len(bookings) + 1,
                    session_id=900 + m,
                    module=m,
                    starts_at=_at(offset, draw(st.integers(9, 20))),
                    status=status,
                )
            )
    window = None
    if follow_up:
        opens = BASE.date() + timedelta(days=draw(st.integers(0, 120)))
        window = (opens, opens + timedelta(days=draw(st.integers(0, 28))))
    enrolment = make_enrolment(
        status="awaiting_follow_up" if follow_up else "enrolled",
        start_date=BASE.date(),
        core_deadline=deadline,
        follow_up_window=window,
        bookings=bookings,
    )

    sessions = []
    for module in [FOLLOW_UP] if follow_up else range(1, core + 1):
        for _ in range(draw(st.sampled_from([0, 1, 2, 3, 4, 5, 5, 5]))):
            capacity = draw(st.integers(1, 4))
            sessions.append(
                SessionFacts(
                    id=len(sessions) + 1,
                    module=module,
                    starts_at=_at(draw(st.integers(-5, horizon + 10)), draw(st.integers(9, 20))),
                    status=draw(st.sampled_from(["scheduled"] * 9 + ["cancelled"])),
                    capacity=capacity,
                    booked=draw(st.integers(0, capacity)),
                )
            )
    return rules, enrolment, sessions, now


def _brute_force(rules, enrolment, sessions, now):
    held = {b.module for b in enrolment.bookings if b.status in ("attended", "booked")}
    modules = [m for m in range(1, rules.core_modules + 1) if m not in held]
    if not modules and enrolment.status == "awaiting_follow_up" and FOLLOW_UP not in held:
        modules = [FOLLOW_UP]
    if not modules:
        return []
    per_module = [[s for s in sessions if s.module == m] for m in modules]
    best = None
    for combo in itertools.product(*per_module):
        so_far = enrolment
        try:
            for s in combo:
                check_booking(rules, so_far, s, now)
                taken = BookingFacts(-s.id, s.id, s.module, s.starts_at, "booked")
                so_far = replace(so_far, bookings=(*so_far.bookings, taken))
        except RuleViolation:
            continue
        pairs = tuple((s.starts_at, s.id) for s in combo)
        key = pairs if rules.modules_in_order else tuple(sorted(pairs))
        if best is None or key < best[0]:
            best = (key, list(combo))
    return None if best is None else best[1]


@settings(max_examples=1000, deadline=None)
@given(scenarios())
def test_the_plan_is_the_earliest_complete_plan_a_brute_force_search_finds(scenario):
    rules, enrolment, sessions, now = scenario

    assert plan(rules, enrolment, sessions, now) == _brute_force(rules, enrolment, sessions, now)
