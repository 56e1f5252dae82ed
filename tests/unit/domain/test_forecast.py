from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diversion.domain.booking import BookingFacts, EnrolmentFacts, SessionFacts, check_booking
from diversion.domain.errors import RuleViolation
from diversion.domain.forecast import (
    Horizon,
    PublishedSession,
    UsualSession,
    WeekLine,
    earliest_days,
    forecast,
    outlook,
    seats_needed,
    seats_published,
    suggest,
    suggested_start,
    usual_sessions,
    week_start,
)
from diversion.domain.planning import remaining_modules
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules

from .builders import START, london, make_booking, make_enrolment

RULES = ProgrammeRules()
ANY_ORDER = ProgrammeRules(modules_in_order=False)
MONDAY = START  # 2 November 2026
NOW = london(MONDAY, 9)


def weeks_after(days: int) -> date:
    return MONDAY + timedelta(days=days)


def days_for(enrolment, rules=RULES, today=MONDAY):
    return earliest_days(rules, outlook(rules, enrolment), today)


def session(day: date, *, module: int = 1, hour: int = 18, minute: int = 0, capacity: int = 12,
            booked: int = 0, venue_id: int | None = 1, status: str = "scheduled"):
    return PublishedSession(module=module, starts_at=london(day, hour, minute),
                            capacity=capacity, booked=booked, venue_id=venue_id, status=status)


class TestWhereEachModuleFalls:
    def test_a_new_enrolment_needs_module_1_from_its_start_and_each_next_module_a_week_later(self):
        enrolment = make_enrolment(start_date=MONDAY + timedelta(days=2))
        assert days_for(enrolment) == {
            1: date(2026, 11, 4), 2: date(2026, 11, 11), 3: date(2026, 11, 18),
            4: date(2026, 11, 25), 5: date(2026, 12, 2),
        }

    def test_an_enrolment_that_started_weeks_ago_with_nothing_booked_needs_module_1_today(self):
        enrolment = make_enrolment(start_date=MONDAY - timedelta(days=30),
                                   core_deadline=date(2027, 2, 2))
        assert days_for(enrolment)[1] == MONDAY

    def test_the_next_module_comes_at_the_programmes_spacing_after_the_last_booking(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, status="attended", starts_at=london(MONDAY - timedelta(
                days=3))),
            make_booking(id=2, module=2, status="booked", starts_at=london(date(2026, 11, 10))),
        ])
        days = days_for(enrolment)
        assert 1 not in days and 2 not in days
        assert days[3] == date(2026, 11, 17)
        assert days[4] == date(2026, 11, 24)

    def test_a_wider_spacing_spreads_the_modules_further_apart(self):
        rules = ProgrammeRules(min_days_between_sessions=14)
        days = days_for(make_enrolment(), rules)
        assert days[2] - days[1] == timedelta(days=14)

    def test_a_module_missed_is_needed_again(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, status="absent_excused",
                         starts_at=london(MONDAY - timedelta(days=10))),
        ])
        assert days_for(enrolment)[1] == MONDAY

    def test_modules_that_would_fall_after_the_core_deadline_are_not_needed(self):
        enrolment = make_enrolment(start_date=date(2026, 7, 2), core_deadline=date(2026, 11, 18))
        assert days_for(enrolment) == {1: MONDAY, 2: date(2026, 11, 9), 3: date(2026, 11, 16)}

    def test_a_module_missed_between_two_held_ones_goes_in_the_gap_when_it_fits(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, status="attended", starts_at=london(date(2026, 10, 20))),
            make_booking(id=2, module=2, status="absent_unexcused",
                         starts_at=london(date(2026, 10, 27))),
            make_booking(id=3, module=3, status="booked", starts_at=london(date(2026, 11, 20))),
        ])
        assert days_for(enrolment) == {2: date(2026, 11, 2), 4: date(2026, 11, 27),
                                       5: date(2026, 12, 4)}

    def test_in_order_a_module_that_no_longer_fits_before_a_later_booked_one_is_not_needed(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, status="attended", starts_at=london(date(2026, 10, 20))),
            make_booking(id=3, module=3, status="booked", starts_at=london(date(2026, 11, 5))),
        ])
        assert days_for(enrolment) == {}

    def test_any_order_the_modules_around_a_later_booking_are_still_needed(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=3, module=3, status="booked", starts_at=london(date(2026, 11, 5))),
        ])
        assert days_for(enrolment, ANY_ORDER) == {
            1: date(2026, 11, 12), 2: date(2026, 11, 19), 4: date(2026, 11, 26),
            5: date(2026, 12, 3),
        }

    def test_in_order_a_module_can_never_follow_a_later_module_already_attended(self):
        enrolment = make_enrolment(bookings=[
            make_booking(id=1, module=1, status="attended", starts_at=london(date(2026, 9, 1))),
            make_booking(id=2, module=2, status="absent_unexcused",
                         starts_at=london(date(2026, 9, 8))),
            make_booking(id=3, module=3, status="attended", starts_at=london(date(2026, 9, 15))),
        ])
        assert days_for(enrolment) == {}

    @pytest.mark.parametrize("status", ["completed", "referred", "withdrawn"])
    def test_a_closed_enrolment_needs_nothing(self, status):
        assert days_for(make_enrolment(status=status)) == {}


