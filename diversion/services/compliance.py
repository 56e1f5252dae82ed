"""The compliance sweep: raise each flag the rules call for, once per cause.

The sweep is set-wise: per programme, one ``INSERT ... SELECT ... ON CONFLICT
(enrolment_id, cause) DO NOTHING`` raises the flags of every rule, so its cost
does not grow with a query per enrolment. Each rule restates one rule of
``diversion.domain.compliance.flags_due`` (the single source of truth) in two
halves with the same kind, cause and detail; ``tests/integration/test_sweep_sql.py``
proves the two agree on random histories.

- Its *candidates*: the enrolments (or absent bookings) it could flag, found
  through an index (status and deadline, or the absent bookings), each with
  the cause it would raise. A cause needs nothing beyond that one row.
- Its *test*: whether a fresh candidate is due, read from its bookings, and
  the flag's detail.

One anti-join against the existing flags keeps only the candidates whose
cause was never raised ("fresh"), before any test reads a booking: on most
days nearly every candidate is already flagged, so a run reads the candidates'
own rows and the flags once, and the bookings of the few fresh ones.

The statement is built once per process and programme rules; each run passes
its day as parameters. "Today" is the programme's local date from
``diversion.clock`` (never the database's clock).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.compliance import UNBOOKED_WARNING_DAYS, flags_due
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules
from diversion.extensions import db
from diversion.models import (
    OPEN_STATUSES,
    Booking,
    CourseSession,
    Enrolment,
    Flag,
    Programme,
    UTCDateTime,
)
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for


@dataclass
class SweepResult:
    evaluated: int = 0
    raised: int = 0
    by_kind: dict | None = None

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted((self.by_kind or {}).items())) or "none"
        return (f"sweep as of {clock.today().isoformat()}: {self.evaluated} active enrolments "
                f"evaluated, {self.raised} new flags ({kinds})")


def _insert_flags(rows: list[dict]) -> int:
    if not rows:
        return 0
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(Flag).on_conflict_do_nothing(index_elements=["enrolment_id", "cause"])
    result = db.session.execute(statement.returning(Flag.id), rows)
    return len(result.all())


def raise_flags_for(enrolment: Enrolment, bookings: list[Booking]) -> int:
    """Raise the flags one enrolment calls for now (inside the caller's transaction)."""
    rules = rules_for(enrolment.programme)
    today = clock.today(rules.tz)
    now = clock.now()
    rows = [
        {"enrolment_id": enrolment.id, "kind": f.kind, "cause": f.cause, "detail": f.detail,
         "status": "open", "raised_at": now}
        for f in flags_due(rules, enrolment_facts(enrolment, bookings), today)
    ]
    return _insert_flags(rows)


def sweep() -> SweepResult:
    """Evaluate every active enrolment as of the clock; idempotent."""
    result = SweepResult(by_kind=defaultdict(int))
    now = clock.now()
    with transaction():
        connection = db.session.connection()
        postgresql = connection.dialect.name == "postgresql"
        if not postgresql:
            # SQLite knows no time zones: lend it Python's for the local date of a session.
            connection.connection.driver_connection.create_function(
                "diversion_local_date", 2, _sqlite_local_date, deterministic=True)
        result.evaluated = db.session.scalar(
            sa.select(sa.func.count()).select_from(Enrolment)
            .where(Enrolment.status.in_(OPEN_STATUSES))
        )
        for programme in db.session.scalars(sa.select(Programme).order_by(Programme.id)):
            rules = rules_for(programme)
            parameters = _parameters(programme.id, rules, clock.today(rules.tz), now)
            # Through Core, which hands over the returned kinds a row at a time; the ORM
            # would first buffer one object per new flag.
            for kind in connection.execute(sweep_statement(postgresql, rules),
                                           parameters).scalars():
                result.raised += 1
                result.by_kind[kind] += 1
    return result


# The statement's parameters: the programme, its today, the time the flags are
# raised, and the dates that follow from today.
_PROGRAMME = sa.bindparam("programme_id", type_=sa.Integer)
_TODAY = sa.bindparam("today", type_=sa.Date)
_NOW = sa.bindparam("now", type_=UTCDateTime())
_WARN_UNTIL = sa.bindparam("warn_until", type_=sa.Date)


def _fits_until(missing: int) -> sa.BindParameter:
    """The earliest deadline by which so many missing modules still fit."""
    return sa.bindparam(f"fits_{missing}", type_=sa.Date)


def _parameters(programme_id: int, rules: ProgrammeRules, today: date,
                now: datetime) -> dict:
    spacing = timedelta(days=rules.min_days_between_sessions)
    # The missing modules fit while today + spacing * (missing - 1) <= deadline.
    fits = {_fits_until(missing).key: today + spacing * (missing - 1)
            for missing in range(1, rules.core_modules + 1)}
    return {_PROGRAMME.key: programme_id, _TODAY.key: today, _NOW.key: now,
            _WARN_UNTIL.key: today + timedelta(days=UNBOOKED_WARNING_DAYS), **fits}


@functools.cache
def sweep_statement(postgresql: bool, rules: ProgrammeRules) -> sa.Insert:
    """INSERT the flags every rule calls for in one programme, returning each new flag's kind.

    Built once per process and set of rules; each run passes its day as parameters.
    """
    context = _Context(rules, _Dialect(postgresql))
    possible = sa.union_all(*(_possible(context, rule) for rule in RULES)).subquery("possible")
    # Materialised: computed once (one pass over the flags), then each rule reads its share.
    fresh = (
        sa.select(possible)
        .where(~sa.exists().where(Flag.enrolment_id == possible.c.enrolment_id,
                                  Flag.cause == possible.c.cause))
        .cte("fresh").prefix_with("MATERIALIZED")
    )
    due = sa.union_all(*(
        rule.due(context, sa.select(fresh).where(fresh.c.rule == rule.name).subquery(rule.name))
        .add_columns(sa.literal(rule.kind), sa.literal("open"), _NOW)
        for rule in RULES
    ))
    return (
        context.sql.insert(Flag)
        .from_select(["enrolment_id", "cause", "detail", "kind", "status", "raised_at"], due)
        .on_conflict_do_nothing(index_elements=["enrolment_id", "cause"])
        .returning(Flag.kind)
    )


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class _Dialect:
    """The few date and text expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, postgresql: bool):
        self.postgresql = postgresql
        if postgresql:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self.insert = insert

    def iso(self, day) -> sa.ColumnElement:
        """A date as YYYY-MM-DD, as date.isoformat() writes it."""
        if self.postgresql:
            return sa.func.to_char(day, "YYYY-MM-DD")
        return sa.cast(day, sa.String)

    def human(self, day) -> sa.ColumnElement:
        """A date as "4 March 2027", as domain.programme.format_date writes it."""
        if self.postgresql:
            return sa.func.to_char(day, "FMDD FMMonth YYYY")
        month = sa.case(
            {n: name for n, name in enumerate(_MONTHS, start=1)},
            value=sa.cast(sa.func.strftime("%m", day), sa.Integer),
        )
        return (_text(sa.cast(sa.func.strftime("%d", day), sa.Integer)) + " " + month + " "
                + sa.func.strftime("%Y", day))

    def days_between(self, earlier, later) -> sa.ColumnElement:
        """The whole days from one date to a later one."""
        if self.postgresql:
            return sa.type_coerce(later - earlier, sa.Integer)
        return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)

    def local_date(self, instant, timezone: str) -> sa.ColumnElement:
        """The programme-local calendar date of a stored (naive UTC) instant."""
        if self.postgresql:
            return sa.cast(sa.func.timezone(timezone, sa.func.timezone("UTC", instant)), sa.Date)
        return sa.func.diversion_local_date(instant, timezone)


def _sqlite_local_date(stored: str | None, timezone: str) -> str | None:
    if stored is None:
        return None
    instant = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(timezone)).date().isoformat()


def _text(value) -> sa.ColumnElement:
    return sa.cast(value, sa.String)


@dataclass(frozen=True)
class _Context:
    rules: ProgrammeRules
    sql: _Dialect


@dataclass(frozen=True)
class _Rule:
    """One rule of flags_due: the flags it raises are of ``kind``, their causes ``name:key``.

    ``candidates`` selects (enrolment_id, key, day, booking_id) for everything the rule
    could flag; ``due`` takes the fresh ones (enrolment_id, cause, day, booking_id) and
    selects (enrolment_id, cause, detail) for those the rule flags today.
    """

    kind: str
    name: str
    candidates: Callable[[_Context], sa.Select]
    due: Callable[[_Context, sa.Subquery], sa.Select]


def _possible(context: _Context, rule: _Rule) -> sa.Select:
    """The rule's candidates, each with the cause it would raise."""
    candidates = rule.candidates(context).subquery()
    return sa.select(
        sa.literal(rule.name).label("rule"),
        candidates.c.enrolment_id,
        (sa.literal(f"{rule.name}:") + candidates.c.key).label("cause"),
        candidates.c.day,
        candidates.c.booking_id,
    )


def _candidates(enrolment_id, key, *, day=None, booking_id=None) -> sa.Select:
    return sa.select(
        enrolment_id.label("enrolment_id"),
        key.label("key"),
        (sa.cast(sa.null(), sa.Date) if day is None else day).label("day"),
        (sa.cast(sa.null(), sa.Integer) if booking_id is None else booking_id).label("booking_id"),
    )


def _enrolled(context: _Context, *deadline) -> sa.Select:
    """Enrolled in this programme, with a core deadline in a range."""
    return _candidates(
        Enrolment.id, context.sql.iso(Enrolment.core_deadline), day=Enrolment.core_deadline,
    ).where(Enrolment.programme_id == _PROGRAMME, Enrolment.status == "enrolled", *deadline)


def _core_progress(context: _Context, fresh: sa.Subquery) -> sa.Subquery:
    """Per fresh candidate: core modules attended, and a bit mask of modules held.

    Correlated subqueries, not a join: the fresh candidates are few, so each is one
    index probe into its own bookings.
    """
    core = context.rules.core_modules
    in_core = Booking.module.between(1, core)
    done = (
        sa.select(sa.func.count(sa.distinct(Booking.module)))
        .where(Booking.enrolment_id == fresh.c.enrolment_id, Booking.status == "attended",
               in_core)
        .scalar_subquery()
    )
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.distinct(
            sa.literal(1).op("<<")(Booking.module))), 0))
        .where(Booking.enrolment_id == fresh.c.enrolment_id,
               Booking.status.in_(("attended", "booked")), in_core)
        .scalar_subquery()
    )
    return (
        sa.select(fresh.c.enrolment_id, fresh.c.cause, fresh.c.day.label("deadline"),
                  done.label("done"), held.label("held"))
        # OFFSET 0 keeps both databases from inlining the subquery, which would run
        # the correlated subqueries again for every reference to their columns.
        .offset(0)
        .subquery("progress")
    )


