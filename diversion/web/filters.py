"""Template filters: dates and times as people read them in the UK."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from diversion.domain.contact import phone_for_display
from diversion.domain.dates import (
    format_date,
    format_london,
    format_month,
    format_short_month,
    format_time,
)
from diversion.domain.eligibility import describe
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import LONDON, in_words
from diversion.services.enrolments import participant_reference

# The colour of each value's tag; its words come from the vocabulary.
_TAG_CLASSES = {
    "enrolled": "govuk-tag--blue",
    "awaiting_follow_up": "govuk-tag--light-blue",
    "completed": "govuk-tag--green",
    "referred": "govuk-tag--red",
    "withdrawn": "govuk-tag--grey",
    "booked": "govuk-tag--blue",
    "attended": "govuk-tag--green",
    "absent_excused": "govuk-tag--yellow",
    "absent_unexcused": "govuk-tag--red",
    "cancelled": "govuk-tag--grey",
    "scheduled": "govuk-tag--blue",
    "at_risk": "govuk-tag--orange",
    "non_completion": "govuk-tag--red",
    "follow_up_missed": "govuk-tag--red",
    "open": "govuk-tag--orange",
    "closed": "govuk-tag--grey",
    "in_progress": "govuk-tag--light-blue",
    "held": "govuk-tag--green",
    "register_overdue": "govuk-tag--red",
    "deadline_passed": "govuk-tag--red",
    "pending": "govuk-tag--light-blue",
    "sent": "govuk-tag--green",
    "failed": "govuk-tag--red",
    "superseded": "govuk-tag--grey",
}
STATUS_TAGS = {value: (in_words(value), tag) for value, tag in _TAG_CLASSES.items()}


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON).date()
    return format_date(value)


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_time(value.astimezone(LONDON))


def long_datetime(value: datetime | None) -> str:
    return "" if value is None else format_london(value)


def module_name(value: int) -> str:
    return "Follow-up" if value == FOLLOW_UP else f"Module {value}"


def form_error_summary(form) -> dict:
    """Build the GOV.UK error summary: field errors link to their field, form errors don't."""
    from govuk_frontend_wtf.main import flatten_errors
    from govuk_frontend_wtf.wtforms_widgets import GovDateInput

    # A date is three inputs: its error links to the first of them, the day, as the
    # GOV.UK date input pattern says (the group itself cannot take focus).
    id_map = {name: f"{field.name}-day" if isinstance(field.widget, GovDateInput) else field.id
              for name, field in form._fields.items()}
    # Errors of the whole form sit under a key of None (WTForms) or "" (Flask-WTF's
    # forms): they are listed once, from form_errors, never again as a field's.
    field_errors = {k: v for k, v in form.errors.items() if k}
    items = flatten_errors(field_errors, id_map=id_map) if field_errors else []
    for message in form.form_errors:
        items.insert(0, {"text": message, "href": "#main-content"})
    return {"titleText": "There is a problem", "errorList": items}


def register(app: Flask) -> None:
    app.add_template_global(form_error_summary)
    app.add_template_filter(long_date)
    app.add_template_filter(local_time)
    app.add_template_filter(long_datetime)
    app.add_template_filter(format_month, "month_year")
    app.add_template_filter(format_short_month, "short_month")
    app.add_template_filter(module_name)
    app.add_template_filter(describe, "reason_text")
    app.add_template_filter(participant_reference)
    app.add_template_filter(phone_for_display, "phone")
    app.add_template_filter(in_words, "words")
    app.jinja_env.globals["STATUS_TAGS"] = STATUS_TAGS