class TestTheFollowUp:
    WINDOW = (date(2026, 11, 20), date(2026, 12, 18))

    def awaiting(self, *extra):
        core = [make_booking(id=m, module=m, status="attended",
                             starts_at=london(date(2026, 3, 2) + timedelta(days=7 * m)))
                for m in range(1, 6)]
        return make_enrolment(status="awaiting_follow_up", follow_up_window=self.WINDOW,
                              bookings=[*core, *extra])

    def test_the_follow_up_is_needed_from_the_day_its_window_opens(self):
        assert days_for(self.awaiting()) == {FOLLOW_UP: date(2026, 11, 20)}

    def test_a_follow_up_window_already_open_needs_it_from_today(self):
        assert days_for(self.awaiting(), today=date(2026, 12, 1)) == {FOLLOW_UP: date(2026, 12, 1)}

    def test_no_follow_up_is_needed_once_its_window_has_closed(self):
        assert days_for(self.awaiting(), today=date(2026, 12, 19)) == {}

    def test_no_follow_up_is_needed_when_one_is_booked(self):
        booked = make_booking(id=9, module=FOLLOW_UP, starts_at=london(date(2026, 12, 1)))
        assert days_for(self.awaiting(booked)) == {}

    def test_an_enrolment_with_its_core_booked_but_not_yet_attended_needs_nothing_yet(self):
        core = [make_booking(id=m, module=m, status="booked",
                             starts_at=london(date(2026, 11, 3) + timedelta(days=7 * m)))
                for m in range(1, 6)]
        assert days_for(make_enrolment(bookings=core)) == {}


class TestTheWeeks:
    def test_the_forecast_starts_on_the_monday_of_this_week(self):
        horizon = Horizon(date(2026, 11, 5), 3)
        assert horizon.week_starts == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
        assert horizon.end == date(2026, 11, 23)

    @pytest.mark.parametrize("weeks", [0, 53, -1])
    def test_a_number_of_weeks_outside_1_to_52_is_refused(self, weeks):
        with pytest.raises(ValueError):
            Horizon(MONDAY, weeks)

    def test_places_needed_are_counted_in_the_week_of_each_modules_earliest_day(self):
        enrolments = [outlook(RULES, make_enrolment(start_date=MONDAY + timedelta(days=n)))
                      for n in (0, 3, 6, 7)]
        needed = seats_needed(RULES, enrolments, Horizon(MONDAY, 2))
        assert needed == {(MONDAY, 1): 3, (weeks_after(7), 1): 1, (weeks_after(7), 2): 3}

    def test_enrolments_that_look_alike_need_a_place_each(self):
        alike = replace(outlook(RULES, make_enrolment()), count=40)
        needed = seats_needed(RULES, [alike], Horizon(MONDAY, 1))
        assert needed == {(MONDAY, 1): 40}

    def test_places_needed_beyond_the_weeks_asked_are_not_counted(self):
        needed = seats_needed(RULES, [outlook(RULES, make_enrolment())], Horizon(MONDAY, 3))
        assert sorted(module for _, module in needed) == [1, 2, 3]


class TestPlacesPublished:
    def test_only_the_free_places_of_sessions_still_to_come_are_published(self):
        sessions = [
            session(MONDAY, hour=8, capacity=12, booked=0),  # started before now (9am)
            session(MONDAY, capacity=12, booked=5),
            session(weeks_after(3), capacity=10, booked=10),
            session(weeks_after(4), capacity=10, status="cancelled"),
            session(weeks_after(8), module=2, capacity=6),
        ]
        published = seats_published(RULES, sessions, Horizon(MONDAY, 2), NOW)
        assert published == {(MONDAY, 1): 7, (weeks_after(7), 2): 6}

    def test_a_late_sunday_session_in_summer_counts_in_the_week_of_its_local_date(self):
        # 23:30 UTC on Sunday 27 June 2027 is 00:30 on Monday 28 June in London.
        late = PublishedSession(module=1, starts_at=datetime(2027, 6, 27, 23, 30, tzinfo=UTC),
                                capacity=10)
        published = seats_published(RULES, [late], Horizon(date(2027, 6, 21), 2),
                                    london(date(2027, 6, 21), 9))
        assert published == {(date(2027, 6, 28), 1): 10}


