from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from diversion.web.forms import BaseForm


class LoginForm(BaseForm):
    # Any text is checked against the accounts, and a failed attempt audited as such.
    UNCHECKED_TEXT = ("email", "password")

    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your email address"), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your password"), Length(max=128)],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class SecondFactorForm(BaseForm):
    code = StringField(
        "Code from your authenticator app",
        widget=GovTextInput(),
        description="The 6-digit code it shows now",
        validators=[InputRequired("Enter the 6-digit code from your authenticator app"),
                    Length(max=12)],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())
