"""A page's SQL statement count does not grow with the number of rows it shows."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion.extensions import db
from diversion.models import (
    Booking,
    Case,
    CourseSession,
    Decision,
    Enrolment,
    Extension,
    Flag,
    User,
    Venue,
)
from tests.conftest import make_force

AT = datetime(2027, 1, 4, 9, tzinfo=UTC)


def _enrolments(app, count: int, start: int = 0) -> list[int]:
    """Add COUNT enrolments of force MET, each with bookings, a flag, a decision, an extension."""
    with app.app_context():
        force = make_force("MET")
        venue = Venue(name="Hall", address="1 Street", created_at=AT)
        db.session.add(venue)
        db.session.flush()
        sessions = []
        for module in range(1, 4):
            starts = AT + timedelta(days=7 * module, minutes=start)
            sessions.append(CourseSession(programme_id=1, module=module, starts_at=starts,
                                    ends_at=starts + timedelta(minutes=90), venue_id=venue.id,
                                    capacity=500, booked=count, created_at=AT, updated_at=AT))
        db.session.add_all(sessions)
        ids = []
        for n in range(start, start + count):
            # A different officer decides each case, as in real life.
            officer = User(email=f"officer{n}@met.test", role="case_officer",
                           force_id=force.id, created_at=AT)
            db.session.add(officer)
            db.session.flush()
            case = Case(force_id=force.id, reference=f"Q/{n}", given_name="A",
                        family_name=f"B{n}", date_of_birth=date(1990, 1, 1), email="a@b.test",
                        previous_sexual_or_violent_conviction=False, first_offence=True,
                        image_category="C", contact_offending_suspected=False,
                        children_at_risk=False, prosecutor_agreed=True,
                        participant_consented=True, eligible=True, created_by_id=officer.id,
                        created_at=AT)
            enrolment = Enrolment(case=case, force_id=force.id, programme_id=1,
                                  status="enrolled", start_date=date(2027, 1, 4),
                                  original_core_deadline=date(2027, 5, 4),
                                  core_deadline=date(2027, 5, 18), created_by_id=officer.id,
                                  created_at=AT)
            db.session.add_all([case, enrolment])
            db.session.flush()
            decision = Decision(enrolment_id=enrolment.id, decision="continue", reason="ill",
                                extend_days=14, decided_by_id=officer.id, decided_at=AT)
            db.session.add(decision)
            db.session.flush()
            db.session.add_all([
                *(Booking(enrolment_id=enrolment.id, session_id=s.id, module=s.module,
                          status="booked", uid=f"{enrolment.id}-{s.id}@test", created_at=AT,
                          updated_at=AT) for s in sessions),
                Flag(enrolment_id=enrolment.id, kind="at_risk", cause=f"test:{n}",
                     detail="At risk", status="open", raised_at=AT + timedelta(minutes=n)),
                Extension(enrolment_id=enrolment.id, decision_id=decision.id,
                          target="core_deadline", days=14, reason="ill",
                          previous_date=date(2027, 5, 4), new_date=date(2027, 5, 18),
                          granted_by_id=officer.id, granted_at=AT),
            ])
            ids.append(enrolment.id)
        db.session.commit()
        return ids


def _statements(app, client, path: str) -> int:
    """Count the SQL statements one GET runs (an Api helper or a signed-in test client)."""
    response, count = _counted(app, lambda: client.get(path))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return count


def _counted(app, request) -> tuple:
    """Make one request; return its response and the SQL statements it ran."""
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = request()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return response, len(statements)


@pytest.fixture
def grow(app, api_as):
    """Measure a page's statements with 3 enrolments, then again with 30."""
    officer = api_as("case_officer")

    def measure(path_for) -> tuple[int, int]:
        ids = _enrolments(app, 3)
        few = _statements(app, officer, path_for(ids))
        ids += _enrolments(app, 27, start=3)
        many = _statements(app, officer, path_for(ids))
        return few, many

    return measure


def test_the_enrolment_list_runs_as_many_statements_for_30_enrolments_as_for_3(grow):
    few, many = grow(lambda ids: "/enrolments?limit=200")
    assert few == many
    assert many <= 12


