"""In-process figures against a loaded database; prints one JSON object.

    python bench/measure.py sweep DATABASE_URL   # sweep, its floor, peak memory
    python bench/measure.py pages DATABASE_URL   # list pages, register, feed, planning

Server time is the wall time of one request through the Flask test client (no
network); SQL statements are counted with a before_cursor_execute listener.
"""

from __future__ import annotations

import json
import random
import resource
import secrets
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diversion import clock, create_app  # noqa: E402
from diversion.extensions import db  # noqa: E402
from diversion.memory import freeze_long_lived  # noqa: E402

# The sweep's floor: every flag the sweep would raise today for one programme, in one
# statement as a database hand would write it: each rule over the enrolments, then the
# flags already raised left out. Written apart from the service, so it also checks the
# sweep: the set it finds before a run is the set that run raises.
FLOOR_SQL = """
SELECT due.enrolment_id, due.cause FROM (
    SELECT e.id AS enrolment_id, 'core_deadline:' || CAST(e.core_deadline AS TEXT) AS cause
    FROM enrolments e
    WHERE e.programme_id = :programme AND e.status = 'enrolled' AND e.core_deadline < :today
      AND (SELECT count(DISTINCT b.module) FROM bookings b
           WHERE b.enrolment_id = e.id AND b.status = 'attended'
             AND b.module BETWEEN 1 AND :core) < :core
    UNION ALL
    SELECT p.id, 'cannot_fit:' || CAST(p.core_deadline AS TEXT)
    FROM (SELECT e.id, e.core_deadline,
                 (SELECT count(DISTINCT b.module) FROM bookings b
                  WHERE b.enrolment_id = e.id AND b.status = 'attended'
                    AND b.module BETWEEN 1 AND :core) AS done
          FROM enrolments e
          WHERE e.programme_id = :programme AND e.status = 'enrolled'
            AND e.core_deadline >= :today AND e.core_deadline < :fits_5) p
    WHERE p.core_deadline < CASE :core - p.done WHEN 1 THEN :fits_1 WHEN 2 THEN :fits_2
                                 WHEN 3 THEN :fits_3 WHEN 4 THEN :fits_4 WHEN 5 THEN :fits_5 END
    UNION ALL
    SELECT e.id, 'unbooked_near_deadline:' || CAST(e.core_deadline AS TEXT)
    FROM enrolments e
    WHERE e.programme_id = :programme AND e.status = 'enrolled'
      AND e.core_deadline >= :today AND e.core_deadline <= :warn_until
      AND (SELECT count(DISTINCT b.module) FROM bookings b
           WHERE b.enrolment_id = e.id AND b.status IN ('attended', 'booked')
             AND b.module BETWEEN 1 AND :core) < :core
    UNION ALL
    SELECT e.id, 'follow_up_window:' || CAST(e.follow_up_closes AS TEXT)
    FROM enrolments e
    WHERE e.programme_id = :programme AND e.status = 'awaiting_follow_up'
      AND e.follow_up_opens IS NOT NULL AND e.follow_up_closes < :today
      AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.enrolment_id = e.id
                      AND b.module = 0 AND b.status = 'attended')
    UNION ALL
    SELECT b.enrolment_id, 'unexcused_absence:' || CAST(b.id AS TEXT)
    FROM bookings b JOIN enrolments e ON e.id = b.enrolment_id
    WHERE b.status = 'absent_unexcused' AND e.programme_id = :programme
      AND e.status IN ('enrolled', 'awaiting_follow_up')
) due
WHERE NOT EXISTS (SELECT 1 FROM flags f WHERE f.enrolment_id = due.enrolment_id
                  AND f.cause = due.cause)
"""
# The floor before this one: the non-completion rule alone, with no flags left out.
# It does a fifth of the sweep's work; its time is kept in the results beside the floor.
ONE_RULE_SQL = """
SELECT e.id FROM enrolments e
WHERE e.status = 'enrolled' AND e.core_deadline < :today
  AND (SELECT count(DISTINCT b.module) FROM bookings b
       WHERE b.enrolment_id = e.id AND b.status = 'attended'
         AND b.module BETWEEN 1 AND :core) < :core
"""
CONFIG = {"TESTING": True, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
          "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://127.0.0.1"}


