"""send-mail throughput against a local SMTP server (aiosmtpd on 127.0.0.1).

    python bench/mail.py [COUNT]   # prints one JSON object

A fresh SQLite database gets COUNT bookings (one invitation each) through the
services; then the outbox is delivered over real SMTP and timed.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diversion import clock, create_app  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.count += 1
        return "250 OK"


def main(count: int) -> dict:
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = create_app({
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/mail.sqlite3",
                "SECRET_KEY": "bench", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                "MAIL_SENDER": "appointments@appointments.invalid",
            })
            with app.app_context():
                return _run(count, sink)
    finally:
        controller.stop()


def _run(count: int, sink: Sink) -> dict:
    from flask_migrate import upgrade

    from diversion.notify import delivery
    from diversion.services import accounts, bookings, cases, enrolments, sessions, venues
    from diversion.services.accounts import actor_for

    upgrade()
    clock.set_now("2027-01-04T09:00:00+00:00")
    accounts.create_force("MET", "Met")
    coordinator = actor_for(accounts.create_user("c@bench.test", "coordinator",
                                                 password="bench passphrase"))
    officer = actor_for(accounts.create_user("o@bench.test", "case_officer",
                                             password="bench passphrase", force_code="MET"))
    venue = venues.create_venue(coordinator, "Hall", "1 High Street")
    session = sessions.publish_session(coordinator, programme_id=1, module=1,
                                       starts_at=datetime(2027, 1, 12, 18), venue_id=venue.id,
                                       capacity=count)
    screening = {"previous_sexual_or_violent_conviction": False, "first_offence": True,
                 "image_category": "C", "contact_offending_suspected": False,
                 "children_at_risk": False, "prosecutor_agreed": True,
                 "participant_consented": True}
    for n in range(count):
        case = cases.record_case(officer, f"B/{n}", {
            "given_name": "Sam", "family_name": "Taylor", "date_of_birth": date(1990, 1, 1),
            "email": f"p{n}@example.com", "phone": None}, screening)
        enrolment = enrolments.enrol(officer, case.id, 1, date(2027, 1, 4))
        bookings.book(coordinator, enrolment.id, session.id)
    began = time.perf_counter()
    result = delivery.deliver_all()
    seconds = time.perf_counter() - began
    return {"messages": result.sent, "received": sink.count, "seconds": seconds,
            "per_second": result.sent / seconds if seconds else 0.0}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)) + "\n")
