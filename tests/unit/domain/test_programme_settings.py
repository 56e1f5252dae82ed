"""An administrator's programme settings: limits, neutral titles, and what a change may do."""

from dataclasses import replace

import pytest

from diversion.domain.errors import RuleViolation, RuleViolations
from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.privacy import DISCLOSING_WORDS
from diversion.domain.programme_settings import (
    COUNT_LIMITS,
    EFFECTS,
    LABELS,
    SETTING_NAMES,
    ProgrammeSettings,
    changes,
    check_change,
    check_settings,
    normalised,
    settings_problems,
)

DEFAULTS = ProgrammeSettings(name="Online safety course")


def fields_refused(settings: ProgrammeSettings) -> dict[str, str]:
    return {p.field: p.code for p in settings_problems(settings)}


def test_the_defaults_are_the_programme_rules_of_the_domain():
    assert settings_problems(DEFAULTS) == []
    rules = DEFAULTS.rules
    assert (rules.core_modules, rules.session_minutes, rules.core_months,
            rules.follow_up_months, rules.follow_up_window_days,
            rules.min_days_between_sessions, rules.reminder_hours) == (5, 90, 4, 8, 14, 7, 48)
    assert (DEFAULTS.invite_title, DEFAULTS.invite_title_cy) == ("Appointment", "Apwyntiad")
    assert (DEFAULTS.self_service_cutoff_hours, DEFAULTS.self_service_moves) == (24, 2)


@pytest.mark.parametrize("name", list(COUNT_LIMITS))
def test_each_count_is_refused_just_outside_its_range_and_taken_at_its_edges(name):
    low, high = COUNT_LIMITS[name]
    for fine in (low, high):
        assert fields_refused(replace(DEFAULTS, **{name: fine})) == {}
    for wrong in (low - 1, high + 1, True, "5", 5.0):
        assert fields_refused(replace(DEFAULTS, **{name: wrong})) == {name: "out_of_range"}


@pytest.mark.parametrize(("name", "low", "high"), [
    ("core_modules", 1, 12), ("session_minutes", 15, 480), ("core_months", 1, 24),
    ("follow_up_months", 1, 24), ("follow_up_window_days", 0, 60),
    ("min_days_between_sessions", 0, 60), ("reminder_hours", 1, 168),
    ("self_service_cutoff_hours", 0, 336), ("self_service_moves", 0, 10),
    ("retention_ineligible_months", 1, 120), ("retention_closed_months", 1, 240),
    ("retention_message_months", 1, 120), ("retention_audit_months", 36, 240),
])
def test_the_ranges_are_the_sensible_ones_the_service_promises(name, low, high):
    assert COUNT_LIMITS[name] == (low, high)


@pytest.mark.parametrize("region", ["GB-ENG", "GB-WLS", "GB-SCT", "GB-NIR"])
def test_every_uk_holiday_region_is_accepted(region):
    assert region in UK_HOLIDAY_REGIONS
    assert fields_refused(replace(DEFAULTS, holiday_region=region)) == {}


@pytest.mark.parametrize("region", ["FR", "GB", "GB-XYZ", "US-CA", "", "gb-wls "])
def test_a_holiday_region_outside_the_uk_or_unknown_is_refused(region):
    assert fields_refused(replace(DEFAULTS, holiday_region=region)) == {
        "holiday_region": "unknown_holiday_region"}


def test_a_region_typed_in_small_letters_with_spaces_is_kept_in_capitals():
    assert normalised({"holiday_region": " gb-wls ", "name": "  Wales  ", "core_months": 4}) == {
        "holiday_region": "GB-WLS", "name": "Wales", "core_months": 4}


@pytest.mark.parametrize("timezone", ["Europe/Dublin", "UTC", "europe/london", ""])
def test_a_time_zone_other_than_london_is_refused_with_the_programmes_own_rule(timezone):
    problems = settings_problems(replace(DEFAULTS, timezone=timezone))
    assert [(p.field, p.code) for p in problems] == [("timezone", "unsupported_timezone")]
    assert problems[0].message.startswith("A programme's time zone must be Europe/London")


