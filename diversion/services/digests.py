"""Each case officer's daily digest: how many new flags and completions wait behind the login."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from diversion import clock
from diversion.database import transaction
from diversion.domain.vocabulary import EnrolmentStatus, MessageKind, MessageStatus, Role
from diversion.extensions import db
from diversion.models import Enrolment, Flag, OutboxMessage, User


def _per_force(query: sa.Select, column, since: datetime, until: datetime | None) -> dict:
    window = [column >= since]
    if until is not None:
        # A late run must not count what belongs to the next day's digest.
        window.append(column < until)
    return dict(db.session.execute(query.where(*window).group_by(Enrolment.force_id)).all())


def queue_digests(since: datetime, until: datetime | None = None) -> str:
    """Queue a digest for each case officer whose force has new flags or completions."""
    flags = _per_force(
        sa.select(Enrolment.force_id, sa.func.count(Flag.id))
        .join(Flag, Flag.enrolment_id == Enrolment.id),
        Flag.raised_at, since, until)
    completed = _per_force(
        sa.select(Enrolment.force_id, sa.func.count(Enrolment.id))
        .where(Enrolment.status == EnrolmentStatus.COMPLETED),
        Enrolment.closed_at, since, until)
    forces = set(flags) | set(completed)
    if not forces:
        return "no new flags or completions"
    now = clock.now()
    queued = 0
    with transaction():
        officers = db.session.scalars(
            sa.select(User).where(User.role == Role.CASE_OFFICER, User.active.is_(True),
                                  User.force_id.in_(forces))
        ).all()
        for officer in officers:
            key = f"digest:{officer.id}:{since.date().isoformat()}"
            if db.session.scalar(sa.select(OutboxMessage.id)
                                 .where(OutboxMessage.idempotency_key == key)):
                continue
            db.session.add(OutboxMessage(
                user_id=officer.id, kind=MessageKind.DIGEST, recipient=officer.email,
                # The email says how many and links to sign-in: the detail stays behind it.
                # A random uid keeps two databases from minting the same Message-ID.
                payload={"new_flags": flags.get(officer.force_id or 0, 0),
                         "completed": completed.get(officer.force_id or 0, 0),
                         "since": since.isoformat(),
                         "sign_in_url": current_app.config["PUBLIC_BASE_URL"],
                         "uid": uuid.uuid4().hex},
                idempotency_key=key, status=MessageStatus.PENDING, due_at=now, next_attempt_at=now,
                created_at=now,
            ))
            queued += 1
    return f"{queued} digests queued"
