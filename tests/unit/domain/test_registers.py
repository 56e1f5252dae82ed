"""Registers: where a session stands, and which bookings still wait for an outcome."""

from datetime import timedelta

import pytest

from diversion.domain.programme import ProgrammeRules
from diversion.domain.registers import overdue_bookings, session_state

from .builders import day, make_booking, make_enrolment

RULES = ProgrammeRules()
STARTS = day(7)
ENDS = STARTS + timedelta(minutes=90)


@pytest.mark.parametrize(("now", "missing", "state"), [
    (STARTS - timedelta(minutes=1), 4, "scheduled"),
    (STARTS, 4, "in_progress"),
    (STARTS + timedelta(minutes=30), 0, "held"),
    (ENDS, 4, "register_overdue"),
    (ENDS + timedelta(days=30), 1, "register_overdue"),
    (ENDS + timedelta(days=30), 0, "held"),
])
def test_a_session_is_held_once_every_outcome_is_in_and_overdue_after_its_end_until_then(
        now, missing, state):
    assert session_state("scheduled", STARTS, ENDS, missing, now) == state


def test_a_cancelled_session_stays_cancelled_whatever_its_register():
    assert session_state("cancelled", STARTS, ENDS, 3, ENDS + timedelta(days=1)) == "cancelled"


def test_a_booking_is_overdue_once_its_session_has_ended_without_an_outcome():
    enrolment = make_enrolment(bookings=[
        make_booking(id=1, module=1, starts_at=day(0), status="attended"),
        make_booking(id=3, module=3, starts_at=day(14)),
        make_booking(id=2, module=2, starts_at=day(7)),
        make_booking(id=4, module=4, starts_at=day(21)),
    ])
    now = day(21) + timedelta(minutes=89)

    assert [b.id for b in overdue_bookings(RULES, enrolment, now)] == [2, 3]