def _non_completion(context: _Context) -> sa.Select:
    return _enrolled(context, Enrolment.core_deadline < _TODAY)


def _non_completion_due(context: _Context, fresh: sa.Subquery) -> sa.Select:
    core = context.rules.core_modules
    p = _core_progress(context, fresh)
    sql = context.sql
    return sa.select(
        p.c.enrolment_id,
        p.c.cause,
        ("Core deadline " + sql.human(p.c.deadline) + " passed with " + _text(p.c.done)
         + f" of {core} modules attended").label("detail"),
    ).where(p.c.done < core)


def _cannot_fit(context: _Context) -> sa.Select:
    # A deadline on or after this one fits however many modules are missing.
    return _enrolled(context, Enrolment.core_deadline >= _TODAY,
                     Enrolment.core_deadline < _fits_until(context.rules.core_modules))


def _cannot_fit_due(context: _Context, fresh: sa.Subquery) -> sa.Select:
    rules, sql = context.rules, context.sql
    p = _core_progress(context, fresh)
    missing = rules.core_modules - p.c.done
    return sa.select(
        p.c.enrolment_id,
        p.c.cause,
        (_text(missing) + " modules still to attend no longer fit before the core deadline "
         + sql.human(p.c.deadline) + f" at {rules.min_days_between_sessions} days apart")
        .label("detail"),
    ).where(p.c.deadline < sa.case(
        *((missing == m, _fits_until(m)) for m in range(1, rules.core_modules + 1))))


