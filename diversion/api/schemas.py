"""Request and response schemas: the OpenAPI document is generated from these.

Response schemas dump the records themselves: models, and the services' own results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    pre_dump,
    pre_load,
    validate,
    validates_schema,
)

from diversion.api.fields import (
    DayOrInstant,
    DeliverableEmail,
    Grouped,
    Id,
    Instant,
    Lines,
    Module,
    StrictBoolean,
    Text,
    UTCInstant,
)
from diversion.domain.forecast import MAX_WEEKS
from diversion.domain.outcomes import FIRST_YEAR, LAST_YEAR
from diversion.domain.programme_settings import COUNT_LIMITS, TEXT_LIMITS
from diversion.domain.text import (
    has_unusable_characters,
    unusable_characters_message,
    without_unusable_characters,
)
from diversion.domain.vocabulary import (
    DecisionKind,
    EnrolmentStatus,
    ExtensionTarget,
    FlagKind,
    FlagStatus,
    Language,
    Outcome,
    Role,
    values,
)
from diversion.limits import MAX_ID
from diversion.services import outbox


def text(max_length: int, *, required: bool = True, **kw) -> fields.String:
    return Text(
        required=required, validate=validate.Length(min=1 if required else 0, max=max_length), **kw
    )


def cursor() -> fields.Integer:
    """The keyset cursor of a list: the last id of the page before."""
    return fields.Integer(validate=validate.Range(min=0, max=MAX_ID))


class RequestSchema(Schema):
    """A request body or query: no text in it may hold a NUL byte or a lone surrogate.

    Checked on the raw input, before any field, so that every text field, nested or
    not, is refused with its name (400) instead of failing in the database.
    """

    @pre_load
    def _refuse_unusable_text(self, data, **kwargs):
        problems = list(_unusable(data, ""))
        if problems:
            raise ValidationError({path or "_schema": [unusable_characters_message(
                _label(path))] for path in problems})
        return data


def _label(path: str) -> str:
    """Name a field by the last part of its path that is not a list index."""
    return next((part for part in reversed(path.split(".")) if not part.isdigit()), "Text")


def _unusable(value, path: str):
    """Yield the path of each string (key or value) in the input that cannot be stored."""
    if isinstance(value, str):
        if has_unusable_characters(value):
            yield path
    elif isinstance(value, Mapping):
        for key in value:
            name = without_unusable_characters(str(key))
            where = f"{path}.{name}" if path else name
            if has_unusable_characters(str(key)):
                yield where
            else:
                yield from _unusable(value[key], where)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _unusable(item, f"{path}.{index}" if path else str(index))


class ErrorItem(Schema):
    code = fields.String(required=True)
    field = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)


class ErrorResponse(Schema):
    """docs/api.md's error body: a list, one item per problem, each naming its field."""

    errors = fields.List(fields.Nested(ErrorItem), required=True)


class ProgrammeOut(Schema):
    id = fields.Integer()
    name = fields.String()
    core_modules = fields.Integer()
    session_minutes = fields.Integer()
    core_months = fields.Integer()
    follow_up_months = fields.Integer()
    follow_up_window_days = fields.Integer()
    min_days_between_sessions = fields.Integer()
    reminder_hours = fields.Integer()
    timezone = fields.String()
    holiday_region = fields.String()
    modules_in_order = fields.Boolean()
    invite_title = fields.String()
    invite_title_cy = fields.String()
    self_service_cutoff_hours = fields.Integer()
    self_service_moves = fields.Integer()
    contact_phone = fields.String()
    organizer_email = fields.String()
    retention_ineligible_months = fields.Integer()
    retention_closed_months = fields.Integer()
    retention_message_months = fields.Integer()
    retention_audit_months = fields.Integer()


def _count(name: str) -> fields.Integer:
    low, high = COUNT_LIMITS[name]
    return fields.Integer(strict=True, validate=validate.Range(
        min=low, max=high, error=f"Must be a whole number from {low} to {high}"))


