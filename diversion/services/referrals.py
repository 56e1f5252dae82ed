"""The referral summary: the full record a referral decision rests on.

It opens with what the service itself did to the participant's chances, so that
nobody is referred for the service's own failure without the prosecutor seeing it.
Every time and status is given twice: as data (ISO 8601, codes) for programs, and
in words (London time with the weekday) for people; the page and the PDF print the
words. Producing it is a disclosure of personal data, so every production is audited.
"""

from __future__ import annotations

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.eligibility import describe
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.referral import rules_in_words
from diversion.domain.vocabulary import (
    LONDON,
    BookingStatus,
    Channel,
    MessageKind,
    MessageStatus,
    Role,
    in_words,
    text_delivery_in_words,
)
from diversion.extensions import db
from diversion.models import (
    AttendanceRecord,
    Booking,
    Case,
    Enrolment,
    OutboxMessage,
    WarningLetterHandover,
)
from diversion.services import Actor, audit, notices
from diversion.services.enrolments import visible_enrolment
from diversion.services.programmes import rules_for
from diversion.services.referral_record import (
    asked_by,
    booking_moves,
    day,
    extension,
    iso,
    module_key,
    module_label,
    payload_instant,
    service_record,
    when,
)


def summary(actor: Actor, enrolment_id: int, form: str = "json") -> dict:
    """Assemble the referral summary and record its disclosure."""
    actor.require(Role.CASE_OFFICER)
    enrolment = visible_enrolment(actor, enrolment_id)
    case = enrolment.case
    now = clock.now()
    history = _attendance_history([b.id for b in enrolment.bookings])
    messages = list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.enrolment_id == enrolment.id)
        .order_by(OutboxMessage.id)
    ))
    moved = booking_moves(enrolment, messages)
    modules = {b.id: b.module for b in enrolment.bookings}
    data = {
        "enrolment": {"id": enrolment.id, "status": enrolment.status,
                      "status_text": in_words(enrolment.status),
                      "case_reference": case.reference, "force": case.force.code},
        "participant": _participant(case),
        "agreement": _agreement(enrolment),
        "service_record": service_record(enrolment, moved, now),
        "modules": _modules(enrolment, history, moved),
        "bookings": [_booking(b, history.get(b.id, [])) for b in enrolment.bookings],
        "messages": [_message(m, modules) for m in messages],
        "warning_letters": [_handover(h) for h in reversed(notices.handovers_of(enrolment.id))],
        "flags": [
            {"id": f.id, "kind": f.kind, "kind_text": in_words(f.kind), "detail": f.detail,
             "status": f.status, "status_text": in_words(f.status),
             "raised_at": iso(f.raised_at), "raised_at_text": when(f.raised_at),
             "closed_at": iso(f.closed_at), "closed_at_text": when(f.closed_at)}
            for f in enrolment.flags
        ],
        "decisions": [
            {"id": d.id, "decision": d.decision, "decision_text": in_words(d.decision),
             "reason": d.reason, "extend_days": d.extend_days,
             "decided_at": iso(d.decided_at), "decided_at_text": when(d.decided_at),
             "decided_by": d.decided_by.email}
            for d in enrolment.decisions
        ],
        "extensions": [extension(x) for x in enrolment.extensions],
        "produced_at": iso(now),
        "produced_at_text": when(now),
        "produced_by": actor.email,
    }
    with transaction():
        audit.record(actor, "disclose", "referral_summary", enrolment.id, case_id=case.id,
                     detail={"form": form, "recipient": actor.email})
    return data


def _participant(case: Case) -> dict:
    if case.erased_at is not None:
        # Retention has erased the person: the record of the service stays, nothing of them.
        return {"erased": True, "given_name": None, "family_name": None,
                "date_of_birth": None, "date_of_birth_text": "", "email": None,
                "text": f"Personal data erased on {day(case.erased_at.astimezone(LONDON).date())}"}
    born = day(case.date_of_birth)
    return {"erased": False, "given_name": case.given_name, "family_name": case.family_name,
            "date_of_birth": iso(case.date_of_birth), "date_of_birth_text": born,
            "email": case.email, "text": f"{case.given_name} {case.family_name}, born {born}"}


