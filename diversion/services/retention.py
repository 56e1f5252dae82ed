"""Retention: erase personal data once its programme's period for its record type has passed.

Ineligible screenings and closed enrolments lose every personal field of their case (the
reference becomes a keyed digest); messages lose their recipient and contents; audit rows
past their period are deleted through the database's one narrow path. What reports count
stays: the enrolment's status, dates, force and programme, and the bookings' outcomes.
Each erasure is audited (who, when, which record), never with the erased data, and a
second run finds nothing left to do.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from flask import current_app

from diversion import clock
from diversion.database import is_postgresql, transaction
from diversion.domain.retention import (
    AUDIT_FLOOR_MONTHS,
    RecordType,
    RetentionSchedule,
    audit_cutoff,
    cutoff,
    longest,
)
from diversion.domain.vocabulary import EnrolmentStatus, MessageStatus
from diversion.extensions import db
from diversion.models import (
    AttendanceRecord,
    AuditEvent,
    Booking,
    CallbackRequest,
    Case,
    Decision,
    Enrolment,
    Extension,
    FeedToken,
    Flag,
    OutboxMessage,
    Programme,
    WarningLetterHandover,
)
from diversion.services import Actor, audit
from diversion.services.programmes import settings_of

ERASED = "[erased]"
CLOSED = (EnrolmentStatus.COMPLETED, EnrolmentStatus.REFERRED, EnrolmentStatus.WITHDRAWN)
# A pending message is still to be sent: its contents are needed until then.
FINISHED_MESSAGES = (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SUPERSEDED)


@dataclass
class RetentionResult:
    ineligible_case_ids: list[int] = field(default_factory=list)
    closed_case_ids: list[int] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    audit_rows: int = 0

    def summary(self) -> str:
        """Say what the run erased, as the job's summary."""
        return (f"retention: {_count(len(self.ineligible_case_ids), 'ineligible screening')}, "
                f"{_count(len(self.closed_case_ids), 'closed enrolment')}, "
                f"{_count(len(self.message_ids), 'message body', 'message bodies')} erased; "
                f"{_count(self.audit_rows, 'audit row')} deleted")


def reference_digest(force_code: str, reference: str) -> str:
    """Digest a case's force and reference with the service's secret: the same every time,
    and not to be turned back into the reference."""
    key = current_app.config["SECRET_KEY"]
    key_bytes = key if isinstance(key, bytes) else str(key).encode()
    message = f"{force_code}\x1f{reference.strip()}".encode()
    return hmac.new(key_bytes, message, hashlib.sha256).hexdigest()


def erase_expired() -> RetentionResult:
    """Erase every record whose retention period has passed, and say what was erased."""
    result = RetentionResult()
    now = clock.now()
    actor = Actor.system("retention")
    with transaction():
        programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
        schedules = {p.id: settings_of(p).retention for p in programmes}
        _erase_ineligible(actor, schedules.values(), now, result)
        for programme_id, schedule in schedules.items():
            _erase_closed(actor, programme_id, schedule, now, result)
        _erase_messages(actor, schedules, now, result)
        _delete_audit_rows(actor, schedules.values(), now, result)
    return result


def _erase_ineligible(actor: Actor, schedules: Iterable[RetentionSchedule], now: datetime,
                      result: RetentionResult) -> None:
    # A screening belongs to no programme until someone is enrolled: the longest period
    # any programme sets applies. One found eligible but never enrolled is kept no
    # longer than one found ineligible: neither led to anything the service runs.
    months = longest(schedules, RecordType.INELIGIBLE_SCREENING)
    erase_before = cutoff(months, now)
    cases = db.session.scalars(
        sa.select(Case).outerjoin(Enrolment, Enrolment.case_id == Case.id).where(
            Enrolment.id.is_(None), Case.erased_at.is_(None),
            Case.created_at <= erase_before,
        ).order_by(Case.id)
    ).all()
    for case in cases:
        _erase_case(case, None, now)
        audit.record(actor, "erase", "case", case.id, case_id=case.id,
                     detail={"record": RecordType.INELIGIBLE_SCREENING, "months": months})
        result.ineligible_case_ids.append(case.id)


def _erase_closed(actor: Actor, programme_id: int, schedule: RetentionSchedule,
                  now: datetime, result: RetentionResult) -> None:
    months = schedule.months(RecordType.CLOSED_ENROLMENT)
    erase_before = schedule.erase_before(RecordType.CLOSED_ENROLMENT, now)
    rows = db.session.execute(
        sa.select(Case, Enrolment).join(Enrolment, Enrolment.case_id == Case.id).where(
            Enrolment.programme_id == programme_id,
            Enrolment.status.in_(CLOSED),
            Enrolment.closed_at <= erase_before,
            Case.erased_at.is_(None),
        ).order_by(Case.id)
    ).all()
    for case, enrolment in rows:
        _erase_case(case, enrolment, now)
        audit.record(actor, "erase", "case", case.id, case_id=case.id,
                     detail={"record": RecordType.CLOSED_ENROLMENT, "months": months,
                             "enrolment_id": enrolment.id})
        result.closed_case_ids.append(case.id)


