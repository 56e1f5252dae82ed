from datetime import date, timedelta

import pytest

from diversion.domain.compliance import flags_due
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules

from .builders import DEADLINE, attended_core, london, make_booking, make_enrolment

RULES = ProgrammeRules()
WINDOW = (date(2027, 10, 20), date(2027, 11, 17))
QUIET_DAY = DEADLINE - timedelta(days=60)


def causes(enrolment, today):
    return [f.cause for f in flags_due(RULES, enrolment, today)]


def kinds(enrolment, today):
    return {f.cause.split(":")[0]: f.kind for f in flags_due(RULES, enrolment, today)}


def all_core_booked(attended: int = 0):
    return [
        make_booking(
            id=100 + m,
            module=m,
            starts_at=london(DEADLINE - timedelta(days=7 * (5 - m))),
            status="attended" if m <= attended else "booked",
        )
        for m in range(1, 6)
    ]


def test_an_enrolment_on_track_raises_no_flag():
    assert flags_due(RULES, make_enrolment(bookings=all_core_booked()), QUIET_DAY) == []


class TestUnexcusedAbsence:
    def test_an_unexcused_absence_puts_the_enrolment_at_risk_at_once(self):
        absent = make_booking(
            id=42, module=3, starts_at=london(date(2027, 3, 4)), status="absent_unexcused"
        )
        (flag,) = flags_due(RULES, make_enrolment(bookings=[absent]), QUIET_DAY)

        assert flag.kind == "at_risk"
        assert flag.cause == "unexcused_absence:42"
        assert flag.detail == "Module 3 on 4 March 2027: absent without excuse"

    def test_an_excused_absence_raises_no_flag(self):
        absent = make_booking(id=42, module=3, status="absent_excused")
        assert flags_due(RULES, make_enrolment(bookings=[absent]), QUIET_DAY) == []

    def test_each_unexcused_absence_has_its_own_cause(self):
        absences = [
            make_booking(
                id=i,
                module=1,
                starts_at=london(date(2026, 11, 5 + 7 * i)),
                status="absent_unexcused",
            )
            for i in (1, 2)
        ]
        assert causes(make_enrolment(bookings=absences), QUIET_DAY) == [
            "unexcused_absence:1",
            "unexcused_absence:2",
        ]

    def test_an_unexcused_follow_up_absence_puts_the_enrolment_at_risk(self):
        missed = make_booking(
            id=7, module=FOLLOW_UP, starts_at=london(WINDOW[0]), status="absent_unexcused"
        )
        enrolment = make_enrolment(
            status="awaiting_follow_up",
            follow_up_window=WINDOW,
            bookings=[*attended_core(), missed],
        )
        (flag,) = flags_due(RULES, enrolment, WINDOW[0])
        assert flag.detail == "The follow-up session on 20 October 2027: absent without excuse"


class TestCoreDeadline:
    def test_the_deadline_day_itself_raises_no_non_completion_flag(self):
        enrolment = make_enrolment(bookings=all_core_booked(attended=3))
        assert "core_deadline" not in kinds(enrolment, DEADLINE)

    def test_the_day_after_the_deadline_flags_non_completion(self):
        enrolment = make_enrolment(bookings=all_core_booked(attended=3))

        flags = flags_due(RULES, enrolment, DEADLINE + timedelta(days=1))

        assert [(f.kind, f.cause) for f in flags] == [
            ("non_completion", "core_deadline:2027-03-02")
        ]
        assert flags[0].detail == "Core deadline 2 March 2027 passed with 3 of 5 modules attended"

    def test_a_completed_core_raises_no_flag_after_the_deadline(self):
        enrolment = make_enrolment(bookings=all_core_booked(attended=5))
        assert flags_due(RULES, enrolment, DEADLINE + timedelta(days=30)) == []

    def test_an_extended_deadline_raises_no_flag_on_the_old_one(self):
        extended = make_enrolment(
            core_deadline=DEADLINE + timedelta(days=30), bookings=all_core_booked(attended=3)
        )
        assert flags_due(RULES, extended, DEADLINE + timedelta(days=1)) == []

    def test_a_flag_after_an_extended_deadline_has_a_new_cause(self):
        later = DEADLINE + timedelta(days=30)
        extended = make_enrolment(core_deadline=later, bookings=all_core_booked(attended=3))
        assert causes(extended, later + timedelta(days=1)) == ["core_deadline:2027-04-01"]


