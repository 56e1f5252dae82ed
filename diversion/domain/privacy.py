"""What must never reach a participant: words that would reveal what the programme is.

A calendar entry sits on phones, shared family calendars and work laptops, and an
email's subject shows before it is opened (docs/domain.md, "Privacy").
"""

from __future__ import annotations

import re

# Kept short and whole-word so that venue addresses ("Court Road", "Childcare
# centre") are not refused by accident.
ENGLISH_WORDS = frozenset(
    {
        "abuse", "abused", "abusive",
        "child", "children", "childrens",
        "image", "images",
        "indecent",
        "offence", "offences", "offense", "offenses", "offender", "offenders", "offending",
        "police",
        "prosecute", "prosecuted", "prosecution", "prosecutor", "prosecutors",
        "sexual",
    }
)  # fmt: skip
# The same words in Welsh, as a dictionary lists them. Not "rhyw" (sex, but also
# "some", as in "rhyw ddiwrnod"), nor "llun" (a photograph: the photo identification
# a participant is asked to bring).
WELSH_WORDS = frozenset(
    {
        "cam-drin", "camdrin", "camdriniaeth", "camdriniol", "cam-driniol",
        "cam-driniwyd", "camdriniwyd",
        "plentyn", "plant", "plentyndod",
        "delwedd", "delweddau",
        "anweddus",
        "trosedd", "troseddau", "troseddwr", "troseddwyr", "troseddu", "troseddol",
        "heddlu", "heddwas", "heddweision",
        "erlyn", "erlyniad", "erlyniadau", "erlynydd", "erlynwyr", "erlynwyd",
        "rhywiol",
    }
)  # fmt: skip

# Welsh changes a word's first sound after certain words ("ei blentyn", "fy
# mhlentyn", "ei phlentyn", "ei herlyniad"): each form is as revealing as the word.
_SOFT = {"ll": "l", "rh": "r", "p": "b", "t": "d", "c": "g", "b": "f", "d": "dd", "g": "",
         "m": "f"}
_NASAL = {"p": "mh", "t": "nh", "c": "ngh", "b": "m", "d": "n", "g": "ng"}
_ASPIRATE = {"p": "ph", "t": "th", "c": "ch"}
# Digraphs that are letters of their own and never mutate as their first character would.
_UNMUTATED = ("ch", "dd", "ff", "ng", "ph", "th")
_VOWELS = "aeiouwy"


def mutations(word: str) -> frozenset[str]:
    """Return a Welsh word with each mutation of its first sound, itself included."""
    forms = {word}
    if word[0] in _VOWELS:
        forms.add("h" + word)
    elif not word.startswith(_UNMUTATED):
        for table in (_SOFT, _NASAL, _ASPIRATE):
            for start, changed in table.items():
                if word.startswith(start):
                    forms.add(changed + word[len(start):])
                    break
    return frozenset(forms)


DISCLOSING_WORDS = ENGLISH_WORDS | frozenset(
    form for word in WELSH_WORDS for form in mutations(word))
# A word, or words joined by hyphens ("cam-drin"): both the whole and each part count.
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def disclosing_words(text: str) -> list[str]:
    """Return the disclosing words the text contains, sorted; none means it is neutral."""
    found: set[str] = set()
    for compound in _WORD.findall(text.casefold()):
        found.update(w for w in (compound, *compound.split("-")) if w in DISCLOSING_WORDS)
    return sorted(found)
