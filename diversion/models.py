"""Typed models. Times are stored as UTC; dates are programme-local dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from diversion.domain.programme import FOLLOW_UP, EnrolmentTerms
from diversion.domain.vocabulary import (
    BookingStatus,
    Channel,
    DecisionKind,
    EnrolmentStatus,
    ExtensionTarget,
    FlagKind,
    FlagStatus,
    JobOutcome,
    Language,
    MessageKind,
    MessageStatus,
    Outcome,
    Role,
    SessionStatus,
    TextDelivery,
    values,
)
from diversion.extensions import db

if TYPE_CHECKING:
    # The typed declarative base Flask-SQLAlchemy's db.Model is built on.
    from diversion.extensions import Base as Model
else:
    Model = db.Model


# What an erased case shows where a participant's name was.
ERASED_NAME = "Erased"


class UTCDateTime(sa.types.TypeDecorator):
    """Store aware datetimes as naive UTC and read them back aware.

    SQLite has no time zone type; keeping one convention on both databases
    means a row means the same instant wherever it was written.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)



def _one_of(column: str, enum: type[StrEnum], *, name: str) -> sa.CheckConstraint:
    """Hold a column to the vocabulary's values, whatever writes the row."""
    listed = ", ".join(f"'{value}'" for value in values(enum))
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


class Force(Model):
    __tablename__ = "forces"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class User(UserMixin, Model):
    __tablename__ = "users"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    role: so.Mapped[str] = so.mapped_column(sa.String(20))
    force_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("forces.id"), index=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped on logout, password change and disabling: every cookie carrying an
    # older version stops working on the server, not just in the browser.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Administrators sign in with a second factor (TOTP). The secret is set at the
    # first sign-in and counts only once confirmed with a code from the app.
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    totp_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The last 30-second step accepted: a code can never be used twice.
    totp_last_step: so.Mapped[int | None]
    # Wrong codes in a row, from any address; at SECOND_FACTOR_ATTEMPTS the second
    # factor locks until an administrator clears it, whatever each worker's throttle says.
    second_factor_failures: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    second_factor_locked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    force: so.Mapped[Force | None] = so.relationship()

    __table_args__ = (_one_of("role", Role, name="ck_users_role"),)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(Model):
    __tablename__ = "api_tokens"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()


class Programme(Model):
    __tablename__ = "programmes"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    core_modules: so.Mapped[int] = so.mapped_column(default=5)
    session_minutes: so.Mapped[int] = so.mapped_column(default=90)
    core_months: so.Mapped[int] = so.mapped_column(default=4)
    follow_up_months: so.Mapped[int] = so.mapped_column(default=8)
    follow_up_window_days: so.Mapped[int] = so.mapped_column(default=14)
    min_days_between_sessions: so.Mapped[int] = so.mapped_column(default=7)
    reminder_hours: so.Mapped[int] = so.mapped_column(default=48)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/London")
    holiday_region: so.Mapped[str] = so.mapped_column(sa.String(16), default="GB-ENG")
    modules_in_order: so.Mapped[bool] = so.mapped_column(default=True)
    invite_title: so.Mapped[str] = so.mapped_column(sa.String(200), default="Appointment")
    invite_title_cy: so.Mapped[str] = so.mapped_column(sa.String(200), default="Apwyntiad")
    contact_phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    organizer_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    # How many months each kind of record keeps its personal data (domain/retention.py).
    retention_ineligible_months: so.Mapped[int] = so.mapped_column(default=12)
    retention_closed_months: so.Mapped[int] = so.mapped_column(default=72)
    retention_message_months: so.Mapped[int] = so.mapped_column(default=12)
    retention_audit_months: so.Mapped[int] = so.mapped_column(default=84)
    self_service_cutoff_hours: so.Mapped[int] = so.mapped_column(default=24)
    self_service_moves: so.Mapped[int] = so.mapped_column(default=2)


