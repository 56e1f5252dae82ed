from datetime import date

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
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from diversion import clock
from diversion.domain.notices import handover_problem
from diversion.domain.vocabulary import DecisionKind, Language
from diversion.web.forms import (
    BaseForm,
    DateInput,
    DateOfBirth,
    DeliverableEmail,
    WholeNumberField,
)

YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


def yes_no(label: str, message: str) -> RadioField:
    return RadioField(label, choices=YES_NO, widget=GovRadioInput(),
                      validators=[InputRequired(message)])


def phone_field() -> StringField:
    return StringField(
        "Phone number (optional)", widget=GovTextInput(),
        description="A UK number. Text message reminders need a mobile number.",
        validators=[Optional(), Length(max=40),
                    Regexp(r"^[0-9 +()\-]*$",
                           message="Enter a UK phone number, like 07700 900982")],
    )


def language_field() -> RadioField:
    return RadioField(
        "Which language should the participant's messages be in?", widget=GovRadioInput(),
        choices=[SelectChoice(Language.ENGLISH, "English"),
                 SelectChoice(Language.WELSH, "Welsh (Cymraeg)")],
        # Pre-selected, so a browser always sends it; a post without it means English.
        default=Language.ENGLISH, validators=[Optional()],
    )


def sms_consent_field() -> BooleanField:
    return BooleanField(
        "The participant agrees to text message reminders", widget=GovCheckboxInput(),
        description="Reminders and notices also go by text to the mobile number above",
    )


class CaseForm(BaseForm):
    reference = StringField(
        "Case reference",
        widget=GovTextInput(),
        validators=[
            InputRequired("Enter the case reference"),
            Length(max=64, message="Case reference must be 64 characters or fewer"),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9/\-_. ]*$",
                   message="Case reference must only include letters, digits, spaces and / - _ ."),
        ],
    )
    given_name = StringField(
        "Given name", widget=GovTextInput(),
        validators=[InputRequired("Enter the participant's given name"),
                    Length(max=100, message="Given name must be 100 characters or fewer")],
    )
    family_name = StringField(
        "Family name", widget=GovTextInput(),
        validators=[InputRequired("Enter the participant's family name"),
                    Length(max=100, message="Family name must be 100 characters or fewer")],
    )
    date_of_birth = DateField(
        "Date of birth", format="%d %m %Y", widget=DateInput(),
        description="For example, 27 3 1990",
        validators=[InputRequired("Enter the date of birth as a real date, like 27 3 1990"),
                    DateOfBirth()],
        invalid_value_message="Enter the date of birth as a real date, like 27 3 1990",
    )
    email = EmailField(
        "Email address", widget=GovTextInput(),
        description="Invitations and reminders go to this address",
        validators=[InputRequired("Enter the participant's email address"),
                    Length(max=254), DeliverableEmail()],
    )
    phone = phone_field()
    language = language_field()
    sms_consent = sms_consent_field()
    previous_sexual_or_violent_conviction = yes_no(
        "Any previous conviction for a sexual or violent offence?",
        "Select whether there is a previous sexual or violent conviction")
    first_offence = yes_no("Is this a first offence?", "Select whether this is a first offence")
    image_category = RadioField(
        "Highest image category", widget=GovRadioInput(),
        choices=[SelectChoice("A", "Category A"), SelectChoice("B", "Category B"),
                 SelectChoice("C", "Category C")],
        validators=[InputRequired("Select the highest image category")],
    )
    contact_offending_suspected = yes_no(
        "Is contact offending, or trying to contact children, suspected?",
        "Select whether contact offending is suspected")
    children_at_risk = yes_no("Are any children at risk (safeguarding checks)?",
                              "Select whether any children are at risk")
    prosecutor_agreed = yes_no("Has the prosecutor agreed to defer prosecution?",
                               "Select whether the prosecutor has agreed")
    participant_consented = yes_no("Has the participant consented to the agreement?",
                                   "Select whether the participant has consented")
    submit = SubmitField("Record case", widget=GovSubmitInput())


