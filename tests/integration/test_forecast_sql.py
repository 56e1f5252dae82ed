"""The set-wise forecast equals the domain's projection of every enrolment, read one by one."""

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.forecast import WEEK, Horizon, PublishedSession, forecast, outlook
from diversion.domain.vocabulary import LONDON, OPEN_ENROLMENT
from diversion.extensions import db
from diversion.models import (
    Booking,
    Case,
    CourseSession,
    Enrolment,
    Force,
    Programme,
    User,
    Venue,
)
from diversion.services import Actor, Forbidden, InvalidInput, NotFound
from diversion.services import forecast as forecast_service
from diversion.services.facts import enrolment_facts
from diversion.services.forecast import WEEKS_LEARNT_FROM
from diversion.services.programmes import rules_for
from tests.integration.test_query_counts import _counted

COORDINATOR = Actor(user_id=None, email="coordinator@example.gov.uk", role="coordinator")
# Instants around midnight and daylight-saving changes, so local dates differ from UTC ones.
INSTANTS = [
    "2027-03-28T00:30:00+00:00",
    "2027-10-30T23:30:00+00:00",
    "2027-06-15T12:00:00+00:00",
]
STATUSES = ["enrolled"] * 6 + ["awaiting_follow_up"] * 2 + ["completed", "referred", "withdrawn"]
OUTCOMES = ["booked", "attended", "attended", "absent_excused", "absent_unexcused", "cancelled"]


def _world(rng: random.Random, now: datetime, enrolments: int = 30) -> list[Programme]:
    at = now - timedelta(days=400)
    force = Force(code="RND", name="Random Police", created_at=at)
    db.session.add(force)
    db.session.flush()
    user = User(email="officer@rnd.test", role="case_officer", force_id=force.id, created_at=at)
    venues = [Venue(name=f"Hall {n}", address="1 Street", created_at=at) for n in range(2)]
    other = Programme(name="Other rules", core_modules=3, min_days_between_sessions=10,
                      modules_in_order=False)
    db.session.add_all([user, *venues, other])
    db.session.flush()
    programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
    for programme in programmes:
        sessions = []
        for _ in range(60):
            starts = now + timedelta(days=rng.randint(-120, 120), minutes=rng.randrange(0, 1440))
            capacity = rng.choice([8, 10, 12, 12])
            sessions.append(CourseSession(
                programme_id=programme.id, module=rng.randint(0, programme.core_modules),
                starts_at=starts, ends_at=starts + timedelta(minutes=90),
                venue_id=rng.choice(venues).id, capacity=capacity,
                booked=rng.randint(0, capacity), created_at=at, updated_at=at,
                status="cancelled" if rng.random() < 0.1 else "scheduled"))
        db.session.add_all(sessions)
        db.session.flush()
        for n in range(enrolments):
            _enrolment(rng, programme, sessions, force, user, now, f"{programme.id}/{n}")
    db.session.commit()
    return programmes


def _enrolment(rng, programme, sessions, force, user, now, reference) -> None:
    at = now - timedelta(days=300)
    case = Case(force_id=force.id, reference=reference, given_name="A", family_name="B",
                date_of_birth=date(1990, 1, 1), email="a@b.test",
                previous_sexual_or_violent_conviction=False, first_offence=True,
                image_category="C", contact_offending_suspected=False, children_at_risk=False,
                prosecutor_agreed=True, participant_consented=True, eligible=True,
                created_by_id=user.id, created_at=at)
    db.session.add(case)
    db.session.flush()
    start = now.astimezone(LONDON).date() + timedelta(days=rng.randint(-130, 30))
    deadline = rules_for(programme).core_deadline(start) + timedelta(days=rng.choice([0, 0, 21]))
    opens = start + timedelta(days=rng.randint(100, 300)) if rng.random() < 0.5 else None
    enrolment = Enrolment(
        case_id=case.id, force_id=force.id, programme_id=programme.id,
        status=rng.choice(STATUSES), start_date=start, original_core_deadline=deadline,
        core_deadline=deadline, follow_up_opens=opens,
        follow_up_closes=opens + timedelta(days=28) if opens else None,
        created_by_id=user.id, created_at=at)
    db.session.add(enrolment)
    db.session.flush()
    booked_modules = set()
    for session in rng.sample(sessions, rng.randint(0, 6)):
        status = rng.choice(OUTCOMES)
        if status == "booked":
            if session.module in booked_modules:
                continue
            booked_modules.add(session.module)
        db.session.add(Booking(
            enrolment_id=enrolment.id, session_id=session.id, module=session.module,
            status=status, uid=f"{enrolment.id}-{session.id}@test", created_at=at,
            updated_at=at))


