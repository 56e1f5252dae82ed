"""A small course built through the services, for service-level tests (inside ``ctx``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent, Booking, Enrolment, Flag, OutboxMessage
from diversion.services import Actor, attendance, bookings, cases, enrolments, sessions, venues
from diversion.services.accounts import actor_for
from tests.conftest import SCREENING_OK, make_user

MONDAY = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)
START = date(2027, 1, 4)  # core deadline 4 May 2027


@dataclass
class Course:
    officer: Actor
    coordinator: Actor
    venue_id: int

    def enrol(self, reference: str = "MET/1", *, start: date = START,
              email: str = "sam@example.com") -> Enrolment:
        """Record an eligible case of the officer's force and enrol it on programme 1."""
        participant = {"given_name": "Sam", "family_name": "Taylor",
                       "date_of_birth": date(1990, 4, 2), "email": email}
        case = cases.record_case(self.officer, reference, participant, dict(SCREENING_OK))
        return enrolments.enrol(self.officer, case.id, 1, start)

    def session(self, module: int, starts_at: str, *, capacity: int = 10) -> int:
        """Publish a session at a local wall-clock time ("2027-01-05T18:00")."""
        return sessions.publish_session(
            self.coordinator, programme_id=1, module=module,
            starts_at=datetime.fromisoformat(starts_at), venue_id=self.venue_id,
            capacity=capacity).id

    def book(self, enrolment_id: int, session_id: int) -> int:
        return bookings.book(self.coordinator, enrolment_id, session_id).id

    def record(self, booking_id: int, outcome: str = "attended", *, at: str,
               reason: str | None = None) -> None:
        clock.set_now(at)
        attendance.record(self.coordinator, booking_id, outcome, reason)


def start_course() -> Course:
    """A case officer of MET, a coordinator and a venue, on Monday 4 January 2027."""
    clock.set_now(MONDAY)
    officer = actor_for(make_user(role="case_officer", force="MET"))
    coordinator = actor_for(make_user(role="coordinator", force=None))
    venue = venues.create_venue(coordinator, "Civic Centre", "1 High St")
    return Course(officer, coordinator, venue.id)


def flags_of(enrolment_id: int, status: str | None = None) -> list[Flag]:
    query = sa.select(Flag).where(Flag.enrolment_id == enrolment_id).order_by(Flag.id)
    if status:
        query = query.where(Flag.status == status)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def enrolment(enrolment_id: int) -> Enrolment:
    return db.session.get(Enrolment, enrolment_id, populate_existing=True)


def booking(booking_id: int) -> Booking:
    return db.session.get(Booking, booking_id, populate_existing=True)


def messages_for(booking_id: int) -> list[str]:
    """The kinds of message queued for a booking's participant, in order."""
    return list(db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.booking_id == booking_id)
        .order_by(OutboxMessage.id)))


def audit_details(object_type: str, object_id: int, action: str = "update") -> list[dict]:
    return [e.detail or {} for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == object_type,
                                    AuditEvent.object_id == str(object_id),
                                    AuditEvent.action == action).order_by(AuditEvent.id))]