def test_the_flags_queue_runs_as_many_statements_for_30_flags_as_for_3(grow):
    few, many = grow(lambda ids: "/flags?limit=500")
    assert few == many
    assert many <= 12


def test_an_enrolment_page_runs_as_many_statements_in_a_big_force_as_in_a_small_one(grow):
    few, many = grow(lambda ids: f"/enrolments/{ids[-1]}")
    assert few == many
    assert many <= 12


def _staff(app, count: int, start: int) -> None:
    with app.app_context():
        # A force each, as a national list has them: a lazy load per row would show.
        db.session.add_all(
            User(email=f"staff{n:04d}@police.test", name=f"Staff {n}", role="case_officer",
                 force_id=make_force(f"F{n:03d}").id, created_at=AT)
            for n in range(start, start + count))
        db.session.commit()


def test_the_staff_accounts_page_runs_as_many_statements_for_60_accounts_as_for_6(
        app, client, login_as):
    _staff(app, 6, 0)
    login_as("admin", force=None)
    few = _statements(app, client, "/admin/users")
    _staff(app, 54, 6)
    many = _statements(app, client, "/admin/users")
    assert few == many
    assert many <= 12


def test_the_coordinators_participants_and_register_pages_do_not_grow_with_the_rows(
        app, client, login_as):
    first = _enrolments(app, 3)
    login_as("coordinator", force=None)
    with app.app_context():
        small_session = db.session.scalar(sa.select(Booking.session_id).where(
            Booking.enrolment_id == first[0]))
    few_list = _statements(app, client, "/coordinator/participants")
    few_register = _statements(app, client, f"/coordinator/sessions/{small_session}")
    more = _enrolments(app, 27, start=3)
    with app.app_context():
        big_session = db.session.scalar(sa.select(Booking.session_id).where(
            Booking.enrolment_id == more[0]))
    assert few_list == _statements(app, client, "/coordinator/participants") <= 12
    assert few_register == _statements(
        app, client, f"/coordinator/sessions/{big_session}") <= 12


def test_a_booking_runs_a_fixed_handful_of_statements_whatever_the_enrolments_history(
    app, api_as, database_url,
):
    """The busiest write: token, enrolment lock, seat, bookings read, and the writes."""
    coordinator = api_as("coordinator", force=None)
    ids = _enrolments(app, 2)
    venue = coordinator.post("/venues", {"name": "Annex", "address": "2 Street"}).get_json()
    statements = []
    for enrolment_id, day in zip(ids, ("2027-03-01", "2027-03-02"), strict=True):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": 4, "starts_at": f"{day}T18:00:00",
            "venue_id": venue["id"], "capacity": 5}).get_json()
        response, count = _counted(app, lambda e=enrolment_id, s=session: coordinator.post(
            f"/enrolments/{e}/bookings", {"session_id": s["id"]}))
        assert response.status_code == 201, response.get_json()
        statements.append(count)
    assert statements[0] == statements[1] <= 10


def test_the_risk_lists_the_home_page_and_a_participants_page_do_not_grow_with_the_rows(
        app, client, login_as):
    from diversion import clock

    # Every session the builder books has ended unrecorded: each list shows the concern.
    clock.set_now("2027-02-01T09:00:00+00:00")
    first = _enrolments(app, 3)
    login_as("coordinator", force=None)
    paths = ["/coordinator/participants?sort=deadline&flag=register_overdue",
             "/coordinator/participants?status=enrolled&after=1",
             "/coordinator/sessions", f"/coordinator/participants/{first[0]}"]
    few = [_statements(app, client, path) for path in paths]
    _enrolments(app, 27, start=3)
    many = [_statements(app, client, path) for path in paths]
    assert few == many
    assert max(many) <= 14


def test_the_case_officers_sorted_and_filtered_list_does_not_grow_with_the_rows(
        app, client, login_as):
    from diversion import clock

    clock.set_now("2027-02-01T09:00:00+00:00")
    _enrolments(app, 3)
    login_as("case_officer")
    path = "/cases/enrolments?sort=deadline&flag=at_risk"
    few = _statements(app, client, path)
    _enrolments(app, 27, start=3)
    assert few == _statements(app, client, path) <= 12