def _setting_text(name: str) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=TEXT_LIMITS[name]))


class ProgrammePatch(Schema):
    """Any setting; the ranges are the domain's (a value outside one is a 400)."""

    name = _setting_text("name")
    core_modules = _count("core_modules")
    session_minutes = _count("session_minutes")
    core_months = _count("core_months")
    follow_up_months = _count("follow_up_months")
    follow_up_window_days = _count("follow_up_window_days")
    min_days_between_sessions = _count("min_days_between_sessions")
    reminder_hours = _count("reminder_hours")
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    holiday_region = fields.String(validate=validate.Length(min=1, max=16))
    modules_in_order = StrictBoolean()
    invite_title = _setting_text("invite_title")
    invite_title_cy = _setting_text("invite_title_cy")
    self_service_cutoff_hours = _count("self_service_cutoff_hours")
    self_service_moves = _count("self_service_moves")
    contact_phone = _setting_text("contact_phone")
    organizer_email = _setting_text("organizer_email")
    retention_ineligible_months = _count("retention_ineligible_months")
    retention_closed_months = _count("retention_closed_months")
    retention_message_months = _count("retention_message_months")
    retention_audit_months = _count("retention_audit_months")


class ProgrammeIn(ProgrammePatch):
    """A new programme: a name, and any setting that differs from the defaults."""

    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=TEXT_LIMITS["name"]))


class ProgrammeList(Schema):
    items = fields.List(fields.Nested(ProgrammeOut))
    next = fields.String(allow_none=True)


class ParticipantIn(RequestSchema):
    given_name = text(100)
    family_name = text(100)
    date_of_birth = fields.Date(required=True)
    email = DeliverableEmail(required=True)
    phone = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(r"^[0-9 +()\-]{0,40}$", error="Enter a phone number"),
    )
    language = fields.String(load_default=Language.ENGLISH,
                             validate=validate.OneOf(values(Language)))
    sms_consent = StrictBoolean(load_default=False)


class ScreeningIn(RequestSchema):
    previous_sexual_or_violent_conviction = StrictBoolean(required=True)
    first_offence = StrictBoolean(required=True)
    image_category = fields.String(required=True, validate=validate.OneOf(["A", "B", "C"]))
    contact_offending_suspected = StrictBoolean(required=True)
    children_at_risk = StrictBoolean(required=True)
    prosecutor_agreed = StrictBoolean(required=True)
    participant_consented = StrictBoolean(required=True)


class CaseIn(RequestSchema):
    reference = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9/\-_. ]*$",
                            error="Use letters, digits, spaces and / - _ ."),
        ],
    )
    participant = fields.Nested(ParticipantIn, required=True)
    screening = fields.Nested(ScreeningIn, required=True)


class ParticipantOut(Schema):
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date()
    email = fields.String()
    phone = fields.String(allow_none=True)
    language = fields.String()
    sms_consent = fields.Boolean()


class CaseOut(Schema):
    id = fields.Integer()
    force = fields.String(attribute="force.code")
    reference = fields.String()
    participant = Grouped(ParticipantOut)
    screening = Grouped(ScreeningIn)
    eligible = fields.Boolean()
    ineligible_reasons = fields.List(fields.String(), attribute="reasons")
    enrolment_id = fields.Integer(allow_none=True, attribute="enrolment.id", dump_default=None)
    created_at = Instant()


class EnrolmentIn(RequestSchema):
    programme_id = Id(required=True)
    start_date = fields.Date(required=True)


class WindowOut(Schema):
    opens = fields.Date()
    closes = fields.Date()


class FlagOut(Schema):
    id = fields.Integer()
    enrolment_id = fields.Integer()
    kind = fields.String()
    raised_at = Instant()
    detail = fields.String()
    status = fields.String()


