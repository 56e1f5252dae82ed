"""Enrolling an eligible case on a programme, and reading enrolments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.booking import BookingFacts
from diversion.domain.errors import RuleViolation
from diversion.domain.intake import check_start_date
from diversion.domain.standing import standing
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    Concern,
    EnrolmentStatus,
    FlagKind,
    FlagStatus,
    Role,
    values,
)
from diversion.extensions import db
from diversion.models import Booking, Case, CourseSession, Decision, Enrolment, Flag
from diversion.services import Actor, InvalidInput, NotFound, audit, like_term
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import get_programme, rules_for

STAFF_WHO_SEE_ENROLMENTS = (Role.CASE_OFFICER, Role.COORDINATOR)


def enrol(actor: Actor, case_id: int, programme_id: int, start_date: date) -> Enrolment:
    """Enrol an eligible case under the programme's terms today, which it keeps for good."""
    actor.require(Role.CASE_OFFICER)
    with transaction():
        case = db.session.get(Case, case_id)
        if case is None or case.force_id != actor.force_id or case.erased_at is not None:
            raise NotFound("case", case_id)
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
        check_start_date(start_date, clock.today())
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
    """Load an enrolment this actor may see, or raise NotFound (the error layer logs it)."""
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
        raise NotFound("enrolment", enrolment_id)
    return enrolment


def get_enrolment(actor: Actor, enrolment_id: int) -> Enrolment:
    """Return an enrolment, recording the read."""
    enrolment = visible_enrolment(actor, enrolment_id)
    with transaction():
        audit.record(actor, "read", "enrolment", enrolment.id, case_id=enrolment.case_id)
    return enrolment


# What a list can be narrowed to beside the status: an open flag of a kind (or "any"),
# or a concern that is not (only) a flag.
FLAG_FILTERS = ("any", *values(FlagKind), Concern.DEADLINE_PASSED, Concern.REGISTER_OVERDUE)

# A coordinator's short reference for a participant: the enrolment's id, never the case's.
PARTICIPANT_REFERENCE = re.compile(r"^p-?0*(\d{1,9})$")


def participant_reference(enrolment_id: int) -> str:
    """Name an enrolment for a coordinator without its case: P-000123."""
    return f"P-{enrolment_id:06d}"


def enrolment_filter(
    actor: Actor,
    *,
    status: str | None = None,
    flag: str | None = None,
    search: str | None = None,
) -> sa.Select:
    """Select the enrolments this actor may see, by status, flag or concern, and search.

    Lists, pagination and CSV exports all start here, so they agree on who sees
    what. A case officer searches reference or name in their own force; a
    coordinator searches by name or participant reference (P-000123), never by case
    reference (not theirs to see).
    """
    actor.require(*STAFF_WHO_SEE_ENROLMENTS)
    query = sa.select(Enrolment).join(Case, Case.id == Enrolment.case_id)
    if actor.role == Role.CASE_OFFICER:
        query = query.where(Enrolment.force_id == actor.force_id)
    if status:
        query = query.where(Enrolment.status == status)
    if flag:
        query = query.where(_flagged(flag))
    if search and search.strip():
        term = like_term(search)
        by_name: sa.ColumnElement[bool] = sa.func.lower(
            Case.given_name + " " + Case.family_name).like(term, escape="\\")
        if actor.role == Role.CASE_OFFICER:
            by_name = sa.or_(sa.func.lower(Case.reference).like(term, escape="\\"), by_name)
        else:
            reference = PARTICIPANT_REFERENCE.match(search.strip().lower())
            if reference:
                by_name = sa.or_(Enrolment.id == int(reference.group(1)), by_name)
        query = query.where(by_name)
    return query


def _open_flag(kind: str | None = None) -> sa.Exists:
    open_flag = sa.select(Flag.id).where(
        Flag.enrolment_id == Enrolment.id, Flag.status == FlagStatus.OPEN)
    if kind is not None:
        open_flag = open_flag.where(Flag.kind == kind)
    return open_flag.exists()


def _flagged(flag: str) -> sa.ColumnElement[bool]:
    """The condition for one of FLAG_FILTERS, as ``domain/standing.py`` shows concerns."""
    if flag == Concern.DEADLINE_PASSED:
        return sa.or_(
            _open_flag(FlagKind.NON_COMPLETION),
            sa.and_(Enrolment.status == EnrolmentStatus.ENROLLED,
                    Enrolment.core_deadline < clock.today()))
    if flag == Concern.REGISTER_OVERDUE:
        return (
            sa.select(Booking.id)
            .join(CourseSession, CourseSession.id == Booking.session_id)
            .where(Booking.enrolment_id == Enrolment.id,
                   Booking.status == BookingStatus.BOOKED,
                   CourseSession.ends_at <= clock.now())
            .exists()
        )
    return _open_flag(None if flag == "any" else flag)


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
        audit.record_reads(actor, "enrolment", [(e.id, e.case_id) for e in rows],
                           "enrolment_list")
    return rows


