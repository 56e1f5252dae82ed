"""Run every benchmark and print one table; write bench/results.json.

    python bench/run.py            # BENCH_SIZES="12000 120000" by default

For each size and backend: a fresh database, the migrations, ``bench/loadgen.py``,
then the sweep (own process, for its peak memory), the pages, feed and planning
(own process), and on PostgreSQL booking throughput against gunicorn.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv/bin/python")
FLASK = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi"]
PG = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "12000 120000").split()]
DATA = ROOT / "bench" / ".data"
SQLITE_UP_TO = 120_000
# The mixed load runs on PostgreSQL at the national design size.
MIXED_SIZES = {int(n) for n in os.environ.get("BENCH_MIXED_SIZES", "120000").split()}


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _fresh_postgresql(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(url.rsplit("/", 1)[0].replace("postgresql://",
                                                          "postgresql+psycopg://") + "/postgres",
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _run(args: list[str], url: str, *, progress: bool = False) -> str:
    env = {**os.environ, "DATABASE_URL": url, "RATELIMIT_DISABLED": "1"}
    # A long step (the bulk load) shows its progress bar on the terminal as it goes.
    done = subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=None if progress else subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{(done.stderr or '')[-3000:]}")
    return done.stdout


def _load(backend: str, size: int) -> tuple[str, float]:
    if backend == "postgresql":
        url = PG
        _fresh_postgresql(url)
    else:
        DATA.mkdir(exist_ok=True)
        path = DATA / f"bench-{size}.sqlite3"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    _run([*FLASK, "db", "upgrade"], url)
    began = time.perf_counter()
    _run([PY, "bench/loadgen.py", "--enrolments", str(size)], url, progress=True)
    loaded = time.perf_counter() - began
    if backend == "postgresql":
        from throughput import settle

        # The bulk load leaves gigabytes of dirty pages: write them out before measuring.
        settle(url)
    return url, loaded


def _json(args: list[str], url: str) -> dict:
    return json.loads(_run(args, url).strip().splitlines()[-1])


def measure(backend: str, size: int) -> dict:
    _say(f"== {backend} N={size}: loading")
    url, load_s = _load(backend, size)
    _say(f"   loaded in {load_s:.1f} s; sweep")
    result = {"load_s": load_s, "sweep": _json([PY, "bench/measure.py", "sweep", url], url)}
    _say("   pages, feed, planning")
    result["pages"] = _json([PY, "bench/measure.py", "pages", url], url)
    if backend == "postgresql":
        _say("   booking throughput (gunicorn, 32 clients)")
        result["throughput"] = _json([PY, "bench/throughput.py", url], url)
        if size in MIXED_SIZES:
            _say("   mixed load (Locust against gunicorn): design rate and saturation")
            result["mixed"] = _json([PY, "bench/mixed.py", url], url)
    return result


def rows(results: dict) -> list[dict]:
    """Turn the raw results into (figure, value, floor, ratio, goal, pass) rows."""
    table = []

    def add(figure, value, goal, ok, floor=None, unit=""):
        ratio = value / floor if floor else None
        table.append({"figure": figure, "value": round(value, 3), "unit": unit,
                      "floor": None if floor is None else round(floor, 4),
                      "ratio": None if ratio is None else round(ratio, 2), "goal": goal,
                      "pass": bool(ok)})

    for key, r in results.items():
        backend, size = key.split(":")
        tag = f"{backend} N={size}"
        s = r["sweep"]
        add(f"load {tag}", r["load_s"], "< 120 s (PostgreSQL, N=120000)",
            backend != "postgresql" or int(size) < 120000 or r["load_s"] < 120, unit="s")
        # The goals hold for PostgreSQL, the production database; SQLite's ratios are
        # reported beside them. The first run raises the whole backlog the load left
        # (thousands of flags written), which the read-only floor does not: its ratio
        # is reported and its goal is the 5 s limit. The steady run (nothing new) and
        # the next day's run (what a daily sweep raises) carry the 1.5x goal.
        production = backend == "postgresql"
        add(f"sweep first run {tag}", s["sweep_first_s"],
            "<= 5 s" if production else "- (reported)",
            not production or s["sweep_first_s"] <= 5, floor=s["sweep_first_floor_s"], unit="s")
        for name, value, floor in (
                ("sweep steady run", s["sweep_steady_s"], s["sweep_floor_s"]),
                (f"sweep next day ({s['sweep_next_day_raised']} new flags)",
                 s["sweep_next_day_s"], s["sweep_next_day_floor_s"])):
            add(f"{name} {tag}", value,
                "<= 5 s and <= 1.5x floor" if production else "- (reported)",
                not production or (value <= 5 and value <= 1.5 * floor), floor=floor,
                unit="s")
        add(f"sweep peak memory (tracemalloc) {tag}", s["sweep_tracemalloc_peak_mb"],
            "<= 500 MB", s["sweep_tracemalloc_peak_mb"] <= 500, unit="MB")
        add(f"sweep process max RSS {tag}", s["process_max_rss_mb"], "<= 500 MB",
            s["process_max_rss_mb"] <= 500, unit="MB")
        # Against the earlier floor, the non-completion rule alone: reported, no goal.
        add(f"sweep steady run vs one-rule floor {tag}", s["sweep_steady_s"], "- (reported)",
            True, floor=s["sweep_one_rule_floor_s"], unit="s")
        add(f"sweep second run raises nothing {tag}", s["sweep_raised_again"], "0",
            s["sweep_raised_again"] == 0)
        add(f"sweep raises the floor's set, first run and next day {tag}",
            s["floor_rows"], "equal sets", s["floor_matches_sweep"])
        p = r["pages"]
        for page in ("enrolment list", "flags queue", "session register", "enrolment page"):
            add(f"{page} p50 {tag}", p[page]["p50_ms"], "-", True, unit="ms")
            add(f"{page} p95 {tag}", p[page]["p95_ms"], "<= 100 ms",
                p[page]["p95_ms"] <= 100, unit="ms")
            add(f"{page} SQL statements {tag}", p[page]["statements"], "<= 12, constant",
                p[page]["statements"] <= 12)
        add(f"feed p95 {tag}", p["feed"]["p95_ms"], "<= 20 ms", p["feed"]["p95_ms"] <= 20,
            unit="ms")
        plan = p["planning"]
        add(f"planning {plan['enrolments']} enrolments as a cohort {tag}", plan["seconds"],
            "<= 10 s", plan["seconds"] <= 10 and plan["refused"] == 0, unit="s")
        alone = p["planning one at a time"]
        add(f"planning one at a time, per enrolment {tag}",
            1000 * alone["seconds"] / alone["enrolments"], "- (reported)",
            alone["refused"] == 0, unit="ms")
        if "throughput" in r:
            t = r["throughput"]
            add(f"bookings/s, 32 clients, vs the service's bare endpoint {tag}",
                t["bookings_per_second"], ">= 35% of bare",
                t["bookings_per_second"] >= 0.35 * t["bare_flask"]["per_second"],
                floor=t["bare_flask"]["per_second"], unit="/s")
            add(f"booking request p95, 32 clients {tag}", t["booking"]["p95_ms"],
                "<= 100 ms", t["booking"]["p95_ms"] <= 100, unit="ms")
            # With 32 clients and no think time a request waits for the 31 before it,
            # so the bare endpoint's own p95 is where the booking's p95 could be at best.
            add(f"bare endpoint request p95, 32 clients {tag}", t["bare_flask"]["p95_ms"],
                "- (reported)", True, unit="ms")
            add(f"booking requests/s, refusals included, vs the bare endpoint {tag}",
                t["booking"]["per_second"], "- (reported)", True,
                floor=t["bare_flask"]["per_second"], unit="/s")
            add(f"bookings/s, 32 clients, vs a bare WSGI app {tag}",
                t["bookings_per_second"], "- (reported)", True,
                floor=t["bare_wsgi"]["per_second"], unit="/s")
            add(f"overbooked sessions {tag}",
                t["sessions_over_capacity"] + t["sessions_counter_drift"], "0",
                t["sessions_over_capacity"] + t["sessions_counter_drift"] == 0)
            add(f"web worker RSS {tag}", t["worker_rss_mb"], "<= 200 MB",
                t["worker_rss_mb"] <= 200, unit="MB")
        if "mixed" in r:
            m = r["mixed"]
            design = m["design"]
            for name, e in sorted(design["endpoints"].items()):
                add(f"mixed load p95 {name} {tag}", e["p95_ms"],
                    "<= 150 ms, 0 errors (500 staff)", e["p95_ms"] <= 150 and e["failures"] == 0,
                    unit="ms")
            add(f"mixed load requests/s at the design rate {tag}",
                design["requests_per_second"], "- (reported)", design["errors"] == 0, unit="/s")
            add(f"mixed load database CPU at the design rate {tag}",
                design["database_cpu_cores"], "- (reported)", True, unit="cores")
            add(f"mixed load web workers' CPU at the design rate {tag}",
                design["web_cpu_cores"], "- (reported)", True, unit="cores")
            add(f"mixed load saturation (every p95 < 500 ms), staff {tag}",
                m["saturation_staff"], ">= 500 (design rate)", m["saturation_staff"] >= 500)
    # Growth from each size to the next: the sweep at most linear, statements constant.
    for backend in ("postgresql", "sqlite"):
        sizes = [n for n in SIZES if f"{backend}:{n}" in results]
        for small, large in itertools.pairwise(sizes):
            a, b = results[f"{backend}:{small}"], results[f"{backend}:{large}"]
            factor = large / small
            for run in ("sweep_first_s", "sweep_steady_s"):
                growth = b["sweep"][run] / a["sweep"][run]
                add(f"{run[:-2].replace('_', ' ')} growth {backend} N {small}->{large}", growth,
                    f"<= {factor:g} (linear)", growth <= factor)
            for page in ("enrolment list", "flags queue", "session register", "enrolment page"):
                before, after = a["pages"][page]["statements"], b["pages"][page]["statements"]
                add(f"{page} SQL statements {backend} N {small}->{large}", after,
                    f"= {before} (constant)", after == before)
    return table


def show(table: list[dict]) -> str:
    lines = [f"{'figure':<52} {'value':>12} {'floor':>10} {'ratio':>7}  {'goal':<30} result"]
    for row in table:
        value = f"{row['value']:g} {row['unit']}".strip()
        floor = "" if row["floor"] is None else f"{row['floor']:g}"
        ratio = "" if row["ratio"] is None else f"{row['ratio']:g}x"
        lines.append(f"{row['figure']:<52} {value:>12} {floor:>10} {ratio:>7}  "
                     f"{row['goal']:<30} {'pass' if row['pass'] else 'FAIL'}")
    return "\n".join(lines)


def _keep(results: dict, table: list[dict]) -> None:
    (ROOT / "bench" / "results.json").write_text(json.dumps(
        {"sizes": SIZES, "table": table, "raw": results,
         "machine": {"cpus": os.cpu_count()}}, indent=2, default=str) + "\n")


def main() -> None:
    results: dict = {}
    for size in SIZES:
        for backend in ("postgresql", "sqlite"):
            # SQLite is the embedded database of `make run` and the tests, not of a
            # national service: past the design size only PostgreSQL is measured.
            if backend == "sqlite" and size > SQLITE_UP_TO:
                continue
            results[f"{backend}:{size}"] = measure(backend, size)
            # A long run that fails at a larger size keeps what it measured before.
            _keep(results, rows(results))
    table = rows(results)
    _say("== send-mail throughput (aiosmtpd on loopback)")
    mail = _json([PY, "bench/mail.py", "300"], "sqlite://")
    table.append({"figure": "send-mail messages/s (300 invitations, real SMTP)",
                  "value": round(mail["per_second"], 1), "unit": "/s", "floor": None,
                  "ratio": None, "goal": "- (reported)",
                  "pass": mail["received"] == mail["messages"] == 300})
    results["mail"] = mail
    _keep(results, table)
    sys.stdout.write(show(table) + "\n")


if __name__ == "__main__":
    main()