class BookingOut(Schema):
    id = fields.Integer()
    enrolment_id = fields.Integer()
    session_id = fields.Integer()
    module = Module()
    status = fields.String()
    starts_at = Instant()
    ends_at = Instant()
    reason = fields.String(allow_none=True)


class ExtensionOut(Schema):
    id = fields.Integer()
    target = fields.String()
    days = fields.Integer()
    reason = fields.String()
    previous_date = fields.Date()
    new_date = fields.Date()
    granted_at = Instant()


class DecisionOut(Schema):
    id = fields.Integer()
    enrolment_id = fields.Integer()
    decision = fields.String(validate=validate.OneOf(values(DecisionKind)))
    reason = fields.String()
    extend_days = fields.Integer(allow_none=True)
    decided_at = Instant()
    decided_by = fields.String(attribute="decided_by.email")


@dataclass(frozen=True)
class Shown:
    """A record, and the role of the person it is shown to."""

    record: Any
    role: str


class ForRole(Schema):
    """Dump a ``Shown``, leaving out what only a case officer may see for anyone else."""

    CASE_OFFICERS_ONLY: tuple[str, ...] = ()

    @pre_dump
    def _record(self, shown: Shown, **kwargs):
        return shown.record

    @post_dump(pass_original=True)
    def _minimise(self, data: dict, shown: Shown, **kwargs) -> dict:
        if shown.role != Role.CASE_OFFICER:
            for name in self.CASE_OFFICERS_ONLY:
                data.pop(name, None)
        return data


class ParticipantNameOut(Schema):
    given_name = fields.String()
    family_name = fields.String()


class EnrolmentSummaryOut(ForRole):
    """An enrolment in a list: its progress and flags; the bookings are on the enrolment."""

    CASE_OFFICERS_ONLY: tuple[str, ...] = ("reference",)

    id = fields.Integer()
    case_id = fields.Integer()
    programme_id = fields.Integer()
    status = fields.String()
    start_date = fields.Date()
    core_deadline = fields.Date()
    modules_attended = fields.List(Module())
    follow_up_due = fields.Date(allow_none=True)
    follow_up_window = fields.Nested(WindowOut, allow_none=True)
    flags = fields.List(fields.Nested(FlagOut))
    participant = fields.Nested(ParticipantNameOut, attribute="case")
    reference = fields.String(attribute="case.reference")


class EnrolmentOut(EnrolmentSummaryOut):
    """An enrolment: the coordinator's view carries no case reference and no decisions."""

    CASE_OFFICERS_ONLY: tuple[str, ...] = ("reference", "decisions")

    original_core_deadline = fields.Date()
    bookings = fields.List(fields.Nested(BookingOut))
    extensions = fields.List(fields.Nested(ExtensionOut))
    decisions = fields.List(fields.Nested(DecisionOut))
    force = fields.String()


class EnrolmentList(Schema):
    items = fields.List(fields.Nested(EnrolmentSummaryOut))
    next = fields.String(allow_none=True)


class EnrolmentQuery(RequestSchema):
    status = fields.String(validate=validate.OneOf(values(EnrolmentStatus)))
    flag = fields.String(validate=validate.OneOf([*values(FlagKind), "any"]))
    after = cursor()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AuditQuery(RequestSchema):
    case_id = Id(strict=False)
    actor = fields.String(validate=validate.Length(max=254))
    since = Instant()
    after = cursor()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class AuditOut(Schema):
    id = fields.Integer()
    at = UTCInstant()
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    detail = fields.Dict(allow_none=True)


class AuditList(Schema):
    items = fields.List(fields.Nested(AuditOut))
    next = fields.String(allow_none=True)


class VenueIn(RequestSchema):
    name = text(200)
    address = text(500)
    rooms = fields.List(text(100),
                        load_default=list, validate=validate.Length(max=50))


