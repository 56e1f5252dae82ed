from enum import StrEnum

import pytest

from diversion.domain import vocabulary
from diversion.domain.vocabulary import in_words

STORED = [member for enum in vars(vocabulary).values()
          if isinstance(enum, type) and issubclass(enum, StrEnum) and enum is not StrEnum
          and enum is not vocabulary.Role
          for member in enum]


@pytest.mark.parametrize("value", STORED, ids=str)
def test_every_value_the_service_records_has_its_own_words(value):
    assert value in vocabulary.WORDS
    assert "_" not in in_words(value)


def test_outcomes_and_decisions_read_as_people_say_them():
    assert in_words("absent_unexcused") == "Absent (unexcused)"
    assert in_words("refer") == "Refer back to prosecution"
    assert in_words("withdraw") == "Withdraw"


def test_a_value_without_words_still_reads_as_words():
    assert in_words("missed_session") == "Missed session"
