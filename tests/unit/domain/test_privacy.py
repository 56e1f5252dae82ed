"""Words that would reveal the programme, in English and in Welsh, whatever their form."""

from __future__ import annotations

import pytest

from diversion.domain.privacy import DISCLOSING_WORDS, disclosing_words, mutations


@pytest.mark.parametrize(("text", "found"), [
    ("Trosedd", ["trosedd"]),
    ("Cwrs i droseddwyr", ["droseddwyr"]),
    ("Apwyntiad yr heddlu", ["heddlu"]),
    ("Osgoi erlyniad", ["erlyniad"]),
    ("rhag ei herlyn", ["herlyn"]),
    ("Diogelu plant", ["plant"]),
    ("fy mhlentyn", ["mhlentyn"]),
    ("ei phlant", ["phlant"]),
    ("ei blentyn", ["blentyn"]),
    ("Delweddau anweddus", ["anweddus", "delweddau"]),
    ("Troseddau rhywiol", ["rhywiol", "troseddau"]),
    ("Cam-drin", ["cam-drin"]),
    ("rhag cael ei gam-drin", ["gam-drin"]),
])
def test_welsh_words_that_would_reveal_the_programme_are_found_in_any_mutation(text, found):
    assert disclosing_words(text) == found


def test_each_mutation_of_a_welsh_word_is_as_revealing_as_the_word():
    assert mutations("plentyn") == {"plentyn", "blentyn", "mhlentyn", "phlentyn"}
    assert mutations("trosedd") == {"trosedd", "drosedd", "nhrosedd", "throsedd"}
    assert mutations("delwedd") == {"delwedd", "ddelwedd", "nelwedd"}
    assert mutations("erlyniad") == {"erlyniad", "herlyniad"}
    assert mutations("rhywiol") == {"rhywiol", "rywiol"}
    assert mutations("heddlu") == {"heddlu"}
    assert {"drosedd", "mhlant", "herlyniad", "ddelweddau"} <= DISCLOSING_WORDS


def test_english_words_are_still_found_inside_hyphenated_words():
    assert disclosing_words("Child-friendly venue, Police-station Road") == ["child", "police"]


@pytest.mark.parametrize("text", [
    "Canolfan Ddinesig, Ystafell 2, 1 Stryd Fawr, Caerdydd",
    "Dewch â phrawf adnabod â llun gyda chi.",
    "Mae rhyw ddiwrnod arall yn bosib.",
    "Courtyard Rooms, 2 Court Road, Childwall",
    "Ysgol Gynradd, Heol y Plas",
])
def test_ordinary_welsh_and_english_addresses_and_sentences_are_neutral(text):
    assert disclosing_words(text) == []
