"""The warning letter about a missed session, printed for an officer to hand over in person.

It goes into the participant's hands and home, so it reads like their mail: no marking,
nothing about the case, the same neutral words, checked the same way.
"""

from __future__ import annotations

from diversion.documents.pdf import OfficialDocument
from diversion.domain.contact import language_of
from diversion.domain.dates import format_weekday_date
from diversion.domain.errors import RuleViolation
from diversion.domain.privacy import disclosing_words
from diversion.domain.vocabulary import LONDON
from diversion.i18n import N_, translations
from diversion.notify.messages import day_and_time
from diversion.notify.messages import render as render_template
from diversion.services.notices import WarningLetter

TITLE = N_("Missed appointment")


def render(letter: WarningLetter) -> bytes:
    """Lay the letter out on one A4 page, in the participant's language; refuse words that
    would disclose the programme."""
    language = language_of(letter.language)
    gettext = translations(language).gettext
    text = render_template("warning_letter.txt", {
        "title": gettext(TITLE),
        "name": letter.participant_name,
        "reference": letter.reference,
        "today": format_weekday_date(letter.produced_on, language),
        "when": day_and_time(letter.missed_at.astimezone(LONDON), language),
        "rebook_by": (format_weekday_date(letter.rebook_by, language)
                      if letter.rebook_by else ""),
        "phone": letter.contact_phone,
    }, language)
    # The participant's own name is theirs to read; the words around it are checked.
    if disclosing_words(text.replace(letter.participant_name, "")):
        raise RuleViolation("would_disclose", "The letter's words would reveal what the "
                            "appointments are for, so it was not printed.")
    title = gettext(TITLE)
    pdf = OfficialDocument(
        title=title, marking="",
        footer=gettext("Reference %(reference)s") % {"reference": letter.reference})
    pdf.set_creator(title)
    pdf.add_page()
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        if lines[0].startswith("# "):
            pdf.title_block(lines[0][2:], lines[1:])
        elif lines[0].startswith("## "):
            pdf.heading(lines[0][3:], size=13, keep=15)
            pdf.paragraph(" ".join(lines[1:]), size=12)
        else:
            pdf.paragraph(" ".join(lines), size=12)
        pdf.ln(2)
    return bytes(pdf.output())