def _attendance_history(booking_ids: list[int]) -> dict[int, list[dict]]:
    history: dict[int, list[dict]] = {}
    if not booking_ids:
        return history
    for record in db.session.scalars(
        sa.select(AttendanceRecord).where(AttendanceRecord.booking_id.in_(booking_ids))
        .order_by(AttendanceRecord.id)
    ):
        history.setdefault(record.booking_id, []).append(
            {"outcome": record.outcome, "outcome_text": in_words(record.outcome),
             "reason": record.reason, "recorded_at": iso(record.recorded_at),
             "recorded_at_text": when(record.recorded_at)})
    return history


def _agreement(enrolment: Enrolment) -> dict:
    programme = enrolment.programme
    case = enrolment.case
    window = enrolment.follow_up_window
    return {
        "programme": programme.name,
        "start_date": iso(enrolment.start_date),
        "start_date_text": day(enrolment.start_date),
        "original_core_deadline": iso(enrolment.original_core_deadline),
        "core_deadline": iso(enrolment.core_deadline),
        "core_deadline_text": day(enrolment.core_deadline),
        "follow_up_due": iso(enrolment.follow_up_due),
        "follow_up_window": {"opens": iso(enrolment.follow_up_opens),
                             "closes": iso(enrolment.follow_up_closes)}
        if window else None,
        "rules": {
            "core_modules": programme.core_modules,
            "session_minutes": programme.session_minutes,
            "core_months": programme.core_months,
            "follow_up_months": programme.follow_up_months,
            "follow_up_window_days": programme.follow_up_window_days,
            "min_days_between_sessions": programme.min_days_between_sessions,
        },
        "rules_text": rules_in_words(
            rules_for(programme), start_date=enrolment.start_date,
            core_deadline=enrolment.core_deadline,
            original_core_deadline=enrolment.original_core_deadline,
            follow_up_due=enrolment.follow_up_due,
            follow_up_window=(window["opens"], window["closes"]) if window else None),
        "eligibility": {"eligible": case.eligible,
                        "reasons": [describe(r) for r in case.reasons]},
    }


def _booking(b: Booking, history: list[dict]) -> dict:
    return {
        "id": b.id,
        "module": module_key(b.module),
        "module_text": module_label(b.module),
        "session_id": b.session_id,
        "starts_at": iso(b.session.starts_at),
        "starts_at_text": when(b.session.starts_at),
        "venue": b.session.venue.name,
        "status": b.status,
        "status_text": in_words(b.status),
        "reason": b.reason,
        "cancel_reason": b.cancel_reason,
        "cancel_requested_by": b.cancel_requested_by,
        "booked_at": iso(b.created_at),
        "booked_at_text": when(b.created_at),
        "cancelled_at": iso(b.cancelled_at),
        "cancelled_at_text": when(b.cancelled_at),
        "attendance_history": history,
    }


# ---- a table per module ----------------------------------------------------------------

def _modules(enrolment: Enrolment, history: dict[int, list[dict]],
             moved: dict[int, list[dict]]) -> list[dict]:
    """One table per module: each booking, what changed, and what happened."""
    modules = list(range(1, enrolment.programme.core_modules + 1))
    if enrolment.follow_up_due or any(b.module == FOLLOW_UP for b in enrolment.bookings):
        modules.append(FOLLOW_UP)
    tables = []
    for module in modules:
        rows = [_module_row(b, history.get(b.id, []), moved.get(b.id, []))
                for b in enrolment.bookings if b.module == module]
        tables.append({"module": module_key(module),
                       "name": module_label(module), "bookings": rows})
    return tables


def _module_row(b: Booking, history: list[dict], moved: list[dict]) -> dict:
    changes = [f"Moved by the service {m['change']}; {m['told']}." for m in moved]
    if len(history) > 1:
        changes += [f"Recorded as {h['outcome_text'].lower()} on {h['recorded_at_text']}"
                    + (f": {h['reason']}" if h["reason"] else "") for h in history]
    outcome = in_words(b.status)
    if b.status == BookingStatus.CANCELLED:
        outcome += f" on {when(b.cancelled_at)}" if b.cancelled_at else ""
        outcome += asked_by(b.cancel_requested_by)
        outcome += f": {b.cancel_reason}" if b.cancel_reason else ""
    elif b.reason:
        outcome += f": {b.reason}"
    return {
        "booking_id": b.id,
        "session": when(b.session.starts_at),
        "venue": b.session.venue.name,
        "booked": when(b.created_at),
        "changes": changes,
        "outcome": outcome,
        "status": b.status,
    }