def _unbooked_near_deadline(context: _Context) -> sa.Select:
    return _enrolled(context, Enrolment.core_deadline >= _TODAY,
                     Enrolment.core_deadline <= _WARN_UNTIL)


def _unbooked_near_deadline_due(context: _Context, fresh: sa.Subquery) -> sa.Select:
    sql = context.sql
    core = list(context.rules.core_module_numbers)
    p = _core_progress(context, fresh)
    unbooked = [p.c.held.op("&")(1 << m) == 0 for m in core]
    count = sum((sa.case((u, 1), else_=0) for u in unbooked), sa.literal(0))
    listed = sa.literal("")
    for m, u in zip(core, unbooked, strict=True):
        listed = listed + sa.case((u, f", {m}"), else_="")
    names = sa.func.substr(listed, 3)
    days = sql.days_between(_TODAY, p.c.deadline)
    away = sa.case((days == 0, "today"), (days == 1, "1 day away"),
                   else_=_text(days) + " days away")
    plural = count > 1
    return sa.select(
        p.c.enrolment_id,
        p.c.cause,
        ("Core deadline " + sql.human(p.c.deadline) + " is " + away + " and module"
         + sa.case((plural, "s "), else_=" ") + names
         + sa.case((plural, " have"), else_=" has") + " no booking").label("detail"),
    ).where(count > 0)


