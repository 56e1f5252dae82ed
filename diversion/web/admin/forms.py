from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, Regexp

from diversion.domain.vocabulary import Role
from diversion.web.forms import BaseForm, DeliverableEmail


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
