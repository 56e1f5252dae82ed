"""The compliance sweep: raise each flag the rules call for, once per cause.

The sweep is set-wise: per programme, one ``INSERT ... SELECT ... ON CONFLICT
(enrolment_id, cause) DO NOTHING`` per flag rule, so its cost does not grow
with a query per enrolment. Each statement restates one rule of
``diversion.domain.compliance.flags_due`` (the single source of truth) with the
same kind, cause and detail; ``tests/integration/test_sweep_sql.py`` proves the
two agree on random histories. "Today" is the programme's local date from
``diversion.clock``, passed in as a parameter (never the database's clock), and
each rule first narrows to its candidates through an index (status and
deadline, or the absent bookings), so a run touches few rows.
"""

from __future__ import annotations

from collections import defaultdict
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
    Enrolment,
    Flag,
    Programme,
    Session,
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
        sql = _Dialect(db.session.connection())
        result.evaluated = db.session.scalar(
            sa.select(sa.func.count()).select_from(Enrolment)
            .where(Enrolment.status.in_(OPEN_STATUSES))
        )
        for programme in db.session.scalars(sa.select(Programme).order_by(Programme.id)):
            rules = rules_for(programme)
            context = _Context(programme.id, rules, clock.today(rules.tz), now, sql)
            for kind, statement in sweep_statements(context):
                raised = db.session.execute(
                    statement, execution_options={"preserve_rowcount": True}).rowcount
                if raised:
                    result.raised += raised
                    result.by_kind[kind] += raised
    return result


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class _Dialect:
    """The few date and text expressions that differ between PostgreSQL and SQLite."""

    def __init__(self, connection: sa.Connection):
        self.postgresql = connection.dialect.name == "postgresql"
        if self.postgresql:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert

            # SQLite knows no time zones: lend it Python's for the local date of a session.
            connection.connection.driver_connection.create_function(
                "diversion_local_date", 2, _sqlite_local_date, deterministic=True)
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
    programme_id: int
    rules: ProgrammeRules
    today: date
    now: datetime
    sql: _Dialect


def _insert(context: _Context, kind: str, select: sa.Select) -> sa.Insert:
    """INSERT the selected (enrolment_id, cause, detail) rows as open flags of a kind."""
    rows = select.subquery("due")
    fresh = sa.select(
        rows.c.enrolment_id, sa.literal(kind), rows.c.cause, rows.c.detail,
        sa.literal("open"), sa.literal(context.now, UTCDateTime()),
    ).where(~sa.exists().where(Flag.enrolment_id == rows.c.enrolment_id,
                               Flag.cause == rows.c.cause))
    return (
        context.sql.insert(Flag)
        .from_select(["enrolment_id", "kind", "cause", "detail", "status", "raised_at"], fresh)
        .on_conflict_do_nothing(index_elements=["enrolment_id", "cause"])
    )


def _enrolled(context: _Context) -> list:
    return [Enrolment.programme_id == context.programme_id, Enrolment.status == "enrolled"]


def _core_progress(context: _Context, *where) -> sa.Subquery:
    """Per candidate enrolment: core modules attended, and a bit mask of modules held.

    Correlated subqueries, not a join: the candidates are few (an indexed deadline
    range), so each is one index probe into its own bookings.
    """
    core = context.rules.core_modules
    in_core = Booking.module.between(1, core)
    done = (
        sa.select(sa.func.count(sa.distinct(Booking.module)))
        .where(Booking.enrolment_id == Enrolment.id, Booking.status == "attended", in_core)
        .scalar_subquery()
    )
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.distinct(
            sa.literal(1).op("<<")(Booking.module))), 0))
        .where(Booking.enrolment_id == Enrolment.id,
               Booking.status.in_(("attended", "booked")), in_core)
        .scalar_subquery()
    )
    return (
        sa.select(Enrolment.id.label("enrolment_id"),
                  Enrolment.core_deadline.label("deadline"),
                  done.label("done"), held.label("held"))
        .where(*_enrolled(context), *where)
        # OFFSET 0 keeps both databases from inlining the subquery, which would run
        # the correlated subqueries again for every reference to their columns.
        .offset(0)
        .subquery("progress")
    )


def _non_completion(context: _Context) -> sa.Select:
    core = context.rules.core_modules
    p = _core_progress(context, Enrolment.core_deadline < context.today)
    sql = context.sql
    return sa.select(
        p.c.enrolment_id,
        ("core_deadline:" + sql.iso(p.c.deadline)).label("cause"),
        ("Core deadline " + sql.human(p.c.deadline) + " passed with " + _text(p.c.done)
         + f" of {core} modules attended").label("detail"),
    ).where(p.c.done < core)


