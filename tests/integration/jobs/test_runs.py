"""Jobs run once per scheduled slot, whatever the clock and however often they fire."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.jobs.runs import run_once
from diversion.models import AuditEvent, Case, JobRun

LONDON = ZoneInfo("Europe/London")


def test_a_slot_that_ran_is_not_run_again(ctx):
    calls = []
    slot = datetime(2027, 3, 1, 6, tzinfo=LONDON)
    assert run_once("demo", slot, lambda _guard: calls.append(1) or "done") == "done"
    assert run_once("demo", slot, lambda _guard: calls.append(1) or "again") is None
    assert calls == [1]


def test_a_failed_run_is_run_again_by_the_next_attempt(ctx):
    slot = datetime(2027, 3, 1, 6, tzinfo=LONDON)
    clock.set_now("2027-03-01T06:00:00+00:00")

    def crash(_guard):
        raise RuntimeError("killed")

    try:
        run_once("demo", slot, crash)
    except RuntimeError:
        pass
    row = db.session.scalar(sa.select(JobRun).where(JobRun.job == "demo"))
    assert row.outcome == "failed"
    assert run_once("demo", slot, lambda _guard: "resumed") == "resumed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 1


def _nights(first: date, count: int):
    for n in range(count):
        yield first + timedelta(days=n)


def test_thirty_nights_across_each_2027_clock_change_give_one_sweep_per_night(ctx):
    nights = list(_nights(date(2027, 3, 13), 30)) + list(_nights(date(2027, 10, 17), 30))
    for night in nights:
        # The scheduler may fire late, twice, or be restarted: still one run a night.
        for hour, minute in ((6, 0), (6, 0), (6, 45), (23, 59)):
            local = datetime.combine(night, time(hour, minute), tzinfo=LONDON)
            clock.set_now(local)
            tasks.sweep()
    runs = db.session.scalars(
        sa.select(JobRun).where(JobRun.job == "sweep").order_by(JobRun.scheduled_for)
    ).all()
    assert len(runs) == len(nights)
    assert [r.scheduled_for.astimezone(LONDON).date() for r in runs] == nights
    assert {r.scheduled_for.astimezone(LONDON).time() for r in runs} == {time(6, 0)}
    assert {r.outcome for r in runs} == {"succeeded"}


def test_retention_erases_old_closed_cases_once_and_logs_without_the_data(ctx, api_as):
    from tests.conftest import case_body

    clock.set_now("2020-01-06T09:00:00+00:00")
    officer = api_as("case_officer")
    case = officer.post("/cases", case_body(reference="OLD/1")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2020-01-06"}).get_json()
    officer.post(f"/enrolments/{enrolment['id']}/decisions",
                 {"decision": "refer", "reason": "Agreement ended"})
    clock.set_now("2026-11-02T09:00:00+00:00")  # screened three weeks before the run
    recent = officer.post("/cases", case_body(reference="NEW/1")).get_json()

    clock.set_now("2026-11-23T02:30:00+00:00")
    first = tasks.retention()
    assert first == ("retention: 0 ineligible screenings, 1 closed enrolment, "
                     "0 message bodies erased; 0 audit rows deleted")
    db.session.expire_all()
    erased = db.session.get(Case, case["id"])
    assert erased.participant_name == "Erased"
    assert erased.email.endswith("@erased.invalid")
    assert db.session.get(Case, recent["id"]).given_name == "Sam"
    log = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "erase")).all()
    assert [(e.object_type, e.object_id) for e in log] == [("case", str(case["id"]))]
    assert "Sam" not in str(log[0].detail)
    clock.set_now("2026-11-24T02:30:00+00:00")
    assert tasks.retention() == ("retention: 0 ineligible screenings, 0 closed enrolments, "
                                 "0 message bodies erased; 0 audit rows deleted")


def test_health_detail_shows_each_jobs_last_run_outcome_and_next_run(client, app):
    clock.set_now("2027-03-01T06:10:00+00:00")
    with app.app_context():
        tasks.sweep()
    body = client.get("/healthz?detail=1").get_json()
    jobs = {j["job"]: j for j in body["jobs"]}
    assert jobs["sweep"]["outcome"] == "succeeded"
    assert jobs["sweep"]["next_run"] == "2027-03-02T06:00:00+00:00"
    assert jobs["send_mail"]["outcome"] is None
