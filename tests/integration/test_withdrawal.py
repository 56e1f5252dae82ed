"""A case officer withdraws an enrolment: closed, its future sessions cancelled, flags closed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.extensions import db
from diversion.models import AuditEvent, CourseSession, Decision
from diversion.services import InvalidInput, NotFound, decisions, enrolments, oversight
from diversion.services.accounts import actor_for
from tests.conftest import make_user
from tests.integration.course import (
    audit_details,
    booking,
    enrolment,
    flags_of,
    messages_for,
    start_course,
)


@pytest.fixture
def withdrawable(ctx):
    """Module 1 attended, module 2 missed without excuse (a flag), modules 3 and 4 booked."""
    course = start_course()
    e = course.enrol()
    days = ["2027-01-05T18:00", "2027-01-12T18:00", "2027-01-19T18:00", "2027-01-26T18:00"]
    booked = [course.book(e.id, course.session(m, at)) for m, at in enumerate(days, 1)]
    course.record(booked[0], "attended", at="2027-01-05T19:45:00+00:00")
    course.record(booked[1], "absent_unexcused", at="2027-01-12T19:45:00+00:00")
    clock.set_now("2027-01-13T10:00:00+00:00")
    return course, e.id, booked


def _withdraw(course, enrolment_id, reason="The prosecutor ended the agreement"):
    return decisions.decide(course.officer, enrolment_id, decision="withdraw", reason=reason)


def test_a_withdrawal_closes_the_enrolment_as_withdrawn_with_who_when_and_why(withdrawable):
    course, enrolment_id, _ = withdrawable

    record = _withdraw(course, enrolment_id)

    e = enrolment(enrolment_id)
    assert e.status == "withdrawn"
    assert e.closed_at == clock.now()
    decision = db.session.get(Decision, record.id)
    assert (decision.decision, decision.reason, decision.decided_by_id, decision.decided_at) == (
        "withdraw", "The prosecutor ended the agreement", course.officer.user_id, clock.now())


def test_a_withdrawal_cancels_every_future_booking_and_sends_each_a_cancellation(withdrawable):
    course, enrolment_id, booked = withdrawable
    attended, missed, third, fourth = booked

    _withdraw(course, enrolment_id)

    assert [booking(b).status for b in booked] == [
        "attended", "absent_unexcused", "cancelled", "cancelled"]
    assert messages_for(third) == ["invitation", "reminder", "cancellation"]
    assert messages_for(fourth)[-1] == "cancellation"
    assert messages_for(attended)[-1] != "cancellation"
    # The places are free for someone else.
    seats = db.session.scalars(sa.select(CourseSession.booked).where(
        CourseSession.id.in_([booking(third).session_id, booking(fourth).session_id])))
    assert list(seats) == [0, 0]


def test_a_withdrawal_closes_every_open_flag(withdrawable):
    course, enrolment_id, _ = withdrawable
    assert [f.kind for f in flags_of(enrolment_id, "open")] == ["at_risk"]

    record = _withdraw(course, enrolment_id)

    [flag] = flags_of(enrolment_id)
    assert (flag.status, flag.closed_by_decision_id) == ("closed", record.id)


def test_a_withdrawal_is_audited_with_the_bookings_it_cancelled(withdrawable):
    course, enrolment_id, booked = withdrawable

    _withdraw(course, enrolment_id)

    [detail] = audit_details("enrolment", enrolment_id)
    assert detail["decision"] == "withdraw"
    assert detail["status"] == "withdrawn"
    assert detail["cancelled_bookings"] == booked[2:]


def test_a_withdrawn_enrolment_raises_no_flag_however_much_time_passes(withdrawable):
    from diversion.services import compliance

    course, enrolment_id, _ = withdrawable
    _withdraw(course, enrolment_id)

    clock.set_now("2027-06-01T06:00:00+01:00")
    compliance.sweep()

    assert flags_of(enrolment_id, "open") == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_withdrawal_without_a_reason_is_refused_and_changes_nothing(withdrawable, reason):
    course, enrolment_id, booked = withdrawable

    with pytest.raises(InvalidInput) as refusal:
        _withdraw(course, enrolment_id, reason=reason)

    assert refusal.value.field == "reason"
    assert enrolment(enrolment_id).status == "enrolled"
    assert booking(booked[2]).status == "booked"


def test_a_withdrawal_cannot_extend_a_deadline(withdrawable):
    course, enrolment_id, _ = withdrawable

    with pytest.raises(InvalidInput) as refusal:
        decisions.decide(course.officer, enrolment_id, decision="withdraw", reason="Moved",
                         extend_days=10)

    assert refusal.value.field == "extend_days"
    assert enrolment(enrolment_id).status == "enrolled"


@pytest.mark.parametrize("first", ["refer", "withdraw"])
def test_an_enrolment_already_closed_cannot_be_withdrawn(withdrawable, first):
    course, enrolment_id, _ = withdrawable
    decisions.decide(course.officer, enrolment_id, decision=first, reason="First decision")

    with pytest.raises(RuleViolation) as refusal:
        _withdraw(course, enrolment_id, reason="Second decision")

    assert refusal.value.code == "enrolment_closed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 1


def test_another_forces_officer_cannot_withdraw_the_enrolment(withdrawable):
    course, enrolment_id, booked = withdrawable
    other = actor_for(make_user(role="case_officer", force="KENT", email="kent@example.gov.uk"))

    with pytest.raises(NotFound):
        decisions.decide(other, enrolment_id, decision="withdraw", reason="Not mine")

    assert enrolment(enrolment_id).status == "enrolled"
    assert booking(booked[3]).status == "booked"


def test_the_consequences_of_a_withdrawal_are_shown_without_changing_anything(withdrawable):
    course, enrolment_id, booked = withdrawable

    outcome = decisions.consequences(course.officer, enrolment_id, "withdraw")

    assert [b.id for b in outcome.future_bookings] == booked[2:]
    assert [f.kind for f in outcome.open_flags] == ["at_risk"]
    assert outcome.status_after == "withdrawn"
    assert enrolment(enrolment_id).status == "enrolled"
    assert booking(booked[2]).status == "booked"
    # Reading the enrolment to show them is a read like any other.
    reads = db.session.scalars(sa.select(AuditEvent.object_id).where(
        AuditEvent.action == "read", AuditEvent.object_type == "enrolment"))
    assert str(enrolment_id) in list(reads)


def test_the_timeline_shows_the_withdrawal_and_the_cancelled_sessions(withdrawable):
    course, enrolment_id, _ = withdrawable
    _withdraw(course, enrolment_id)

    _, events = oversight.timeline(course.officer, enrolment_id)

    texts = [event.text for event in events]
    assert any(t.startswith("Decision: withdraw by case_officer.met@example.gov.uk — "
                            "The prosecutor ended the agreement") for t in texts)
    assert ("Module 3 booking cancelled: Arrangement ended "
            "(asked by case_officer.met@example.gov.uk)") in texts


def test_withdrawn_enrolments_are_listed_by_their_status(withdrawable):
    course, enrolment_id, _ = withdrawable
    other = course.enrol("MET/2", email="jo@example.com")
    _withdraw(course, enrolment_id)

    listed = enrolments.list_enrolments(course.officer, status="withdrawn")

    assert [e.id for e in listed] == [enrolment_id]
    assert [e.id for e in enrolments.list_enrolments(course.officer, status="enrolled")] == [
        other.id]
