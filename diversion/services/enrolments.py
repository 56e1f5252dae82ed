"""Enrolling an eligible case on a programme, and reading enrolments."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import EnrolmentStatus, FlagStatus, Role
from diversion.extensions import db
from diversion.models import Booking, Case, CourseSession, Decision, Enrolment, Flag
from diversion.services import Actor, InvalidInput, NotFound, audit, like_term
from diversion.services.programmes import get_programme, rules_for

STAFF_WHO_SEE_ENROLMENTS = (Role.CASE_OFFICER, Role.COORDINATOR)


def enrol(actor: Actor, case_id: int, programme_id: int, start_date: date) -> Enrolment:
    """Enrol an eligible case under the programme's terms today, which it keeps for good."""
    actor.require(Role.CASE_OFFICER)
    with transaction():
        case = db.session.get(Case, case_id)
        if case is None or case.force_id != actor.force_id or case.erased_at is not None:
            raise NotFound("case")
        programme = get_programme(programme_id)
        if not case.eligible:
            raise RuleViolation(
                "ineligible",
                "This case is not eligible for the programme, so it cannot be enrolled",
            )
        if case.enrolment is not None:
            raise InvalidInput(
                "This case is already enrolled", field=None, code="already_enrolled", status=409
            )
        rules = rules_for(programme)
        deadline = rules.core_deadline(start_date)
        terms = rules.terms
        enrolment = Enrolment(
            case_id=case.id,
            force_id=case.force_id,
            programme_id=programme.id,
            status=EnrolmentStatus.ENROLLED,
            start_date=start_date,
            original_core_deadline=deadline,
            core_deadline=deadline,
            core_months=terms.core_months,
            follow_up_months=terms.follow_up_months,
            follow_up_window_days=terms.follow_up_window_days,
            created_by_id=actor.user_id,
            created_at=clock.now(),
        )
        db.session.add(enrolment)
        db.session.flush()
        audit.record(actor, "create", "enrolment", enrolment.id, case_id=case.id,
                     detail={"programme_id": programme.id, "start_date": start_date.isoformat()})
    return enrolment


def _enrolment_options():
    return [
        so.joinedload(Enrolment.case),
        so.joinedload(Enrolment.programme),
        so.selectinload(Enrolment.bookings).joinedload(Booking.session)
        .joinedload(CourseSession.venue),
        so.selectinload(Enrolment.flags),
        so.selectinload(Enrolment.extensions),
        so.selectinload(Enrolment.decisions).joinedload(Decision.decided_by),
    ]


def visible_enrolment(actor: Actor, enrolment_id: int, *, lock: bool = False) -> Enrolment:
    """Load an enrolment this actor may see, or raise NotFound (and log the refusal)."""
    actor.require(*STAFF_WHO_SEE_ENROLMENTS)
    query = sa.select(Enrolment).where(Enrolment.id == enrolment_id)
    if lock:
        query = query.with_for_update()
    else:
        query = query.options(*_enrolment_options())
    enrolment = db.session.scalar(query)
    if enrolment is None or (
        actor.role == Role.CASE_OFFICER and enrolment.force_id != actor.force_id
    ):
        if not lock:
            audit.record_now(actor, "refused", "enrolment", enrolment_id)
        raise NotFound("enrolment")
    return enrolment


def get_enrolment(actor: Actor, enrolment_id: int) -> Enrolment:
    """Return an enrolment, recording the read."""
    enrolment = visible_enrolment(actor, enrolment_id)
    with transaction():
        audit.record(actor, "read", "enrolment", enrolment.id, case_id=enrolment.case_id)
    return enrolment


def enrolment_filter(
    actor: Actor,
    *,
    status: str | None = None,
    flag: str | None = None,
    search: str | None = None,
) -> sa.Select:
    """Select the enrolments this actor may see, by status, open flag and search.

    Lists, pagination and CSV exports all start here, so they agree on who sees
    what. A case officer searches reference or name in their own force; a
    coordinator searches by name only (a case reference is not theirs to see).
    """
    actor.require(*STAFF_WHO_SEE_ENROLMENTS)
    query = sa.select(Enrolment).join(Case, Case.id == Enrolment.case_id)
    if actor.role == Role.CASE_OFFICER:
        query = query.where(Enrolment.force_id == actor.force_id)
    if status:
        query = query.where(Enrolment.status == status)
    if flag:
        open_flag = sa.select(Flag.id).where(
            Flag.enrolment_id == Enrolment.id, Flag.status == FlagStatus.OPEN
        )
        if flag != "any":
            open_flag = open_flag.where(Flag.kind == flag)
        query = query.where(open_flag.exists())
    if search and search.strip():
        term = like_term(search)
        by_name = sa.func.lower(Case.given_name + " " + Case.family_name).like(
            term, escape="\\")
        if actor.role == Role.CASE_OFFICER:
            by_name = sa.or_(sa.func.lower(Case.reference).like(term, escape="\\"), by_name)
        query = query.where(by_name)
    return query


def list_enrolments(
    actor: Actor,
    *,
    status: str | None = None,
    flag: str | None = None,
    search: str | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Enrolment]:
    """List enrolments the actor may see, by id, keyset-paginated, recording the read."""
    query = enrolment_filter(actor, status=status, flag=flag, search=search).limit(limit)
    if before_id is not None:
        # The page before: the nearest ids below, shown in ascending order.
        query = query.where(Enrolment.id < before_id).order_by(Enrolment.id.desc())
    else:
        if after_id is not None:
            query = query.where(Enrolment.id > after_id)
        query = query.order_by(Enrolment.id)
    # Lists are summaries: the case, bookings' outcomes and flags, without each
    # booking's session, the extensions or the decisions (those are on the detail).
    rows = sorted(db.session.scalars(query.options(
        so.contains_eager(Enrolment.case),
        so.selectinload(Enrolment.bookings),
        so.selectinload(Enrolment.flags),
    )), key=lambda e: e.id)
    with transaction():
        audit.record(
            actor, "read", "enrolment_list", None,
            detail={"status": status, "flag": flag, "search": search or None,
                    "ids": [e.id for e in rows]},
        )
    return rows


def any_beyond(actor: Actor, *, search: str | None = None, before_id: int | None = None,
               after_id: int | None = None) -> bool:
    """Say whether the filtered list goes on before or after an id (pagination links)."""
    query = enrolment_filter(actor, search=search).with_only_columns(Enrolment.id).limit(1)
    if before_id is not None:
        query = query.where(Enrolment.id < before_id)
    if after_id is not None:
        query = query.where(Enrolment.id > after_id)
    return db.session.scalar(query) is not None


def enrolments_by_id(actor: Actor, ids: set[int]) -> list[Enrolment]:
    """Load several of the actor's enrolments with their cases (one query, audited)."""
    actor.require(*STAFF_WHO_SEE_ENROLMENTS)
    if not ids:
        return []
    query = sa.select(Enrolment).where(Enrolment.id.in_(ids)).options(
        so.joinedload(Enrolment.case))
    if actor.role == Role.CASE_OFFICER:
        query = query.where(Enrolment.force_id == actor.force_id)
    rows = list(db.session.scalars(query))
    with transaction():
        audit.record(actor, "read", "enrolment_list", None,
                     detail={"ids": sorted(e.id for e in rows)})
    return rows
