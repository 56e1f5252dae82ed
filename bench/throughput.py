"""Booking throughput with 32 concurrent clients against gunicorn on PostgreSQL.

    python bench/throughput.py DATABASE_URL   # prints one JSON object

The same clients then hit bench/bare.py (one INSERT per request) on the same
gunicorn settings: that is the floor the booking endpoint is compared with. The
pair runs BENCH_ROUNDS times (5), each booking round on fresh enrolments and
sessions, and the round with the median ratio is reported with every round's ratio.
Afterwards every session is checked: booked <= capacity and booked equals its
non-cancelled bookings (zero overbooking).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diversion import clock, create_app  # noqa: E402
from diversion.config import normalise_database_url  # noqa: E402
from diversion.extensions import db  # noqa: E402

CLIENTS = 32
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
ENROLMENTS = int(os.environ.get("BENCH_BOOKINGS", "1600"))
SESSIONS = 40
CAPACITY = 36  # 1,440 places for 1,600 requests: the last ones must be refused
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
         str(WORKERS), "--log-level", "warning", "--chdir", str(ROOT), app],
        env={**os.environ, **env}, cwd=ROOT, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn {app} did not start")


def _fire(port: int, requests: list[tuple[str, bytes]], headers: dict,
          method: str = "POST") -> dict:
    """Send every request from CLIENTS threads; return status counts, rate and latency."""
    queue = list(reversed(requests))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    durations: list[float] = []

    def client():
        while True:
            with lock:
                if not queue:
                    return
                path, body = queue.pop()
            sent = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request(method, path, body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
            took = time.perf_counter() - sent
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                durations.append(took)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    durations.sort()
    return {"seconds": elapsed, "statuses": statuses, "per_second": len(requests) / elapsed,
            "p50_ms": 1000 * durations[len(durations) // 2],
            "p95_ms": 1000 * durations[int(len(durations) * 0.95)]}


def _warm(port: int, path: str, method: str) -> None:
    """Let every worker finish importing the app before the clock starts.

    gunicorn's master answers on the port at once while its workers are still
    importing Flask and the service; the first requests would time that instead.
    """
    _fire(port, [(path, b"{}")] * (4 * CLIENTS), {"Content-Type": "application/json"},
          method=method)


def _setup(url: str, *, sessions: int = SESSIONS, enrolments: int = ENROLMENTS,
           capacity: int = CAPACITY, hour: int = 18, label: str = "BOOK"
           ) -> tuple[str, list[int], list[int]]:
    """A coordinator's token, new sessions of module 1 (one a day at HOUR), new enrolments."""
    from diversion.domain.holidays import is_public_holiday
    from diversion.models import Case, CourseSession, Enrolment, Venue
    from diversion.services import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        now = clock.now()
        today = clock.today()
        token = accounts.create_token("coordinator2@load.diversion.test")
        officer = db.session.scalar(sa.text("SELECT id FROM users WHERE force_id = 3 LIMIT 1"))
        venue = Venue(name="Throughput hall", address="3 Race Road", created_at=now)
        db.session.add(venue)
        db.session.flush()
        made, day = [], today + timedelta(days=7)
        while len(made) < sessions:
            day += timedelta(days=1)
            if is_public_holiday(day, "GB-ENG"):
                continue
            starts = datetime.combine(day, clock_time(hour), tzinfo=UTC)
            made.append(CourseSession(programme_id=1, module=1, starts_at=starts,
                                ends_at=starts + timedelta(minutes=90), venue_id=venue.id,
                                capacity=capacity, booked=0, created_at=now, updated_at=now))
        db.session.add_all(made)
        enrolled = []
        for n in range(enrolments):
            case = Case(force_id=3, reference=f"BENCH/{label}/{n}/{now.timestamp():.0f}",
                        given_name="Book", family_name=f"Person{n}",
                        date_of_birth=today.replace(year=1980), email=f"book{n}@example.com",
                        previous_sexual_or_violent_conviction=False, first_offence=True,
                        image_category="C", contact_offending_suspected=False,
                        children_at_risk=False, prosecutor_agreed=True,
                        participant_consented=True, eligible=True, created_by_id=officer,
                        created_at=now)
            enrolment = Enrolment(case=case, force_id=3, programme_id=1, status="enrolled",
                                  start_date=today,
                                  original_core_deadline=today + timedelta(days=120),
                                  core_deadline=today + timedelta(days=120),
                                  created_by_id=officer, created_at=now)
            db.session.add_all([case, enrolment])
            enrolled.append(enrolment)
        db.session.commit()
        return token, [s.id for s in made], [e.id for e in enrolled]