def _programme_setting(name: str):
    """Default an enrolment's term to its programme's setting as the row is written.

    The service names the terms it enrolled under; this covers any other writer, and
    what it reads is exactly the programme's setting at that moment.
    """
    column = Programme.__table__.c[name]

    def default(context):
        programme_id = context.get_current_parameters()["programme_id"]
        return context.connection.scalar(
            sa.select(column).where(Programme.__table__.c.id == programme_id))

    return default


class Case(Model):
    __tablename__ = "cases"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    force_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forces.id"), index=True)
    reference: so.Mapped[str] = so.mapped_column(sa.String(64))
    given_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    family_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    # None only once erased: retention removes the date of birth and the screening answers.
    date_of_birth: so.Mapped[date | None]
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    language: so.Mapped[str] = so.mapped_column(sa.String(2), default=Language.ENGLISH,
                                                server_default=Language.ENGLISH.value)
    sms_consent: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    previous_sexual_or_violent_conviction: so.Mapped[bool | None]
    first_offence: so.Mapped[bool | None]
    image_category: so.Mapped[str | None] = so.mapped_column(sa.String(1))
    contact_offending_suspected: so.Mapped[bool | None]
    children_at_risk: so.Mapped[bool | None]
    prosecutor_agreed: so.Mapped[bool | None]
    participant_consented: so.Mapped[bool | None]
    # Kept after erasure: how many screenings found people ineligible is a count, not
    # about anyone.
    eligible: so.Mapped[bool]
    # Space-separated reason codes, kept even after a later change of mind.
    ineligible_reasons: so.Mapped[str] = so.mapped_column(sa.String(400), default="")
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    erased_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set at erasure, when the reference itself is replaced: a keyed digest of the force
    # and the reference, so a reference known from elsewhere can be matched to an erased
    # case and never read back from it.
    reference_digest: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)

    force: so.Mapped[Force] = so.relationship()
    enrolment: so.Mapped[Enrolment | None] = so.relationship(back_populates="case")

    __table_args__ = (
        sa.UniqueConstraint("force_id", "reference", name="uq_cases_force_reference"),
        _one_of("language", Language, name="ck_cases_language"),
        sa.Index("ix_cases_force_family_name", "force_id", "family_name"),
    )

    @property
    def reasons(self) -> list[str]:
        return self.ineligible_reasons.split() if self.ineligible_reasons else []

    @property
    def participant_name(self) -> str:
        if self.erased_at is not None:
            return ERASED_NAME
        return f"{self.given_name} {self.family_name}"


class Enrolment(Model):
    __tablename__ = "enrolments"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("cases.id"), unique=True)
    # Denormalised from the case so force isolation is one indexed filter.
    force_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("forces.id"))
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programmes.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(24), default=EnrolmentStatus.ENROLLED)
    start_date: so.Mapped[date]
    original_core_deadline: so.Mapped[date]
    core_deadline: so.Mapped[date]
    core_completed_on: so.Mapped[date | None]
    follow_up_due: so.Mapped[date | None]
    follow_up_opens: so.Mapped[date | None]
    follow_up_closes: so.Mapped[date | None]
    follow_up_extension_days: so.Mapped[int] = so.mapped_column(default=0)
    # The programme's terms on the day of enrolment (EnrolmentTerms): the deadline and
    # the follow-up dates follow from these, whatever the programme says later.
    core_months: so.Mapped[int] = so.mapped_column(default=_programme_setting("core_months"))
    follow_up_months: so.Mapped[int] = so.mapped_column(
        default=_programme_setting("follow_up_months"))
    follow_up_window_days: so.Mapped[int] = so.mapped_column(
        default=_programme_setting("follow_up_window_days"))
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    case: so.Mapped[Case] = so.relationship(back_populates="enrolment")
    programme: so.Mapped[Programme] = so.relationship()
    bookings: so.Mapped[list[Booking]] = so.relationship(
        back_populates="enrolment", order_by="Booking.id"
    )
    flags: so.Mapped[list[Flag]] = so.relationship(order_by="Flag.id")
    extensions: so.Mapped[list[Extension]] = so.relationship(order_by="Extension.id")
    decisions: so.Mapped[list[Decision]] = so.relationship(order_by="Decision.id")

    @property
    def terms(self) -> EnrolmentTerms:
        """The programme's terms this enrolment was enrolled under."""
        return EnrolmentTerms(self.core_months, self.follow_up_months,
                              self.follow_up_window_days)

    @property
    def modules_attended(self) -> list[int]:
        """The modules attended so far, in order, the follow-up last."""
        attended = {b.module for b in self.bookings if b.status == BookingStatus.ATTENDED}
        return sorted(attended, key=lambda module: (module == FOLLOW_UP, module))

    @property
    def follow_up_window(self) -> dict[str, date] | None:
        """When the follow-up session may be held: known once the core modules are done."""
        if self.follow_up_opens is None or self.follow_up_closes is None:
            return None
        return {"opens": self.follow_up_opens, "closes": self.follow_up_closes}

    __table_args__ = (
        _one_of("status", EnrolmentStatus, name="ck_enrolments_status"),
        sa.Index("ix_enrolments_force_status", "force_id", "status"),
        # The outcome report: enrolments started in a period, by force and status.
        sa.Index("ix_enrolments_start_force_status", "start_date", "force_id", "status"),
        # The sweep's candidates, read from the index alone (INCLUDE) once vacuumed.
        sa.Index("ix_enrolments_status_deadline", "status", "core_deadline",
                 postgresql_include=["programme_id", "id"]),
        sa.Index("ix_enrolments_status_follow_up_closes", "status", "follow_up_closes",
                 postgresql_include=["programme_id", "follow_up_opens", "id"]),
    )


