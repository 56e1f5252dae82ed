"""Changing a programme's settings, through the services, on SQLite and PostgreSQL.

An enrolment keeps the terms it was enrolled under; spacing, order and reminder hours
apply to the bookings made after a change; each change is audited with before and after.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from diversion import clock, create_app
from diversion.domain.errors import RuleViolation, RuleViolations
from diversion.domain.vocabulary import LONDON, MessageKind
from diversion.extensions import db
from diversion.models import AuditEvent, Enrolment, OutboxMessage, Programme
from diversion.services import Forbidden, accounts, attendance, bookings, cases, enrolments
from diversion.services import programmes as programme_service
from diversion.services import sessions as session_service
from diversion.services import venues as venue_service
from tests.conftest import BASE_CONFIG, PG_URL, SCREENING_OK, make_user

MONDAY = datetime(2027, 1, 4, 9, 0, tzinfo=LONDON)


@pytest.fixture
def people(ctx):
    clock.set_now(MONDAY)
    admin = accounts.actor_for(make_user(role="admin", force=None))
    officer = accounts.actor_for(make_user(role="case_officer"))
    coordinator = accounts.actor_for(make_user(role="coordinator", force=None))
    venue = venue_service.create_venue(coordinator, "Hall", "1 High Street")
    return {"admin": admin, "officer": officer, "coordinator": coordinator, "venue": venue}


def enrol(people, reference: str, start: date = date(2027, 1, 4), programme_id: int = 1):
    case = cases.record_case(people["officer"], reference, {
        "given_name": "Sam", "family_name": reference, "date_of_birth": date(1990, 4, 2),
        "email": f"{reference.lower()}@example.com"}, SCREENING_OK)
    return enrolments.enrol(people["officer"], case.id, programme_id, start)


def publish(people, module: int, day: date, programme_id: int = 1):
    return session_service.publish_session(
        people["coordinator"], programme_id=programme_id, module=module,
        starts_at=datetime(day.year, day.month, day.day, 18, 0), venue_id=people["venue"].id,
        capacity=10)


def change(people, **values):
    return programme_service.update_programme(people["admin"], 1, values)


def programme_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.object_type == "programme",
                                    AuditEvent.action == action).order_by(AuditEvent.id)))


def attend_every_core_module(people, *enrolment_ids: int) -> None:
    """Book each enrolment into one weekly session per core module, then mark them attended."""
    first = date(2027, 1, 11)
    for module in range(1, 6):
        session = publish(people, module, first + timedelta(weeks=module - 1))
        for enrolment_id in enrolment_ids:
            bookings.book(people["coordinator"], enrolment_id, session.id)
    clock.set_now(datetime(2027, 2, 9, 9, 0, tzinfo=LONDON))
    for enrolment_id in enrolment_ids:
        for booking in db.session.get(Enrolment, enrolment_id).bookings:
            attendance.record(people["coordinator"], booking.id, "attended")


def test_a_deadline_change_leaves_an_enrolment_already_made_alone_and_a_new_one_follows_it(
        people):
    before = enrol(people, "BEFORE")
    change(people, core_months=6, follow_up_months=10, follow_up_window_days=7)
    after = enrol(people, "AFTER")

    assert before.core_deadline == date(2027, 5, 4)
    assert after.core_deadline == date(2027, 7, 4)

    attend_every_core_module(people, before.id, after.id)
    before, after = db.session.get(Enrolment, before.id), db.session.get(Enrolment, after.id)
    # The last core module was on 8 February 2027.
    assert before.follow_up_due == date(2027, 10, 8)
    assert (before.follow_up_opens, before.follow_up_closes) == (date(2027, 9, 24),
                                                                 date(2027, 10, 22))
    assert after.follow_up_due == date(2027, 12, 8)
    assert (after.follow_up_opens, after.follow_up_closes) == (date(2027, 12, 1),
                                                               date(2027, 12, 15))
    assert before.core_deadline == date(2027, 5, 4)


def test_an_enrolment_already_made_cannot_book_past_its_own_deadline_after_a_longer_one_is_set(
        people):
    before = enrol(people, "BEFORE")
    change(people, core_months=6)
    after = enrol(people, "AFTER")
    late = publish(people, 1, date(2027, 6, 7))

    with pytest.raises(RuleViolation) as refused:
        bookings.book(people["coordinator"], before.id, late.id)
    assert refused.value.code == "after_deadline"
    assert bookings.book(people["coordinator"], after.id, late.id).session_id == late.id


def test_an_enrolment_keeps_the_terms_it_was_enrolled_under(people):
    before = enrol(people, "BEFORE")
    change(people, core_months=6, follow_up_months=10, follow_up_window_days=7)
    assert (before.core_months, before.follow_up_months, before.follow_up_window_days) == (
        4, 8, 14)
    after = enrol(people, "AFTER")
    assert (after.core_months, after.follow_up_months, after.follow_up_window_days) == (
        6, 10, 7)


def test_a_spacing_change_applies_to_the_next_booking(people):
    enrolment = enrol(people, "SPACED")
    bookings.book(people["coordinator"], enrolment.id, publish(people, 1, date(2027, 1, 11)).id)
    four_days_later = publish(people, 2, date(2027, 1, 15))
    with pytest.raises(RuleViolation) as refused:
        bookings.book(people["coordinator"], enrolment.id, four_days_later.id)
    assert refused.value.code == "spacing"

    change(people, min_days_between_sessions=3)
    booked = bookings.book(people["coordinator"], enrolment.id, four_days_later.id)
    assert booked.session_id == four_days_later.id


def test_a_booking_made_before_spacing_widened_stays_and_the_next_one_is_held_to_it(people):
    enrolment = enrol(people, "SPACED")
    bookings.book(people["coordinator"], enrolment.id, publish(people, 1, date(2027, 1, 11)).id)
    week_two = bookings.book(people["coordinator"], enrolment.id,
                             publish(people, 2, date(2027, 1, 18)).id)

    change(people, min_days_between_sessions=14)
    assert db.session.get(type(week_two), week_two.id).status == "booked"
    with pytest.raises(RuleViolation) as refused:
        bookings.book(people["coordinator"], enrolment.id,
                      publish(people, 3, date(2027, 1, 25)).id)
    assert refused.value.code == "spacing"


def test_modules_may_be_taken_in_any_order_once_the_setting_allows_it(people):
    enrolment = enrol(people, "ORDER")
    module_three = publish(people, 3, date(2027, 1, 11))
    with pytest.raises(RuleViolation) as refused:
        bookings.book(people["coordinator"], enrolment.id, module_three.id)
    assert refused.value.code == "module_order"

    change(people, modules_in_order=False)
    assert bookings.book(people["coordinator"], enrolment.id, module_three.id).module == 3


def test_a_reminder_hours_change_applies_to_bookings_made_after_it(people):
    session = publish(people, 1, date(2027, 1, 18))
    first = bookings.book(people["coordinator"], enrol(people, "FIRST").id, session.id)
    change(people, reminder_hours=24)
    second = bookings.book(people["coordinator"], enrol(people, "SECOND").id, session.id)

    def reminder_due(booking_id: int) -> datetime:
        return db.session.scalar(sa.select(OutboxMessage.due_at).where(
            OutboxMessage.booking_id == booking_id, OutboxMessage.kind == MessageKind.REMINDER))

    assert reminder_due(first.id) == session.starts_at - timedelta(hours=48)
    assert reminder_due(second.id) == session.starts_at - timedelta(hours=24)


def test_each_change_is_audited_with_the_settings_before_and_after(people):
    change(people, core_months=6, holiday_region="gb-wls", invite_title="Meeting")
    change(people, core_months=5)

    first, second = programme_events("update")
    assert first.actor == people["admin"].email
    assert first.object_id == "1"
    assert first.detail == {
        "before": {"core_months": 4, "holiday_region": "GB-ENG", "invite_title": "Appointment"},
        "after": {"core_months": 6, "holiday_region": "GB-WLS", "invite_title": "Meeting"},
    }
    assert second.detail == {"before": {"core_months": 6}, "after": {"core_months": 5}}


def test_a_change_that_changes_nothing_is_not_recorded(people):
    result = change(people, core_months=4, name="Online safety course")
    assert result.changed == {}
    assert programme_events("update") == []


def test_a_programme_for_wales_is_added_with_the_defaults_and_its_own_holidays(people):
    wales = programme_service.create_programme(
        people["admin"], {"name": "Online safety course (Wales)", "holiday_region": "GB-WLS",
                          "invite_title_cy": "Apwyntiad"})
    assert (wales.holiday_region, wales.core_modules, wales.core_months,
            wales.self_service_cutoff_hours, wales.self_service_moves) == ("GB-WLS", 5, 4, 24, 2)
    (created,) = programme_events("create")
    assert created.object_id == str(wales.id)
    assert created.detail["before"] is None
    assert created.detail["after"]["holiday_region"] == "GB-WLS"

    enrolment = enrol(people, "WALES", programme_id=wales.id)
    assert enrolment.core_deadline == date(2027, 5, 4)
    with pytest.raises(RuleViolation) as refused:
        publish(people, 1, date(2027, 3, 29), programme_id=wales.id)  # Easter Monday
    assert refused.value.code == "public_holiday"


def test_a_holiday_region_change_applies_to_sessions_published_after_it(people):
    scottish_bank_holiday = date(2027, 8, 2)
    published_before = publish(people, 1, scottish_bank_holiday)
    change(people, holiday_region="GB-SCT")
    with pytest.raises(RuleViolation) as refused:
        publish(people, 2, scottish_bank_holiday)
    assert refused.value.code == "public_holiday"
    assert session_service.get_session(published_before.id).status == "scheduled"


def test_a_refused_change_changes_nothing_and_records_nothing(people):
    with pytest.raises(RuleViolations) as refused:
        change(people, core_months=6, invite_title="Police appointment", holiday_region="FR")
    assert {p.field for p in refused.value.problems} == {"invite_title", "holiday_region"}
    programme = db.session.get(Programme, 1, populate_existing=True)
    assert (programme.core_months, programme.invite_title) == (4, "Appointment")
    assert programme_events("update") == []


def test_the_number_of_core_modules_is_refused_while_an_enrolment_is_in_progress(people):
    enrol(people, "IN PROGRESS")
    with pytest.raises(RuleViolations) as refused:
        change(people, core_modules=6)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("core_modules", "programme_in_use")]


def test_the_number_of_core_modules_may_change_before_anyone_is_enrolled(people):
    assert change(people, core_modules=6).changed == {"core_modules": (5, 6)}


def test_only_an_administrator_may_change_or_add_a_programme(people):
    for who in ("officer", "coordinator"):
        with pytest.raises(Forbidden):
            programme_service.update_programme(people[who], 1, {"core_months": 6})
        with pytest.raises(Forbidden):
            programme_service.create_programme(people[who], {"name": "Another"})
    assert db.session.get(Programme, 1).core_months == 4


# ---- the migration ----------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def blank_database(request, tmp_path):
    """An empty database of its own (on PostgreSQL, a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA migration_check"))
    yield f"{PG_URL}?options=-csearch_path%3Dmigration_check"
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA migration_check CASCADE"))
    engine.dispose()


def test_the_migration_gives_each_existing_enrolment_its_own_programmes_terms(blank_database):
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": blank_database})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as connection:
            table = _tables(connection)
            connection.execute(table["programmes"].insert(), [{
                "id": 2, "name": "Longer course", "core_modules": 5, "session_minutes": 90,
                "core_months": 6, "follow_up_months": 10, "follow_up_window_days": 7,
                "min_days_between_sessions": 7, "reminder_hours": 48,
                "timezone": "Europe/London", "holiday_region": "GB-ENG",
                "modules_in_order": True, "invite_title": "Appointment", "contact_phone": "1",
                "organizer_email": "a@b.example", "retention_years": 6}])
            connection.execute(table["forces"].insert(), [
                {"id": 1, "code": "MET", "name": "Met", "created_at": AT}])
            connection.execute(table["users"].insert(), [{
                "id": 1, "email": "o@example.gov.uk", "name": "", "role": "case_officer",
                "force_id": 1, "active": True, "session_version": 1, "created_at": AT}])
            connection.execute(table["cases"].insert(), [_case(n) for n in (1, 2)])
            connection.execute(table["enrolments"].insert(), [
                _enrolment(1, programme_id=1), _enrolment(2, programme_id=2)])
        upgrade()
        with db.engine.connect() as connection:
            terms = connection.execute(sa.text(
                "SELECT id, core_months, follow_up_months, follow_up_window_days "
                "FROM enrolments ORDER BY id")).all()
            programme = connection.execute(sa.text(
                "SELECT invite_title_cy, self_service_cutoff_hours, self_service_moves "
                "FROM programmes WHERE id = 1")).one()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in terms] == [(1, 4, 8, 14), (2, 6, 10, 7)]
    assert tuple(programme) == ("Apwyntiad", 24, 2)


AT = datetime(2026, 12, 1, 9, 0)


def _tables(connection) -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    return {name: sa.Table(name, metadata, autoload_with=connection)
            for name in ("programmes", "forces", "users", "cases", "enrolments")}


def _case(n: int) -> dict:
    return {"id": n, "force_id": 1, "reference": f"M/{n}", "given_name": "Sam",
            "family_name": "Taylor", "date_of_birth": date(1990, 1, 1),
            "email": "sam@example.com", "created_by_id": 1, "created_at": AT, "eligible": True,
            "ineligible_reasons": "", "image_category": "C",
            **{answer: value for answer, value in SCREENING_OK.items()
               if answer != "image_category"}}


def _enrolment(n: int, *, programme_id: int) -> dict:
    return {"id": n, "case_id": n, "force_id": 1, "programme_id": programme_id,
            "status": "enrolled", "start_date": date(2027, 1, 4),
            "original_core_deadline": date(2027, 5, 4), "core_deadline": date(2027, 5, 4),
            "follow_up_extension_days": 0, "created_by_id": 1, "created_at": AT}
