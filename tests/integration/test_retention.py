"""Retention erases each record type at its programme's time, leaving nothing personal and
the outcome counts whole; the erasure is audited without the data, and runs once."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import (
    AttendanceRecord,
    AuditEvent,
    Booking,
    CallbackRequest,
    Case,
    Decision,
    Enrolment,
    FeedToken,
    OutboxMessage,
    Programme,
    WarningLetterHandover,
)
from diversion.services import Actor, cases, decisions, reports, retention
from tests.conftest import SCREENING_OK
from tests.integration.course import start_course

ADMIN = Actor(user_id=None, email="admin@example.gov.uk", role="admin")
SAM = {"given_name": "Sam", "family_name": "Taylor", "date_of_birth": date(1990, 4, 2),
       "email": "sam.taylor@example.com", "phone": "07700 900123"}
# Everything personal the tests put in, none of which may survive an erasure.
PERSONAL = ("Sam", "Taylor", "sam.taylor@example.com", "07700 900123", "+447700900123",
            "1990-04-02",
            "MET/1", "MET/7", "hospital", "stopped coming")


def run_at(instant: str) -> retention.RetentionResult:
    clock.set_now(instant)
    result = retention.erase_expired()
    db.session.expire_all()
    return result


def ineligible_case(course, reference: str = "MET/7") -> Case:
    return cases.record_case(course.officer, reference, dict(SAM),
                             {**SCREENING_OK, "previous_sexual_or_violent_conviction": True})


def referred_enrolment(course) -> Enrolment:
    """Sam attends module 1, misses module 2 with a reason, and is referred on 13 January."""
    case = cases.record_case(course.officer, "MET/1", dict(SAM), dict(SCREENING_OK))
    from diversion.services import enrolments

    enrolment = enrolments.enrol(course.officer, case.id, 1, date(2027, 1, 4))
    first = course.book(enrolment.id, course.session(1, "2027-01-05T18:00"))
    second = course.book(enrolment.id, course.session(2, "2027-01-12T18:00"))
    course.record(first, at="2027-01-05T20:00:00+00:00")
    course.record(second, "absent_excused", at="2027-01-12T20:00:00+00:00",
                  reason="Sam Taylor was in hospital")
    clock.set_now("2027-01-13T10:00:00+00:00")
    decisions.decide(course.officer, enrolment.id, decision="refer",
                     reason="Sam Taylor stopped coming")
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment.id)


def texts_of(*rows) -> str:
    return " ".join(str(value) for row in rows for value in row._mapping.values())


def erase_rows() -> list[AuditEvent]:
    return list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "erase").order_by(AuditEvent.id)))


def test_an_ineligible_screening_is_erased_a_year_after_it_was_recorded_and_not_before(ctx):
    course = start_course()  # Monday 4 January 2027, 09:00 UTC
    case = ineligible_case(course)

    assert run_at("2028-01-04T08:59:59+00:00").ineligible_case_ids == []
    assert db.session.get(Case, case.id).given_name == "Sam"

    result = run_at("2028-01-04T09:00:00+00:00")
    assert result.ineligible_case_ids == [case.id]
    assert result.summary() == ("retention: 1 ineligible screening, 0 closed enrolments, "
                                "0 message bodies erased; 0 audit rows deleted")
    row = db.session.execute(sa.select(Case.__table__).where(Case.id == case.id)).one()
    assert row.erased_at == datetime(2028, 1, 4, 9, tzinfo=UTC)
    assert (row.date_of_birth, row.phone, row.previous_sexual_or_violent_conviction,
            row.first_offence, row.image_category, row.contact_offending_suspected,
            row.children_at_risk, row.prosecutor_agreed, row.participant_consented,
            row.ineligible_reasons) == (None,) * 9 + ("",)
    assert not any(value in texts_of(row) for value in PERSONAL)
    # The count of ineligible screenings is kept.
    assert row.eligible is False


def test_an_eligible_screening_never_enrolled_is_erased_as_an_ineligible_one_is(ctx):
    course = start_course()  # Monday 4 January 2027, 09:00 UTC
    case = cases.record_case(course.officer, "MET/9", dict(SAM), dict(SCREENING_OK))
    assert case.eligible is True

    assert run_at("2028-01-04T08:59:59+00:00").ineligible_case_ids == []
    assert run_at("2028-01-04T09:00:00+00:00").ineligible_case_ids == [case.id]
    row = db.session.execute(sa.select(Case.__table__).where(Case.id == case.id)).one()
    assert (row.date_of_birth, row.phone, row.sms_consent) == (None, None, False)
    assert not any(value in texts_of(row) for value in PERSONAL)
    # The count of screenings found eligible is kept.
    assert row.eligible is True


def test_a_closed_enrolment_is_erased_at_its_period_leaving_no_personal_field(ctx):
    course = start_course()
    enrolment = referred_enrolment(course)
    assert enrolment.closed_at == datetime(2027, 1, 13, 10, tzinfo=UTC)
    db.session.add(FeedToken(enrolment_id=enrolment.id, token_hash="f" * 64,
                             created_at=clock.now()))
    db.session.add(CallbackRequest(enrolment_id=enrolment.id,
                                   booking_id=enrolment.bookings[0].id,
                                   message="Sam Taylor stopped coming, call 07700 900123",
                                   requested_at=clock.now()))
    db.session.commit()

    assert run_at("2033-01-13T09:59:59+00:00").closed_case_ids == []
    assert db.session.get(Case, enrolment.case_id).email == "sam.taylor@example.com"

    assert run_at("2033-01-13T10:00:00+00:00").closed_case_ids == [enrolment.case_id]
    case_row = db.session.execute(
        sa.select(Case.__table__).where(Case.id == enrolment.case_id)).one()
    assert case_row.reference == f"erased-{enrolment.case_id}"
    assert case_row.date_of_birth is None and case_row.phone is None
    assert case_row.email.endswith("@erased.invalid")
    bookings = db.session.execute(sa.select(Booking.__table__).where(
        Booking.enrolment_id == enrolment.id)).all()
    records = db.session.execute(sa.select(AttendanceRecord.__table__)).all()
    decided = db.session.execute(sa.select(Decision.__table__)).all()
    messages = db.session.execute(sa.select(OutboxMessage.__table__).where(
        OutboxMessage.enrolment_id == enrolment.id)).all()
    assert messages, "the course queued messages to Sam"
    asked = db.session.execute(sa.select(CallbackRequest.__table__)).all()
    assert [row.message for row in asked] == [None]
    everything = texts_of(case_row, *bookings, *records, *decided, *messages, *asked)
    assert [value for value in PERSONAL if value in everything] == []
    assert {m.recipient for m in messages} == {""}
    assert {str(m.payload) for m in messages} == {"{}"}
    assert all(m.erased_at is not None for m in messages)
    # What the reports need stays: status, dates, force, programme and the outcomes.
    kept = db.session.get(Enrolment, enrolment.id)
    assert (kept.status, kept.start_date, kept.programme_id) == ("referred", date(2027, 1, 4), 1)
    assert sorted(b.status for b in bookings) == ["absent_excused", "attended"]
    tokens = db.session.scalars(sa.select(FeedToken).where(
        FeedToken.enrolment_id == enrolment.id)).all()
    assert tokens and all(token.revoked_at is not None for token in tokens)


def test_the_referral_summary_of_an_erased_enrolment_with_bookings_and_messages_answers(ctx):
    course = start_course()
    enrolment = referred_enrolment(course)
    run_at("2033-01-13T10:00:00+00:00")
    from diversion.services import referrals

    summary = referrals.summary(course.officer, enrolment.id)
    assert summary["participant"]["erased"] is True
    assert len(summary["bookings"]) == 2 and summary["messages"]
    assert [value for value in PERSONAL if value in str(summary)] == []


def test_the_outcome_report_counts_the_same_after_erasure(ctx):
    course = start_course()
    referred_enrolment(course)
    clock.set_now("2033-01-13T09:00:00+00:00")
    period = {"start": date(2027, 1, 1), "end": date(2027, 1, 31)}
    before = reports.outcomes(ADMIN, **period)

    assert run_at("2033-01-13T10:00:00+00:00").closed_case_ids
    after = reports.outcomes(ADMIN, **period)
    assert after.total == before.total
    assert [(f.force.code, f.outcomes) for f in after.forces] == [
        (f.force.code, f.outcomes) for f in before.forces]
    assert after.total.referred == 1


def test_a_message_body_is_erased_a_year_after_sending_and_not_before(ctx):
    course = start_course()
    case = cases.record_case(course.officer, "MET/1", dict(SAM), dict(SCREENING_OK))
    from diversion.services import enrolments

    enrolment = enrolments.enrol(course.officer, case.id, 1, date(2027, 1, 4))
    course.book(enrolment.id, course.session(1, "2027-01-05T18:00"))
    sent, *others = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.enrolment_id == enrolment.id).order_by(OutboxMessage.id)).all()
    sent.status, sent.sent_at = "sent", datetime(2027, 1, 4, 9, 5, tzinfo=UTC)
    db.session.commit()

    assert run_at("2028-01-04T09:04:59+00:00").message_ids == []
    result = run_at("2028-01-04T09:05:00+00:00")
    assert result.message_ids == [sent.id]
    assert "1 message body erased" in result.summary()
    row = db.session.execute(sa.select(OutboxMessage.__table__).where(
        OutboxMessage.id == sent.id)).one()
    assert (row.recipient, row.payload, row.subject, row.last_error, row.status) == (
        "", {}, None, None, "sent")
    # Messages still to be sent keep what they need, and Sam's case is untouched.
    for message in others:
        kept = db.session.get(OutboxMessage, message.id)
        assert kept.recipient == "sam.taylor@example.com" and kept.payload
    assert db.session.get(Case, case.id).erased_at is None


def test_each_programme_keeps_closed_enrolments_for_its_own_period(ctx):
    course = start_course()
    enrolment = referred_enrolment(course)
    db.session.get(Programme, 1).retention_closed_months = 12
    db.session.commit()
    assert run_at("2028-01-13T09:59:59+00:00").closed_case_ids == []
    assert run_at("2028-01-13T10:00:00+00:00").closed_case_ids == [enrolment.case_id]


def _audit_row(at: datetime) -> int:
    return db.session.execute(sa.insert(AuditEvent).values(
        at=at, actor="officer@example.gov.uk", action="read", object_type="case",
        detail={"search": "Sam Taylor"}).returning(AuditEvent.id)).scalar_one()


def test_audit_rows_are_deleted_after_the_longest_audit_period_and_not_before(ctx):
    clock.set_now("2027-01-04T09:00:00+00:00")
    old = _audit_row(datetime(2020, 1, 4, 8, 59, tzinfo=UTC))
    kept = _audit_row(datetime(2020, 1, 4, 9, 1, tzinfo=UTC))
    db.session.commit()

    result = run_at("2027-01-04T09:00:00+00:00")  # 84 months after 4 January 2020, 09:00
    assert result.audit_rows == 1
    ids = set(db.session.scalars(sa.select(AuditEvent.id)))
    assert old not in ids and kept in ids
    deletion = erase_rows()[-1]
    assert (deletion.object_type, deletion.detail["rows"]) == ("audit_events", 1)
    assert "Sam" not in str(deletion.detail)


def test_a_longer_audit_period_on_any_programme_keeps_the_whole_trail_longer(ctx):
    clock.set_now("2027-01-04T09:00:00+00:00")
    db.session.add(Programme(name="Wales", retention_audit_months=120))
    old = _audit_row(datetime(2019, 1, 1, tzinfo=UTC))
    db.session.commit()
    assert run_at("2027-01-04T09:00:00+00:00").audit_rows == 0
    assert db.session.get(AuditEvent, old) is not None


def test_the_erasure_is_audited_as_who_when_and_which_record_never_the_data(ctx):
    course = start_course()
    enrolment = referred_enrolment(course)
    ineligible = ineligible_case(course)
    run_at("2033-01-13T10:00:00+00:00")
    log = [e for e in erase_rows() if e.object_type == "case"]
    assert sorted((e.actor, e.object_id, e.case_id, e.at) for e in log) == [
        ("retention", str(c), c, datetime(2033, 1, 13, 10, tzinfo=UTC))
        for c in sorted([enrolment.case_id, ineligible.id])]
    words = " ".join(str(e.detail) for e in erase_rows())
    assert [value for value in PERSONAL if value in words] == []


def test_a_second_run_changes_nothing(ctx):
    course = start_course()
    referred_enrolment(course)
    ineligible_case(course)
    first = run_at("2033-01-13T10:00:00+00:00")
    assert first.closed_case_ids and first.ineligible_case_ids
    snapshot = [db.session.execute(sa.select(table).order_by(table.c.id)).all()
                for table in (Case.__table__, Booking.__table__, OutboxMessage.__table__,
                              FeedToken.__table__)]
    audit_rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    second = run_at("2033-01-14T10:00:00+00:00")
    assert second.summary() == ("retention: 0 ineligible screenings, 0 closed enrolments, "
                                "0 message bodies erased; 0 audit rows deleted")
    assert [db.session.execute(sa.select(table).order_by(table.c.id)).all()
            for table in (Case.__table__, Booking.__table__, OutboxMessage.__table__,
                          FeedToken.__table__)] == snapshot
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == audit_rows


def test_the_reference_digest_is_stable_keyed_and_does_not_hold_the_reference(ctx, app):
    course = start_course()
    first = ineligible_case(course, "MET/7")
    run_at("2028-01-04T09:00:00+00:00")
    # The same reference recorded again later, and erased in its turn, digests the same.
    clock.set_now("2028-02-01T09:00:00+00:00")
    second = ineligible_case(course, "MET/7")
    other = ineligible_case(course, "MET/8")
    run_at("2029-02-01T09:00:00+00:00")

    digests = {c.id: db.session.get(Case, c.id).reference_digest
               for c in (first, second, other)}
    assert digests[first.id] == digests[second.id] != digests[other.id]
    expected = hmac.new(app.config["SECRET_KEY"].encode(), b"MET\x1fMET/7",
                        hashlib.sha256).hexdigest()
    assert digests[first.id] == expected
    assert "MET/7" not in digests[first.id] and len(digests[first.id]) == 64
    # Without the service's secret the digest cannot be recomputed from a guess.
    assert hashlib.sha256(b"MET\x1fMET/7").hexdigest() != expected
    assert {db.session.get(Case, c.id).reference for c in (first, second)} == {
        f"erased-{first.id}", f"erased-{second.id}"}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_database_deletes_no_audit_row_younger_than_the_floor_whatever_is_asked(ctx):
    clock.set_now("2027-01-04T09:00:00+00:00")
    young = _audit_row(clock.now())
    db.session.commit()
    removed = db.session.scalar(sa.text("SELECT purge_expired_audit_events(:cutoff)"),
                                {"cutoff": datetime(2100, 1, 1)})
    db.session.commit()
    assert removed == 0
    assert db.session.get(AuditEvent, young) is not None


def test_run_job_retention_says_what_it_erased_then_that_the_slot_is_done(ctx, runner):
    course = start_course()
    ineligible_case(course)
    clock.set_now("2028-01-05T02:30:00+00:00")
    first = runner.invoke(args=["run-job", "retention"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == ("retention: 1 ineligible screening, 0 closed enrolments, "
                                    "0 message bodies erased; 0 audit rows deleted")
    again = runner.invoke(args=["run-job", "retention"])
    assert "already done for this slot" in again.output


def test_who_handed_a_warning_letter_over_is_erased_with_the_enrolment(ctx):
    course = start_course()
    enrolment = referred_enrolment(course)
    missed = next(b for b in enrolment.bookings if b.module == 2)
    db.session.add(WarningLetterHandover(
        enrolment_id=enrolment.id, booking_id=missed.id, handed_over_on=date(2027, 1, 12),
        handed_over_by="Sam Taylor's key worker", recorded_at=clock.now()))
    db.session.commit()
    run_at("2033-01-13T10:00:00+00:00")
    row = db.session.execute(sa.select(WarningLetterHandover.__table__)).one()
    assert row.handed_over_by == retention.ERASED
    assert row.handed_over_on == date(2027, 1, 12)