class VenueOut(Schema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()
    rooms = Lines()


class VenueList(Schema):
    items = fields.List(fields.Nested(VenueOut))
    next = fields.String(allow_none=True)


class SessionIn(RequestSchema):
    programme_id = Id(required=True)
    module = Module(required=True)
    starts_at = Instant(required=True)
    venue_id = Id(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=500))
    facilitator = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=200))
    room = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class SeriesIn(RequestSchema):
    programme_id = Id(required=True)
    module = Module(required=True)
    first_starts_at = Instant(required=True)
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=200))
    interval_days = fields.Integer(required=True, strict=True,
                                   validate=validate.Range(min=1, max=365))
    venue_id = Id(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=500))
    facilitator = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=200))
    room = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class SessionPatch(RequestSchema):
    rebook = StrictBoolean(load_default=False)
    starts_at = Instant()
    venue_id = Id()
    capacity = fields.Integer(strict=True, validate=validate.Range(min=1, max=500))
    facilitator = fields.String(validate=validate.Length(max=200))
    room = fields.String(validate=validate.Length(max=100))


class SessionCancelIn(RequestSchema):
    reason = text(500)
    rebook = StrictBoolean(load_default=False)


class SessionOut(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    module = Module()
    starts_at = Instant()
    ends_at = Instant()
    venue_id = fields.Integer()
    room = fields.String()
    capacity = fields.Integer()
    booked = fields.Integer()
    facilitator = fields.String()
    status = fields.String()
    cancel_reason = fields.String(allow_none=True)


class SessionList(Schema):
    items = fields.List(fields.Nested(SessionOut))
    next = fields.String(allow_none=True)


class MovedOut(Schema):
    session_id = fields.Integer()
    starts_at = Instant()
    to = fields.Date()
    from_ = fields.Date(data_key="from", attribute="from")


class SeriesOut(Schema):
    items = fields.List(fields.Nested(SessionOut))
    moved = fields.List(fields.Nested(MovedOut))


class SessionQuery(RequestSchema):
    from_ = DayOrInstant(data_key="from")
    to = DayOrInstant()
    module = Module()
    venue_id = Id(strict=False)
    programme_id = Id(strict=False)
    after = cursor()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class RebookOut(Schema):
    enrolment_id = fields.Integer()
    booking_id = fields.Integer()
    session_id = fields.Integer()
    module = Module()
    starts_at = Instant()
    previous_booking_id = fields.Integer()


class NotRebookedOut(Schema):
    enrolment_id = fields.Integer()
    booking_id = fields.Integer()
    module = Module()
    code = fields.String()
    reason = fields.String()


class SessionCancelOut(Schema):
    session = fields.Nested(SessionOut)
    cancelled = fields.List(fields.Nested(BookingOut))
    rebooked = fields.List(fields.Nested(RebookOut))
    not_rebooked = fields.List(fields.Nested(NotRebookedOut))


class SessionChangeOut(SessionOut):
    """The session as changed, and what the change did to each person it broke."""

    rebooked = fields.List(fields.Nested(RebookOut))
    not_rebooked = fields.List(fields.Nested(NotRebookedOut))

    @pre_dump
    def _session_and_people(self, change, **_kwargs):
        shown = {name: getattr(change.session, name) for name in SessionOut().fields}
        return {**shown, "rebooked": change.rebooked, "not_rebooked": change.not_rebooked}


class BookingIn(RequestSchema):
    session_id = Id(required=True)


class WaitlistIn(RequestSchema):
    enrolment_id = Id(required=True)


class WaitlistItem(Schema):
    id = fields.Integer()
    enrolment_id = fields.Integer()
    position = fields.Integer(metadata={"description": "1 is offered the next free place"})
    added_at = Instant()


class WaitlistEntryOut(Schema):
    id = fields.Integer()
    session_id = fields.Integer()
    enrolment_id = fields.Integer()
    position = fields.Integer(metadata={"description": "1 is offered the next free place"})


class WaitlistList(Schema):
    items = fields.List(fields.Nested(WaitlistItem))
    next = fields.String(allow_none=True)


class BookingCancelIn(RequestSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))
    requested_by = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=200))