@dataclass(frozen=True)
class Listed:
    """One row of an enrolment list: the enrolment, what needs attention, what comes next."""

    enrolment: Enrolment
    concerns: tuple[Concern, ...]
    next_session: BookingFacts | None

    @property
    def deadline(self) -> date | None:
        """The date that matters now: the follow-up window's close once it is due."""
        return _deadline_of(self.enrolment)


@dataclass(frozen=True)
class EnrolmentPage:
    """A page of an enrolment list, with the cursors of the pages either side (or None)."""

    rows: list[Listed]
    next_after: str | None
    previous_before: str | None


SORTS = ("enrolled", "deadline")


def _deadline_of(enrolment: Enrolment) -> date | None:
    if enrolment.status == EnrolmentStatus.AWAITING_FOLLOW_UP:
        return enrolment.follow_up_closes
    return enrolment.core_deadline


def _sort_key(sort: str) -> list[Any]:
    if sort == "deadline":
        # Open enrolments first, soonest deadline first; closed ones after, theirs past.
        closed = sa.case((Enrolment.status.in_(sorted(OPEN_ENROLMENT)), 0), else_=1)
        deadline = sa.case(
            (Enrolment.status == EnrolmentStatus.AWAITING_FOLLOW_UP, Enrolment.follow_up_closes),
            else_=Enrolment.core_deadline)
        return [closed, deadline, Enrolment.id]
    return [Enrolment.id]


def _cursor_of(enrolment: Enrolment, sort: str) -> str:
    if sort == "deadline":
        closed = 0 if enrolment.status in OPEN_ENROLMENT else 1
        return f"{closed}.{_deadline_of(enrolment)}.{enrolment.id}"
    return str(enrolment.id)


def _read_cursor(text: str | None, sort: str) -> list[Any] | None:
    """Read a cursor made by ``_cursor_of``; None for one that is not (a hand-made address)."""
    try:
        if not text:
            return None
        if sort == "deadline":
            closed, day, number = text.split(".")
            values_: list[Any] = [int(closed), date.fromisoformat(day), int(number)]
        else:
            values_ = [int(text)]
    except ValueError:
        return None
    return values_ if 0 < values_[-1] < 2**31 else None


def _beyond(key: list[Any], cursor: list[Any], *, forward: bool) -> sa.ColumnElement[bool]:
    """Rows after (or before) the cursor in the key's order, as a keyset comparison."""
    first, value = key[0], cursor[0]
    further = first > value if forward else first < value
    if len(key) == 1:
        return further
    return sa.or_(further, sa.and_(first == value, _beyond(key[1:], cursor[1:], forward=forward)))


def enrolment_page(
    actor: Actor,
    *,
    status: str | None = None,
    flag: str | None = None,
    search: str | None = None,
    sort: str = "enrolled",
    after: str | None = None,
    before: str | None = None,
    per_page: int = 50,
) -> EnrolmentPage:
    """Show a page of the enrolments the actor may see, each with its concerns; audited.

    Keyset-paginated in the order asked (enrolment, or the deadline that matters now),
    in a fixed number of statements whatever the page holds: the rows, their bookings
    with their sessions, their flags, and the audit row.
    """
    sort = sort if sort in SORTS else "enrolled"
    key = _sort_key(sort)
    query = enrolment_filter(actor, status=status, flag=flag, search=search)
    back = _read_cursor(before, sort)
    ahead = None if back is not None else _read_cursor(after, sort)
    if back is not None:
        query = query.where(_beyond(key, back, forward=False)).order_by(*(k.desc() for k in key))
    else:
        if ahead is not None:
            query = query.where(_beyond(key, ahead, forward=True))
        query = query.order_by(*key)
    found = list(db.session.scalars(query.limit(per_page + 1).options(
        so.contains_eager(Enrolment.case),
        so.joinedload(Enrolment.programme),
        so.selectinload(Enrolment.bookings).joinedload(Booking.session),
        so.selectinload(Enrolment.flags),
    )))
    more = len(found) > per_page
    rows = found[:per_page]
    if back is not None:
        rows.reverse()
    now = clock.now()
    listed = []
    for enrolment in rows:
        seen = standing(rules_for(enrolment.programme), enrolment_facts(enrolment),
                        [f.kind for f in enrolment.flags if f.status == FlagStatus.OPEN], now)
        listed.append(Listed(enrolment, seen.concerns, seen.next_session))
    with transaction():
        audit.record(
            actor, "read", "enrolment_list", None,
            detail={"status": status, "flag": flag, "search": search or None, "sort": sort,
                    "ids": [e.id for e in rows]},
        )
    # Going back, the page after is the one we came from; going on, the one before is.
    has_next = more if back is None else True
    has_previous = more if back is not None else ahead is not None
    return EnrolmentPage(
        rows=listed,
        next_after=_cursor_of(rows[-1], sort) if rows and has_next else None,
        previous_before=_cursor_of(rows[0], sort) if rows and has_previous else None,
    )


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
        audit.record_reads(actor, "enrolment", sorted((e.id, e.case_id) for e in rows),
                           "enrolment_list")
    return rows
