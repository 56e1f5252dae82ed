"""A full session's waitlist: who may wait, and who is booked when a place frees."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from diversion.domain.errors import RuleViolation
from diversion.extensions import db
from diversion.models import Booking, CourseSession, WaitlistEntry
from diversion.services import bookings, decisions, planning, rebooking, waitlist
from tests.integration.course import messages_for, start_course


def _entry(entry_id: int) -> WaitlistEntry:
    return db.session.get(WaitlistEntry, entry_id, populate_existing=True)


def _booked_in(session_id: int) -> set[int]:
    return set(db.session.scalars(
        sa.select(Booking.enrolment_id)
        .where(Booking.session_id == session_id, Booking.status == "booked")
        .execution_options(populate_existing=True)))


def _places_taken(session_id: int) -> int:
    return db.session.get(CourseSession, session_id, populate_existing=True).booked


def _waiting(session_id: int) -> list[int]:
    return [p.entry.enrolment_id for p in waitlist.waiting_for(session_id)]


@pytest.fixture
def full(ctx):
    """Module 1 on Tuesday 12 January with one place, taken; two people waiting for it."""
    course = start_course()
    session_id = course.session(1, "2027-01-12T18:00", capacity=1)
    holder = course.enrol("MET/1")
    first = course.enrol("MET/2", email="ali@example.com")
    second = course.enrol("MET/3", email="kim@example.com")
    held = course.book(holder.id, session_id)
    one = waitlist.add(course.coordinator, session_id, first.id)
    two = waitlist.add(course.coordinator, session_id, second.id)
    return course, session_id, held, (holder.id, first.id, second.id), (one.id, two.id)


# ---- joining the list ----------------------------------------------------------------

def test_people_wait_in_the_order_they_were_added(full):
    _, session_id, _, (_, first, second), _ = full

    placed = waitlist.waiting_for(session_id)

    assert [(p.position, p.entry.enrolment_id) for p in placed] == [(1, first), (2, second)]


def test_a_session_with_a_free_place_is_booked_not_waitlisted(ctx):
    course = start_course()
    session_id = course.session(1, "2027-01-12T18:00", capacity=2)
    e = course.enrol()

    with pytest.raises(RuleViolation) as refused:
        waitlist.add(course.coordinator, session_id, e.id)

    assert (refused.value.code, refused.value.status) == ("places_available", 409)
    assert _waiting(session_id) == []


def test_someone_who_could_never_take_the_session_is_refused_with_the_rule(ctx):
    course = start_course()
    # Core deadline 4 May 2027: a session on 10 May can never count.
    session_id = course.session(1, "2027-05-10T18:00", capacity=1)
    course.book(course.enrol("MET/9", start=date(2027, 1, 20)).id, session_id)
    e = course.enrol()

    with pytest.raises(RuleViolation) as refused:
        waitlist.add(course.coordinator, session_id, e.id)

    assert (refused.value.code, refused.value.status) == ("after_deadline", 422)
    assert _waiting(session_id) == []


def test_being_put_on_the_same_list_twice_is_refused(full):
    course, session_id, _, (_, first, _), _ = full

    with pytest.raises(RuleViolation) as refused:
        waitlist.add(course.coordinator, session_id, first)

    assert (refused.value.code, refused.value.status) == ("already_on_waitlist", 409)
    assert len(_waiting(session_id)) == 2


def test_a_coordinator_takes_someone_off_the_list_and_the_next_moves_up(full):
    course, session_id, _, (_, _, second), (one, _) = full

    waitlist.remove(course.coordinator, one)

    assert [(p.position, p.entry.enrolment_id)
            for p in waitlist.waiting_for(session_id)] == [(1, second)]
    assert _entry(one).removed_code == "removed"


# ---- a place frees -------------------------------------------------------------------

def test_a_cancelled_booking_books_the_first_waiting_and_invites_them(full):
    course, session_id, held, (holder, first, second), (one, _) = full

    bookings.cancel_booking(course.coordinator, held)

    assert _booked_in(session_id) == {first}
    assert _places_taken(session_id) == 1
    entry = _entry(one)
    assert entry.removed_code == "booked"
    assert messages_for(entry.booking_id) == ["invitation", "reminder"]
    assert _waiting(session_id) == [second]


def test_someone_who_cannot_take_the_place_yet_keeps_their_turn(full):
    course, session_id, held, (_, first, second), _ = full
    # Module 1 already booked elsewhere: the place passes to the next, first stays first.
    course.book(first, course.session(1, "2027-01-19T18:00"))

    bookings.cancel_booking(course.coordinator, held)

    assert _booked_in(session_id) == {second}
    assert _waiting(session_id) == [first]


def test_someone_who_attended_the_module_meanwhile_leaves_the_list_with_the_reason(full):
    course, session_id, held, (_, first, second), (one, _) = full
    earlier = course.book(first, course.session(1, "2027-01-05T18:00"))

    course.record(earlier, "attended", at="2027-01-05T19:45:00+00:00")

    assert _waiting(session_id) == [second]
    entry = _entry(one)
    assert entry.removed_code == "module_already_attended"
    assert entry.removed_reason == "The participant has already attended module 1."


def test_a_larger_capacity_books_as_many_as_it_adds_in_order(full):
    course, session_id, _, (holder, first, second), _ = full

    rebooking.change_session(course.coordinator, session_id, capacity=3)

    assert _booked_in(session_id) == {holder, first, second}
    assert _places_taken(session_id) == 3
    assert _waiting(session_id) == []


def test_a_session_moved_past_someones_deadline_takes_them_off_its_list(ctx):
    course = start_course()
    session_id = course.session(1, "2027-04-28T18:00", capacity=1)
    course.book(course.enrol("MET/9", start=date(2027, 1, 20)).id, session_id)
    early = course.enrol()  # core deadline 4 May 2027
    entry = waitlist.add(course.coordinator, session_id, early.id)

    rebooking.change_session(course.coordinator, session_id,
                             starts_at=datetime.fromisoformat("2027-05-10T18:00"))

    assert _waiting(session_id) == []
    assert _entry(entry.id).removed_code == "after_deadline"
    assert "after the core deadline" in _entry(entry.id).removed_reason


def test_a_booking_moved_away_with_its_session_gives_the_place_to_the_list(ctx):
    course = start_course()
    module_one = course.session(1, "2027-01-05T18:00", capacity=1)
    holder = course.enrol()
    course.book(holder.id, module_one)
    course.book(holder.id, course.session(2, "2027-01-12T18:00"))
    waiting = course.enrol("MET/2", email="ali@example.com")
    waitlist.add(course.coordinator, module_one, waiting.id)

    # Two days before the holder's module 2: spacing breaks for them, not for the list.
    rebooking.change_session(course.coordinator, module_one, rebook=True,
                             starts_at=datetime.fromisoformat("2027-01-10T18:00"))

    assert _booked_in(module_one) == {waiting.id}
    assert _waiting(module_one) == []


def test_a_cancelled_session_rebooking_its_people_frees_their_later_places(ctx):
    course = start_course()
    cancelled = course.session(1, "2027-01-05T18:00")
    module_two = course.session(2, "2027-01-12T18:00", capacity=1)
    course.session(1, "2027-01-19T18:00")
    course.session(2, "2027-01-26T18:00")
    holder = course.enrol()
    course.book(holder.id, cancelled)
    course.book(holder.id, module_two)
    waiting = course.enrol("MET/2", email="ali@example.com")
    course.book(waiting.id, course.session(1, "2027-01-04T18:00", capacity=1))
    waitlist.add(course.coordinator, module_two, waiting.id)

    change = rebooking.cancel_session(course.coordinator, cancelled, reason="Room flooded",
                                      rebook=True)

    assert [r.enrolment_id for r in change.rebooked] == [holder.id]
    assert _booked_in(module_two) == {waiting.id}


def test_a_cancelled_sessions_list_leaves_with_it(full):
    course, session_id, _, _, (one, two) = full

    rebooking.cancel_session(course.coordinator, session_id, reason="Room flooded")

    assert _waiting(session_id) == []
    assert {_entry(one).removed_code, _entry(two).removed_code} == {"session_cancelled"}


def test_a_withdrawal_gives_its_places_to_the_lists_and_leaves_its_own(full):
    course, session_id, _, (holder, first, second), _ = full
    other = course.session(1, "2027-01-19T18:00", capacity=1)
    course.book(second, other)
    holders_entry = waitlist.add(course.coordinator, other, holder)

    decisions.decide(course.officer, holder, decision="withdraw",
                     reason="The prosecutor ended the agreement")

    assert _booked_in(session_id) == {first}
    entry = _entry(holders_entry.id)
    assert entry.removed_code == "enrolment_closed"
    assert "withdrawn" in entry.removed_reason




def test_a_coordinator_booking_someone_into_the_session_they_wait_for_ends_their_wait(ctx):
    course = start_course()
    session_id = course.session(1, "2027-01-12T18:00", capacity=1)
    held = course.book(course.enrol().id, session_id)
    waiting = course.enrol("MET/2", email="ali@example.com")
    elsewhere = course.book(waiting.id, course.session(1, "2027-01-19T18:00"))
    entry = waitlist.add(course.coordinator, session_id, waiting.id)
    # The place frees while they hold module 1 elsewhere: they keep their turn.
    bookings.cancel_booking(course.coordinator, held)
    bookings.cancel_booking(course.coordinator, elsewhere)

    course.book(waiting.id, session_id)

    assert _waiting(session_id) == []
    assert _entry(entry.id).removed_code == "booked"


def test_a_plan_releasing_a_later_booking_gives_its_place_to_the_list(ctx):
    course = start_course()
    first_module_one = course.session(1, "2027-01-05T18:00")
    module_two = course.session(2, "2027-01-12T18:00", capacity=1)
    course.session(1, "2027-01-19T18:00")
    course.session(2, "2027-01-26T18:00")
    for module, day in ((3, "02"), (4, "09"), (5, "16")):
        course.session(module, f"2027-02-{day}T18:00")
    holder = course.enrol()
    course.book(holder.id, first_module_one)
    course.book(holder.id, module_two)
    waiting = course.enrol("MET/2", email="ali@example.com")
    course.book(waiting.id, course.session(1, "2027-01-04T18:00", capacity=1))
    waitlist.add(course.coordinator, module_two, waiting.id)
    rebooking.cancel_session(course.coordinator, first_module_one, reason="Room flooded")

    # Module 1 now fits only after the module 2 booking: the plan lets that one go.
    planning.plan_enrolment(course.coordinator, holder.id)

    assert _booked_in(module_two) == {waiting.id}
    assert _waiting(module_two) == []
