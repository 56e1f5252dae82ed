"""The Welsh catalogue: complete, compilable, current with the source, and as discreet as
the English it translates."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from diversion import i18n
from diversion.config import ROOT
from diversion.domain.privacy import disclosing_words

PLACEHOLDER = re.compile(r"%\(\w+\)s")
WELSH_PO = i18n.TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"


def welsh_catalogue():
    with WELSH_PO.open("rb") as source:
        return read_po(source, locale="cy")


def entries():
    return [message for message in welsh_catalogue() if message.id]


def source_texts() -> set[str]:
    """Every text marked for translation in the code and templates, as `make translations`
    gathers it (babel.cfg)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message for _file, _line, message, _comments, _context
            in extract_from_dir(ROOT, method_map, options_map)}


def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete():
    catalogue = welsh_catalogue()
    assert entries(), "the catalogue holds the participant's texts"
    assert [m.id for m in entries() if not m.string] == []
    assert [m.id for m in entries() if m.fuzzy] == []
    assert not catalogue.fuzzy
    assert list(catalogue.obsolete) == []


def test_every_text_marked_in_the_source_is_in_the_catalogue_and_nothing_else():
    assert {m.id for m in entries()} == source_texts()


def test_every_placeholder_in_english_is_kept_in_welsh():
    # A %(when)s dropped would lose the date; one renamed would fail at send time.
    assert [m.id for m in entries()
            if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))] == []
    assert [(m.id, [str(e) for e in errors]) for m, errors in welsh_catalogue().check()] == []


def test_the_catalogue_compiles_and_translates():
    compiled = io.BytesIO()
    write_mo(compiled, welsh_catalogue())
    compiled.seek(0)
    welsh = Translations(fp=compiled)
    assert welsh.gettext("Appointment") == "Apwyntiad"
    assert welsh.gettext("Your appointment on %(when)s") % {"when": "x"} == "Eich apwyntiad: x"


@pytest.mark.parametrize("message", entries(), ids=lambda m: m.id[:40])
def test_no_welsh_text_reveals_the_programme(message):
    assert disclosing_words(message.string) == []
    assert disclosing_words(message.id) == []


def test_english_needs_no_catalogue_and_welsh_is_loaded_from_the_compiled_one():
    assert i18n.translations("en").gettext("Appointment") == "Appointment"
    assert i18n.translations(None).gettext("Appointment") == "Appointment"
    assert i18n.translations("cy").gettext("Appointment") == "Apwyntiad"


def test_a_welsh_catalogue_never_compiled_stops_sending_rather_than_write_english(
        monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(i18n.CatalogueMissing, match="make install"):
            i18n.translations("cy")
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


def test_the_programme_title_follows_the_participants_language():
    assert i18n.title_in("cy", "Appointment", "Apwyntiad") == "Apwyntiad"
    assert i18n.title_in("en", "Appointment", "Apwyntiad") == "Appointment"
    assert i18n.title_in(None, "Appointment", "Apwyntiad") == "Appointment"