def _one_by_one(programme: Programme, now: datetime, weeks: int):
    """The domain's forecast of a programme from every enrolment's full history."""
    rules = rules_for(programme)
    enrolments = db.session.scalars(sa.select(Enrolment).where(
        Enrolment.programme_id == programme.id, Enrolment.status.in_(OPEN_ENROLMENT)))
    horizon = Horizon(clock.today(), weeks)
    since = datetime.combine(horizon.first - WEEK * WEEKS_LEARNT_FROM, time(0), tzinfo=LONDON)
    until = datetime.combine(horizon.end, time(0), tzinfo=LONDON)
    sessions = [
        PublishedSession(module=s.module, starts_at=s.starts_at, capacity=s.capacity,
                         booked=s.booked, venue_id=s.venue_id, status=s.status)
        for s in db.session.scalars(sa.select(CourseSession).where(
            CourseSession.programme_id == programme.id, CourseSession.starts_at >= since,
            CourseSession.starts_at < until))
    ]
    return forecast(rules, [outlook(rules, enrolment_facts(e)) for e in enrolments], sessions,
                    now, weeks)


@pytest.mark.parametrize("seed", range(len(INSTANTS)))
def test_the_forecast_read_set_wise_equals_each_enrolment_projected_from_its_whole_history(
        ctx, seed):
    rng = random.Random(seed)
    now = datetime.fromisoformat(INSTANTS[seed]).astimezone(UTC)
    clock.set_now(now)
    programmes = _world(rng, now)
    weeks = rng.choice([4, 12, 26])

    report = forecast_service.forecast(COORDINATOR, weeks=weeks)

    assert [p.programme.id for p in report.programmes] == [p.id for p in programmes]
    for each, programme in zip(report.programmes, programmes, strict=True):
        expected = _one_by_one(programme, now, weeks)
        assert each.forecast.lines == expected.lines
        assert each.forecast.suggestions == expected.suggestions
        assert sum(line.seats_needed for line in expected.lines) > 0


def test_one_programme_can_be_forecast_alone(ctx):
    clock.set_now(datetime.fromisoformat(INSTANTS[2]))
    programmes = _world(random.Random(7), clock.now(), enrolments=5)
    report = forecast_service.forecast(COORDINATOR, weeks=3, programme_id=programmes[1].id)
    assert [p.programme.name for p in report.programmes] == ["Other rules"]
    assert {line.module for line in report.programmes[0].forecast.lines} == {1, 2, 3, 0}


@pytest.mark.parametrize("weeks", [0, 53])
def test_weeks_outside_1_to_52_are_refused(ctx, weeks):
    with pytest.raises(InvalidInput) as refused:
        forecast_service.forecast(COORDINATOR, weeks=weeks)
    assert refused.value.field == "weeks"


def test_an_unknown_programme_is_not_found(ctx):
    with pytest.raises(NotFound):
        forecast_service.forecast(COORDINATOR, weeks=4, programme_id=999)


@pytest.mark.parametrize("role", ["case_officer", "admin"])
def test_only_a_coordinator_may_read_the_forecast(ctx, role):
    with pytest.raises(Forbidden):
        forecast_service.forecast(Actor(user_id=None, email="x@example.gov.uk", role=role),
                                  weeks=4)


def test_the_forecast_runs_as_many_statements_for_300_enrolments_as_for_30(app, api_as):
    coordinator = api_as("coordinator", force=None)
    now = datetime.fromisoformat(INSTANTS[2])
    clock.set_now(now)
    with app.app_context():
        _world(random.Random(1), now, enrolments=15)
    few_response, few = _counted(app, lambda: coordinator.get("/forecast?weeks=12"))
    with app.app_context():
        force = db.session.scalar(sa.select(Force))
        programmes = list(db.session.scalars(sa.select(Programme)))
        user = db.session.scalar(sa.select(User).where(User.email == "officer@rnd.test"))
        rng = random.Random(2)
        for programme in programmes:
            sessions = list(db.session.scalars(sa.select(CourseSession).where(
                CourseSession.programme_id == programme.id)))
            for n in range(135):
                _enrolment(rng, programme, sessions, force, user, now, f"more/{programme.id}/{n}")
        db.session.commit()
    many_response, many = _counted(app, lambda: coordinator.get("/forecast?weeks=12"))
    assert few_response.status_code == many_response.status_code == 200
    assert few == many <= 8
