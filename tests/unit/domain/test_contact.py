"""How the service may reach a participant: a UK number, and texts only to a mobile."""

import pytest

from diversion.domain.contact import (
    language_of,
    normalised_phone,
    phone_for_display,
    sms_consent_problem,
)


@pytest.mark.parametrize(("typed", "stored"), [
    ("07700 900982", "+447700900982"),
    ("+44 7700 900982", "+447700900982"),
    ("(020) 7946 0018", "+442079460018"),
    ("0044 7911 123456", "+447911123456"),
])
def test_a_uk_number_is_kept_in_one_form_however_it_was_typed(typed, stored):
    assert normalised_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "+33 6 12 34 56 78", "call me", "0770090098212345"])
def test_anything_that_cannot_be_a_uk_number_is_refused_in_words(typed):
    with pytest.raises(ValueError, match="Enter a UK phone number, like 07700 900982"):
        normalised_phone(typed)


def test_no_number_is_none_and_reads_as_nothing():
    assert normalised_phone("  ") is None
    assert normalised_phone(None) is None
    assert phone_for_display(None) == ""


def test_a_stored_number_reads_as_people_in_the_uk_write_it():
    assert phone_for_display("+447700900982") == "07700 900982"


def test_texts_need_consent_and_a_mobile_number():
    assert sms_consent_problem(None, False) is None
    assert sms_consent_problem("+442079460018", False) is None
    assert sms_consent_problem("+447700900982", True) is None
    assert "Enter a mobile number" in sms_consent_problem(None, True)
    assert sms_consent_problem("+442079460018", True) == (
        "Text messages need a UK mobile number, starting 07")


def test_welsh_only_when_chosen():
    assert language_of("cy") == "cy"
    assert language_of("en") == "en"
    assert language_of(None) == "en"
