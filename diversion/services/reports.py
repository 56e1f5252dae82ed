"""Outcome reports: the enrolments started in a period, by force and by month of start.

Counts only, in one grouped statement; administrators see every force, a case officer
their own. The report names no one, so reading it is not an audited read; downloading it
is an export, and that is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from diversion import clock
from diversion.database import transaction
from diversion.domain.outcomes import (
    InvalidPeriod,
    Outcomes,
    check_period,
    default_period,
    months_between,
    total,
)
from diversion.domain.vocabulary import Role
from diversion.extensions import db
from diversion.models import Enrolment, Force
from diversion.services import Actor, InvalidInput, audit
from diversion.services.accounts import list_forces
from diversion.services.exports import Export


@dataclass(frozen=True)
class MonthOutcomes:
    month: date
    outcomes: Outcomes


@dataclass(frozen=True)
class ForceOutcomes:
    force: Force
    outcomes: Outcomes
    months: list[MonthOutcomes]


@dataclass(frozen=True)
class OutcomeReport:
    """Outcomes per force, each with its months, and every force's together."""

    start: date
    end: date
    forces: list[ForceOutcomes]
    months: list[MonthOutcomes]

    @property
    def total(self) -> Outcomes:
        return total([f.outcomes for f in self.forces])


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """Fill in a period's missing ends (the last twelve months) and check it."""
    if start is None:
        start = default_period(end or clock.today())[0]
    if end is None:
        end = max(clock.today(), start)
    try:
        check_period(start, end)
    except InvalidPeriod as error:
        raise InvalidInput(error.message, field=error.field) from error
    return start, end


def outcomes(actor: Actor, *, start: date | None = None, end: date | None = None) -> OutcomeReport:
    """Count the outcomes of the enrolments started in the period, by force and by month.

    Months run from the first to the last in which an enrolment started (in the forces
    shown), each listed even when none started in it.
    """
    actor.require(Role.ADMIN, Role.CASE_OFFICER)
    start, end = period(start, end)
    if actor.role == Role.CASE_OFFICER:
        forces = [f for f in [db.session.get(Force, actor.force_id)] if f is not None]
    else:
        forces = list_forces()
    counts = _counts([f.id for f in forces], start, end)
    started = sorted({month for _, month in counts})
    months = months_between(started[0], started[-1]) if started else []
    by_force = []
    for force in forces:
        per_month = [MonthOutcomes(m, Outcomes.from_statuses(counts.get((force.id, m), {})))
                     for m in months]
        by_force.append(ForceOutcomes(force, total([m.outcomes for m in per_month]), per_month))
    together = [MonthOutcomes(m, total([f.months[n].outcomes for f in by_force]))
                for n, m in enumerate(months)]
    return OutcomeReport(start, end, by_force, together)


def _counts(force_ids: list[int], start: date,
            end: date) -> dict[tuple[int, date], dict[str, int]]:
    """Count enrolments started in [start, end] by force, month of start and status."""
    if not force_ids:
        return {}
    year = sa.extract("year", Enrolment.start_date)
    month = sa.extract("month", Enrolment.start_date)
    rows = db.session.execute(
        sa.select(Enrolment.force_id, year, month, Enrolment.status, sa.func.count())
        .where(Enrolment.start_date >= start, Enrolment.start_date <= end,
               Enrolment.force_id.in_(force_ids))
        .group_by(Enrolment.force_id, year, month, Enrolment.status)
    )
    counts: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
    for force_id, y, m, status, count in rows:
        counts[(force_id, date(int(y), int(m), 1))][status] = count
    return counts


def _rate(outcomes: Outcomes) -> str:
    rate = outcomes.completion_rate
    return "" if rate is None else f"{rate:.1%}"


def _row(force: Force, month: str, outcomes: Outcomes) -> tuple:
    return (force.code, force.name, month, outcomes.enrolled, outcomes.in_progress,
            outcomes.completed, outcomes.referred, outcomes.withdrawn, _rate(outcomes))


def outcomes_csv(actor: Actor, *, start: date | None = None, end: date | None = None) -> Export:
    """Export the outcome report as CSV: a row per force and month, then the force's total;
    record the export."""
    report = outcomes(actor, start=start, end=end)
    rows = []
    for each in report.forces:
        rows += [_row(each.force, m.month.strftime("%Y-%m"), m.outcomes) for m in each.months]
        rows.append(_row(each.force, "All months", each.outcomes))
    with transaction():
        audit.record(actor, "read", "outcome_report", None, detail={
            "export": "csv", "from": report.start.isoformat(), "to": report.end.isoformat(),
            "forces": [f.force.code for f in report.forces]})
    return Export(
        filename=f"outcomes-{report.start.isoformat()}-to-{report.end.isoformat()}.csv",
        header=("Force code", "Force", "Month started", "Enrolled", "In progress", "Completed",
                "Referred", "Withdrawn", "Completion rate"),
        rows=rows,
    )
