"""Mixed national use under Locust: per-endpoint latency at the design rate, and saturation.

    python bench/mixed.py DATABASE_URL      # after loadgen; prints one JSON object

The design rate is 500 staff (200 coordinators, 250 case officers, 50 API clients)
thinking 10 s on average between requests, and 5,000 calendar feeds refreshed hourly
(50 simulated calendars on a 36 s pace). Each step runs Locust headless against
``gunicorn`` on this machine for ``MIXED_SECONDS`` after every user has started, with
the staff scaled by the step's factor; the statistics restart once every user is in.
The database's own CPU (every ``postgres`` process) and the web workers' CPU are read
from /proc around each step. The saturation point is the highest staff rate at which
every endpoint's p95 stays under 500 ms.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import WORKERS, _free_port, _gunicorn, _setup, _warm, settle  # noqa: E402

from diversion import create_app  # noqa: E402
from diversion.extensions import db  # noqa: E402

SECONDS = int(os.environ.get("MIXED_SECONDS", "90"))
STEPS = [float(f) for f in os.environ.get("MIXED_STEPS", "0.25 0.5 1 2 4").split()]
DESIGN_STAFF = 500
STAFF_THINK_S = 10
FEED_USERS, FEED_PACE_S = 50, 36.0
SATURATION_P95_MS = 500
FORCES = 8


def _accounts(emails: list[str]) -> list[list[str]]:
    """Passwords made for this run, kept in the fixture file only while Locust runs."""
    from diversion.services import accounts

    made = []
    for email in emails:
        password = secrets.token_urlsafe(18)
        accounts.user_by_email(email).password_hash = accounts.hash_password(password)
        made.append([email, password])
    return made


def fixture(url: str) -> dict:
    from diversion.services import accounts, invitations
    from diversion.services.accounts import actor_for

    book_token, book_sessions, book_enrolments = _setup(url, sessions=40, enrolments=1500,
                                                        capacity=40, label="MIXED-WEB")
    _, api_sessions, api_enrolments = _setup(url, sessions=20, enrolments=800, capacity=40,
                                             hour=19, label="MIXED-API")
    _, _, to_plan = _setup(url, sessions=0, enrolments=600, label="MIXED-PLAN")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        q = lambda sql, **kw: list(db.session.scalars(sa.text(sql), kw))  # noqa: E731
        coordinators = q("SELECT email FROM users WHERE role = 'coordinator' ORDER BY id LIMIT 10")
        forces = []
        for force_id in q("SELECT id FROM forces ORDER BY id LIMIT :n", n=FORCES):
            officer = q("SELECT email FROM users WHERE role = 'case_officer' AND force_id = :f "
                        "ORDER BY id LIMIT 1", f=force_id)[0]
            forces.append({
                "officer": _accounts([officer])[0],
                "officer_token": accounts.create_token(officer),
                "enrolments": q("SELECT id FROM enrolments WHERE force_id = :f "
                                "ORDER BY random() LIMIT 300", f=force_id),
                "flagged": q("SELECT DISTINCT enrolment_id FROM flags f JOIN enrolments e "
                             "ON e.id = f.enrolment_id WHERE e.force_id = :f LIMIT 100",
                             f=force_id)})
        coordinator_accounts = _accounts(coordinators)
        db.session.commit()
        coordinator = accounts.user_by_email(coordinators[0])
        with_bookings = q("SELECT enrolment_id FROM bookings WHERE status = 'booked' "
                          "GROUP BY enrolment_id HAVING count(*) >= 3 LIMIT 200")
        feeds = [invitations.issue_feed_token(actor_for(coordinator), e) for e in with_bookings]
        return {
            "coordinators": coordinator_accounts,
            "coordinator_token": book_token,
            "forces": forces,
            "sessions": q("SELECT id FROM sessions WHERE booked >= 8 ORDER BY random() LIMIT 400"),
            "enrolments": q("SELECT id FROM enrolments ORDER BY random() LIMIT 2000"),
            "overdue_bookings": q(
                "SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id "
                "WHERE b.status = 'booked' AND s.starts_at < now() "
                "AND s.starts_at > now() - interval '20 days' LIMIT 3000"),
            "book": {"sessions": book_sessions, "enrolments": book_enrolments},
            "book_api": {"sessions": api_sessions, "enrolments": api_enrolments},
            "plan": to_plan,
            "feeds": feeds,
        }


def _cpu_seconds(match) -> float:
    """User and system CPU seconds of every live process whose command name matches."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if match(entry, name):
            fields = stat[stat.rindex(")") + 2:].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _is_postgres(_entry, name: str) -> bool:
    return name in ("postgres", "postmaster")


