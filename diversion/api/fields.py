"""Marshmallow fields for docs/api.md's date-time and module conventions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import ValidationError, fields, missing

from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import LONDON


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
        if parsed.year < 2000 or parsed.year > 2100:
            raise ValidationError("Date-time must be between 2000 and 2100")
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
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20:
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
                return date.fromisoformat(value.strip())
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as error:
            raise self.make_error("invalid") from error
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)
