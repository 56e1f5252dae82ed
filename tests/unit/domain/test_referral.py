from datetime import date, timedelta

from diversion.domain.programme import ProgrammeRules
from diversion.domain.referral import (
    NO_SESSION,
    BookingRecord,
    Notice,
    cancelled_by_the_service,
    modules_in_words,
    moves,
    replacement,
    rules_in_words,
    weeks_checked,
    weeks_without_a_place,
)

from .builders import DEADLINE, START, day, london, make_session

RULES = ProgrammeRules()
# Enrolled the week before the start date, so bookings made then are held from day one.
ENROLLED_AT = london(START - timedelta(days=7), 9)


def record(*, id=100, module=1, starts_at=None, status="booked", session_id=None,
           booked_at=ENROLLED_AT, cancelled_at=None, requested_by=None) -> BookingRecord:
    return BookingRecord(
        id=id, session_id=session_id if session_id is not None else 1000 + id, module=module,
        starts_at=starts_at or day(1), status=status, booked_at=booked_at,
        cancelled_at=cancelled_at, requested_by=requested_by)


def gaps(*, sessions=(), bookings=(), until=None, deadline=DEADLINE):
    return weeks_without_a_place(
        RULES, start_date=START, core_deadline=deadline, bookings=bookings,
        sessions=sessions, until=until or london(START + timedelta(days=20), 12))


def week_starts(found) -> list[date]:
    return [w.week_start for w in found]


# ---- weeks in which nothing could be booked -------------------------------------------

def test_every_week_without_a_session_of_the_needed_module_is_listed():
    found = gaps(sessions=[make_session(id=1, module=1, starts_at=day(8))])
    assert week_starts(found) == [START, START + timedelta(days=14)]
    assert found[0].modules == (1, 2, 3, 4, 5)
    assert found[0].refusals == (NO_SESSION,)
    assert found[0].in_words() == "No session of modules 1 to 5 was held."


def test_a_week_whose_only_session_is_full_is_listed_as_full():
    found = gaps(sessions=[make_session(id=1, module=1, starts_at=day(1), capacity=8, booked=8)],
                 until=london(START, 12))
    assert week_starts(found) == [START]
    assert found[0].by_module[0] == (1, ("session_full",))
    assert found[0].in_words() == ("Every session of module 1 was full; no session of "
                                   "modules 2 to 5 was held.")


def test_a_full_session_the_participant_had_a_seat_in_was_not_full_for_them():
    full = make_session(id=1, module=1, starts_at=day(3), capacity=8, booked=8)
    mine = record(session_id=1, starts_at=day(3), status="attended",
                  booked_at=london(START + timedelta(days=1), 10))
    assert gaps(sessions=[full], bookings=[mine], until=london(START, 12)) == []


def test_a_week_with_a_booking_still_to_come_is_not_listed():
    later = record(module=1, starts_at=day(15))
    assert gaps(bookings=[later], until=london(START + timedelta(days=13), 12)) == []


def test_a_session_the_service_cancelled_leaves_the_week_without_a_place():
    cancelled = make_session(id=1, module=1, starts_at=day(2), status="cancelled")
    found = gaps(sessions=[cancelled], until=london(START, 12))
    assert found[0].by_module[0] == (1, ("session_cancelled",))
    assert found[0].why().startswith("every session of module 1 was cancelled by the service")


def test_a_session_too_soon_after_the_last_one_does_not_fit():
    attended = record(module=1, session_id=1, starts_at=day(4), status="attended",
                      booked_at=london(START, 10))
    taken = make_session(id=1, module=1, starts_at=day(4), booked=1)
    too_soon = make_session(id=2, module=2, starts_at=day(9))
    found = gaps(sessions=[taken, too_soon], bookings=[attended],
                 until=london(START + timedelta(days=7), 12))
    assert week_starts(found) == [START + timedelta(days=7)]
    assert found[0].modules == (2, 3, 4, 5)
    assert found[0].by_module[0] == (2, ("spacing",))
    assert found[0].refusals == (NO_SESSION, "spacing")


def test_the_bookings_at_the_start_of_a_week_judge_it_not_those_made_later():
    # Module 1 was booked only in the third week: the first two had nothing in hand.
    late = record(module=1, session_id=1016, starts_at=day(16),
                  booked_at=london(START + timedelta(days=14), 9))
    found = gaps(bookings=[late], sessions=[make_session(id=1016, starts_at=day(16))])
    assert week_starts(found) == [START, START + timedelta(days=7)]


def test_weeks_stop_at_the_core_deadline_and_at_the_moment_asked():
    until = london(START + timedelta(days=400), 12)
    found = gaps(until=until, deadline=START + timedelta(days=15))
    assert week_starts(found) == [START, START + timedelta(days=7), START + timedelta(days=14)]
    assert week_starts(gaps(until=london(START + timedelta(days=8), 12))) == [
        START, START + timedelta(days=7)]
    assert weeks_checked(RULES, start_date=START, core_deadline=START + timedelta(days=15),
                         until=until) == week_starts(found)


