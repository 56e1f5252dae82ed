"""Turn records into the shapes docs/api.md names, minimised by the reader's role."""

from __future__ import annotations

from diversion.domain.programme import FOLLOW_UP
from diversion.models import Booking, Case, Enrolment
from diversion.services.cases import SCREENING_FIELDS


def case(c: Case) -> dict:
    return {
        "id": c.id,
        "force": c.force.code,
        "reference": c.reference,
        "participant": {
            "given_name": c.given_name,
            "family_name": c.family_name,
            "date_of_birth": c.date_of_birth,
            "email": c.email,
            "phone": c.phone,
        },
        "screening": {name: getattr(c, name) for name in SCREENING_FIELDS},
        "eligible": c.eligible,
        "ineligible_reasons": c.reasons,
        "enrolment_id": c.enrolment.id if c.enrolment else None,
        "created_at": c.created_at,
    }


def booking(b: Booking) -> dict:
    return {
        "id": b.id,
        "enrolment_id": b.enrolment_id,
        "session_id": b.session_id,
        "module": b.module,
        "status": b.status,
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "reason": b.reason,
    }


def cohort_plan(outcome) -> dict:
    return {
        "planned": [{"enrolment_id": enrolment_id, "bookings": [booking(b) for b in made]}
                    for enrolment_id, made in sorted(outcome.planned.items())],
        "refused": [{"enrolment_id": enrolment_id, "code": refusal.code,
                     "message": refusal.message}
                    for enrolment_id, refusal in sorted(outcome.refused.items())],
    }


def flag(f) -> dict:
    return {
        "id": f.id,
        "enrolment_id": f.enrolment_id,
        "kind": f.kind,
        "raised_at": f.raised_at,
        "detail": f.detail,
        "status": f.status,
    }


def enrolment_summary(e: Enrolment, role: str) -> dict:
    """Present an enrolment in a list: progress and flags, no nested bookings."""
    attended = sorted(
        {b.module for b in e.bookings if b.status == "attended"},
        key=lambda m: (m == FOLLOW_UP, m),
    )
    data = {
        "id": e.id,
        "case_id": e.case_id,
        "programme_id": e.programme_id,
        "status": e.status,
        "start_date": e.start_date,
        "core_deadline": e.core_deadline,
        "modules_attended": attended,
        "follow_up_due": e.follow_up_due,
        "follow_up_window": (
            {"opens": e.follow_up_opens, "closes": e.follow_up_closes}
            if e.follow_up_opens
            else None
        ),
        "flags": [flag(f) for f in e.flags],
        "participant": {"given_name": e.case.given_name, "family_name": e.case.family_name},
    }
    if role == "case_officer":
        data["reference"] = e.case.reference
    return data


def enrolment(e: Enrolment, role: str) -> dict:
    """Present an enrolment; the coordinator's view carries no case or screening detail."""
    data = enrolment_summary(e, role)
    data.update({
        "original_core_deadline": e.original_core_deadline,
        "bookings": [booking(b) for b in e.bookings],
        "extensions": [
            {
                "id": x.id,
                "target": x.target,
                "days": x.days,
                "reason": x.reason,
                "previous_date": x.previous_date,
                "new_date": x.new_date,
                "granted_at": x.granted_at,
            }
            for x in e.extensions
        ],
    })
    if role == "case_officer":
        data["decisions"] = [decision(d) for d in e.decisions]
    return data


def decision(d) -> dict:
    return {
        "id": d.id,
        "enrolment_id": d.enrolment_id,
        "decision": d.decision,
        "reason": d.reason,
        "extend_days": d.extend_days,
        "decided_at": d.decided_at,
        "decided_by": d.decided_by.email,
    }
