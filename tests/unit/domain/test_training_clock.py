"""How far the training clock may move: forward only, on the wall clock, within reason."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from diversion.domain.errors import RuleViolation
from diversion.domain.training import moved_clock
from diversion.domain.vocabulary import LONDON

TUESDAY_9AM = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def test_a_day_and_a_week_keep_the_time_of_day_across_the_clock_change():
    saturday = datetime(2027, 3, 27, 9, 0, tzinfo=LONDON)  # British Summer Time from Sunday
    assert moved_clock(saturday, "day", None, LONDON) == datetime(2027, 3, 28, 9, 0,
                                                                  tzinfo=LONDON)
    assert moved_clock(saturday, "week", None, LONDON).astimezone(UTC) == datetime(
        2027, 4, 3, 8, 0, tzinfo=UTC)


def test_a_date_lands_at_nine_in_the_morning_there():
    assert moved_clock(TUESDAY_9AM, "date", date(2027, 7, 1), LONDON).astimezone(UTC) == \
        datetime(2027, 7, 1, 8, 0, tzinfo=UTC)


def test_the_clock_never_moves_back_or_stands_still():
    for day in (date(2027, 1, 11), date(2027, 1, 12)):
        with pytest.raises(RuleViolation) as refusal:
            moved_clock(TUESDAY_9AM, "date", day, LONDON)
        assert refusal.value.code == "clock_backwards"
        assert refusal.value.message.endswith("choose 13 January 2027 or later")
    early = datetime(2027, 1, 12, 7, 30, tzinfo=UTC)
    assert moved_clock(early, "date", date(2027, 1, 12), LONDON) == datetime(
        2027, 1, 12, 9, 0, tzinfo=LONDON)


def test_a_date_years_away_or_an_unknown_move_is_refused():
    with pytest.raises(RuleViolation) as too_far:
        moved_clock(TUESDAY_9AM, "date", date(2031, 1, 12), LONDON)
    assert too_far.value.code == "clock_too_far"
    with pytest.raises(RuleViolation) as unknown:
        moved_clock(TUESDAY_9AM, "month", None, LONDON)
    assert unknown.value.code == "invalid_clock_move"