def _app(url: str):
    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})


def _median(values):
    return statistics.median(values)


def _floor_parameters(today) -> dict:
    from diversion.domain.compliance import UNBOOKED_WARNING_DAYS
    from diversion.models import Programme
    from diversion.services.programmes import rules_for

    rules = rules_for(db.session.get(Programme, 1))
    assert rules.core_modules == 5, "FLOOR_SQL is written for five core modules"
    spacing = timedelta(days=rules.min_days_between_sessions)
    return {"programme": 1, "today": today, "core": rules.core_modules,
            "warn_until": today + timedelta(days=UNBOOKED_WARNING_DAYS),
            **{f"fits_{m}": today + spacing * (m - 1) for m in range(1, 6)}}


def _floor(today, sql: str = FLOOR_SQL) -> tuple[float, set]:
    parameters = _floor_parameters(today)
    db.session.rollback()
    began = time.perf_counter()
    rows = db.session.execute(sa.text(sql), parameters).all()
    elapsed = time.perf_counter() - began
    db.session.rollback()
    return elapsed, {tuple(row) for row in rows}


def _raised_since(flag_id: int) -> set:
    rows = db.session.execute(sa.text("SELECT enrolment_id, cause FROM flags WHERE id > :id"),
                              {"id": flag_id}).all()
    db.session.rollback()
    return {tuple(row) for row in rows}


def _last_flag() -> int:
    last = db.session.scalar(sa.text("SELECT coalesce(max(id), 0) FROM flags"))
    db.session.rollback()
    return last


def measure_sweep(url: str) -> dict:
    from diversion.services import compliance

    app = _app(url)
    # As the scheduler does before its first run.
    freeze_long_lived()
    with app.app_context():
        today = clock.today()
        floors = [_floor(today) for _ in range(3)]
        one_rule = [_floor(today, ONE_RULE_SQL) for _ in range(3)]
        last = _last_flag()
        tracemalloc.start()
        began = time.perf_counter()
        first = compliance.sweep()
        first_s = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        # The floor's set, found before the run, is the set the run raised.
        first_matches = _raised_since(last) == floors[0][1]
        steady = []
        for _ in range(3):
            began = time.perf_counter()
            again = compliance.sweep()
            steady.append(time.perf_counter() - began)
        steady_floors = [_floor(today) for _ in range(3)]
        one_rule += [_floor(today, ONE_RULE_SQL) for _ in range(2)]
        # The run production makes: the next day's, raising what that day brings.
        clock.set_now(clock.now() + timedelta(days=1))
        next_floors = [_floor(clock.today()) for _ in range(3)]
        last = _last_flag()
        began = time.perf_counter()
        next_day = compliance.sweep()
        next_day_s = time.perf_counter() - began
        next_matches = _raised_since(last) == next_floors[0][1]
        clock.set_now(None)
    return {
        "sweep_first_s": first_s,
        "sweep_first_floor_s": _median([f[0] for f in floors]),
        "sweep_steady_s": _median(steady),
        "sweep_floor_s": _median([f[0] for f in steady_floors]),
        "sweep_one_rule_floor_s": _median([f[0] for f in one_rule]),
        "sweep_next_day_s": next_day_s,
        "sweep_next_day_raised": next_day.raised,
        "sweep_next_day_floor_s": _median([f[0] for f in next_floors]),
        "floor_rows": len(floors[0][1]),
        "sweep_raised": first.raised,
        "sweep_raised_again": again.raised,
        "evaluated": first.evaluated,
        "floor_matches_sweep": first_matches and next_matches
        and not steady_floors[0][1],
        "sweep_tracemalloc_peak_mb": peak / 2**20,
        "process_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class Counter:
    def __init__(self, engine):
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args, **kwargs):
        self.count += 1


