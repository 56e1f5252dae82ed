"""What a participant reads, in their language: English, or Welsh from the catalogues.

The English text is written in the code and the templates, marked for translation;
``diversion/translations/cy/LC_MESSAGES/messages.po`` holds its Welsh, compiled to
``messages.mo`` by ``make install`` (docs/operations.md, "Welsh"). Messages are built
outside any request (the send-mail job), so they take a catalogue from
``translations(language)``; a participant's page renders inside ``speaking(language)``,
which switches Flask-Babel for that block. Staff pages are never switched: they are
English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask_babel import force_locale, get_locale

from diversion.domain.contact import language_of
from diversion.domain.vocabulary import Language

__all__ = [
    "DOMAIN",
    "TRANSLATIONS",
    "CatalogueMissing",
    "N_",
    "current_language",
    "speaking",
    "title_in",
    "translations",
]

TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"


class CatalogueMissing(RuntimeError):
    """A language's catalogue was never compiled: its participants would be written to in
    English, so nothing is sent until it is."""


def N_(message: str) -> str:
    """Mark text for the catalogue where it is written; translate it where it is used."""
    return message


@cache
def translations(language: str | None) -> NullTranslations:
    """Return the catalogue for a participant's language; English is the text as written."""
    chosen = language_of(language)
    if chosen == Language.ENGLISH:
        return NullTranslations()
    catalogue = Translations.load(str(TRANSLATIONS), [chosen.value], DOMAIN)
    # load() falls back to the untranslated text when the .mo file is missing.
    if not isinstance(catalogue, Translations):
        raise CatalogueMissing(
            f"no compiled catalogue for {chosen.value!r} in {TRANSLATIONS}: run `make install`")
    return catalogue


def title_in(language: str | None, invite_title: str, invite_title_cy: str) -> str:
    """Return the programme's neutral calendar title in the participant's language."""
    return invite_title_cy if language_of(language) == Language.WELSH else invite_title


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Render a participant's page in their language for the block (Flask-Babel)."""
    chosen = language_of(language)
    # Fail as messages do rather than show a Welsh speaker English.
    translations(chosen)
    with force_locale(chosen.value):
        yield


def current_language() -> str:
    """Return the language the page is being rendered in: 'cy' inside speaking('cy')."""
    locale = get_locale()
    return language_of(locale.language if locale is not None else None).value
