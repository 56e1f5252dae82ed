"""What a list shows about an enrolment: its concerns and its next session still to come."""

from datetime import date, timedelta

from diversion.domain.programme import ProgrammeRules
from diversion.domain.standing import standing

from .builders import DEADLINE, attended_core, day, london, make_booking, make_enrolment

RULES = ProgrammeRules()


def test_an_enrolment_on_track_has_no_concerns_and_its_next_session_is_the_next_to_come():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=3, module=3, starts_at=day(14)),
        make_booking(id=2, module=2, starts_at=day(7)),
    ])

    found = standing(RULES, enrolment, [], day(3))

    assert found.concerns == ()
    assert found.next_session is not None and found.next_session.id == 2


def test_a_session_that_has_happened_is_never_the_next_one():
    enrolment = make_enrolment(bookings=[make_booking(id=1, module=1, starts_at=day(0))])

    assert standing(RULES, enrolment, [], day(30)).next_session is None


def test_a_register_never_taken_and_an_open_at_risk_flag_both_show():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="absent_unexcused"),
        make_booking(id=2, module=1, starts_at=day(7)),
    ])

    found = standing(RULES, enrolment, ["at_risk"], day(8))

    assert found.concerns == ("at_risk", "register_overdue")


def test_a_passed_core_deadline_shows_before_the_sweep_raises_its_flag():
    enrolment = make_enrolment(bookings=attended_core(count=3))

    after = london(DEADLINE + timedelta(days=1), 9)
    assert standing(RULES, enrolment, [], after).concerns == ("deadline_passed",)
    assert standing(RULES, enrolment, [], london(DEADLINE, 9)).concerns == ()


def test_a_follow_up_missed_shows_from_its_open_flag():
    enrolment = make_enrolment(status="awaiting_follow_up", bookings=attended_core(),
                               follow_up_window=(date(2027, 10, 1), date(2027, 10, 29)))

    found = standing(RULES, enrolment, ["follow_up_missed"], london(date(2027, 10, 30), 9))

    assert found.concerns == ("follow_up_missed",)


def test_a_closed_enrolment_shows_no_concerns_even_with_history_that_would():
    enrolment = make_enrolment(status="referred", bookings=[
        make_booking(id=1, module=1, starts_at=day(0))])

    assert standing(RULES, enrolment, ["at_risk"], day(200)).concerns == ()