def test_weeks_are_counted_from_the_start_date_not_from_the_monday_before():
    sunday = START - timedelta(days=1)
    before_start = make_session(id=1, starts_at=london(START - timedelta(days=2)))
    first_week = make_session(id=2, starts_at=london(START + timedelta(days=5)))
    found = weeks_without_a_place(
        RULES, start_date=sunday, core_deadline=DEADLINE, bookings=[],
        sessions=[before_start, first_week], until=london(sunday + timedelta(days=8), 12))
    assert week_starts(found) == [sunday + timedelta(days=7)]
    assert found[0].refusals == (NO_SESSION,)


def test_nothing_is_listed_once_every_core_module_is_attended():
    attended = [record(id=100 + m, module=m, starts_at=day(1 + 7 * (m - 1)), status="attended",
                       booked_at=ENROLLED_AT) for m in range(1, 6)]
    later = london(START + timedelta(days=60), 12)
    assert gaps(bookings=attended, until=later) == []


def test_each_needed_module_is_named_with_why_it_could_not_be_booked():
    later = make_session(id=1, module=2, starts_at=day(3))
    [week] = gaps(sessions=[later], until=london(START, 12))
    assert week.why() == ("no session of modules 1, 3, 4 and 5 was held; every session of "
                          "module 2 was out of order with their other bookings")


# ---- a booking's history ---------------------------------------------------------------

def test_a_booking_did_not_exist_before_it_was_made():
    booking = record(booked_at=london(START, 12))
    assert booking.as_at(london(START, 11)) is None
    assert booking.as_at(london(START, 13)).status == "booked"


def test_a_cancelled_booking_was_booked_until_it_was_cancelled():
    booking = record(status="cancelled", cancelled_at=london(START, 15))
    assert booking.as_at(london(START, 14)).status == "booked"
    assert booking.as_at(london(START, 16)) is None


def test_an_outcome_is_known_only_once_the_session_has_been_held():
    booking = record(starts_at=day(1), status="absent_unexcused")
    assert booking.as_at(day(0)).status == "booked"
    assert booking.as_at(day(2)).status == "absent_unexcused"


# ---- cancellations and moves --------------------------------------------------------------

def test_the_service_cancelled_what_the_participant_did_not_ask_for_before_the_referral():
    referred_at = london(START + timedelta(days=30), 10)
    by_session = record(id=1, status="cancelled", cancelled_at=day(3))
    asked = record(id=2, status="cancelled", cancelled_at=day(4), requested_by="participant")
    by_referral = record(id=3, status="cancelled", cancelled_at=referred_at)
    found = cancelled_by_the_service([by_session, asked, by_referral], referred_at)
    assert [b.id for b in found] == [1]


def test_a_cancelled_booking_is_replaced_by_the_next_booking_of_its_module():
    cancelled = record(id=1, module=2, status="cancelled", cancelled_at=day(3))
    other_module = record(id=2, module=3, booked_at=day(4))
    rebooked = record(id=3, module=2, booked_at=day(3))
    assert replacement(cancelled, [cancelled, other_module, rebooked]) == rebooked
    assert replacement(cancelled, [cancelled, other_module]) is None


def test_an_update_with_a_new_time_or_place_is_a_move_and_a_repeat_is_not():
    first, second = day(7), day(9)
    notices = [
        Notice("invitation", london(START, 9), first, "Hall"),
        Notice("reminder", london(START, 10), first, "Hall"),
        Notice("update", london(START, 11), first, "Hall"),
        Notice("update", london(START, 12), second, "Hall", message_id=4),
        Notice("update", london(START, 13), second, "Library"),
    ]
    found = moves(notices)
    assert [(m.from_starts_at, m.to_starts_at) for m in found] == [(first, second),
                                                                   (second, second)]
    assert (found[1].from_location, found[1].to_location) == ("Hall", "Library")
    assert (found[0].told_at, found[0].update_id) == (london(START, 12), 4)


# ---- words -------------------------------------------------------------------------------

def test_modules_are_named_as_people_say_them():
    assert modules_in_words([2]) == "module 2"
    assert modules_in_words([2, 4]) == "modules 2 and 4"
    assert modules_in_words([2, 3]) == "modules 2 and 3"
    assert modules_in_words([2, 3, 4, 5]) == "modules 2 to 5"
    assert modules_in_words([1, 3, 5]) == "modules 1, 3 and 5"
    assert modules_in_words([0]) == "the follow-up session"


def test_the_agreements_rules_are_sentences_with_weekdays_and_the_extension():
    words = rules_in_words(RULES, start_date=date(2027, 1, 4), core_deadline=date(2027, 5, 18),
                           original_core_deadline=date(2027, 5, 4))
    assert words[0] == ("Attend 5 core modules, each one session of 90 minutes, in order, "
                        "module 1 first, at least 7 days apart.")
    assert words[1] == ("Attend all 5 by the core deadline, Tuesday 18 May 2027 (extended from "
                        "Tuesday 4 May 2027, 4 months after the start on Monday 4 January 2027).")
    assert "_" not in " ".join(words)


def test_the_follow_up_rule_gives_its_dates_once_they_are_known():
    words = rules_in_words(RULES, start_date=date(2027, 1, 4), core_deadline=date(2027, 5, 4),
                           original_core_deadline=date(2027, 5, 4),
                           follow_up_due=date(2027, 12, 1),
                           follow_up_window=(date(2027, 11, 17), date(2027, 12, 15)))
    assert words[3].endswith("due Wednesday 1 December 2027, between Wednesday 17 November "
                             "2027 and Wednesday 15 December 2027.")

