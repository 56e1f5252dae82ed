"""A participant's own moves: allowed until the cutoff before the start, so many times."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from diversion.domain.errors import RuleViolation
from diversion.domain.self_service import (
    SelfServiceLimits,
    check_move,
    move_refusal,
)

LIMITS = SelfServiceLimits(cutoff_hours=24, moves=2)
STARTS = datetime(2027, 3, 9, 18, 0, tzinfo=UTC)  # Tuesday 9 March 2027, 6pm in London


def _code(limits, moves_made, now):
    refusal = move_refusal(limits, STARTS, moves_made, now)
    return None if refusal is None else refusal.code


def test_a_move_is_allowed_at_exactly_the_cutoff_and_closed_a_second_later():
    cutoff = STARTS - timedelta(hours=24)

    assert _code(LIMITS, 0, cutoff) is None
    assert _code(LIMITS, 0, cutoff + timedelta(seconds=1)) == "self_service_closed"


def test_the_cutoff_counts_elapsed_hours_across_the_clock_change():
    # 6pm BST on Sunday 28 March 2027, the day the clocks go forward: 24 hours before is
    # 5pm GMT on the Saturday, not 6pm as the wall clock of the day before would say.
    sunday = datetime(2027, 3, 28, 18, 0, tzinfo=ZoneInfo("Europe/London"))

    assert LIMITS.closes_at(sunday) == datetime(2027, 3, 27, 17, 0, tzinfo=UTC)


def test_the_last_move_allowed_is_the_one_that_reaches_the_limit():
    early = STARTS - timedelta(days=7)

    assert _code(LIMITS, 1, early) is None
    assert _code(LIMITS, 2, early) == "self_service_limit"
    assert _code(LIMITS, 5, early) == "self_service_limit"


def test_too_close_is_said_before_too_many():
    assert _code(LIMITS, 2, STARTS - timedelta(hours=1)) == "self_service_closed"


def test_an_appointment_under_way_cannot_be_moved_even_without_a_cutoff():
    no_cutoff = SelfServiceLimits(cutoff_hours=0, moves=2)

    assert _code(no_cutoff, 0, STARTS - timedelta(seconds=1)) is None
    assert _code(no_cutoff, 0, STARTS) == "self_service_closed"


def test_a_programme_that_allows_no_moves_refuses_the_first():
    assert _code(SelfServiceLimits(cutoff_hours=24, moves=0), 0,
                 STARTS - timedelta(days=7)) == "self_service_limit"


def test_moves_left_never_goes_below_none():
    assert [LIMITS.moves_left(made) for made in (0, 1, 2, 3)] == [2, 1, 0, 0]


def test_check_move_raises_the_refusal_as_a_422_rule_code():
    with pytest.raises(RuleViolation) as refused:
        check_move(LIMITS, STARTS, 0, STARTS - timedelta(hours=2))

    assert refused.value.code == "self_service_closed"
    assert refused.value.status == 422
    assert "24 hours before" in refused.value.message


def test_negative_limits_are_refused():
    with pytest.raises(ValueError):
        SelfServiceLimits(cutoff_hours=-1)