class TestTheForecast:
    def test_every_week_lists_every_module_with_its_shortfall(self):
        enrolments = [outlook(RULES, make_enrolment()) for _ in range(15)]
        result = forecast(RULES, enrolments, [session(date(2026, 11, 3), capacity=12)], NOW, 2)
        assert [(line.week_start, line.module) for line in result.lines] == [
            (week, module) for week in (MONDAY, weeks_after(7)) for module in (1, 2, 3, 4, 5, 0)]
        first = result.module_lines(1)[0]
        assert (first.seats_needed, first.seats_published, first.shortfall) == (15, 12, 3)

    def test_a_week_with_more_places_than_needed_has_no_shortfall(self):
        assert WeekLine(MONDAY, 1, seats_needed=3, seats_published=10).shortfall == 0

    def test_a_shortfall_is_covered_by_sessions_of_the_usual_capacity(self):
        enrolments = [outlook(RULES, make_enrolment()) for _ in range(25)]
        result = forecast(RULES, enrolments, [session(MONDAY - timedelta(days=7), capacity=10)],
                          NOW, 1)
        assert [(s.module, s.week_start, s.capacity) for s in result.suggestions] == [
            (1, MONDAY, 10)] * 3

    def test_with_no_sessions_to_learn_from_a_suggestion_is_12_places_on_a_tuesday_at_6pm(self):
        result = forecast(RULES, [outlook(RULES, make_enrolment())], [], NOW, 1)
        (suggested,) = result.suggestions
        assert suggested.capacity == 12
        assert suggested.starts_at == london(date(2026, 11, 3), 18)
        assert suggested.venue_id is None


class TestTheUsualSession:
    def test_a_modules_usual_session_is_its_most_common_capacity_day_time_and_venue(self):
        sessions = [
            session(date(2026, 10, 15), capacity=8, hour=10, venue_id=2),  # a Thursday
            session(date(2026, 10, 22), capacity=8, hour=10, venue_id=2),
            session(date(2026, 10, 20), capacity=14, hour=18, venue_id=3),  # a Tuesday
        ]
        assert usual_sessions(RULES, sessions)[1] == UsualSession(
            capacity=8, weekday=3, start=time(10), venue_id=2)

    def test_a_module_without_sessions_of_its_own_follows_the_programmes_others(self):
        usual = usual_sessions(RULES, [session(date(2026, 10, 15), module=1, capacity=9,
                                               minute=30)])
        assert usual[4] == UsualSession(capacity=9, weekday=3, start=time(18, 30), venue_id=1)

    def test_cancelled_sessions_say_nothing_about_the_usual_session(self):
        usual = usual_sessions(RULES, [session(date(2026, 10, 15), capacity=30,
                                               status="cancelled")])
        assert usual[1] == UsualSession()

    def test_a_tie_goes_to_the_larger_capacity(self):
        sessions = [session(date(2026, 10, 15), capacity=8), session(date(2026, 10, 16),
                                                                      capacity=10)]
        assert usual_sessions(RULES, sessions)[1].capacity == 10


class TestTheSuggestedDay:
    USUAL_MONDAY = UsualSession(weekday=0, start=time(18))

    def test_a_suggested_session_avoids_a_public_holiday_by_taking_the_next_day(self):
        easter = date(2027, 3, 29)
        assert suggested_start(RULES, easter, self.USUAL_MONDAY, NOW) == london(
            date(2027, 3, 30), 18)

    def test_a_suggestion_this_week_is_never_in_the_past(self):
        wednesday_noon = london(date(2026, 11, 4), 12)
        assert suggested_start(RULES, MONDAY, self.USUAL_MONDAY, wednesday_noon) == london(
            date(2026, 11, 4), 18)

    def test_no_day_is_suggested_when_the_rest_of_the_week_is_gone(self):
        sunday_night = london(date(2026, 11, 8), 21)
        assert suggested_start(RULES, MONDAY, self.USUAL_MONDAY, sunday_night) is None

    def test_the_usual_time_holds_across_the_clock_change(self):
        usual = UsualSession(weekday=1, start=time(18))
        starts = suggested_start(RULES, date(2027, 3, 29), usual, NOW)
        assert starts == london(date(2027, 3, 30), 18)
        assert starts.utcoffset() == timedelta(hours=1)

    def test_two_sessions_are_suggested_for_a_shortfall_just_over_one_sessions_capacity(self):
        line = WeekLine(weeks_after(7), 2, seats_needed=13, seats_published=0)
        made = suggest(RULES, line, UsualSession(capacity=12), NOW)
        assert [s.capacity for s in made] == [12, 12]


# ---- the invariant ----------------------------------------------------------------------

OUTCOMES = st.sampled_from([None, "attended", "booked", "absent_excused", "absent_unexcused",
                            "cancelled"])