class PlanOut(Schema):
    bookings = fields.List(fields.Nested(BookingOut))


class CohortPlanIn(RequestSchema):
    enrolment_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)), required=True,
        validate=validate.Length(min=1, max=5000))


class CohortPlanned(Schema):
    enrolment_id = fields.Integer()
    bookings = fields.List(fields.Nested(BookingOut))


class CohortRefused(Schema):
    enrolment_id = fields.Integer()
    code = fields.String(attribute="refusal.code")
    message = fields.String(attribute="refusal.message")


class CohortPlanOut(Schema):
    planned = fields.List(fields.Nested(CohortPlanned))
    refused = fields.List(fields.Nested(CohortRefused))

    @pre_dump
    def _by_enrolment(self, outcome, **kwargs):
        # Planning answers by enrolment id; the response lists them, lowest id first.
        return {
            "planned": [{"enrolment_id": enrolment_id, "bookings": made}
                        for enrolment_id, made in sorted(outcome.planned.items())],
            "refused": [{"enrolment_id": enrolment_id, "refusal": refusal}
                        for enrolment_id, refusal in sorted(outcome.refused.items())],
        }


class AttendanceIn(RequestSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(values(Outcome)))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class FlagQuery(RequestSchema):
    status = fields.String(load_default=FlagStatus.OPEN,
                           validate=validate.OneOf([*values(FlagStatus), "all"]))
    after = cursor()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class FlagList(Schema):
    items = fields.List(fields.Nested(FlagOut))
    next = fields.String(allow_none=True)


class DecisionIn(RequestSchema):
    decision = fields.String(
        required=True, validate=validate.OneOf(values(DecisionKind)),
        metadata={"description": "refer: back to prosecution (status referred); continue: "
                                 "stays on the programme, optionally extended; withdraw: "
                                 "the agreement ended (status withdrawn). refer and withdraw "
                                 "cancel future bookings and send cancellations."})
    reason = text(2000)
    extend_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                 validate=validate.Range(min=1, max=365))
    extend = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(values(ExtensionTarget)))


class TokenOut(Schema):
    url = fields.String()
    webcal_url = fields.String()


class ReferralSummaryOut(Schema):
    enrolment = fields.Dict()
    agreement = fields.Dict()
    participant = fields.Dict()
    service_record = fields.Dict()
    modules = fields.List(fields.Dict())
    bookings = fields.List(fields.Dict())
    messages = fields.List(fields.Dict())
    # Warning letters about unexcused absences handed to the participant in person.
    warning_letters = fields.List(fields.Dict())
    flags = fields.List(fields.Dict())
    decisions = fields.List(fields.Dict())
    extensions = fields.List(fields.Dict())
    produced_at = fields.String()
    produced_at_text = fields.String()
    produced_by = fields.String()


# The largest id a path or query may name: beyond it no row can exist (PostgreSQL integer).
MAX_ID = 2**31 - 1


class ForecastQuery(Schema):
    weeks = fields.Integer(load_default=12, validate=validate.Range(min=1, max=MAX_WEEKS))
    programme_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class ForecastItemOut(Schema):
    programme_id = fields.Integer()
    week_start = fields.Date()
    module = Module()
    seats_needed = fields.Integer()
    seats_published = fields.Integer()
    shortfall = fields.Integer()


class SuggestedSessionOut(Schema):
    programme_id = fields.Integer()
    module = Module()
    week_start = fields.Date()
    capacity = fields.Integer()
    starts_at = Instant(allow_none=True)
    venue_id = fields.Integer(allow_none=True)


