"""CPU per request in process: the booking endpoint beside the service's bare endpoint.

    python bench/cpu.py DATABASE_URL   # after make bench, or any database bench/loadgen.py filled

Not part of the table. Under gunicorn one run of each swings by a fifth on a shared
machine; here both go through the Flask test client in alternating blocks of 50, and
only this process's CPU time (time.process_time, so waiting on PostgreSQL is left out)
is counted, which makes a change of a few per cent visible. Prints both figures and
their ratio.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BLOCKS, BLOCK = 20, 50


def main(url: str) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ["RATELIMIT_DISABLED"] = "1"
    import throughput

    token, sessions, enrolments = throughput._setup(url)
    import bare
    from sqlalchemy import text

    from diversion.extensions import db

    with bare.app.app_context():
        db.session.execute(text(
            "CREATE TABLE IF NOT EXISTS bench_bare (id serial PRIMARY KEY, at timestamptz)"))
        db.session.commit()
    client = bare.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    unbooked = iter(enrolments)

    def booking():
        return client.post(f"/api/v1/enrolments/{next(unbooked)}/bookings",
                           json={"session_id": rng.choice(sessions)}, headers=headers)

    def floor():
        return client.post("/bench/bare", json={})

    for _ in range(40):  # imports, pool, prepared statements
        booking(), floor()
    spent = {"booking": 0.0, "bare": 0.0}
    for _ in range(BLOCKS):
        for name, request in (("booking", booking), ("bare", floor)):
            began = time.process_time()
            for _ in range(BLOCK):
                status = request().status_code
                if status not in (201, 409):
                    raise RuntimeError(f"{name} answered {status}")
            spent[name] += time.process_time() - began
    per = {name: seconds / (BLOCKS * BLOCK) * 1000 for name, seconds in spent.items()}
    return {"booking_cpu_ms": per["booking"], "bare_cpu_ms": per["bare"],
            "ratio": per["bare"] / per["booking"]}


if __name__ == "__main__":
    result = main(sys.argv[1])
    sys.stdout.write(" ".join(f"{key} {value:.3f}" for key, value in result.items()) + "\n")
