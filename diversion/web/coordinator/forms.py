"""Coordinator forms: sessions, series, venues, changes, the register and bookings; and
the one way a service's refusal is shown on them."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from diversion.domain.errors import RuleViolation
from diversion.domain.forecast import MAX_WEEKS
from diversion.domain.vocabulary import Outcome
from diversion.services import InvalidInput
from diversion.web.forms import BaseForm, DateInput, SessionDay, WholeNumberField

TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")

OUTCOMES = [
    SelectChoice(Outcome.ATTENDED, "Attended"),
    SelectChoice(Outcome.ABSENT_EXCUSED, "Absent (excused)"),
    SelectChoice(Outcome.ABSENT_UNEXCUSED, "Absent (unexcused)"),
]

REQUESTED_BY = [
    SelectChoice("participant", "The participant"),
    SelectChoice("case officer", "The case officer"),
    SelectChoice("coordinator", "The coordinator"),
]

# Service field names that differ from the form's.
FORM_FIELD = {"starts_at": "date", "first_starts_at": "date"}


def show_refusal(form, error: RuleViolation | InvalidInput) -> None:
    """Put a service's refusal on the form: on the field it names, or on the whole form."""
    name = FORM_FIELD.get(error.field, error.field) if error.field else None
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class LocalTime:
    """Check a 24-hour clock time like 18:00."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data and not TIME_PATTERN.match(field.data):
            raise ValidationError(self.message)


def local_start(day: date, clock_time: str) -> datetime:
    """Combine a date and an HH:MM text into a wall-clock date-time (no offset)."""
    match = TIME_PATTERN.match(clock_time)
    if match is None:
        raise ValueError(f"not a 24-hour clock time: {clock_time!r}")
    return datetime.combine(day, time(int(match.group(1)), int(match.group(2))))


def _date_field(label: str, description: str | None = None) -> DateField:
    return DateField(
        label, format="%d %m %Y", widget=DateInput(),
        description=description or "For example, 5 1 2027",
        validators=[InputRequired("Enter the date as a real date, like 5 1 2027"),
                    SessionDay()],
        invalid_value_message="Enter the date as a real date, like 5 1 2027",
    )


def _time_field(label: str = "Start time") -> StringField:
    return StringField(
        label, widget=GovTextInput(), description="Use the 24-hour clock, for example 18:00",
        validators=[InputRequired("Enter the start time, like 18:00"),
                    LocalTime("Enter the start time on the 24-hour clock, like 18:00")],
    )


def _capacity_field() -> WholeNumberField:
    return WholeNumberField(
        "Capacity", widget=GovTextInput(), description="The most participants the room takes",
        not_a_number="Enter the capacity as a whole number, like 10",
        validators=[InputRequired("Enter the capacity"),
                    NumberRange(1, 500, "Capacity must be between 1 and 500")],
    )


def _facilitator_field() -> StringField:
    return StringField(
        "Facilitator (optional)", widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message="Facilitator must be 200 characters "
                                                        "or fewer")],
    )


def _room_field() -> StringField:
    return StringField(
        "Room (optional)", widget=GovTextInput(),
        validators=[Optional(), Length(max=100, message="Room must be 100 characters or fewer")],
    )


def chosen_id(value) -> int | None:
    """Read a select's id; its empty first option ("Choose a programme") is no choice."""
    return None if value in ("", None) else int(value)


def _programme_field() -> SelectField:
    return SelectField("Programme", coerce=chosen_id, widget=GovSelect(),
                       validators=[InputRequired("Select a programme")])


class SessionForm(BaseForm):
    programme_id = _programme_field()
    module = SelectField("Module", coerce=int, widget=GovSelect(),
                         validators=[InputRequired("Select a module")])
    date = _date_field("Date")
    time = _time_field()
    venue_id = SelectField("Venue", coerce=int, widget=GovSelect(),
                           validators=[InputRequired("Select a venue")])
    capacity = _capacity_field()
    facilitator = _facilitator_field()
    room = _room_field()
    submit = SubmitField("Publish session", widget=GovSubmitInput())

    def starts_at(self) -> datetime:
        return local_start(self.date.data, self.time.data)