class ForecastOut(Schema):
    as_of = fields.Date()
    weeks = fields.Integer()
    items = fields.List(fields.Nested(ForecastItemOut))
    next = fields.String(allow_none=True)
    suggested_sessions = fields.List(fields.Nested(SuggestedSessionOut))

    @pre_dump
    def _by_programme(self, report, **kwargs):
        # The service answers per programme; the contract lists weeks and modules flat.
        items, suggested = [], []
        for each in report.programmes:
            programme_id = each.programme.id
            items += [{"programme_id": programme_id, "week_start": line.week_start,
                       "module": line.module, "seats_needed": line.seats_needed,
                       "seats_published": line.seats_published, "shortfall": line.shortfall}
                      for line in each.forecast.lines]
            suggested += [{"programme_id": programme_id, "module": s.module,
                           "week_start": s.week_start, "capacity": s.capacity,
                           "starts_at": s.starts_at, "venue_id": s.venue_id}
                          for s in each.forecast.suggestions]
        return {"as_of": report.as_of, "weeks": report.weeks, "items": items, "next": None,
                "suggested_sessions": suggested}


def _in_report_years(day) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(f"Dates must be between {FIRST_YEAR} and {LAST_YEAR}")


class OutcomeQuery(Schema):
    from_ = fields.Date(data_key="from", validate=_in_report_years)
    to = fields.Date(validate=_in_report_years)

    @validates_schema
    def _in_order(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] > data["to"]:
            raise ValidationError("The end of the period must be on or after its start",
                                  field_name="to")


class OutcomeCountsOut(Schema):
    enrolled = fields.Integer()
    in_progress = fields.Integer()
    completed = fields.Integer()
    referred = fields.Integer()
    withdrawn = fields.Integer()
    completion_rate = fields.Float(allow_none=True)


class _OutcomesOf(Schema):
    """The counts of a record's ``outcomes``."""

    enrolled = fields.Integer(attribute="outcomes.enrolled")
    in_progress = fields.Integer(attribute="outcomes.in_progress")
    completed = fields.Integer(attribute="outcomes.completed")
    referred = fields.Integer(attribute="outcomes.referred")
    withdrawn = fields.Integer(attribute="outcomes.withdrawn")
    completion_rate = fields.Float(attribute="outcomes.completion_rate", allow_none=True)


class MonthOutcomesOut(_OutcomesOf):
    month = fields.Function(lambda m: m.month.strftime("%Y-%m"))


class ForceOutcomesOut(_OutcomesOf):
    force = fields.String(attribute="force.code")
    force_name = fields.String(attribute="force.name")
    months = fields.List(fields.Nested(MonthOutcomesOut))


class OutcomeReportOut(Schema):
    from_ = fields.Date(attribute="start", data_key="from")
    to = fields.Date(attribute="end")
    items = fields.List(fields.Nested(ForceOutcomesOut), attribute="forces")
    next = fields.Constant(None)
    total = fields.Nested(OutcomeCountsOut)
    months = fields.List(fields.Nested(MonthOutcomesOut))


# ---- the participant's appointment link (/appointments/{token}) -----------------

class AlternativeOut(Schema):
    """A session the participant could take instead."""

    session_id = fields.Integer(attribute="id")
    starts_at = Instant()
    ends_at = Instant()
    location = fields.Function(lambda session: outbox.location(session))


class AppointmentOut(Schema):
    """An appointment as its participant sees it through their link."""

    starts_at = Instant(attribute="session.starts_at")
    ends_at = Instant(attribute="session.ends_at")
    location = fields.String()
    can_move = fields.Boolean()
    moves_left = fields.Integer()
    # Until when the participant may move it themselves (the programme's cutoff).
    can_move_until = Instant(attribute="closes_at")
    alternatives = fields.List(fields.Nested(AlternativeOut))
    callback_requested = fields.Function(lambda shown: bool(shown.callbacks))
    # This appointment's own link: after a move, the new one.
    link = fields.String()


class CallbackRequestOut(Schema):
    id = fields.Integer()
    requested_at = Instant()