def _erase_messages(actor: Actor, schedules: dict[int, RetentionSchedule], now: datetime,
                    result: RetentionResult) -> None:
    since = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.failed_at,
                             OutboxMessage.created_at)
    unerased = (OutboxMessage.erased_at.is_(None), OutboxMessage.status.in_(FINISHED_MESSAGES))
    found: list[tuple[int, int | None, int]] = []
    for programme_id, schedule in schedules.items():
        erase_before = schedule.erase_before(RecordType.MESSAGE_BODY, now)
        found.extend((row.id, row.case_id, schedule.months(RecordType.MESSAGE_BODY))
                     for row in db.session.execute(
            sa.select(OutboxMessage.id, Enrolment.case_id)
            .join(Enrolment, Enrolment.id == OutboxMessage.enrolment_id)
            .where(Enrolment.programme_id == programme_id, since <= erase_before, *unerased)))
    # Messages to staff belong to no programme: the longest period applies.
    months = longest(schedules.values(), RecordType.MESSAGE_BODY)
    found.extend((message_id, None, months) for message_id in db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.enrolment_id.is_(None),
                                          since <= cutoff(months, now), *unerased)))
    found.sort()
    ids = [message_id for message_id, _case, _months in found]
    if not ids:
        return
    _blank_messages(OutboxMessage.id.in_(ids), now)
    audit.record_each(actor, "erase", "outbox_message", [
        (message_id, case_id, {"record": RecordType.MESSAGE_BODY, "months": months})
        for message_id, case_id, months in found
    ])
    result.message_ids.extend(ids)


def _delete_audit_rows(actor: Actor, schedules: Iterable[RetentionSchedule], now: datetime,
                       result: RetentionResult) -> None:
    schedules = list(schedules)
    written_before = audit_cutoff(schedules, now)
    if is_postgresql():
        # The application's role may not DELETE audit rows: the owner's function does,
        # and never one younger than the floor the trigger holds (migration 0018).
        removed = db.session.scalar(sa.text("SELECT purge_expired_audit_events(:cutoff)"),
                                    {"cutoff": written_before.replace(tzinfo=None)}) or 0
    else:
        removed = cast(sa.CursorResult, db.session.execute(
            sa.delete(AuditEvent).where(AuditEvent.at < written_before).where(
                # The trigger's floor, so a clock pinned ahead never aborts the statement.
                sa.text(f"audit_events.at < datetime('now', '-{AUDIT_FLOOR_MONTHS} months')"))
        )).rowcount
    if removed:
        audit.record(actor, "erase", "audit_events", None, detail={
            "record": RecordType.AUDIT_ROW,
            "months": longest(schedules, RecordType.AUDIT_ROW),
            "written_before": written_before.isoformat(), "rows": removed})
    result.audit_rows = removed


def _erase_case(case: Case, enrolment: Enrolment | None, now: datetime) -> None:
    case.reference_digest = reference_digest(case.force.code, case.reference)
    # Unique within the force, as a reference must be, and saying nothing about anyone.
    case.reference = f"erased-{case.id}"
    case.given_name = ERASED
    case.family_name = ERASED
    case.email = f"erased-{case.id}@erased.invalid"
    case.phone = None
    # Nothing is sent to an erased case; a consent with no number would say otherwise.
    case.sms_consent = False
    case.date_of_birth = None
    case.previous_sexual_or_violent_conviction = None
    case.first_offence = None
    case.image_category = None
    case.contact_offending_suspected = None
    case.children_at_risk = None
    case.prosecutor_agreed = None
    case.participant_consented = None
    case.ineligible_reasons = ""
    case.erased_at = now
    if enrolment is None:
        return
    booking_ids = sa.select(Booking.id).where(Booking.enrolment_id == enrolment.id)
    # Free text staff wrote may name the participant or their circumstances; the outcome,
    # status and dates stay for the reports.
    _update(sa.update(Booking).where(Booking.enrolment_id == enrolment.id)
                       .values(reason=None, cancel_reason=None, cancel_requested_by=None))
    _update(sa.update(AttendanceRecord)
                       .where(AttendanceRecord.booking_id.in_(booking_ids))
                       .values(reason=None))
    _update(sa.update(Flag).where(Flag.enrolment_id == enrolment.id)
                       .values(detail=ERASED))
    _update(sa.update(Decision).where(Decision.enrolment_id == enrolment.id)
                       .values(reason=ERASED))
    _update(sa.update(Extension).where(Extension.enrolment_id == enrolment.id)
                       .values(reason=ERASED))
    # What the participant wrote when asking to be called.
    _update(sa.update(CallbackRequest).where(CallbackRequest.enrolment_id == enrolment.id)
                       .values(message=None))
    _update(sa.update(WarningLetterHandover)
            .where(WarningLetterHandover.enrolment_id == enrolment.id)
            .values(handed_over_by=ERASED))
    _update(sa.update(FeedToken).where(FeedToken.enrolment_id == enrolment.id,
                                                  FeedToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    # Nothing is sent to an erased participant: a message still waiting is dropped.
    _update(sa.update(OutboxMessage)
                       .where(OutboxMessage.enrolment_id == enrolment.id,
                              OutboxMessage.status == MessageStatus.PENDING)
                       .values(status=MessageStatus.SUPERSEDED))
    _blank_messages(sa.and_(OutboxMessage.enrolment_id == enrolment.id,
                            OutboxMessage.erased_at.is_(None)), now)
    # The ORM copies loaded before these statements would otherwise show the old text.
    db.session.expire(enrolment)


def _blank_messages(where, now: datetime) -> None:
    _update(sa.update(OutboxMessage).where(where).values(
        recipient="", payload={}, subject=None, last_error=None, erased_at=now))


def _update(statement) -> None:
    db.session.execute(statement, execution_options={"synchronize_session": False})


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"
