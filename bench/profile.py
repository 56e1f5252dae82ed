"""Profile one path with pyinstrument and print where its time goes.

    python bench/profile.py booking URL    # 300 bookings through the API (test client)
    python bench/profile.py planning URL   # 200 new enrolments planned as a cohort

Run against a database filled by ``bench/loadgen.py`` (``make bench`` leaves one).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import measure  # noqa: E402
import throughput  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from diversion import create_app  # noqa: E402


def profile_booking(url: str) -> Profiler:
    token, sessions, enrolments = throughput._setup(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    for enrolment_id in enrolments[:20]:  # warm up: imports, pool, statement cache
        client.post(f"/api/v1/enrolments/{enrolment_id}/bookings",
                    json={"session_id": rng.choice(sessions)}, headers=headers)
    profiler = Profiler(interval=0.0002)
    with profiler:
        for enrolment_id in enrolments[20:320]:
            client.post(f"/api/v1/enrolments/{enrolment_id}/bookings",
                        json={"session_id": rng.choice(sessions)}, headers=headers)
    return profiler


def profile_planning(url: str) -> Profiler:
    app = measure._app(url)
    profiler = Profiler(interval=0.0005)
    with profiler:
        measure._planning(app, 200)
    return profiler


if __name__ == "__main__":
    what, url = sys.argv[1], sys.argv[2]
    profiler = {"booking": profile_booking, "planning": profile_planning}[what](url)
    sys.stdout.write(profiler.output_text(unicode=False, color=False, show_all=False))