class Venue(Model):
    __tablename__ = "venues"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    address: so.Mapped[str] = so.mapped_column(sa.String(500))
    rooms: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class CourseSession(Model):
    __tablename__ = "sessions"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programmes.id"))
    # 1..N for core modules; 0 is the follow-up session.
    module: so.Mapped[int]
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    venue_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("venues.id"), index=True)
    room: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    capacity: so.Mapped[int]
    # Kept in step with active bookings inside the booking transaction, so the
    # capacity check is one conditional UPDATE on the locked row.
    booked: so.Mapped[int] = so.mapped_column(default=0)
    facilitator: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=SessionStatus.SCHEDULED)
    cancel_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    programme: so.Mapped[Programme] = so.relationship()
    venue: so.Mapped[Venue] = so.relationship()

    __table_args__ = (
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_sessions_booked"),
        _one_of("status", SessionStatus, name="ck_sessions_status"),
        sa.Index("ix_sessions_programme_module_start", "programme_id", "module", "starts_at"),
        sa.Index("ix_sessions_starts_at", "starts_at"),
    )


class Booking(Model):
    __tablename__ = "bookings"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"))
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sessions.id"))
    module: so.Mapped[int]
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default=BookingStatus.BOOKED)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # The calendar identity of this appointment: the same UID for the
    # invitation, every update and the cancellation.
    uid: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    sequence: so.Mapped[int] = so.mapped_column(default=0)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    cancel_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    cancel_requested_by: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="bookings")
    session: so.Mapped[CourseSession] = so.relationship()

    @property
    def starts_at(self) -> datetime:
        """When the booked session starts: a booking shows its session's times."""
        return self.session.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.session.ends_at

    __table_args__ = (
        _one_of("status", BookingStatus, name="ck_bookings_status"),
        # An active (session, enrolment) pair can exist once, whatever races.
        sa.Index(
            "uq_bookings_active_session_enrolment",
            "session_id",
            "enrolment_id",
            unique=True,
            postgresql_where=sa.text(f"status <> '{BookingStatus.CANCELLED}'"),
            sqlite_where=sa.text(f"status <> '{BookingStatus.CANCELLED}'"),
        ),
        # One booking per module still to happen.
        sa.Index(
            "uq_bookings_one_booked_per_module",
            "enrolment_id",
            "module",
            unique=True,
            postgresql_where=sa.text(f"status = '{BookingStatus.BOOKED}'"),
            sqlite_where=sa.text(f"status = '{BookingStatus.BOOKED}'"),
        ),
        # Outcomes still to record: bookings still "booked" are a small, moving share of
        # all bookings, and the overdue registers are found among them by session.
        sa.Index(
            "ix_bookings_booked_session",
            "session_id",
            postgresql_where=sa.text(f"status = '{BookingStatus.BOOKED}'"),
            sqlite_where=sa.text(f"status = '{BookingStatus.BOOKED}'"),
        ),
        sa.Index("ix_bookings_enrolment", "enrolment_id"),
        sa.Index("ix_bookings_session_status", "session_id", "status"),
        sa.Index("ix_bookings_created_by_id", "created_by_id"),
        # The sweep's unexcused absences: a few rows of all bookings, found without the rest.
        sa.Index(
            "ix_bookings_absent_unexcused",
            "enrolment_id",
            "id",
            postgresql_where=sa.text(f"status = '{BookingStatus.ABSENT_UNEXCUSED}'"),
            sqlite_where=sa.text(f"status = '{BookingStatus.ABSENT_UNEXCUSED}'"),
        ),
    )


