"""Base form (strips surrounding whitespace from every text field) and shared fields."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import IntegerField


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", [])
            filters = [*filters, _strip]
            return unbound_field.bind(form=form, filters=filters, **options)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


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
            self.data = None
            raise ValueError(self.not_a_number) from error