def oracle_days(rules: ProgrammeRules, enrolment: EnrolmentFacts, today: date) -> dict[int, date]:
    """Place each module still to book, in order, on the first day a session there would pass
    every booking rule: the booking rules themselves, asked of a session on every day."""
    now = datetime.combine(today, time(0), tzinfo=rules.tz)
    window = enrolment.follow_up_window
    days: dict[int, date] = {}
    for module in remaining_modules(rules, enrolment):
        if module == FOLLOW_UP:
            first, last = today, window[1] if window else today
        else:
            first, last = max(today, enrolment.start_date), enrolment.core_deadline
        for n in range((last - first).days + 1):
            day = first + timedelta(days=n)
            candidate = SessionFacts(id=10_000 + n, module=module, starts_at=london(day, 12))
            try:
                check_booking(rules, enrolment, candidate, now)
            except RuleViolation:
                continue
            days[module] = day
            placed = BookingFacts(id=-module - 1, session_id=candidate.id, module=module,
                                  starts_at=candidate.starts_at, status="booked")
            enrolment = replace(enrolment, bookings=(*enrolment.bookings, placed))
            break
    return days


@st.composite
def enrolments(draw, rules: ProgrammeRules, today: date) -> EnrolmentFacts:
    start = today + timedelta(days=draw(st.integers(-160, 40)))
    deadline = rules.core_deadline(start) + timedelta(days=draw(st.sampled_from([0, 0, 14, 45])))
    bookings = []
    for module in rules.core_module_numbers:
        status = draw(OUTCOMES)
        if status is not None:
            on = start + timedelta(days=draw(st.integers(-5, 140)))
            bookings.append(make_booking(id=module, module=module, status=status,
                                         starts_at=london(on, draw(st.sampled_from([10, 18])))))
    status = draw(st.sampled_from(["enrolled"] * 6 + ["completed", "referred", "withdrawn"]))
    window = None
    attended = [b for b in bookings if b.status == "attended"]
    if status == "enrolled" and len(attended) == rules.core_modules:
        status = "awaiting_follow_up"
        last = max(rules.local_date(b.starts_at) for b in attended)
        window = rules.follow_up_window(rules.follow_up_due(last))
        follow_up = draw(OUTCOMES)
        if follow_up is not None:
            on = window[0] + timedelta(days=draw(st.integers(0, 28)))
            bookings.append(make_booking(id=99, module=FOLLOW_UP, status=follow_up,
                                         starts_at=london(on)))
    return make_enrolment(status=status, start_date=start, core_deadline=deadline,
                          follow_up_window=window, bookings=bookings)


@st.composite
def scenarios(draw):
    rules = ProgrammeRules(core_modules=draw(st.integers(1, 5)),
                           min_days_between_sessions=draw(st.integers(1, 14)),
                           modules_in_order=draw(st.booleans()))
    today = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)))
    people = draw(st.lists(enrolments(rules, today), min_size=1, max_size=8))
    return rules, today, draw(st.integers(1, 52)), people


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_each_modules_places_needed_add_up_to_the_enrolments_that_can_still_take_it(scenario):
    rules, today, weeks, people = scenario
    now = datetime.combine(today, time(0), tzinfo=rules.tz)
    result = forecast(rules, [outlook(rules, e) for e in people], [], now, weeks)
    horizon = result.horizon
    expected = {module: 0 for module in [*rules.core_module_numbers, FOLLOW_UP]}
    for enrolment in people:
        for module, day in oracle_days(rules, enrolment, today).items():
            if day < horizon.end:
                expected[module] += 1
    for module, count in expected.items():
        assert sum(line.seats_needed for line in result.module_lines(module)) == count
    for line in result.lines:
        assert line.week_start.weekday() == 0 and horizon.covers(line.week_start)
        assert line.shortfall == max(line.seats_needed - line.seats_published, 0)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_module_falls_on_the_first_day_the_booking_rules_would_take_it(scenario):
    rules, today, _, people = scenario
    for enrolment in people:
        assert days_for(enrolment, rules, today) == oracle_days(rules, enrolment, today)


@settings(max_examples=200, deadline=None)
@given(needed=st.integers(0, 400), published=st.integers(0, 400), capacity=st.integers(1, 500))
def test_the_suggested_sessions_cover_the_shortfall_with_no_session_to_spare(needed, published,
                                                                           capacity):
    line = WeekLine(weeks_after(14), 1, needed, published)
    made = suggest(RULES, line, UsualSession(capacity=capacity), NOW)
    places = sum(s.capacity for s in made)
    assert places >= line.shortfall
    assert places - capacity < line.shortfall or not made


def test_week_start_is_the_monday_on_or_before_a_day():
    assert week_start(date(2026, 11, 8)) == MONDAY
    assert week_start(MONDAY) == MONDAY
