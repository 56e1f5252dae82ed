"""Retention: erase personal data once its programme's retention period has passed.

The erasure is logged (who, when, which record) without the erased data, and a
second run finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from diversion import clock
from diversion.database import transaction
from diversion.domain.vocabulary import EnrolmentStatus
from diversion.extensions import db
from diversion.models import Case, Enrolment, OutboxMessage, Programme
from diversion.services import Actor, audit

ERASED = "[erased]"
CLOSED = (EnrolmentStatus.COMPLETED, EnrolmentStatus.REFERRED, EnrolmentStatus.WITHDRAWN)


@dataclass
class RetentionResult:
    erased_case_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return f"retention: {len(self.erased_case_ids)} records erased"


def erase_expired() -> RetentionResult:
    """Erase the personal data of closed enrolments past their programme's retention."""
    result = RetentionResult()
    now = clock.now()
    actor = Actor.system("retention")
    with transaction():
        for programme in db.session.scalars(sa.select(Programme)):
            cutoff = now - relativedelta(years=programme.retention_years)
            cases = db.session.scalars(
                sa.select(Case).join(Enrolment, Enrolment.case_id == Case.id).where(
                    Enrolment.programme_id == programme.id,
                    Enrolment.status.in_(CLOSED),
                    Enrolment.closed_at < cutoff,
                    Case.erased_at.is_(None),
                )
            ).all()
            for case in cases:
                _erase(case, now)
                audit.record(actor, "erase", "case", case.id, case_id=case.id,
                             detail={"rule": f"{programme.retention_years} years after closing"})
                result.erased_case_ids.append(case.id)
    return result


def _erase(case: Case, now) -> None:
    case.given_name = ERASED
    case.family_name = ERASED
    case.email = f"erased-{case.id}@erased.invalid"
    case.phone = None
    case.date_of_birth = date(1900, 1, 1)
    case.erased_at = now
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.enrolment_id == sa.select(Enrolment.id)
               .where(Enrolment.case_id == case.id).scalar_subquery())
        .values(recipient=case.email, payload={})
    )