def _follow_up_missed(context: _Context) -> sa.Select:
    return _candidates(
        Enrolment.id, context.sql.iso(Enrolment.follow_up_closes), day=Enrolment.follow_up_closes,
    ).where(
        Enrolment.programme_id == _PROGRAMME,
        Enrolment.status == "awaiting_follow_up",
        Enrolment.follow_up_opens.is_not(None),
        Enrolment.follow_up_closes < _TODAY,
    )


def _follow_up_missed_due(context: _Context, fresh: sa.Subquery) -> sa.Select:
    attended = sa.exists().where(Booking.enrolment_id == fresh.c.enrolment_id,
                                 Booking.module == FOLLOW_UP, Booking.status == "attended")
    return sa.select(
        fresh.c.enrolment_id,
        fresh.c.cause,
        ("Follow-up window closed on " + context.sql.human(fresh.c.day)
         + " without attendance").label("detail"),
    ).where(~attended)


def _unexcused_absences(context: _Context) -> sa.Select:
    # Every programme's absences: the booking alone cannot tell whose they are, and
    # joining each to its enrolment first would cost more than the anti-join saves.
    return _candidates(Booking.enrolment_id, _text(Booking.id), booking_id=Booking.id).where(
        Booking.status == "absent_unexcused")


def _unexcused_absences_due(context: _Context, fresh: sa.Subquery) -> sa.Select:
    sql = context.sql
    name = sa.case((Booking.module == FOLLOW_UP, "The follow-up session"),
                   else_="Module " + _text(Booking.module))
    on = sql.human(sql.local_date(CourseSession.starts_at, context.rules.timezone))
    return (
        sa.select(
            fresh.c.enrolment_id,
            fresh.c.cause,
            (name + " on " + on + ": absent without excuse").label("detail"),
        )
        .join(Enrolment, Enrolment.id == fresh.c.enrolment_id)
        .join(Booking, Booking.id == fresh.c.booking_id)
        .join(CourseSession, CourseSession.id == Booking.session_id)
        .where(Enrolment.programme_id == _PROGRAMME, Enrolment.status.in_(OPEN_STATUSES))
    )


RULES = (
    _Rule("non_completion", "core_deadline", _non_completion, _non_completion_due),
    _Rule("at_risk", "cannot_fit", _cannot_fit, _cannot_fit_due),
    _Rule("at_risk", "unbooked_near_deadline", _unbooked_near_deadline,
          _unbooked_near_deadline_due),
    _Rule("follow_up_missed", "follow_up_window", _follow_up_missed, _follow_up_missed_due),
    _Rule("at_risk", "unexcused_absence", _unexcused_absences, _unexcused_absences_due),
)


def list_flags(actor, *, status: str | None = "open", after_id: int | None = None,
               limit: int = 100) -> list[Flag]:
    """List flags of the actor's force, oldest first."""

    actor.require("case_officer")
    query = (
        sa.select(Flag).join(Enrolment, Enrolment.id == Flag.enrolment_id)
        .where(Enrolment.force_id == actor.force_id)
        .order_by(Flag.raised_at, Flag.id).limit(limit)
    )
    if status:
        query = query.where(Flag.status == status)
    if after_id is not None:
        anchor = db.session.get(Flag, after_id)
        if anchor is not None:
            query = query.where(sa.or_(
                Flag.raised_at > anchor.raised_at,
                sa.and_(Flag.raised_at == anchor.raised_at, Flag.id > anchor.id),
            ))
    rows = list(db.session.scalars(query))
    from diversion.services import audit

    # Flags describe what a participant did: reading the queue is a consultation.
    enrolment_ids = {f.enrolment_id for f in rows}
    with transaction():
        audit.record(actor, "read", "flag_list", None,
                     detail={"status": status, "enrolment_ids": sorted(enrolment_ids)})
        audit.record_reads(actor, "enrolment", sorted(
            audit.case_ids_of_enrolments(enrolment_ids).items()), "flag_list")
    return rows