def settle(url: str) -> None:
    """Write out dirty pages now, so no run pays for a checkpoint another one caused."""
    engine = sa.create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def _overbooking(url: str) -> dict:
    engine = sa.create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        over = connection.scalar(sa.text("SELECT count(*) FROM sessions WHERE booked > capacity"))
        drift = connection.scalar(sa.text(
            "SELECT count(*) FROM sessions s WHERE s.booked <> (SELECT count(*) FROM bookings b "
            "WHERE b.session_id = s.id AND b.status <> 'cancelled')"))
    engine.dispose()
    return {"sessions_over_capacity": over, "sessions_counter_drift": drift}


def _worker_rss_mb(master: int) -> float:
    """The largest resident set of the master's worker processes."""
    largest = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields.get("PPid", "0").strip()) == master:
            largest = max(largest, int(fields["VmRSS"].split()[0]))
    return largest / 1024


def _booking_round(url: str, *, read_rss: bool) -> tuple[dict, float | None]:
    """Fresh enrolments and sessions, then every booking request at once."""
    token, sessions, enrolments = _setup(url)
    # The workers are warmed with bookings of their own, as the floors are with their
    # own inserts: a session and enrolments apart from the measured ones.
    _, (warm_session,), warm_enrolments = _setup(
        url, sessions=1, enrolments=4 * CLIENTS, capacity=4 * CLIENTS, hour=10, label="WARM")
    rng = random.Random(5)
    requests = [(f"/api/v1/enrolments/{e}/bookings",
                 json.dumps({"session_id": rng.choice(sessions)}).encode()) for e in enrolments]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    settle(url)
    port = _free_port()
    server = _gunicorn("wsgi:app", port, {"DATABASE_URL": url, "RATELIMIT_DISABLED": "1"})
    rss = None
    try:
        _warm(port, "/healthz", "GET")
        warm = _fire(port, [(f"/api/v1/enrolments/{e}/bookings",
                             json.dumps({"session_id": warm_session}).encode())
                            for e in warm_enrolments], headers)
        if warm["statuses"] != {201: len(warm_enrolments)}:
            raise RuntimeError(f"warm-up bookings answered {warm['statuses']}")
        booking = _fire(port, requests, headers)
        if read_rss:
            # The case officer's list also passes through the workers before RSS is read.
            officer_token = _token(url, "officer0.f01@load.diversion.test")
            for _ in range(50):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", "/api/v1/enrolments?limit=200",
                                   headers={"Authorization": f"Bearer {officer_token}"})
                connection.getresponse().read()
                connection.close()
            rss = _worker_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    return booking, rss


def _floor_round(url: str, target: str, path: str) -> dict:
    settle(url)
    port = _free_port()
    server = _gunicorn(target, port, {"BARE_DATABASE_URL": url, "DATABASE_URL": url,
                                      "RATELIMIT_DISABLED": "1"})
    try:
        _warm(port, path, "POST")
        return _fire(port, [(path, b"{}")] * ENROLMENTS, {"Content-Type": "application/json"})
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


def main(url: str) -> dict:
    """ROUNDS rounds of booking, then both floors; the round with the median ratio reports.

    One run of each swings by a fifth on a shared 2-core machine, so the booking and its
    floors run side by side several times and the middle round is the figure.
    """
    engine = sa.create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE TABLE IF NOT EXISTS bench_bare (id serial PRIMARY KEY, at timestamptz)"))
    engine.dispose()
    rounds, rss = [], None
    for n in range(ROUNDS):
        booking, measured = _booking_round(url, read_rss=n == 0)
        rss = measured if measured is not None else rss
        floors = {"bare_flask": _floor_round(url, "bench.bare:app", "/bench/bare"),
                  "bare_wsgi": _floor_round(url, "bench.bare:wsgi", "/")}
        booked = booking["statuses"].get(201, 0)
        per_second = booked / booking["seconds"]
        rounds.append({"booking": booking, **floors, "bookings_made": booked,
                       "bookings_per_second": per_second,
                       "ratio": per_second / floors["bare_flask"]["per_second"]})
    middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    return {**middle, "bare": middle["bare_flask"],
            "rounds": [{"bookings_per_second": r["bookings_per_second"],
                        "booking_requests_per_second": r["booking"]["per_second"],
                        "bare_flask_per_second": r["bare_flask"]["per_second"],
                        "bare_wsgi_per_second": r["bare_wsgi"]["per_second"]} for r in rounds],
            "round_ratios": [r["ratio"] for r in rounds],
            "round_request_ratios": [r["booking"]["per_second"] / r["bare_flask"]["per_second"]
                                     for r in rounds],
            "places": SESSIONS * CAPACITY, "worker_rss_mb": rss, "workers": WORKERS,
            **_overbooking(url)}


def _token(url: str, email: str) -> str:
    from diversion.services import accounts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        return accounts.create_token(email)


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1])) + "\n")