def _cannot_fit(context: _Context) -> sa.Select:
    rules, today, sql = context.rules, context.today, context.sql
    spacing = rules.min_days_between_sessions
    core = rules.core_modules
    # The missing modules fit while today + spacing * (missing - 1) <= deadline.
    last_fit = {missing: today + timedelta(days=spacing * (missing - 1))
                for missing in range(1, core + 1)}
    p = _core_progress(context, Enrolment.core_deadline >= today,
                       Enrolment.core_deadline < last_fit[core])
    missing = core - p.c.done
    return sa.select(
        p.c.enrolment_id,
        ("cannot_fit:" + sql.iso(p.c.deadline)).label("cause"),
        (_text(missing) + " modules still to attend no longer fit before the core deadline "
         + sql.human(p.c.deadline) + f" at {spacing} days apart").label("detail"),
    ).where(p.c.deadline < sa.case(
        *((missing == k, sa.literal(v, sa.Date)) for k, v in last_fit.items())))


def _unbooked_near_deadline(context: _Context) -> sa.Select:
    today, sql = context.today, context.sql
    core = list(context.rules.core_module_numbers)
    p = _core_progress(
        context, Enrolment.core_deadline >= today,
        Enrolment.core_deadline <= today + timedelta(days=UNBOOKED_WARNING_DAYS))
    unbooked = [p.c.held.op("&")(1 << m) == 0 for m in core]
    count = sum((sa.case((u, 1), else_=0) for u in unbooked), sa.literal(0))
    listed = sa.literal("")
    for m, u in zip(core, unbooked, strict=True):
        listed = listed + sa.case((u, f", {m}"), else_="")
    names = sa.func.substr(listed, 3)
    away = sa.case(*(
        (p.c.deadline == sa.literal(today + timedelta(days=n), sa.Date),
         "today" if n == 0 else f"{n} day{'' if n == 1 else 's'} away")
        for n in range(UNBOOKED_WARNING_DAYS + 1)
    ))
    plural = count > 1
    return sa.select(
        p.c.enrolment_id,
        ("unbooked_near_deadline:" + sql.iso(p.c.deadline)).label("cause"),
        ("Core deadline " + sql.human(p.c.deadline) + " is " + away + " and module"
         + sa.case((plural, "s "), else_=" ") + names
         + sa.case((plural, " have"), else_=" has") + " no booking").label("detail"),
    ).where(count > 0)


def _follow_up_missed(context: _Context) -> sa.Select:
    sql = context.sql
    attended = (
        sa.select(sa.func.count())
        .where(Booking.enrolment_id == Enrolment.id, Booking.module == FOLLOW_UP,
               Booking.status == "attended")
        .scalar_subquery()
    )
    return sa.select(
        Enrolment.id.label("enrolment_id"),
        ("follow_up_window:" + sql.iso(Enrolment.follow_up_closes)).label("cause"),
        ("Follow-up window closed on " + sql.human(Enrolment.follow_up_closes)
         + " without attendance").label("detail"),
    ).where(
        Enrolment.programme_id == context.programme_id,
        Enrolment.status == "awaiting_follow_up",
        Enrolment.follow_up_opens.is_not(None),
        Enrolment.follow_up_closes < context.today,
        attended == 0,
    )


def _unexcused_absences(context: _Context) -> sa.Select:
    sql = context.sql
    cause = "unexcused_absence:" + _text(Booking.id)
    # Drop the absences already flagged first: on most days that is all of them, so
    # the joins below see only the new ones.
    absences = (
        sa.select(Booking.id, Booking.enrolment_id, Booking.session_id, Booking.module,
                  cause.label("cause"))
        .where(Booking.status == "absent_unexcused",
               ~sa.exists().where(Flag.enrolment_id == Booking.enrolment_id,
                                  Flag.cause == cause))
        .offset(0)
        .subquery("absence")
    )
    name = sa.case((absences.c.module == FOLLOW_UP, "The follow-up session"),
                   else_="Module " + _text(absences.c.module))
    on = sql.human(sql.local_date(Session.starts_at, context.rules.timezone))
    return (
        sa.select(
            absences.c.enrolment_id,
            absences.c.cause,
            (name + " on " + on + ": absent without excuse").label("detail"),
        )
        .join(Enrolment, Enrolment.id == absences.c.enrolment_id)
        .join(Session, Session.id == absences.c.session_id)
        .where(Enrolment.programme_id == context.programme_id,
               Enrolment.status.in_(OPEN_STATUSES))
    )


RULES = (
    ("at_risk", _unexcused_absences),
    ("non_completion", _non_completion),
    ("at_risk", _cannot_fit),
    ("at_risk", _unbooked_near_deadline),
    ("follow_up_missed", _follow_up_missed),
)


def sweep_statements(context: _Context):
    """Yield (kind, INSERT statement) for each flag rule of one programme."""
    for kind, rule in RULES:
        yield kind, _insert(context, kind, rule(context))


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
    with transaction():
        audit.record(actor, "read", "flag_list", None,
                     detail={"status": status, "enrolment_ids": sorted(
                         {f.enrolment_id for f in rows})})
    return rows
