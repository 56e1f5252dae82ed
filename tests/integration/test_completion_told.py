"""The case officer is told of a completion: the daily digest counts it, the dashboard lists it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from diversion import clock
from diversion.domain.vocabulary import LONDON
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.models import AuditEvent, OutboxMessage
from diversion.notify.messages import build
from diversion.services import enrolments, oversight
from diversion.services.accounts import actor_for
from tests.conftest import make_user
from tests.integration.course import Course, enrolment, start_course

CORE = ["2027-02-02T10:00", "2027-02-09T10:00", "2027-02-16T10:00", "2027-02-23T10:00",
        "2027-03-02T10:00"]
FOLLOW_UP = "2027-11-02T10:00"  # due 2 November 2027, eight months after module 5
FOLLOW_UP_ENDS = "2027-11-02T11:30:00+00:00"


def _complete(course: Course, reference: str = "MET/1", *, follow_up_at: str = FOLLOW_UP_ENDS
              ) -> int:
    """Enrol, attend the five modules and the follow-up; the follow-up's register says when."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    e = course.enrol(reference, email=f"{reference.replace('/', '')}@example.com")
    published = [course.session(m, at) for m, at in enumerate(CORE, 1)]
    booked = [course.book(e.id, session_id) for session_id in published]
    for booking_id, at in zip(booked, CORE, strict=True):
        course.record(booking_id, "attended", at=f"{at}:00+00:00")
    clock.set_now("2027-03-03T09:00:00+00:00")
    follow_up = course.book(e.id, course.session(0, FOLLOW_UP))
    course.record(follow_up, "attended", at=follow_up_at)
    return e.id


def _digests() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "digest").order_by(OutboxMessage.id)))


def test_attending_the_follow_up_closes_the_enrolment_as_completed(ctx):
    enrolment_id = _complete(start_course())

    e = enrolment(enrolment_id)
    assert e.status == "completed"
    assert e.closed_at == clock.now()


def test_the_next_daily_digest_tells_the_case_officer_of_the_completion_and_no_more(ctx):
    course = start_course()
    make_user(role="case_officer", force="KENT", email="kent@example.gov.uk")
    _complete(course)

    clock.set_now(datetime(2027, 11, 3, 7, 0, 5, tzinfo=LONDON))
    assert tasks.digest() == "1 digests queued"

    [digest] = _digests()
    assert digest.recipient == "case_officer.met@example.gov.uk"
    assert (digest.payload["new_flags"], digest.payload["completed"]) == (0, 1)
    email = build(digest, sender="appointments@example.gov.uk", now=clock.now()).message
    text = email.get_body(("plain",)).get_content()
    assert text.strip() == "1 enrolment was completed. Sign in to see it: http://localhost"
    assert "Taylor" not in text and "MET/1" not in text

    clock.set_now(datetime(2027, 11, 4, 7, 0, 5, tzinfo=LONDON))
    assert tasks.digest() == "no new flags or completions"


def test_the_digest_counts_flags_and_completions_together(ctx):
    course = start_course()
    _complete(course, "MET/1")
    clock.set_now("2027-11-02T12:00:00+00:00")
    late = course.enrol("MET/2", email="late@example.com", start=date(2027, 11, 1))
    session_id = course.session(1, "2027-11-02T18:00")
    missed = course.book(late.id, session_id)
    course.record(missed, "absent_unexcused", at="2027-11-02T19:45:00+00:00")

    clock.set_now(datetime(2027, 11, 3, 7, 0, 5, tzinfo=LONDON))
    tasks.digest()

    [digest] = _digests()
    text = build(digest, sender="appointments@example.gov.uk",
                 now=clock.now()).message.get_body(("plain",)).get_content()
    assert text.strip() == ("1 new item needs your attention. 1 enrolment was completed. "
                            "Sign in to see them: http://localhost")


def test_the_dashboard_list_holds_the_forces_completions_since_a_time_latest_first(ctx):
    course = start_course()
    first = _complete(course, "MET/1", follow_up_at="2027-11-02T11:00:00+00:00")
    second = _complete(course, "MET/2", follow_up_at="2027-11-02T12:00:00+00:00")
    kent = actor_for(make_user(role="case_officer", force="KENT", email="kent@example.gov.uk"))

    listed = oversight.completed_since(course.officer, datetime(2027, 11, 2, 7, tzinfo=LONDON))

    assert [e.id for e in listed] == [second, first]
    assert oversight.completed_since(course.officer,
                                     datetime(2027, 11, 2, 11, 30, tzinfo=LONDON)) == [
        enrolment(second)]
    assert oversight.completed_since(kent, datetime(2027, 1, 1, tzinfo=LONDON)) == []
    audited = db.session.scalars(sa.select(AuditEvent.detail).where(
        AuditEvent.object_type == "enrolment_list", AuditEvent.actor_id ==
        course.officer.user_id).order_by(AuditEvent.id.desc())).first()
    assert audited["ids"] == [second]


def test_completed_enrolments_are_listed_by_their_status(ctx):
    course = start_course()
    course.enrol("MET/2", email="jo@example.com")
    done = _complete(course, "MET/1")

    listed = enrolments.list_enrolments(course.officer, status="completed")

    assert [e.id for e in listed] == [done]