class WaitlistEntry(Model):
    """An enrolment waiting for a place in a full session; kept, with why, once it leaves.

    One row per session and enrolment: putting someone back on a list they left takes
    the same row up again, so the list never holds them twice.
    """

    __tablename__ = "waitlist_entries"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sessions.id"))
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    # The list's order: first added, first offered a place (id breaks a tie).
    added_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    added_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    removed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # A rule code (after_deadline, enrolment_closed, ...), "booked" or "removed".
    removed_code: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    removed_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # The booking a promotion made.
    booking_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("bookings.id"),
                                                         index=True)

    session: so.Mapped[CourseSession] = so.relationship()
    enrolment: so.Mapped[Enrolment] = so.relationship()

    @property
    def waiting(self) -> bool:
        return self.removed_at is None

    __table_args__ = (
        sa.UniqueConstraint("session_id", "enrolment_id",
                            name="uq_waitlist_entries_session_enrolment"),
        sa.Index("ix_waitlist_entries_session_order", "session_id", "added_at", "id"),
    )


class SelfServiceMove(Model):
    """A participant moving their own appointment: the booking left, and the one made.

    Counted against the programme's ``self_service_moves`` for the enrolment.
    """

    __tablename__ = "self_service_moves"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    from_booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    to_booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    moved_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class CallbackRequest(Model):
    """A participant asking, from their appointment link, to be called; open until dealt with."""

    __tablename__ = "callback_requests"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    # The appointment the link was for when they asked.
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    # What the participant wrote, if anything; erased with the case.
    message: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    dealt_with_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    dealt_with_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"),
                                                               index=True)

    enrolment: so.Mapped[Enrolment] = so.relationship()
    booking: so.Mapped[Booking] = so.relationship()
    dealt_with_by: so.Mapped[User | None] = so.relationship()

    @property
    def is_open(self) -> bool:
        return self.dealt_with_at is None

    __table_args__ = (
        # The coordinator's home lists the open requests, oldest first, among few rows.
        sa.Index("ix_callback_requests_open", "requested_at", "id",
                 postgresql_where=sa.text("dealt_with_at IS NULL"),
                 sqlite_where=sa.text("dealt_with_at IS NULL")),
    )


class AttendanceRecord(Model):
    """Every outcome ever recorded for a booking: corrections keep history."""

    __tablename__ = "attendance_records"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    outcome: so.Mapped[str] = so.mapped_column(sa.String(20))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True
    )
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    __table_args__ = (_one_of("outcome", Outcome, name="ck_attendance_records_outcome"),)


class Flag(Model):
    __tablename__ = "flags"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))
    cause: so.Mapped[str] = so.mapped_column(sa.String(100))
    detail: so.Mapped[str] = so.mapped_column(sa.String(500))
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=FlagStatus.OPEN)
    raised_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_by_decision_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("decisions.id"), index=True
    )

    __table_args__ = (
        _one_of("kind", FlagKind, name="ck_flags_kind"),
        _one_of("status", FlagStatus, name="ck_flags_status"),
        # The sweep raises a flag once per cause, however often it runs.
        sa.UniqueConstraint("enrolment_id", "cause", name="uq_flags_enrolment_cause"),
        # The queue walks open flags oldest first and stops at the end of its page.
        sa.Index("ix_flags_status_raised_id", "status", "raised_at", "id"),
    )


