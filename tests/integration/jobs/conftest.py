"""Scheduler processes against a real SMTP server, and bookings due under the real clock."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from aiosmtpd.controller import Controller

from diversion import clock
from diversion.config import ROOT
from diversion.domain.holidays import is_public_holiday
from diversion.domain.vocabulary import LONDON
from tests.conftest import case_body
from tests.integration.notify.conftest import Mailbox, free_port

SENDER = "Appointments <appointments@diversion.invalid>"


class SlowMailbox(Mailbox):
    """Takes each message at once, then is slow to say so: a sender killed meanwhile
    has had its message accepted without knowing it (the documented resend window)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        # Called with the count of messages taken, before the reply: a fault mid-send.
        self.on_message = None

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.on_message is not None:
            self.on_message(len(self.messages))
        await asyncio.sleep(self.delay)
        return reply

    def message_ids(self) -> Counter:
        return Counter(m.message_id for m in list(self.messages))


@pytest.fixture
def smtp():
    """A real SMTP server on loopback; set ``smtp.delay`` to slow each reply."""
    box = SlowMailbox(delay=0.0)
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


def scheduler_env(app, smtp, *, interval: int, now: str | None = None) -> dict:
    """The environment a scheduler process is started with: same database, the real
    time unless ``now`` pins the clock."""
    env = {k: v for k, v in os.environ.items() if k != "DIVERSION_NOW"}
    if now is not None:
        env["DIVERSION_NOW"] = now
    env.update(
        # normalise_database_url leaves postgresql+psycopg:// as it is.
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="scheduler-test-secret",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        MAIL_SENDER=SENDER,
        SCHEDULER_MAIL_INTERVAL_SECONDS=str(interval),
        LOG_FORMAT="text",
        DIVERSION_ENV="development",
    )
    return env


class SchedulerProcess:
    """``flask --app APP scheduler`` (or another command) as a child process, its output
    in a file."""

    def __init__(self, env: dict, log_path, app_spec: str = "wsgi",
                 command: tuple[str, ...] = ("scheduler",)) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", app_spec, *command],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )

    def terminate(self, timeout: float = 10) -> int:
        """Send SIGTERM and return the exit code (killing it if it does not stop in time)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"scheduler ignored SIGTERM for {timeout}s:\n{self.log()}") from None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_scheduler(tmp_path):
    """Start scheduler processes; every one is killed at the end of the test, whatever happens."""
    started: list[SchedulerProcess] = []

    def start(env: dict, app_spec: str = "wsgi",
              command: tuple[str, ...] = ("scheduler",)) -> SchedulerProcess:
        process = SchedulerProcess(env, tmp_path / f"scheduler-{len(started)}.log", app_spec,
                                   command)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def wait_until(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def bookings(api_as):
    """Book participants onto a session next week under the real clock: invitations due now."""
    clock.set_now(None)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High Street, Leeds"})
    assert venue.status_code == 201, venue.get_json()
    today = clock.today()
    day = today + timedelta(days=7)
    while day.weekday() != 1 or is_public_holiday(day, "GB-ENG"):
        day += timedelta(days=1)
    starts_at = datetime.combine(day, clock_time(18), tzinfo=LONDON)
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": starts_at.isoformat(),
        "venue_id": venue.get_json()["id"], "capacity": 50})
    assert session.status_code == 201, session.get_json()
    count = iter(range(1, 1000))

    def book(how_many: int) -> list[str]:
        addresses = []
        for _ in range(how_many):
            n = next(count)
            body = case_body(reference=f"CASE/{n}", email=f"p{n}@example.com")
            case = officer.post("/cases", body).get_json()
            enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                                     {"programme_id": 1, "start_date": today.isoformat()})
            assert enrolment.status_code == 201, enrolment.get_json()
            booked = coordinator.post(f"/enrolments/{enrolment.get_json()['id']}/bookings",
                                      {"session_id": session.get_json()["id"]})
            assert booked.status_code == 201, booked.get_json()
            addresses.append(body["participant"]["email"])
        return addresses

    return book
