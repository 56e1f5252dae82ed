"""The referral summary: the full record a referral decision rests on.

Producing it is a disclosure of personal data, so every production is audited.
"""

from __future__ import annotations

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.eligibility import describe
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import Role
from diversion.extensions import db
from diversion.models import AttendanceRecord, OutboxMessage
from diversion.services import Actor, audit
from diversion.services.enrolments import visible_enrolment


def _iso(value):
    return value.isoformat() if value is not None else None


def summary(actor: Actor, enrolment_id: int, form: str = "json") -> dict:
    """Assemble the referral summary and record its disclosure."""
    actor.require(Role.CASE_OFFICER)
    enrolment = visible_enrolment(actor, enrolment_id)
    case = enrolment.case
    programme = enrolment.programme
    history = {}
    booking_ids = [b.id for b in enrolment.bookings]
    if booking_ids:
        for record in db.session.scalars(
            sa.select(AttendanceRecord).where(AttendanceRecord.booking_id.in_(booking_ids))
            .order_by(AttendanceRecord.id)
        ):
            history.setdefault(record.booking_id, []).append(
                {"outcome": record.outcome, "reason": record.reason,
                 "recorded_at": _iso(record.recorded_at)})
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.enrolment_id == enrolment.id)
        .order_by(OutboxMessage.id)
    ).all()
    data = {
        "enrolment": {"id": enrolment.id, "status": enrolment.status,
                      "case_reference": case.reference, "force": case.force.code},
        "participant": {"given_name": case.given_name, "family_name": case.family_name,
                        "date_of_birth": _iso(case.date_of_birth), "email": case.email},
        "agreement": {
            "programme": programme.name,
            "start_date": _iso(enrolment.start_date),
            "original_core_deadline": _iso(enrolment.original_core_deadline),
            "core_deadline": _iso(enrolment.core_deadline),
            "follow_up_due": _iso(enrolment.follow_up_due),
            "follow_up_window": {"opens": _iso(enrolment.follow_up_opens),
                                 "closes": _iso(enrolment.follow_up_closes)}
            if enrolment.follow_up_opens else None,
            "rules": {
                "core_modules": programme.core_modules,
                "session_minutes": programme.session_minutes,
                # The terms the participant was enrolled under, whatever the programme
                # says today.
                "core_months": enrolment.core_months,
                "follow_up_months": enrolment.follow_up_months,
                "follow_up_window_days": enrolment.follow_up_window_days,
                "min_days_between_sessions": programme.min_days_between_sessions,
            },
            "eligibility": {"eligible": case.eligible,
                            "reasons": [describe(r) for r in case.reasons]},
        },
        "bookings": [
            {
                "id": b.id,
                "module": "follow_up" if b.module == FOLLOW_UP else b.module,
                "session_id": b.session_id,
                "starts_at": _iso(b.session.starts_at),
                "venue": b.session.venue.name,
                "status": b.status,
                "reason": b.reason,
                "cancel_reason": b.cancel_reason,
                "cancel_requested_by": b.cancel_requested_by,
                "booked_at": _iso(b.created_at),
                "attendance_history": history.get(b.id, []),
            }
            for b in enrolment.bookings
        ],
        "messages": [
            {"kind": m.kind, "recipient": m.recipient, "status": m.status,
             "queued_at": _iso(m.created_at), "sent_at": _iso(m.sent_at),
             "subject": m.subject, "message_id": m.message_id}
            for m in messages
        ],
        "flags": [
            {"id": f.id, "kind": f.kind, "detail": f.detail, "status": f.status,
             "raised_at": _iso(f.raised_at), "closed_at": _iso(f.closed_at)}
            for f in enrolment.flags
        ],
        "decisions": [
            {"id": d.id, "decision": d.decision, "reason": d.reason,
             "extend_days": d.extend_days, "decided_at": _iso(d.decided_at),
             "decided_by": d.decided_by.email}
            for d in enrolment.decisions
        ],
        "extensions": [
            {"target": x.target, "days": x.days, "reason": x.reason,
             "previous_date": _iso(x.previous_date), "new_date": _iso(x.new_date),
             "granted_at": _iso(x.granted_at)}
            for x in enrolment.extensions
        ],
        "produced_at": _iso(clock.now()),
        "produced_by": actor.email,
    }
    with transaction():
        audit.record(actor, "disclose", "referral_summary", enrolment.id, case_id=case.id,
                     detail={"form": form, "recipient": actor.email})
    return data


def as_pdf(data: dict) -> bytes:  # noqa: C901 - one linear layout, long not branchy
    """Render the summary as a printable PDF (fpdf2, core fonts)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title("Referral summary")
    # Uncompressed text keeps the record searchable by tools that read raw PDF streams.
    pdf.set_compression(False)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 13)
        pdf.ln(3)
        pdf.multi_cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font("Helvetica", "B", 16)
    line("Referral summary - OFFICIAL-SENSITIVE")
    pdf.set_font("Helvetica", "", 10)
    e, p, a = data["enrolment"], data["participant"], data["agreement"]
    line(f"Case {e['case_reference']} ({e['force']}), enrolment {e['id']}, status {e['status']}")
    line(f"Participant: {p['given_name']} {p['family_name']}, born {p['date_of_birth']}")
    heading("Agreement")
    line(f"Programme: {a['programme']}; start {a['start_date']}; core deadline "
         f"{a['core_deadline']} (originally {a['original_core_deadline']})")
    if a["follow_up_due"]:
        window = a["follow_up_window"] or {}
        line(f"Follow-up due {a['follow_up_due']}, window {window.get('opens')} to "
             f"{window.get('closes')}")
    rules = a["rules"]
    line(f"Rules: {rules['core_modules']} modules of {rules['session_minutes']} minutes within "
         f"{rules['core_months']} months, at least {rules['min_days_between_sessions']} days "
         f"apart; follow-up {rules['follow_up_months']} months after, within "
         f"{rules['follow_up_window_days']} days either side")
    heading("Bookings and attendance")
    for b in data["bookings"] or [{"none": True}]:
        if b.get("none"):
            line("No bookings.")
            continue
        text = f"Module {b['module']}: {b['starts_at']} at {b['venue']} - {b['status']}"
        for extra in (b["reason"], b["cancel_reason"]):
            if extra:
                text += f" ({extra})"
        line(text)
    heading("Messages to the participant (proof of notice)")
    for m in data["messages"] or [{"none": True}]:
        if m.get("none"):
            line("No messages.")
            continue
        line(f"{m['kind']} to {m['recipient']}: {m['status']}, sent {m['sent_at'] or '-'}")
    heading("Flags")
    for f in data["flags"] or [{"none": True}]:
        line("None." if f.get("none") else
             f"{f['kind']} raised {f['raised_at']}: {f['detail']} ({f['status']})")
    heading("Decisions")
    for d in data["decisions"] or [{"none": True}]:
        line("None." if d.get("none") else
             f"{d['decision']} by {d['decided_by']} at {d['decided_at']}: {d['reason']}")
    heading("Extensions")
    for x in data["extensions"] or [{"none": True}]:
        line("None." if x.get("none") else
             f"{x['target']} +{x['days']} days ({x['previous_date']} to {x['new_date']}): "
             f"{x['reason']}")
    pdf.ln(4)
    line(f"Produced {data['produced_at']} by {data['produced_by']}")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The PDF core fonts are Latin-1; anything else is shown as "?" rather than lost.
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return text.encode("latin-1", "replace").decode("latin-1")
