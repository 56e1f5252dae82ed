"""The participant's two forms. Their errors are codes: the page words them, so that every
word a participant reads is in the templates (and can be translated there)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, ValidationError

from diversion.domain.self_service import message_problem
from diversion.limits import MAX_ID


class _ParticipantForm(FlaskForm):
    class Meta:
        # The views check the CSRF token before the form is read (``csrf.protect``): a
        # JSON request to the same address carries none, as the token in it is the key.
        csrf = False


class MoveForm(_ParticipantForm):
    """The session the participant wants instead of their appointment."""

    session_id = IntegerField(validators=[InputRequired(message="choose_session")])

    def validate_session_id(self, field) -> None:
        if field.data is None or not 1 <= field.data <= MAX_ID:
            raise ValidationError("choose_session")


class CallbackForm(_ParticipantForm):
    """The participant asking to be called, with an optional note."""

    message = TextAreaField(filters=[lambda value: value.strip() if value else value])

    def validate_message(self, field) -> None:
        problem = message_problem(field.data or "")
        if problem is not None:
            raise ValidationError(problem)