class TestCannotFit:
    # Three modules still to attend need 14 days at 7 days apart: the last day they fit
    # is 14 days before the deadline.
    enrolment = make_enrolment(bookings=all_core_booked(attended=2))

    def test_the_modules_left_still_fit_on_the_last_possible_day(self):
        assert "cannot_fit" not in kinds(self.enrolment, DEADLINE - timedelta(days=14))

    def test_the_day_after_the_modules_left_no_longer_fit_they_put_it_at_risk(self):
        flags = flags_due(RULES, self.enrolment, DEADLINE - timedelta(days=13))

        assert [(f.kind, f.cause) for f in flags if f.cause.startswith("cannot_fit")] == [
            ("at_risk", "cannot_fit:2027-03-02")
        ]

    def test_one_module_left_fits_up_to_the_deadline_day(self):
        enrolment = make_enrolment(bookings=all_core_booked(attended=4))
        assert "cannot_fit" not in kinds(enrolment, DEADLINE)

    def test_the_programme_spacing_decides_what_fits(self):
        rules = ProgrammeRules(min_days_between_sessions=3)
        today = DEADLINE - timedelta(days=6)
        assert not any(
            f.cause.startswith("cannot_fit") for f in flags_due(rules, self.enrolment, today)
        )


class TestUnbookedNearDeadline:
    enrolment = make_enrolment(bookings=all_core_booked(attended=2)[:4])

    def test_an_unbooked_module_29_days_before_the_deadline_raises_no_flag(self):
        assert flags_due(RULES, self.enrolment, DEADLINE - timedelta(days=29)) == []

    def test_an_unbooked_module_28_days_before_the_deadline_puts_it_at_risk(self):
        (flag,) = flags_due(RULES, self.enrolment, DEADLINE - timedelta(days=28))

        assert (flag.kind, flag.cause) == ("at_risk", "unbooked_near_deadline:2027-03-02")
        assert (
            flag.detail == "Core deadline 2 March 2027 is 28 days away and module 5 has no booking"
        )

    def test_the_flag_is_still_due_on_the_deadline_day(self):
        assert "unbooked_near_deadline" in kinds(self.enrolment, DEADLINE)

    def test_every_module_booked_near_the_deadline_raises_no_flag(self):
        enrolment = make_enrolment(bookings=all_core_booked(attended=2))
        assert flags_due(RULES, enrolment, DEADLINE - timedelta(days=20)) == []

    def test_a_cancelled_booking_leaves_the_module_unbooked(self):
        bookings = all_core_booked(attended=2)
        bookings[4] = make_booking(id=105, module=5, status="cancelled")
        enrolment = make_enrolment(bookings=bookings)
        assert "unbooked_near_deadline" in kinds(enrolment, DEADLINE - timedelta(days=20))


class TestFollowUpWindow:
    def enrolment(self, *extra):
        return make_enrolment(
            status="awaiting_follow_up",
            follow_up_window=WINDOW,
            bookings=[*attended_core(), *extra],
        )

    def test_the_last_day_of_the_window_raises_no_flag(self):
        assert flags_due(RULES, self.enrolment(), WINDOW[1]) == []

    def test_the_day_after_the_window_flags_the_follow_up_as_missed(self):
        (flag,) = flags_due(RULES, self.enrolment(), WINDOW[1] + timedelta(days=1))

        assert (flag.kind, flag.cause) == ("follow_up_missed", "follow_up_window:2027-11-17")
        assert flag.detail == "Follow-up window closed on 17 November 2027 without attendance"

    def test_an_attended_follow_up_raises_no_flag(self):
        done = make_booking(id=9, module=FOLLOW_UP, starts_at=london(WINDOW[0]), status="attended")
        assert flags_due(RULES, self.enrolment(done), WINDOW[1] + timedelta(days=1)) == []

    def test_an_extended_window_raises_no_flag_on_the_old_closing_day(self):
        extended = make_enrolment(
            status="awaiting_follow_up",
            follow_up_window=(WINDOW[0], WINDOW[1] + timedelta(days=14)),
            bookings=attended_core(),
        )
        assert flags_due(RULES, extended, WINDOW[1] + timedelta(days=1)) == []

    def test_core_deadline_flags_stop_once_the_core_is_complete(self):
        assert flags_due(RULES, self.enrolment(), DEADLINE + timedelta(days=1)) == []


@pytest.mark.parametrize("status", ["completed", "referred", "withdrawn"])
def test_a_closed_enrolment_raises_no_flag(status):
    absent = make_booking(id=42, module=3, status="absent_unexcused")
    enrolment = make_enrolment(status=status, bookings=[absent])
    assert flags_due(RULES, enrolment, DEADLINE + timedelta(days=1)) == []


def test_the_same_history_gives_the_same_causes_every_day_it_applies():
    absent = make_booking(id=42, module=3, status="absent_unexcused")
    enrolment = make_enrolment(bookings=[absent])
    first = causes(enrolment, DEADLINE + timedelta(days=1))
    again = causes(enrolment, DEADLINE + timedelta(days=2))

    assert first == again == ["unexcused_absence:42", "core_deadline:2027-03-02"]
    assert len(set(first)) == len(first)


def test_the_risk_flags_together_near_the_deadline():
    absent = make_booking(id=42, module=1, status="absent_unexcused")
    enrolment = make_enrolment(bookings=[absent])
    assert causes(enrolment, DEADLINE - timedelta(days=20)) == [
        "unexcused_absence:42",
        "cannot_fit:2027-03-02",
        "unbooked_near_deadline:2027-03-02",
    ]
