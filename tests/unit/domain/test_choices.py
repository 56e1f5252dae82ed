"""Only what fits is offered: the sessions a participant may book, or why none fits."""

from datetime import timedelta

from diversion.domain.choices import choices
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules

from .builders import DEADLINE, NOW, attended_core, day, london, make_booking, make_enrolment
from .builders import make_session as session

RULES = ProgrammeRules()


def test_only_the_sessions_every_rule_allows_are_offered_earliest_first():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(7), status="attended")])
    offered = [
        session(id=4, module=2, starts_at=day(21)),
        session(id=1, module=2, starts_at=day(10)),  # three days after module 1
        session(id=2, module=2, starts_at=day(14)),
        session(id=3, module=2, starts_at=day(15), capacity=6, booked=6),  # full
        session(id=5, module=3, starts_at=day(28)),  # another module
    ]

    [choice] = choices(RULES, enrolment, [2], offered, day(8))

    assert [s.id for s in choice.fits] == [2, 4]
    assert choice.why_none is None


def test_with_nothing_published_before_the_deadline_it_says_so_with_the_deadline():
    [choice] = choices(RULES, make_enrolment(), [2], [], NOW)

    assert choice.fits == ()
    assert choice.why_none == ("No module 2 session is published before the core deadline "
                               "(2 March 2027).")


def test_when_every_session_is_refused_it_names_the_rule_that_refused_most_with_an_example():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(7), status="attended")])
    offered = [session(id=n, module=2, starts_at=day(8 + n)) for n in range(5)]
    offered.append(session(id=9, module=2, starts_at=day(20), capacity=4, booked=4))

    [choice] = choices(RULES, enrolment, [2], offered, day(7) + timedelta(hours=2))

    assert choice.fits == ()
    assert choice.why_none.startswith(
        "None of the 6 module 2 sessions published up to 2 March 2027 can be booked "
        "(5 are too close to another of their sessions and 1 is full). Module 2 on "
        "10 November 2026 would be 1 day from module 1")


def test_a_register_never_taken_leads_the_reason_because_it_is_what_to_do_first():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=2, module=2, starts_at=day(7), status="absent_unexcused"),
        make_booking(id=3, module=3, starts_at=day(14)),
        make_booking(id=4, module=4, starts_at=day(40)),
    ])
    offered = [session(id=n, module=2, starts_at=day(20 + 7 * n)) for n in range(3)]

    [choice] = choices(RULES, enrolment, [2], offered, day(16))

    assert choice.code == "register_overdue"
    assert "Record the register for module 3 on 16 November 2026 first" in choice.why_none


def test_the_follow_up_is_offered_only_inside_its_window_and_says_when_the_window_is():
    window = (london(DEADLINE).date() + timedelta(days=200), DEADLINE + timedelta(days=228))
    enrolment = make_enrolment(status="awaiting_follow_up", bookings=attended_core(),
                               follow_up_window=window)

    [choice] = choices(RULES, enrolment, [FOLLOW_UP], [], NOW)

    assert choice.why_none == ("No follow-up session is published in the follow-up window "
                               "(18 September 2027 to 16 October 2027).")
