"""Marshmallow fields for docs/api.md's date-time and module conventions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app
from marshmallow import ValidationError, fields, missing

from diversion.domain.dates import FIRST_SESSION_DAY, LAST_SESSION_DAY
from diversion.domain.intake import email_problem
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import LONDON
from diversion.limits import MAX_ID, NO_ROW

BOUNDS_MESSAGE = (f"Enter a date between {FIRST_SESSION_DAY.isoformat()} and "
                  f"{LAST_SESSION_DAY.isoformat()}")


class Instant(fields.Field):
    """An ISO 8601 date-time; without an offset it stays naive (programme-local)."""

    default_error_messages = {"invalid": "Enter a date-time like 2027-03-30T18:00:00+01:00"}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(LONDON).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as error:
            raise self.make_error("invalid") from error
        if not FIRST_SESSION_DAY <= parsed.date() <= LAST_SESSION_DAY:
            raise ValidationError(BOUNDS_MESSAGE)
        return parsed


class UTCInstant(fields.String):
    """An instant written in UTC with a Z, as the audit trail states when."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Grouped(fields.Nested):
    """Some of a record's own attributes, shown together under one key."""

    def get_value(self, obj, attr, accessor=None, default=missing):
        return obj


class Lines(fields.List):
    """A list of text kept one item a line in a single column (a venue's rooms)."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(value.split("\n") if value else [], attr, obj, **kwargs)


class Module(fields.Field):
    """A module number 1..N, or the string "follow_up"."""

    MOST = 20
    default_error_messages = {"invalid": 'Module must be a number from 1 or "follow_up"'}

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return "follow_up" if value == FOLLOW_UP else value

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "follow_up":
            return FOLLOW_UP
        # Query strings carry numbers as text: ?module=3.
        if isinstance(value, str) and value.isdigit() and len(value) <= 2:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= self.MOST:
            raise self.make_error("invalid")
        return value


class StrictBoolean(fields.Boolean):
    """A JSON true or false; "yes", 1 and friends are refused, not guessed at."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class DayOrInstant(fields.Field):
    """A date (YYYY-MM-DD, a whole local day) or a date-time, for list filters."""

    default_error_messages = {"invalid": "Enter a date like 2027-03-30 or a date-time"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            if len(value.strip()) == 10:
                parsed: date = date.fromisoformat(value.strip())
                day = parsed
            else:
                moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
                parsed = moment if moment.tzinfo else moment.replace(tzinfo=LONDON)
                day = moment.date()
        except ValueError as error:
            raise self.make_error("invalid") from error
        # A whole day runs to the next midnight: 9999-12-31 would have none.
        if not FIRST_SESSION_DAY <= day <= LAST_SESSION_DAY:
            raise ValidationError(BOUNDS_MESSAGE)
        return parsed


class Id(fields.Integer):
    """A record's id. A number beyond an integer column's range names no record, as an
    id past the last row does: it is read as ``NO_ROW`` rather than sent to the database,
    where it would be an error. In a body it must be a JSON number; in a query, digits.
    """

    def __init__(self, *, strict: bool = True, **kwargs):
        # The range as the OpenAPI document states it.
        metadata = {"minimum": 1, "maximum": MAX_ID, **kwargs.pop("metadata", {})}
        super().__init__(strict=strict, metadata=metadata, **kwargs)

    def _validated(self, value):
        number = super()._validated(value)
        return number if 1 <= number <= MAX_ID else NO_ROW


class Text(fields.String):
    """Text with its surrounding whitespace removed; a required one must keep some."""

    default_error_messages = {"blank": "Enter some text: spaces alone are not enough"}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.required and not text:
            raise self.make_error("blank")
        return text


class DeliverableEmail(fields.String):
    """An email address the outbox's SMTP delivery can send to (docs/api.md).

    The ``.test`` domain of the demo data is accepted outside production only.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        address = super()._deserialize(value, attr, data, **kwargs).strip()
        testing = current_app.config.get("ENV_NAME") != "production"
        problem = ("Enter an email address of 254 characters or fewer" if len(address) > 254
                   else email_problem(address, allow_test_domain=testing))
        if problem:
            raise ValidationError(problem)
        return address