# ---- proof of notice --------------------------------------------------------------------

def _message(m: OutboxMessage, modules: dict[int, int]) -> dict:
    module = modules.get(m.booking_id) if m.booking_id is not None else None
    starts_at = payload_instant(m.payload, "starts_at")
    about = ", ".join(p for p in (
        module_label(module) if module is not None else "", when(starts_at)) if p)
    never = m.status in (MessageStatus.FAILED, MessageStatus.SUPERSEDED)
    text = m.channel == Channel.SMS
    if m.status == MessageStatus.SENT:
        outcome = f"Sent {when(m.sent_at)}"
        if text:
            outcome += f" through GOV.UK Notify: {text_delivery_in_words(m.delivery_status)}"
            if m.delivery_status is not None:
                outcome += f" ({when(m.delivery_reported_at)})"
    elif m.status == MessageStatus.FAILED:
        outcome = f"Failed {when(m.failed_at)}".rstrip() + ": never delivered"
        if text and m.last_error:
            outcome += f" ({m.last_error})"
    elif m.status == MessageStatus.SUPERSEDED and m.kind == MessageKind.MISSED_NOTICE:
        outcome = ("Withdrawn before sending, as the absence was corrected or the enrolment "
                   "closed: never delivered")
    elif m.status == MessageStatus.SUPERSEDED:
        outcome = ("Withdrawn before sending, as the booking or the consent to texts "
                   "changed: never delivered" if text else
                   "Withdrawn before sending, as the booking changed: never delivered")
    else:
        outcome = f"Not sent yet: due {when(m.due_at)}"
    if text:
        reference = m.notify_id or ("none, as it was never sent" if never
                                    else "none yet, as it has not been sent")
    else:
        reference = m.message_id or ("none, as it was never sent" if never
                                     else "none yet, as it has not been sent")
    return {
        "kind": m.kind, "kind_text": in_words(m.kind),
        "booking_id": m.booking_id, "module": module_key(module),
        "channel": in_words(m.channel), "channel_code": m.channel,
        "recipient": m.recipient, "status": m.status, "status_text": in_words(m.status),
        "queued_at": iso(m.created_at), "queued_at_text": when(m.created_at),
        "sent_at": iso(m.sent_at), "sent_at_text": when(m.sent_at),
        "failed_at": iso(m.failed_at), "failed_at_text": when(m.failed_at),
        "due_at": iso(m.due_at), "due_at_text": when(m.due_at),
        "never_delivered": never,
        "about": about,
        "outcome_text": outcome,
        "attempts": m.attempts,
        "subject": m.subject, "message_id": m.message_id,
        "message_id_text": reference,
        "notify_id": m.notify_id,
        "delivery_status": m.delivery_status,
        "delivery_status_text": text_delivery_in_words(m.delivery_status) if text else None,
        "delivery_reported_at": iso(m.delivery_reported_at),
    }


def messages_to_participant(enrolment: Enrolment) -> list[dict]:
    """List every message to the participant with its delivery, newest first, as the proof
    of notice words it (for an enrolment the caller has already been allowed to see)."""
    modules = {b.id: b.module for b in enrolment.bookings}
    return [_message(m, modules) for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.enrolment_id == enrolment.id)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))]


def _handover(h: WarningLetterHandover) -> dict:
    missed_at = h.booking.session.starts_at
    return {
        "booking_id": h.booking_id, "module": module_key(h.booking.module),
        "missed_at": iso(missed_at), "missed_at_text": when(missed_at),
        "handed_over_on": iso(h.handed_over_on), "handed_over_on_text": day(h.handed_over_on),
        "handed_over_by": h.handed_over_by,
        "recorded_at": iso(h.recorded_at), "recorded_at_text": when(h.recorded_at),
        "text": f"Warning letter about {module_label(h.booking.module).lower()} missed on "
                f"{when(missed_at)}: handed to the participant in person on "
                f"{day(h.handed_over_on)} by {h.handed_over_by}.",
    }
