"""Flags are raised as soon as an enrolment's facts change, not at the next morning's sweep.

Each use case that changes the facts (a booking or session cancelled, a session moved,
a decision, an extension, an attendance) re-evaluates the enrolments it touched in its
own transaction, through the same rule the sweep applies.
"""

from __future__ import annotations

from datetime import datetime

from diversion import clock
from diversion.services import bookings, compliance, decisions, rebooking
from tests.integration.course import Course, flags_of, start_course

# Modules 1 to 4 on the Tuesdays of January; the core deadline is 4 May 2027, so the
# 28 days before it begin on 6 April.
JANUARY = ["2027-01-05T18:00", "2027-01-12T18:00", "2027-01-19T18:00", "2027-01-26T18:00"]
AFTER = {1: "2027-01-05T19:45:00+00:00", 2: "2027-01-12T19:45:00+00:00",
         3: "2027-01-19T19:45:00+00:00", 4: "2027-01-26T19:45:00+00:00"}


def _sessions(course: Course, fifth: str = "2027-04-20T18:00") -> list[int]:
    """Publish modules 1 to 4 in January and module 5 on ``fifth``."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    return [course.session(m, at) for m, at in enumerate([*JANUARY, fifth], 1)]


def _four_attended(course: Course, published: list[int], reference: str = "MET/1"
                   ) -> tuple[int, int]:
    """Enrol, book all five, attend modules 1 to 4; return the enrolment and module 5's booking."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    e = course.enrol(reference, email=f"{reference.replace('/', '')}@example.com")
    booked = [course.book(e.id, session_id) for session_id in published]
    for module, booking_id in enumerate(booked[:4], 1):
        course.record(booking_id, "attended", at=AFTER[module])
    return e.id, booked[4]


def test_cancelling_the_only_booking_of_module_5_near_the_deadline_puts_it_at_risk_at_once(ctx):
    course = start_course()
    enrolment_id, fifth = _four_attended(course, _sessions(course))
    clock.set_now("2027-04-10T11:00:00+01:00")
    assert flags_of(enrolment_id) == []

    bookings.cancel_booking(course.coordinator, fifth, reason="Participant asked")

    [flag] = flags_of(enrolment_id, "open")
    assert flag.kind == "at_risk"
    assert flag.detail == "Core deadline 4 May 2027 is 24 days away and module 5 has no booking"
    assert flag.raised_at == clock.now()
    # The morning sweep applies the same rule: it finds nothing more to raise.
    assert compliance.sweep().raised == 0


def test_cancelling_a_booking_far_from_the_deadline_raises_no_flag(ctx):
    course = start_course()
    enrolment_id, fifth = _four_attended(course, _sessions(course))
    clock.set_now("2027-02-01T11:00:00+00:00")

    bookings.cancel_booking(course.coordinator, fifth)

    assert flags_of(enrolment_id) == []


def test_cancelling_a_session_near_the_deadline_puts_each_participant_at_risk_at_once(ctx):
    course = start_course()
    published = _sessions(course)
    first, _ = _four_attended(course, published, "MET/1")
    second, _ = _four_attended(course, published, "MET/2")
    clock.set_now("2027-04-10T11:00:00+01:00")

    outcome = rebooking.cancel_session(course.coordinator, published[4], reason="Room flooded")

    assert len(outcome.cancelled) == 2
    for enrolment_id in (first, second):
        assert [f.kind for f in flags_of(enrolment_id, "open")] == ["at_risk"]


def test_a_session_cancelled_with_rebooking_into_a_later_one_raises_no_flag(ctx):
    course = start_course()
    published = _sessions(course)
    enrolment_id, _ = _four_attended(course, published)
    clock.set_now("2027-04-10T11:00:00+01:00")
    course.session(5, "2027-04-27T18:00")

    outcome = rebooking.cancel_session(course.coordinator, published[4], reason="Room flooded",
                                       rebook=True)

    assert len(outcome.rebooked) == 1
    assert flags_of(enrolment_id) == []


def test_moving_a_session_brings_the_flags_of_everyone_booked_on_it_up_to_date_at_once(ctx):
    course = start_course()
    e = course.enrol()
    first = course.book(e.id, course.session(1, "2027-01-05T18:00"))
    second = course.session(2, "2027-04-22T18:00")
    course.book(e.id, second)
    course.record(first, "attended", at=AFTER[1])
    # By 20 April the four modules left cannot fit before 4 May at 7 days apart, and
    # modules 3 to 5 have no booking; no sweep has run since.
    clock.set_now("2027-04-20T11:00:00+01:00")
    assert flags_of(e.id) == []

    rebooking.change_session(course.coordinator, second,
                             starts_at=datetime.fromisoformat("2027-04-23T18:00"))

    causes = sorted(f.cause.split(":")[0] for f in flags_of(e.id, "open"))
    assert causes == ["cannot_fit", "unbooked_near_deadline"]


def test_an_excused_absence_near_the_deadline_leaves_module_5_unbooked_and_at_risk_at_once(ctx):
    course = start_course()
    enrolment_id, fifth = _four_attended(course, _sessions(course))

    course.record(fifth, "absent_excused", at="2027-04-20T19:45:00+01:00", reason="Ill")

    [flag] = flags_of(enrolment_id, "open")
    assert (flag.kind, flag.cause) == ("at_risk", "unbooked_near_deadline:2027-05-04")


def test_an_extension_too_short_for_the_modules_left_puts_it_at_risk_at_once(ctx):
    course = start_course()
    e = course.enrol()
    clock.set_now("2027-05-05T10:00:00+01:00")  # the day after the deadline, no module done
    compliance.sweep()
    assert [f.kind for f in flags_of(e.id, "open")] == ["non_completion"]

    decisions.decide(course.officer, e.id, decision="continue", reason="Was in hospital",
                     extend_days=14)

    # Five modules at 7 days apart need 28 days; 14 more leave the new deadline short.
    open_flags = flags_of(e.id, "open")
    assert sorted(f.cause for f in open_flags) == ["cannot_fit:2027-05-18",
                                                   "unbooked_near_deadline:2027-05-18"]
    assert [f.kind for f in flags_of(e.id, "closed")] == ["non_completion"]


def test_a_decision_to_continue_closes_the_flags_and_does_not_raise_them_again(ctx):
    course = start_course()
    enrolment_id, fifth = _four_attended(course, _sessions(course))
    course.record(fifth, "absent_unexcused", at="2027-04-20T19:45:00+01:00")
    assert len(flags_of(enrolment_id, "open")) == 2  # the absence, and module 5 unbooked

    decisions.decide(course.officer, enrolment_id, decision="continue",
                     reason="Will rebook module 5 this week")

    assert flags_of(enrolment_id, "open") == []
    assert len(flags_of(enrolment_id, "closed")) == 2
