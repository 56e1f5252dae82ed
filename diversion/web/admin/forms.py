from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Regexp

from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.programme_settings import COUNT_LIMITS, LABELS, SETTING_NAMES, TEXT_LIMITS
from diversion.domain.vocabulary import Role
from diversion.web.forms import BaseForm, DateInput, DeliverableEmail, SessionDay, WholeNumberField


class UserForm(BaseForm):
    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[InputRequired("Enter an email address"), Length(max=254),
                                   DeliverableEmail()])
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[InputRequired("Enter the person's name"), Length(max=200)])
    role = RadioField("Role", widget=GovRadioInput(), choices=[
        SelectChoice(Role.CASE_OFFICER, "Case officer"),
        SelectChoice(Role.COORDINATOR, "Course coordinator"),
        SelectChoice(Role.ADMIN, "Administrator")], validators=[InputRequired("Select a role")])
    force = SelectField("Force (case officers only)", widget=GovSelect(), choices=[])
    password = PasswordField(
        "Initial password", widget=GovPasswordInput(),
        description="At least 8 characters; a long phrase is best",
        validators=[InputRequired("Enter an initial password"), Length(max=128)])
    submit = SubmitField("Create account", widget=GovSubmitInput())


class ForceForm(BaseForm):
    code = StringField("Code", widget=GovTextInput(), description="For example, MET",
                       validators=[InputRequired("Enter a code"), Length(max=16),
                                   Regexp(r"^[A-Za-z0-9_-]+$",
                                          message="Use letters, digits, - and _ only")])
    name = StringField("Name", widget=GovTextInput(),
                       validators=[InputRequired("Enter the force's name"), Length(max=200)])
    submit = SubmitField("Add force", widget=GovSubmitInput())


def _count(name: str, description: str) -> WholeNumberField:
    low, high = COUNT_LIMITS[name]
    label = LABELS[name]
    return WholeNumberField(
        label, widget=GovTextInput(), description=f"{description} From {low} to {high}.",
        not_a_number=f"Enter the {label[0].lower()}{label[1:]} as a whole number",
        validators=[InputRequired(f"Enter the {label[0].lower()}{label[1:]}"),
                    NumberRange(low, high, f"{label} must be a whole number from {low} to "
                                           f"{high}")])


def _text(name: str, description: str) -> StringField:
    label, longest = LABELS[name], TEXT_LIMITS[name]
    return StringField(
        label, widget=GovTextInput(), description=description,
        validators=[InputRequired(f"Enter the {label[0].lower()}{label[1:]}"),
                    Length(max=longest,
                           message=f"{label} must be {longest} characters or fewer")])


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class ProgrammeForm(BaseForm):
    """Every setting of a programme; the domain's limits are the form's."""

    name = _text("name", "How staff see the programme on pages and in exports.")
    invite_title = _text("invite_title", "The title of every calendar entry and email a "
                                         "participant receives. It must not reveal what the "
                                         "programme is.")
    invite_title_cy = _text("invite_title_cy", "The same title for participants who chose "
                                               "Welsh.")
    contact_phone = _text("contact_phone", "The number participants call, in every message "
                                           "and calendar entry.")
    organizer_email = _text("organizer_email", "A monitored mailbox: calendar apps name it "
                                               "as the organiser.")
    core_modules = _count("core_modules", "Each is one session, attended once.")
    session_minutes = _count("session_minutes", "How long each session lasts.")
    modules_in_order = RadioField(
        LABELS["modules_in_order"], widget=GovRadioInput(), choices=YES_NO,
        validators=[InputRequired("Select whether modules are taken in order")])
    core_months = _count("core_months", "The core deadline is the start date plus this many "
                                        "calendar months.")
    follow_up_months = _count("follow_up_months", "The follow-up is due this many calendar "
                                                  "months after the last core module.")
    follow_up_window_days = _count("follow_up_window_days", "The follow-up may be attended "
                                                            "this many days either side of its "
                                                            "due date.")
    min_days_between_sessions = _count("min_days_between_sessions",
                                       "Between two core sessions of one participant.")
    reminder_hours = _count("reminder_hours", "When the reminder email goes.")
    holiday_region = RadioField(
        LABELS["holiday_region"], widget=GovRadioInput(),
        description="No session is held on a public holiday of this part of the UK.",
        choices=[SelectChoice(code, f"{place} ({code})")
                 for code, place in UK_HOLIDAY_REGIONS.items()],
        validators=[InputRequired("Select whose public holidays sessions avoid")])
    self_service_cutoff_hours = _count("self_service_cutoff_hours",
                                       "Participants may move their own appointment until "
                                       "this many hours before it starts.")
    self_service_moves = _count("self_service_moves",
                                "How often a participant may move their own appointments.")
    retention_ineligible_months = _count(
        "retention_ineligible_months",
        "A screening nobody was enrolled from (found ineligible, or eligible and never "
        "enrolled) loses its personal data this many months after it was recorded.")
    retention_closed_months = _count(
        "retention_closed_months",
        "An enrolment that was completed, referred or withdrawn loses its personal data "
        "this many months after it closed. Outcome counts are kept.")
    retention_message_months = _count(
        "retention_message_months",
        "A message sent to a participant, or given up on, loses its recipient and contents "
        "this many months later.")
    retention_audit_months = _count(
        "retention_audit_months",
        "Audit entries are deleted this many months after they were written. The longest "
        "period of any programme applies to the whole trail.")

    def settings(self) -> dict:
        """The settings as entered, for the programme service."""
        values = {name: self[name].data for name in SETTING_NAMES if name in self}
        values["modules_in_order"] = values["modules_in_order"] == "yes"
        return values

    @classmethod
    def data_of(cls, programme) -> dict:
        """A programme's settings as the form shows them."""
        data = {name: getattr(programme, name) for name in SETTING_NAMES}
        data["modules_in_order"] = "yes" if programme.modules_in_order else "no"
        return data


class NewProgrammeForm(ProgrammeForm):
    submit = SubmitField("Add programme", widget=GovSubmitInput())


class EditProgrammeForm(ProgrammeForm):
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ConfirmProgrammeForm(EditProgrammeForm):
    """The change as checked, carried in hidden fields, with what was seen when checking."""

    seen = HiddenField(validators=[InputRequired()])
    confirm = SubmitField("Save changes", widget=GovSubmitInput())
    change = SubmitField("Change these settings again", widget=GovSubmitInput())


class ClockDateForm(BaseForm):
    day = DateField(
        "Move the clock to a date", format="%d %m %Y", widget=DateInput(),
        description="The clock will read 9am on that day. For example, 19 1 2027",
        validators=[InputRequired("Enter the date as a real date, like 19 1 2027"),
                    SessionDay()],
        invalid_value_message="Enter the date as a real date, like 19 1 2027")
    submit = SubmitField("Move the clock to this date", widget=GovSubmitInput())
