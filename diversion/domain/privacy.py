"""What must never reach a participant: words that would reveal what the programme is.

A calendar entry sits on phones, shared family calendars and work laptops, and an
email's subject shows before it is opened (docs/domain.md, "Privacy").
"""

from __future__ import annotations

import re

# Kept short and whole-word so that venue addresses ("Court Road", "Childcare
# centre") are not refused by accident.
DISCLOSING_WORDS = frozenset(
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
_WORD = re.compile(r"[^\W\d_]+")


def disclosing_words(text: str) -> list[str]:
    """Return the disclosing words the text contains, sorted; none means it is neutral."""
    return sorted({word for word in _WORD.findall(text.casefold()) if word in DISCLOSING_WORDS})