class Decision(Model):
    __tablename__ = "decisions"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    decision: so.Mapped[str] = so.mapped_column(sa.String(12))
    reason: so.Mapped[str] = so.mapped_column(sa.String(2000))
    extend_days: so.Mapped[int | None]
    decided_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    decided_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    decided_by: so.Mapped[User] = so.relationship()

    __table_args__ = (_one_of("decision", DecisionKind, name="ck_decisions_decision"),)


class Extension(Model):
    __tablename__ = "extensions"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    decision_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("decisions.id"), index=True
    )
    target: so.Mapped[str] = so.mapped_column(sa.String(24))
    days: so.Mapped[int]
    reason: so.Mapped[str] = so.mapped_column(sa.String(2000))
    previous_date: so.Mapped[date]
    new_date: so.Mapped[date]
    granted_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    granted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    __table_args__ = (_one_of("target", ExtensionTarget, name="ck_extensions_target"),)


class OutboxMessage(Model):
    """What a participant must be told, written in the transaction that caused it."""

    __tablename__ = "outbox"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("enrolments.id"), index=True
    )
    booking_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(24))
    channel: so.Mapped[str] = so.mapped_column(sa.String(8), default=Channel.EMAIL,
                                               server_default=Channel.EMAIL.value)
    # An email address, or for a text message a UK mobile number in E.164 form.
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    # Everything needed to build the message, frozen at the time of the change.
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON)
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=MessageStatus.PENDING)
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    message_id: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # A text message: the id GOV.UK Notify gave it, and what Notify last reported.
    notify_id: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    delivery_status: so.Mapped[str | None] = so.mapped_column(sa.String(24))
    delivery_reported_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    failed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # When retention removed the recipient and contents; the row stays for its status.
    erased_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        _one_of("kind", MessageKind, name="ck_outbox_kind"),
        _one_of("status", MessageStatus, name="ck_outbox_status"),
        _one_of("channel", Channel, name="ck_outbox_channel"),
        _one_of("delivery_status", TextDelivery, name="ck_outbox_delivery_status"),
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )


class WarningLetterHandover(Model):
    """A warning letter about an unexcused absence, handed to the participant in person."""

    __tablename__ = "warning_letter_handovers"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    # The unexcused absence the letter was about.
    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id"), index=True)
    handed_over_on: so.Mapped[date]
    # The person who handed it over: not always the officer who records it.
    handed_over_by: so.Mapped[str] = so.mapped_column(sa.String(200))
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"),
                                                             index=True)
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)

    booking: so.Mapped[Booking] = so.relationship()


class FeedToken(Model):
    __tablename__ = "feed_tokens"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class AuditEvent(Model):
    """Append-only record of who did what to which record (DPA 2018 s.62)."""

    __tablename__ = "audit_events"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    actor: so.Mapped[str] = so.mapped_column(sa.String(254))
    action: so.Mapped[str] = so.mapped_column(sa.String(24))
    object_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    object_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    case_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cases.id"))
    detail: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    remote_addr: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_audit_at", "at"),
        sa.Index("ix_audit_case", "case_id"),
        sa.Index("ix_audit_actor", "actor_id"),
        sa.Index("ix_audit_actor_email", "actor", "id"),
    )


class JobRun(Model):
    __tablename__ = "job_runs"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job: so.Mapped[str] = so.mapped_column(sa.String(40))
    scheduled_for: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16), default=JobOutcome.RUNNING)
    summary: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # Runs that started this slot; each record a run writes names its own, so one that
    # lost its lock cannot overwrite a later one's.
    attempts: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # What the run did, counted ({"sent": 12, "failed": 1}), for the jobs page.
    counts: so.Mapped[dict | None] = so.mapped_column(sa.JSON)

    __table_args__ = (
        _one_of("outcome", JobOutcome, name="ck_job_runs_outcome"),
        sa.UniqueConstraint("job", "scheduled_for", name="uq_job_runs_job_time"),
    )