def _children_of(pid: int):
    def match(entry, _name) -> bool:
        try:
            status = (entry / "status").read_text()
        except OSError:
            return False
        return f"\nPPid:\t{pid}\n" in status
    return match


def _stats(prefix: str) -> dict:
    endpoints = {}
    with open(f"{prefix}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            if (row["Name"] == "Aggregated" or row["Name"].startswith("sign in")
                    or row["Request Count"] == "0"):
                continue
            endpoints[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]), "per_second": float(row["Requests/s"])}
    return endpoints


def _sign_in(port: int, made: dict) -> dict[str, list[dict]]:
    """Sign every staff account in once, as at the start of a working day: its cookies."""
    import requests

    signed_in = {}
    accounts = [*made["coordinators"], *(force["officer"] for force in made["forces"])]
    for email, password in accounts:
        browser = requests.Session()
        base = f"http://127.0.0.1:{port}"
        form = browser.get(f"{base}/login", timeout=60).text
        done = browser.post(f"{base}/login", timeout=60, allow_redirects=False, data={
            "email": email, "password": password, "csrf_token": _csrf(form)})
        if done.status_code != 302:
            raise RuntimeError(f"signing in {email} answered {done.status_code}")
        # Domain and path too, so the cookie the server sets later replaces this one.
        signed_in[email] = [{"name": c.name, "value": c.value, "domain": c.domain,
                             "path": c.path} for c in browser.cookies]
    return signed_in


def _warm_pages(port: int, made: dict, signed_in: dict[str, list[dict]]) -> None:
    """Serve each kind of page a few times on every worker before the clock starts.

    A production worker has compiled its templates and statements long before; the
    first of each in a fresh worker costs many times a warm one.
    """
    import requests

    base = f"http://127.0.0.1:{port}"
    force = made["forces"][0]
    visits = [
        (made["coordinators"][0][0], ["/coordinator/sessions",
                                      f"/coordinator/sessions/{made['sessions'][0]}",
                                      f"/coordinator/participants/{made['enrolments'][0]}",
                                      "/coordinator/participants"]),
        (force["officer"][0], ["/cases/enrolments", "/cases/enrolments?status=enrolled",
                               "/cases/dashboard", f"/cases/enrolments/{force['enrolments'][0]}",
                               f"/cases/enrolments/{force['flagged'][0]}/referral-summary"]),
    ]
    for _ in range(3 * WORKERS):
        for email, paths in visits:
            browser = requests.Session()
            for cookie in signed_in[email]:
                browser.cookies.set(cookie["name"], cookie["value"],
                                    domain=cookie["domain"], path=cookie["path"])
            for path in paths:
                browser.get(f"{base}{path}", timeout=60)
        officer = {"Authorization": f"Bearer {force['officer_token']}"}
        for path in ("/api/v1/enrolments?status=enrolled", "/api/v1/flags",
                     f"/api/v1/enrolments/{force['enrolments'][0]}"):
            requests.get(f"{base}{path}", headers=officer, timeout=60)
        requests.get(f"{base}/calendar/{made['feeds'][0]}.ics", timeout=60)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'name="csrf_token" value="([^"]+)"', page)
    return (found.group(1) or found.group(2)) if found else ""


