"""Base form: strips surrounding whitespace from every text field, refuses text no
database could hold, and takes spaces alone as no answer; and the shared fields."""

from flask import current_app
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import IntegerField
from wtforms.validators import InputRequired, StopValidation, ValidationError

from diversion import clock
from diversion.domain.dates import session_day_problem
from diversion.domain.intake import date_of_birth_problem, email_problem
from diversion.domain.text import has_unusable_characters, unusable_characters_message


class BaseForm(FlaskForm):
    # Fields whose text goes on as typed, however odd: sign-in hands any address to
    # authentication, which refuses it and records the failed attempt.
    UNCHECKED_TEXT: tuple[str, ...] = ()

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = [*unbound_field.kwargs.get("filters", []), _strip]
            name = options.get("name")
            if name not in getattr(form, "UNCHECKED_TEXT", ()):
                filters.append(_usable(unbound_field))
            validators = unbound_field.kwargs.get("validators")
            if validators:
                options["validators"] = [
                    _Required(v.message) if type(v) is InputRequired else v for v in validators
                ]
            return unbound_field.bind(form=form, filters=filters, **options)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _usable(unbound_field):
    label = unbound_field.args[0] if unbound_field.args else unbound_field.kwargs.get("label")
    label = str(label or "This field").removesuffix(" (optional)")

    def check(value):
        # WTForms turns a filter's ValueError into an error on the field.
        if isinstance(value, str) and has_unusable_characters(value):
            raise ValueError(unusable_characters_message(label))
        return value

    return check


class _Required(InputRequired):
    """InputRequired that also takes a text of spaces alone (stripped to nothing) as none."""

    def __call__(self, form, field):
        super().__call__(form, field)
        if isinstance(field.data, str) and not field.data:
            field.errors[:] = []
            raise StopValidation(self.message or field.gettext("This field is required."))


class SessionDay:
    """Check a session's date is within the years sessions are held (2000 to 2100)."""

    def __call__(self, form, field) -> None:
        problem = field.data and session_day_problem(field.data)
        if problem:
            raise ValidationError(problem)


class DateOfBirth:
    """Check a date of birth is in the past (shown with the form's other errors)."""

    def __call__(self, form, field) -> None:
        problem = field.data and date_of_birth_problem(field.data, clock.today())
        if problem:
            raise ValidationError(problem)


class DeliverableEmail:
    """Check an email address is one mail can be delivered to (docs/api.md)."""

    def __call__(self, form, field) -> None:
        testing = current_app.config.get("ENV_NAME") != "production"
        if field.data and email_problem(field.data, allow_test_domain=testing):
            raise ValidationError("Enter an email address in the correct format, "
                                  "like name@example.com")


class DateInput(GovDateInput):
    """GOV.UK day, month and year boxes that survive a post without exactly three values."""

    def map_gov_params(self, field, **kwargs):
        # GovDateInput unpacks raw_data into three names: a hand-made post with
        # none or four of them would otherwise turn a form error into a 500.
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = [*field.raw_data, "", "", ""][:3]
        return super().map_gov_params(field, **kwargs)


class WholeNumberField(IntegerField):
    """An integer field whose 'not a number' message says what to type."""

    def __init__(self, label=None, validators=None, *, not_a_number: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.not_a_number = not_a_number

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError as error:
            self.data = None  # type: ignore[assignment]
            raise ValueError(self.not_a_number) from error
