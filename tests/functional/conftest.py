"""A referral story shared by the summary's tests: the service let the participant down."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller

from diversion import clock
from diversion.extensions import db
from diversion.notify.delivery import deliver_all
from tests.conftest import Api, case_body, make_token

VENUE = {"name": "Civic Centre", "address": "1 High Street"}


class Mailbox:
    """A loopback SMTP server that accepts mail, or refuses every recipient for good."""

    def __init__(self) -> None:
        self.accepted = 0
        self.refusing = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(app):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                      MAIL_SENDER="Appointments <appointments@diversion.invalid>")
    yield box
    controller.stop()


def _deliver(app) -> None:
    with app.app_context():
        try:
            deliver_all()
        finally:
            db.session.remove()


@pytest.fixture
def referred(app, client, mailbox):
    """A referral after the service cancelled one session and moved another.

    Module 1 attended; module 2's session cancelled by the service (its cancellation
    never delivered); two weeks with nothing to book; module 2 rebooked, moved, missed
    with an excuse; an extension; module 2 missed again without one; referred.
    """
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", VENUE).get_json()

    def publish(module, starts_at):
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue["id"], "capacity": 10})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def book(session):
        response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                    {"session_id": session["id"]})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def attend(booking, outcome, reason=None, at=None):
        clock.set_now(at)
        response = coordinator.put(f"/bookings/{booking['id']}/attendance",
                                   {"outcome": outcome, "reason": reason})
        assert response.status_code == 200, response.get_json()

    case = officer.post("/cases", case_body(reference="MET/77")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    first = publish(1, "2027-01-05T18:00:00")
    flooded = publish(2, "2027-01-12T18:00:00")
    later = publish(2, "2027-01-26T18:00:00")
    again = publish(2, "2027-02-09T18:00:00")
    m1, _ = book(first), book(flooded)
    _deliver(app)
    attend(m1, "attended", at="2027-01-05T19:30:00+00:00")

    clock.set_now("2027-01-08T10:00:00+00:00")
    cancelled = coordinator.post(f"/sessions/{flooded['id']}/cancel",
                                 {"reason": "Venue flooded"})
    assert cancelled.status_code == 200, cancelled.get_json()
    mailbox.refusing = True
    _deliver(app)
    mailbox.refusing = False

    clock.set_now("2027-01-18T10:00:00+00:00")
    m2 = book(later)
    clock.set_now("2027-01-20T10:00:00+00:00")
    moved = coordinator.patch(f"/sessions/{later['id']}", {"starts_at": "2027-01-28T18:00:00"})
    assert moved.status_code == 200, moved.get_json()
    _deliver(app)
    attend(m2, "absent_excused", "In hospital", at="2027-01-28T19:45:00+00:00")

    clock.set_now("2027-01-29T09:00:00+00:00")
    assert officer.post(f"/enrolments/{enrolment['id']}/decisions", {
        "decision": "continue", "reason": "Hospital stay", "extend_days": 14,
    }).status_code == 201
    clock.set_now("2027-02-01T09:00:00+00:00")
    m2_again = book(again)
    attend(m2_again, "absent_unexcused", at="2027-02-09T19:45:00+00:00")
    clock.set_now("2027-02-10T11:00:00+00:00")
    assert officer.post(f"/enrolments/{enrolment['id']}/decisions", {
        "decision": "refer", "reason": "Missed module 2 without excuse",
    }).status_code == 201
    return {"officer": officer, "enrolment": enrolment, "case": case}