@pytest.mark.parametrize("name", ["name", "invite_title", "invite_title_cy", "organizer_email"])
@pytest.mark.parametrize("word", ["offence", "Prosecution", "POLICE", "child", "abuse", "images"])
def test_a_name_title_or_organiser_that_reveals_the_programme_is_refused(name, word):
    value = f"{word}@example.gov.uk" if name == "organizer_email" else f"Weekly {word} course"
    problems = settings_problems(replace(DEFAULTS, **{name: value}))
    assert [(p.field, p.code) for p in problems] == [(name, "reveals_programme")]
    assert word.lower() in problems[0].message


def test_the_refused_words_are_the_privacy_rules_own():
    assert {"offence", "prosecution", "police", "child", "abuse", "images"} <= DISCLOSING_WORDS


@pytest.mark.parametrize(("name", "value"), [
    ("name", ""), ("name", "   "), ("name", "x" * 201), ("invite_title", "Appt\r\nBcc: x"),
    ("invite_title_cy", ""), ("contact_phone", "call us"), ("contact_phone", "0" * 41),
    ("organizer_email", "not an address"), ("organizer_email", "a@b.c\r\nX: y"),
])
def test_text_that_is_blank_too_long_broken_over_lines_or_malformed_is_refused(name, value):
    assert fields_refused(replace(DEFAULTS, **{name: value})) == {name: "invalid_text"}


def test_a_two_hundred_character_title_is_taken():
    assert fields_refused(replace(DEFAULTS, invite_title="A" * 200, name="N" * 200)) == {}


def test_every_problem_is_reported_at_once_each_with_its_field():
    wrong = replace(DEFAULTS, core_modules=0, holiday_region="FR", invite_title="Police")
    with pytest.raises(RuleViolations) as refused:
        check_settings(wrong)
    assert [p.field for p in refused.value.problems] == [
        "core_modules", "invite_title", "holiday_region"]
    assert isinstance(refused.value, RuleViolation)
    assert refused.value.field == "core_modules"


def test_a_change_lists_only_what_differs_as_before_and_after():
    after = replace(DEFAULTS, core_months=6, holiday_region="GB-WLS")
    assert changes(DEFAULTS, after) == {"core_months": (4, 6), "holiday_region": ("GB-ENG",
                                                                                  "GB-WLS")}
    assert changes(DEFAULTS, DEFAULTS) == {}


def test_the_number_of_core_modules_cannot_change_while_enrolments_are_in_progress():
    with pytest.raises(RuleViolations) as refused:
        check_change(DEFAULTS, replace(DEFAULTS, core_modules=6), enrolments_in_progress=3)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("core_modules", "programme_in_use")]
    assert "3 enrolments are in progress" in refused.value.message
    check_change(DEFAULTS, replace(DEFAULTS, core_modules=6), enrolments_in_progress=0)


def test_deadlines_and_spacing_may_change_while_enrolments_are_in_progress():
    check_change(DEFAULTS, replace(DEFAULTS, core_months=6, follow_up_months=10,
                                   min_days_between_sessions=14), enrolments_in_progress=40)


def test_every_setting_has_a_label_and_says_what_a_change_to_it_affects():
    assert set(LABELS) == set(SETTING_NAMES) == set(EFFECTS)
    assert "keep the deadline they were enrolled under" in EFFECTS["core_months"]
    assert "from now on" in EFFECTS["min_days_between_sessions"]


def test_the_retention_schedule_defaults_to_a_year_six_years_a_year_and_seven_years():
    schedule = DEFAULTS.retention
    assert (schedule.retention_ineligible_months, schedule.retention_closed_months,
            schedule.retention_message_months, schedule.retention_audit_months) == (
        12, 72, 12, 84)


def test_an_audit_period_below_the_floor_the_database_holds_is_refused_with_its_message():
    problems = settings_problems(replace(DEFAULTS, retention_audit_months=12))
    assert [(p.field, p.code, p.message) for p in problems] == [(
        "retention_audit_months", "out_of_range",
        "Months to keep the audit trail must be a whole number from 36 to 240")]