def _timed(client, counter, paths, headers=None, repeat=1):
    times, counts, statuses = [], [], set()
    for _ in range(repeat):
        for path in paths:
            counter.count = 0
            began = time.perf_counter()
            response = client.get(path, headers=headers or {})
            times.append((time.perf_counter() - began) * 1000)
            counts.append(counter.count)
            statuses.add(response.status_code)
    times.sort()
    return {"p50_ms": _median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "statements": max(counts), "statements_min": min(counts),
            "statuses": sorted(statuses), "requests": len(times)}


def measure_pages(url: str) -> dict:
    from diversion.services import accounts, invitations
    from diversion.services.accounts import actor_for

    rng = random.Random(3)
    app = _app(url)
    results = {}
    with app.app_context():
        counter = Counter(db.engine)
        officer_email = "officer0.f01@load.diversion.test"
        officer = {"Authorization": f"Bearer {accounts.create_token(officer_email)}"}
        force_id = accounts.user_by_email(officer_email).force_id
        coordinator_user = accounts.user_by_email("coordinator0@load.diversion.test")
        ids = list(db.session.scalars(sa.text(
            "SELECT id FROM enrolments WHERE force_id = :f ORDER BY id"), {"f": force_id}))
        session_ids = list(db.session.scalars(sa.text(
            "SELECT id FROM sessions WHERE booked >= 8 ORDER BY id")))
        feed_token = invitations.issue_feed_token(actor_for(coordinator_user),
                                                  _six_appointments(force_id))
        # The generated accounts have no password: give this one a password of this run's
        # own, kept in memory, so the register page can be read signed in.
        password = secrets.token_urlsafe(24)
        accounts.user_by_email(coordinator_user.email).password_hash = (
            accounts.hash_password(password))
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    for _ in range(3):  # warm up: imports, caches, connections
        client.get("/api/v1/enrolments", headers=officer)
    # As each gunicorn worker does once it has loaded the app.
    freeze_long_lived()
    results["enrolment list"] = _timed(client, counter, [
        "/api/v1/enrolments", "/api/v1/enrolments?status=enrolled",
        "/api/v1/enrolments?flag=at_risk", "/api/v1/enrolments?status=awaiting_follow_up",
        f"/api/v1/enrolments?after={ids[len(ids) // 2]}"], officer, repeat=12)
    results["flags queue"] = _timed(client, counter, ["/api/v1/flags", "/api/v1/flags?limit=100"],
                                    officer, repeat=30)
    results["enrolment page"] = _timed(
        client, counter, [f"/api/v1/enrolments/{i}" for i in rng.sample(ids, 60)], officer)
    login = client.post("/login", data={"email": coordinator_user.email, "password": password})
    results["session register"] = _timed(
        client, counter, [f"/coordinator/sessions/{i}" for i in rng.sample(session_ids, 60)])
    results["session register"]["login_status"] = login.status_code
    results["feed"] = _timed(client, counter, [f"/calendar/{feed_token}.ics"], repeat=100)
    results["planning"] = _planning(app)
    results["planning one at a time"] = _planning(app, 200, one_at_a_time=True)
    results["process_max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def _six_appointments(force_id: int) -> int:
    """Insert a participant booked into six future sessions (five modules and a follow-up)."""
    from diversion.models import Booking, Case, CourseSession, Enrolment

    now = clock.now()
    today = clock.today()
    officer = db.session.scalar(sa.text(
        "SELECT id FROM users WHERE force_id = :f LIMIT 1"), {"f": force_id})
    case = Case(force_id=force_id, reference="BENCH/FEED", given_name="Feed",
                family_name="Reader", date_of_birth=today.replace(year=1990),
                email="feed@example.com", previous_sexual_or_violent_conviction=False,
                first_offence=True, image_category="C", contact_offending_suspected=False,
                children_at_risk=False, prosecutor_agreed=True, participant_consented=True,
                eligible=True, created_by_id=officer, created_at=now)
    db.session.add(case)
    db.session.flush()
    enrolment = Enrolment(case_id=case.id, force_id=force_id, programme_id=1,
                          status="enrolled", start_date=today,
                          original_core_deadline=today + timedelta(days=120),
                          core_deadline=today + timedelta(days=120), created_by_id=officer,
                          created_at=now)
    db.session.add(enrolment)
    db.session.flush()
    for module in range(0, 6):
        session = db.session.scalar(
            sa.select(CourseSession).where(CourseSession.module == module,
                CourseSession.starts_at > now,
                                     CourseSession.status == "scheduled",
                                     CourseSession.booked < CourseSession.capacity)
            .order_by(CourseSession.starts_at).limit(1).with_for_update())
        session.booked += 1
        db.session.add(Booking(enrolment_id=enrolment.id, session_id=session.id,
                               module=module, status="booked",
                               uid=f"bench-feed-{module}@diversion", created_at=now,
                               updated_at=now))
    db.session.commit()
    return enrolment.id


def _planning(app, count: int = 1000, *, one_at_a_time: bool = False) -> dict:
    """Plan COUNT new enrolments against six months of a programme's sessions.

    As a cohort (planning.plan_enrolments, batches of 200 in a transaction each), or
    one at a time, a transaction per enrolment, as POST /enrolments/{id}/plan does.
    """
    from diversion.domain.holidays import is_public_holiday
    from diversion.models import Case, CourseSession, Enrolment, Programme, Venue
    from diversion.services import planning
    from diversion.services.accounts import actor_for, user_by_email

    with app.app_context():
        now = clock.now()
        today = clock.today()
        programme = Programme(name="Bench planning")
        venue = Venue(name="Bench hall", address="1 Bench Road", created_at=now)
        db.session.add_all([programme, venue])
        db.session.flush()
        sessions = 0
        for week in range(26):
            for module in range(1, 6):
                for weekday, hour in ((module - 1, 18), ((module + 1) % 5, 10)):
                    day = today + timedelta(days=7 * week + 1 + weekday)
                    if is_public_holiday(day, "GB-ENG"):
                        continue
                    starts = datetime.combine(day, datetime.min.time(), tzinfo=UTC) \
                        + timedelta(hours=hour)
                    db.session.add(CourseSession(
                        programme_id=programme.id, module=module, starts_at=starts,
                        ends_at=starts + timedelta(minutes=90), venue_id=venue.id,
                        capacity=60, booked=0, created_at=now, updated_at=now))
                    sessions += 1
        officer = db.session.scalar(sa.text("SELECT id FROM users WHERE force_id = 2 LIMIT 1"))
        ids = []
        for n in range(count):
            case = Case(force_id=2, reference=f"BENCH/PLAN/{n}/{now.timestamp():.0f}",
                        given_name="Plan", family_name=f"Person{n}",
                        date_of_birth=today.replace(year=1985),
                        email=f"plan{n}@example.com",
                        previous_sexual_or_violent_conviction=False, first_offence=True,
                        image_category="C", contact_offending_suspected=False,
                        children_at_risk=False, prosecutor_agreed=True,
                        participant_consented=True, eligible=True, created_by_id=officer,
                        created_at=now)
            enrolment = Enrolment(case=case, force_id=2, programme_id=programme.id,
                                  status="enrolled", start_date=today,
                                  original_core_deadline=today + timedelta(days=120),
                                  core_deadline=today + timedelta(days=120),
                                  created_by_id=officer, created_at=now)
            db.session.add_all([case, enrolment])
            db.session.flush()
            ids.append(enrolment.id)
        db.session.commit()
        actor = actor_for(user_by_email("coordinator1@load.diversion.test"))
        db.session.remove()
        planned = failed = 0
        began = time.perf_counter()
        if one_at_a_time:
            for enrolment_id in ids:
                try:
                    planned += len(planning.plan_enrolment(actor, enrolment_id))
                except Exception:  # noqa: BLE001 - counted and reported
                    failed += 1
                db.session.remove()
        else:
            outcome = planning.plan_enrolments(actor, ids)
            planned = sum(len(made) for made in outcome.planned.values())
            failed = len(outcome.refused)
        elapsed = time.perf_counter() - began
    return {"seconds": elapsed, "enrolments": count, "sessions": sessions,
            "bookings_made": planned, "refused": failed}


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    result = measure_sweep(url) if mode == "sweep" else measure_pages(url)
    sys.stdout.write(json.dumps(result, default=str) + "\n")