class SeriesForm(BaseForm):
    programme_id = _programme_field()
    module = SelectField("Module", coerce=int, widget=GovSelect(),
                         validators=[InputRequired("Select a module")])
    date = _date_field("Date of the first session")
    time = _time_field()
    count = WholeNumberField(
        "Number of sessions", widget=GovTextInput(),
        not_a_number="Enter the number of sessions as a whole number, like 6",
        validators=[InputRequired("Enter the number of sessions"),
                    NumberRange(1, 200, "The number of sessions must be between 1 and 200")],
    )
    interval_days = WholeNumberField(
        "Days between sessions", widget=GovTextInput(), default=7,
        description="For example, 7 for weekly. A date on a public holiday moves to the next "
                    "working day.",
        not_a_number="Enter the days between sessions as a whole number, like 7",
        validators=[InputRequired("Enter the days between sessions"),
                    NumberRange(1, 365, "Days between sessions must be between 1 and 365")],
    )
    venue_id = SelectField("Venue", coerce=int, widget=GovSelect(),
                           validators=[InputRequired("Select a venue")])
    capacity = _capacity_field()
    facilitator = _facilitator_field()
    room = _room_field()
    submit = SubmitField("Publish series", widget=GovSubmitInput())

    def starts_at(self) -> datetime:
        return local_start(self.date.data, self.time.data)


class VenueForm(BaseForm):
    name = StringField(
        "Name", widget=GovTextInput(),
        validators=[InputRequired("Enter the venue's name"),
                    Length(max=200, message="Name must be 200 characters or fewer")],
    )
    address = TextAreaField(
        "Address", widget=GovTextArea(),
        validators=[InputRequired("Enter the venue's address"),
                    Length(max=500, message="Address must be 500 characters or fewer")],
    )
    rooms = TextAreaField(
        "Rooms (optional)", widget=GovTextArea(), description="One room on each line",
        validators=[Optional(), Length(max=500, message="Rooms must be 500 characters or fewer")],
    )
    submit = SubmitField("Add venue", widget=GovSubmitInput())


class MoveSessionForm(BaseForm):
    date = _date_field("New date")
    time = _time_field("New start time")
    venue_id = SelectField("Venue", coerce=int, widget=GovSelect(),
                           validators=[InputRequired("Select a venue")])
    capacity = _capacity_field()
    room = _room_field()
    facilitator = _facilitator_field()
    # Set once the coordinator has seen what the change does to the people it breaks.
    confirmed = HiddenField()
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def starts_at(self) -> datetime:
        return local_start(self.date.data, self.time.data)


class CancelSessionForm(BaseForm):
    reason = TextAreaField(
        "Why is the session cancelled?", widget=GovTextArea(),
        validators=[InputRequired("Enter why the session is cancelled"),
                    Length(max=400, message="Reason must be 400 characters or fewer")],
    )
    rebook = BooleanField("Rebook affected participants into their next suitable session",
                          widget=GovCheckboxInput(), default=True)
    submit = SubmitField("Cancel session", widget=GovSubmitInput())


class CancelBookingForm(BaseForm):
    reason = TextAreaField(
        "Why is the booking cancelled?", widget=GovTextArea(),
        validators=[InputRequired("Enter why the booking is cancelled"),
                    Length(max=400, message="Reason must be 400 characters or fewer")],
    )
    requested_by = RadioField("Who asked for it?", choices=REQUESTED_BY, widget=GovRadioInput(),
                              validators=[InputRequired("Select who asked for the cancellation")])
    submit = SubmitField("Cancel booking", widget=GovSubmitInput())


class BookForm(BaseForm):
    """The "Book" button beside one session that fits: the session rides in a hidden field."""

    session_id = IntegerField(widget=HiddenInput(), validators=[InputRequired("Choose a session")])


