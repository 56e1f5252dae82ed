"""The set-wise sweep raises exactly the flags the domain rules call for."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.domain.compliance import flags_due
from diversion.extensions import db
from diversion.models import (
    Booking,
    Case,
    CourseSession,
    Enrolment,
    Flag,
    Force,
    Programme,
    User,
    Venue,
)
from diversion.services import compliance
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for

# Instants around midnight and daylight-saving changes, so local dates differ from UTC ones.
INSTANTS = [
    "2027-03-28T00:30:00+00:00",
    "2027-03-27T23:30:00+00:00",
    "2027-10-31T04:30:00+00:00",
    "2027-06-15T12:00:00+00:00",
    "2027-01-01T05:00:00+00:00",
]
STATUSES = ["enrolled"] * 6 + ["awaiting_follow_up"] * 3 + ["completed", "referred"]
OUTCOMES = ["booked", "attended", "attended", "absent_excused", "absent_unexcused", "cancelled"]


def _world(rng: random.Random, now: datetime) -> list[Programme]:
    at = now - timedelta(days=400)
    force = Force(code="RND", name="Random Police", created_at=at)
    db.session.add(force)
    db.session.flush()
    user = User(email="officer@rnd.test", role="case_officer", force_id=force.id,
                created_at=at)
    venue = Venue(name="Hall", address="1 Street", created_at=at)
    other = Programme(name="Other rules", core_modules=3, min_days_between_sessions=10,
                      follow_up_window_days=7)
    db.session.add_all([user, venue, other])
    db.session.flush()
    programmes = list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))
    for programme in programmes:
        sessions = []
        for _ in range(40):
            starts = now + timedelta(days=rng.randint(-150, 60), minutes=rng.randrange(0, 1440))
            sessions.append(CourseSession(
                programme_id=programme.id, module=rng.randint(0, programme.core_modules),
                starts_at=starts, ends_at=starts + timedelta(minutes=90), venue_id=venue.id,
                capacity=500, booked=0, created_at=at, updated_at=at))
        db.session.add_all(sessions)
        db.session.flush()
        for n in range(30):
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
    today = now.date()
    # Deadlines and windows cluster around today, where every rule has its edges.
    deadline = today + timedelta(days=rng.randint(-40, 45))
    closes = today + timedelta(days=rng.randint(-5, 5)) if rng.random() < 0.8 else None
    enrolment = Enrolment(
        case_id=case.id, force_id=force.id, programme_id=programme.id,
        status=rng.choice(STATUSES), start_date=deadline - timedelta(days=120),
        original_core_deadline=deadline, core_deadline=deadline,
        follow_up_opens=closes - timedelta(days=20) if closes else None,
        follow_up_closes=closes, created_by_id=user.id, created_at=at)
    db.session.add(enrolment)
    db.session.flush()
    booked_modules = set()
    for session in rng.sample(sessions, rng.randint(0, 7)):
        status = rng.choice(OUTCOMES)
        if status == "booked":
            if session.module in booked_modules:
                continue
            booked_modules.add(session.module)
        db.session.add(Booking(
            enrolment_id=enrolment.id, session_id=session.id, module=session.module,
            status=status, uid=f"{enrolment.id}-{session.id}@test", created_at=at,
            updated_at=at))


def _expected(programmes: list[Programme]) -> set[tuple]:
    expected = set()
    for programme in programmes:
        rules = rules_for(programme)
        today = clock.today(rules.tz)
        enrolments = db.session.scalars(
            sa.select(Enrolment).where(Enrolment.programme_id == programme.id))
        for enrolment in enrolments:
            facts = enrolment_facts(enrolment)
            for due in flags_due(rules, facts, today):
                expected.add((enrolment.id, due.kind, due.cause, due.detail))
    return expected


def _raised() -> set[tuple]:
    return {(f.enrolment_id, f.kind, f.cause, f.detail) for f in db.session.scalars(
        sa.select(Flag))}


@pytest.mark.parametrize("seed", range(len(INSTANTS)))
def test_the_sweep_raises_exactly_the_flags_the_domain_rules_call_for(ctx, seed):
    rng = random.Random(seed)
    now = datetime.fromisoformat(INSTANTS[seed]).astimezone(UTC)
    clock.set_now(now)
    programmes = _world(rng, now)
    expected = _expected(programmes)
    # Some flags were raised by an earlier run: the sweep must not raise them again.
    earlier = set(rng.sample(sorted(expected), len(expected) // 4))
    for enrolment_id, kind, cause, detail in earlier:
        db.session.add(Flag(enrolment_id=enrolment_id, kind=kind, cause=cause, detail=detail,
                            status="closed", raised_at=now - timedelta(days=3)))
    db.session.commit()

    result = compliance.sweep()

    assert {(e, k, c) for e, k, c, _ in _raised()} == {(e, k, c) for e, k, c, _ in expected}
    assert _raised() == expected
    assert result.raised == len(expected) - len(earlier)
    kinds = {kind for _, kind, _, _ in expected - earlier}
    assert set(result.by_kind) == kinds
    assert result.evaluated == db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrolment)
        .where(Enrolment.status.in_(("enrolled", "awaiting_follow_up"))))


def test_a_second_sweep_raises_nothing(ctx):
    rng = random.Random(99)
    now = datetime.fromisoformat(INSTANTS[0]).astimezone(UTC)
    clock.set_now(now)
    _world(rng, now)
    first = compliance.sweep()
    assert first.raised > 0
    before = _raised()

    second = compliance.sweep()

    assert second.raised == 0
    assert _raised() == before
    assert "0 new flags (none)" in second.summary()