def step(url: str, fixture_path: str, scale: float) -> dict:
    port = _free_port()
    server = _gunicorn("wsgi:app", port, {"DATABASE_URL": url, "RATELIMIT_DISABLED": "1",
                                          "SECRET_KEY": "bench-mixed"})
    users = round(DESIGN_STAFF * scale) + FEED_USERS + 3
    out = tempfile.mkdtemp(prefix="mixed-")
    try:
        _warm(port, "/login", "GET")
        made = json.loads(Path(fixture_path).read_text())
        sessions_path = f"{out}/sessions.json"
        signed_in = _sign_in(port, made)
        Path(sessions_path).write_text(json.dumps(signed_in))
        _warm_pages(port, made, signed_in)
        db_cpu, web_cpu = _cpu_seconds(_is_postgres), _cpu_seconds(_children_of(server.pid))
        began = time.perf_counter()
        done = subprocess.run(
            [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "bench/locustfile.py"),
             "--headless", "--host", f"http://127.0.0.1:{port}", "-u", str(users),
             "-r", "25", "--run-time", f"{SECONDS + users // 25 + 5}s", "--reset-stats",
             "--only-summary", "--csv", f"{out}/step", "--loglevel", "ERROR"],
            env={**os.environ, "MIXED_FIXTURE": fixture_path, "MIXED_SESSIONS": sessions_path,
                 "MIXED_SCALE": str(scale),
                 "MIXED_FEED_USERS": str(FEED_USERS), "MIXED_FEED_PACE": str(FEED_PACE_S)},
            cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - began
        db_cpu = _cpu_seconds(_is_postgres) - db_cpu
        web_cpu = _cpu_seconds(_children_of(server.pid)) - web_cpu
    finally:
        server.terminate()
        server.wait()
    if done.returncode not in (0, 1):  # 1: some requests failed, which the figures show
        raise RuntimeError(done.stderr[-3000:])
    endpoints = _stats(f"{out}/step")
    failures = Path(f"{out}/step_failures.csv").read_text().splitlines()[1:6]
    worst = max(e["p95_ms"] for e in endpoints.values())
    return {
        "scale": scale, "staff": round(DESIGN_STAFF * scale),
        "staff_requests_per_second": round(DESIGN_STAFF * scale / STAFF_THINK_S, 1),
        "requests_per_second": sum(e["per_second"] for e in endpoints.values()),
        "errors": sum(e["failures"] for e in endpoints.values()),
        "worst_p95_ms": worst, "endpoints": endpoints, "failures_seen": failures,
        "database_cpu_cores": round(db_cpu / wall, 2), "web_cpu_cores": round(web_cpu / wall, 2),
    }


def main(url: str) -> None:
    made = fixture(url)
    settle(url)
    handle, fixture_path = tempfile.mkstemp(prefix="mixed-fixture-", suffix=".json")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(made, out)
        steps = []
        for scale in STEPS:
            sys.stderr.write(f"   mixed load x{scale} ({round(DESIGN_STAFF * scale)} staff)\n")
            steps.append(step(url, fixture_path, scale))
            if steps[-1]["worst_p95_ms"] > 2 * SATURATION_P95_MS and scale >= 1:
                break
    finally:
        os.unlink(fixture_path)
    design = next((s for s in steps if s["scale"] == 1), None)
    within = [s for s in steps if s["worst_p95_ms"] < SATURATION_P95_MS and s["errors"] == 0]
    saturation = max(within, key=lambda s: s["scale"]) if within else None
    sys.stdout.write(json.dumps({
        "workers": WORKERS, "design": design, "steps": steps,
        "saturation_staff": saturation["staff"] if saturation else 0,
        "saturation_requests_per_second": saturation["requests_per_second"] if saturation else 0,
    }) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