PARTICIPANT_REFERENCE = re.compile(r"^P-?0*([1-9][0-9]{0,9})$", re.IGNORECASE)


class WaitlistForm(BaseForm):
    """Put a participant on a full session's waitlist, by the reference on their page."""

    reference = StringField(
        "Participant reference", widget=GovTextInput(),
        description="As shown on the participant's page, like P-000123",
        validators=[InputRequired("Enter the participant reference")],
    )
    submit = SubmitField("Add to waitlist", widget=GovSubmitInput())

    def validate_reference(self, field) -> None:
        if not PARTICIPANT_REFERENCE.match(field.data.strip()):
            raise ValidationError("Enter a participant reference like P-000123")

    def enrolment_id(self) -> int:
        match = PARTICIPANT_REFERENCE.match(self.reference.data.strip())
        assert match is not None  # validated
        return int(match.group(1))


class OutcomeForm(BaseForm):
    """One participant's outcome for one session, recorded from their own page."""

    outcome = RadioField("What happened?", choices=OUTCOMES, widget=GovRadioInput(),
                         validators=[InputRequired("Select what happened")])
    reason = StringField(
        "Reason (needed for an excused absence)", widget=GovTextInput(),
        validators=[Optional(), Length(max=500, message="Reason must be 500 characters "
                                                        "or fewer")],
    )


def _whole_number_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ForecastForm(BaseForm):
    """The forecast's period and programme: read from the address, so no CSRF token."""

    weeks = WholeNumberField(
        "Weeks ahead", widget=GovTextInput(), default=12,
        description=f"From this week, up to {MAX_WEEKS} weeks",
        not_a_number="Enter the number of weeks as a whole number, like 12",
        validators=[InputRequired("Enter how many weeks to forecast"),
                    NumberRange(1, MAX_WEEKS, f"Weeks ahead must be between 1 and {MAX_WEEKS}")],
    )
    programme_id = SelectField("Programme", coerce=_whole_number_or_none, widget=GovSelect(),
                               validate_choice=False)

    def validate_programme_id(self, field) -> None:
        if field.data not in {int(choice.value) for choice in field.choices}:
            raise ValidationError("Select a programme")


class ActionForm(BaseForm):
    """A button that changes something: only the CSRF token is checked."""


class CorrectOutcomeForm(BaseForm):
    outcome = RadioField("What should the outcome be?", choices=OUTCOMES, widget=GovRadioInput(),
                         validators=[InputRequired("Select the correct outcome")])
    reason = TextAreaField(
        "Why is the outcome being corrected?", widget=GovTextArea(),
        description="For an excused absence, include the reason it is excused.",
        validators=[InputRequired("Enter why the outcome is being corrected"),
                    Length(max=500, message="Reason must be 500 characters or fewer")],
    )
    confirmed = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())


def register_form(bookings, formdata=None):
    """Build the register form: one outcome and one reason per booking."""

    class RegisterForm(BaseForm):
        pass

    for booking in bookings:
        if booking.status in set(Outcome):
            continue  # recorded: corrected on its own page, never by a stray key press
        setattr(RegisterForm, f"outcome_{booking.id}", RadioField(
            booking.enrolment.case.participant_name, choices=OUTCOMES,
            widget=GovRadioInput(), validators=[Optional()],
        ))
        setattr(RegisterForm, f"reason_{booking.id}", StringField(
            "Reason (needed for an excused absence)", widget=GovTextInput(),
            default=booking.reason or "",
            validators=[Optional(), Length(max=500, message="Reason must be 500 characters "
                                                            "or fewer")],
        ))
    RegisterForm.save = SubmitField("Save register", widget=GovSubmitInput())
    RegisterForm.mark_all = SubmitField("Mark all as attended", widget=GovSubmitInput())
    return RegisterForm(formdata=formdata) if formdata is not None else RegisterForm()
