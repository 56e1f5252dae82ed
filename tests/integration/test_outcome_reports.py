"""Outcome reports count the enrolments started in a period by force and month of start."""

import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.outcomes import Outcomes
from diversion.extensions import db
from diversion.models import AuditEvent, Case, Enrolment, Force, User
from diversion.services import Actor, Forbidden, InvalidInput, reports

AT = datetime(2027, 1, 15, 12, tzinfo=UTC)
STATUSES = ["enrolled", "awaiting_follow_up", "completed", "completed", "referred", "withdrawn"]
ADMIN = Actor(user_id=None, email="admin@example.gov.uk", role="admin")


def _force(code: str) -> Force:
    force = db.session.scalar(sa.select(Force).where(Force.code == code))
    if force is None:
        force = Force(code=code, name=f"{code} Police", created_at=AT)
        db.session.add(force)
        db.session.flush()
    return force


def _enrolment(force_code: str, start: date, status: str, n: int) -> None:
    force = _force(force_code)
    user = db.session.scalar(sa.select(User).where(User.force_id == force.id))
    if user is None:
        user = User(email=f"officer@{force_code.lower()}.test", role="case_officer",
                    force_id=force.id, created_at=AT)
        db.session.add(user)
        db.session.flush()
    case = Case(force_id=force.id, reference=f"R/{n}", given_name="A", family_name="B",
                date_of_birth=date(1990, 1, 1), email="a@b.test",
                previous_sexual_or_violent_conviction=False, first_offence=True,
                image_category="C", contact_offending_suspected=False, children_at_risk=False,
                prosecutor_agreed=True, participant_consented=True, eligible=True,
                created_by_id=user.id, created_at=AT)
    db.session.add(case)
    db.session.flush()
    db.session.add(Enrolment(case_id=case.id, force_id=force.id, programme_id=1, status=status,
                             start_date=start, original_core_deadline=start,
                             core_deadline=start, created_by_id=user.id, created_at=AT))


def _officer_of(code: str) -> Actor:
    force = _force(code)
    return Actor(user_id=None, email=f"officer@{code.lower()}.test", role="case_officer",
                 force_id=force.id)


@pytest.fixture
def world(ctx):
    """Enrolments of two forces in December and January; a third force with none."""
    clock.set_now(AT)
    rows = [
        ("MET", date(2026, 12, 1), "completed"), ("MET", date(2026, 12, 31), "referred"),
        ("MET", date(2027, 1, 4), "enrolled"), ("MET", date(2027, 1, 5), "withdrawn"),
        ("MET", date(2027, 1, 6), "completed"), ("KENT", date(2027, 1, 10), "awaiting_follow_up"),
        ("MET", date(2026, 11, 30), "completed"),  # before the period asked for
        ("MET", date(2027, 2, 1), "referred"),  # after it
    ]
    for n, (code, start, status) in enumerate(rows):
        _enrolment(code, start, status, n)
    _force("SURREY")
    db.session.commit()
    return ctx


def test_an_administrator_sees_every_force_with_its_outcomes_in_the_period(world):
    report = reports.outcomes(ADMIN, start=date(2026, 12, 1), end=date(2027, 1, 31))
    by_force = {f.force.code: f.outcomes for f in report.forces}
    assert by_force == {
        "KENT": Outcomes(in_progress=1),
        "MET": Outcomes(in_progress=1, completed=2, referred=1, withdrawn=1),
        "SURREY": Outcomes(),
    }
    assert by_force["MET"].completion_rate == 2 / 4
    assert by_force["KENT"].completion_rate is None
    assert report.total == Outcomes(in_progress=2, completed=2, referred=1, withdrawn=1)


def test_each_force_is_broken_down_by_the_month_its_enrolments_started(world):
    report = reports.outcomes(ADMIN, start=date(2026, 12, 1), end=date(2027, 1, 31))
    met = next(f for f in report.forces if f.force.code == "MET")
    assert [(m.month, m.outcomes) for m in met.months] == [
        (date(2026, 12, 1), Outcomes(completed=1, referred=1)),
        (date(2027, 1, 1), Outcomes(in_progress=1, completed=1, withdrawn=1)),
    ]
    surrey = next(f for f in report.forces if f.force.code == "SURREY")
    assert [m.outcomes for m in surrey.months] == [Outcomes(), Outcomes()]
    assert [m.outcomes.enrolled for m in report.months] == [2, 4]


def test_a_case_officer_sees_only_their_own_force(world):
    report = reports.outcomes(_officer_of("KENT"), start=date(2026, 12, 1),
                              end=date(2027, 1, 31))
    assert [f.force.code for f in report.forces] == ["KENT"]
    assert report.total == Outcomes(in_progress=1)
    assert [m.month for m in report.months] == [date(2027, 1, 1)]


def test_a_coordinator_may_not_read_outcomes(world):
    with pytest.raises(Forbidden):
        reports.outcomes(Actor(user_id=None, email="c@example.gov.uk", role="coordinator"))


def test_without_dates_the_last_twelve_months_are_reported(world):
    report = reports.outcomes(ADMIN)
    assert (report.start, report.end) == (date(2026, 2, 1), date(2027, 1, 15))
    assert report.total.enrolled == 7


def test_a_period_ending_before_it_starts_is_refused(world):
    with pytest.raises(InvalidInput) as refused:
        reports.outcomes(ADMIN, start=date(2027, 1, 2), end=date(2027, 1, 1))
    assert refused.value.field == "to"


def test_the_csv_has_a_row_per_force_and_month_and_its_download_is_recorded(world):
    export = reports.outcomes_csv(_officer_of("MET"), start=date(2026, 12, 1),
                                  end=date(2027, 1, 31))
    rows = list(csv.DictReader(io.StringIO(export.as_csv().lstrip("\ufeff"))))
    assert [(r["Month started"], r["Enrolled"], r["Completion rate"]) for r in rows] == [
        ("2026-12", "2", "50.0%"), ("2027-01", "3", "50.0%"), ("All months", "5", "50.0%")]
    assert export.filename == "outcomes-2026-12-01-to-2027-01-31.csv"
    (event,) = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == "outcome_report"))
    assert event.action == "read"
    assert event.detail == {"export": "csv", "from": "2026-12-01", "to": "2027-01-31",
                            "forces": ["MET"]}


@pytest.mark.parametrize("seed", range(2))
def test_the_grouped_counts_equal_a_count_of_every_enrolment(ctx, seed):
    rng = random.Random(seed)
    clock.set_now(AT)
    started = []
    for n in range(120):
        row = (rng.choice(["MET", "KENT", "ESSEX"]),
               date(2026, 1, 1) + timedelta(days=rng.randint(0, 420)), rng.choice(STATUSES))
        _enrolment(*row, n)
        started.append(row)
    db.session.commit()
    start, end = date(2026, 3, 17), date(2026, 12, 2)

    report = reports.outcomes(ADMIN, start=start, end=end)

    for each in report.forces:
        mine = [(s, status) for code, s, status in started
                if code == each.force.code and start <= s <= end]
        assert each.outcomes == Outcomes.from_statuses(Counter(status for _, status in mine))
        for month in each.months:
            assert month.outcomes == Outcomes.from_statuses(Counter(
                status for s, status in mine if s.replace(day=1) == month.month))
    months = sorted({s.replace(day=1) for _, s, _ in started if start <= s <= end})
    assert (report.months[0].month, report.months[-1].month) == (months[0], months[-1])
    assert len(report.months) == (months[-1].year - months[0].year) * 12 + (
        months[-1].month - months[0].month) + 1
