"""A real SMTP server on loopback, an app pointed at it, and a small booking world."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from diversion import clock
from diversion.extensions import db
from diversion.notify.delivery import DeliveryResult, deliver_all, deliver_due
from tests.conftest import case_body
from tests.integration.notify import fake_notify

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    def part(self, content_type: str) -> EmailMessage | None:
        return next((p for p in self.message.walk() if p.get_content_type() == content_type),
                    None)

    def calendar_bytes(self) -> bytes | None:
        part = self.part("text/calendar")
        return None if part is None else part.get_payload(decode=True)

    def calendar(self) -> Calendar | None:
        raw = self.calendar_bytes()
        return None if raw is None else Calendar.from_ical(raw)


class Mailbox:
    """Stores every message; can hang on the nth one, as a server that never answers."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.hang_after: int | None = None
        self.hanging = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hang_after is not None and len(self.messages) >= self.hang_after:
            self.hanging.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Try again later"
        raw = envelope.original_content
        self.messages.append(Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=policy.default),
        ))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if m.rcpt_tos == [address]]

    def kinds(self) -> list[str]:
        return [kind_of(m) for m in self.messages]


def kind_of(received: Received) -> str:
    subject = received.message["Subject"]
    for prefix, kind in (("Updated:", "update"), ("Cancelled:", "cancellation"),
                         ("Reminder:", "reminder"), ("Diweddarwyd:", "update"),
                         ("Wedi'i ganslo:", "cancellation"), ("Nodyn atgoffa:", "reminder"),
                         ("Missed appointment", "missed_notice"),
                         ("Apwyntiad a gollwyd", "missed_notice")):
        if subject.startswith(prefix):
            return kind
    return "invitation"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    box.release.set()
    controller.stop()


@pytest.fixture
def mail_app(app, mailbox):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port,
                      MAIL_SENDER="Appointments <appointments@diversion.invalid>")
    return app


def deliver(app) -> DeliveryResult:
    """Run the outbox as the send-mail command does, in a fresh app context."""
    with app.app_context():
        try:
            return deliver_all()
        finally:
            db.session.remove()


def deliver_side_by_side(app, *, senders: int, batch: int) -> list[DeliveryResult]:
    """Run several senders at once, each in small batches until nothing is due; their results."""
    results, errors = [], []

    def run() -> None:
        with app.app_context():
            try:
                total = deliver_due(limit=batch)
                while total.handled and (more := deliver_due(limit=batch)).handled:
                    total += more
                results.append(total)
            except Exception as error:  # surfaced below: a thread cannot fail the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


@pytest.fixture
def world(api_as, mail_app):
    """A coordinator, a case officer, a venue, and helpers to enrol and publish sessions."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High Street, Leeds"})
    assert venue.status_code == 201, venue.get_json()
    count = iter(range(1, 1000))

    def enrol(email_address: str | None = None, start: str = "2027-01-04",
              language: str | None = None, sms_consent: bool = False) -> dict:
        n = next(count)
        body = case_body(reference=f"CASE/{n}", email=email_address or f"p{n}@example.com")
        if language is not None:
            body["participant"]["language"] = language
        body["participant"]["sms_consent"] = sms_consent
        case = officer.post("/cases", body).get_json()
        response = officer.post(f"/cases/{case['id']}/enrolment",
                                {"programme_id": 1, "start_date": start})
        assert response.status_code == 201, response.get_json()
        return {**response.get_json(), "email": body["participant"]["email"]}

    def session(starts_at: str, module: int = 1, capacity: int = 10) -> dict:
        response = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue.get_json()["id"], "capacity": capacity})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def book(enrolment: dict, session_: dict) -> dict:
        response = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                    {"session_id": session_["id"]})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return {"officer": officer, "coordinator": coordinator, "enrol": enrol,
            "session": session, "book": book, "app": mail_app}


CALLBACK_TOKEN = "a-long-random-callback-token-for-tests"


@pytest.fixture
def notify():
    """A fake GOV.UK Notify on loopback (tests/integration/notify/fake_notify.py)."""
    fake, server = fake_notify.start()
    yield fake
    server.shutdown()
    server.server_close()


def notify_settings(fake) -> dict:
    """The settings that point the app, or a send-mail process, at the fake Notify."""
    return {"NOTIFY_API_KEY": fake_notify.API_KEY,
            "NOTIFY_SMS_TEMPLATE_ID": fake_notify.TEMPLATE_ID,
            "NOTIFY_BASE_URL": fake.url, "NOTIFY_CALLBACK_TOKEN": CALLBACK_TOKEN}


@pytest.fixture
def texting(world, notify):
    """The booking world with text messages on, sent to the fake Notify."""
    world["app"].config.update(notify_settings(notify))
    return {**world, "notify": notify}