class EnrolForm(BaseForm):
    programme_id = SelectField("Programme", coerce=int, widget=GovSelect(),
                               validators=[InputRequired("Select a programme")])
    start_date = DateField(
        "Start date", format="%d %m %Y", widget=DateInput(),
        description="The core deadline is 4 calendar months after this date",
        validators=[InputRequired("Enter the start date as a real date, like 1 12 2026")],
        invalid_value_message="Enter the start date as a real date, like 1 12 2026",
    )
    submit = SubmitField("Enrol", widget=GovSubmitInput())


REASON_MAX = 2000


class DecisionForm(BaseForm):
    decision = RadioField(
        "Decision", widget=GovRadioInput(),
        choices=[SelectChoice(DecisionKind.CONTINUE, "Continue on the programme"),
                 SelectChoice(DecisionKind.REFER, "Refer back to prosecution"),
                 SelectChoice(DecisionKind.WITHDRAW, "Withdraw from the programme")],
        validators=[InputRequired("Select a decision")],
    )
    reason = TextAreaField(
        "Reason", widget=GovTextArea(),
        description="This is recorded with your name and shown in the referral summary",
        validators=[InputRequired("Give the reason for the decision"),
                    Length(max=REASON_MAX, message="Reason must be 2,000 characters or fewer")],
    )
    extend_days = WholeNumberField(
        "Extend the deadline by (days, optional)", widget=GovTextInput(),
        not_a_number="Enter the number of days as a whole number, like 14",
        description="Extends the core deadline, or the follow-up window once the core "
                    "modules are complete.",
        validators=[Optional(), NumberRange(min=1, max=365,
                                            message="Extend by between 1 and 365 days")],
    )
    submit = SubmitField("Record decision", widget=GovSubmitInput())


class ConfirmDecisionForm(BaseForm):
    """The confirmation step of a decision that closes the enrolment: refer or withdraw.

    The decision and reason ride along as hidden fields, checked again here: only the
    submit records anything.
    """

    decision = HiddenField(validators=[
        InputRequired("Select a decision"),
        AnyOf([DecisionKind.REFER, DecisionKind.WITHDRAW], message="Select a decision")])
    reason = HiddenField(validators=[
        InputRequired("Give the reason for the decision"),
        Length(max=REASON_MAX, message="Reason must be 2,000 characters or fewer")])
    confirm = SubmitField("Confirm", widget=GovSubmitInput())
    change = SubmitField("Change the decision", widget=GovSubmitInput())


class ContactForm(BaseForm):
    """How the participant is reached; the case officer changes it as they ask."""

    phone = phone_field()
    language = language_field()
    sms_consent = sms_consent_field()
    submit = SubmitField("Save contact details", widget=GovSubmitInput())


class HandoverForm(BaseForm):
    """When, and by whom, the warning letter was handed to the participant in person.

    ``missed_on`` is the day of the absence the letter was about: the letter was handed
    over on or after it.
    """

    handed_over_on = DateField(
        "Date it was handed over", format="%d %m %Y", widget=DateInput(),
        description="For example, 13 1 2027",
        validators=[InputRequired("Enter the date the letter was handed over")],
        invalid_value_message="Enter the date the letter was handed over as a real date, "
                              "like 13 1 2027",
    )
    handed_over_by = StringField(
        "Handed over by", widget=GovTextInput(),
        description="The name of the person who handed it over",
        validators=[InputRequired("Enter the name of the person who handed the letter over"),
                    Length(max=200, message="The name must be 200 characters or fewer")],
    )
    submit = SubmitField("Record hand-over", widget=GovSubmitInput())

    def __init__(self, *args, missed_on: date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.missed_on = missed_on

    def validate_handed_over_on(self, field) -> None:
        problem = (field.data and self.missed_on
                   and handover_problem(field.data, self.missed_on, clock.today()))
        if problem:
            raise ValidationError(problem)
