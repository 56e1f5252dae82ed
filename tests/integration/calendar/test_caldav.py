"""A real CalDAV server (Radicale, on loopback) must accept what we send."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import requests
from icalendar import Calendar

from diversion.calendar.events import Appointment, feed, invitation

LONDON = ZoneInfo("Europe/London")
STAMP = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
AUTH = ("user", "unused")  # auth type "none" takes any password; rights need a user


@dataclasses.dataclass(frozen=True)
class CalDAV:
    base: str
    calendar: str  # collection URL, ending in "/"

    def url_for(self, uid: str) -> str:
        return f"{self.calendar}{quote(uid, safe='')}.ics"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("radicale")
    port = free_port()
    config = root / "config"
    # A config file of our own, so nothing from ~/.config/radicale or /etc leaks in.
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
        "[logging]\nlevel = warning\n"
    )
    log = (root / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base, process, Path(log.name))
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_answering(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Radicale exited with {process.returncode}:\n{log.read_text()}")
        try:
            requests.get(f"{base}/.web/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"Radicale did not answer within 20 s:\n{log.read_text()}")


@pytest.fixture
def caldav(radicale: str, request: pytest.FixtureRequest) -> CalDAV:
    # One collection per test, so tests cannot see each other's events.
    calendar = f"{radicale}/user/{request.node.name.replace('[', '-').strip(']')}.ics/"
    response = requests.request("MKCALENDAR", calendar, auth=AUTH, timeout=5)
    assert response.status_code == 201, response.text
    return CalDAV(radicale, calendar)


def appointment(uid: str, **changes) -> Appointment:
    base = Appointment(
        uid=uid,
        sequence=0,
        starts_at=datetime(2027, 3, 29, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2027, 3, 29, 11, 30, tzinfo=LONDON),
        summary="Appointment",
        location="Salle — Église Saint-Étienne, 12 rue de l'Église; entrée B, 2ᵉ étage " * 2,
        description="Bring photo ID. Questions: 0113 496 0000",
    )
    return dataclasses.replace(base, **changes)


def without_method(ics: bytes) -> bytes:
    """Drop the iTIP METHOD line: CalDAV stores objects without one (RFC 4791 4.1)."""
    kept = [line for line in ics.split(b"\r\n") if not line.startswith(b"METHOD:")]
    return b"\r\n".join(kept)


def put(caldav: CalDAV, uid: str, ics: bytes) -> requests.Response:
    return requests.put(
        caldav.url_for(uid),
        data=ics,
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=AUTH,
        timeout=5,
    )


def get(caldav: CalDAV, uid: str) -> Calendar:
    response = requests.get(caldav.url_for(uid), auth=AUTH, timeout=5)
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


def invite(appt: Appointment, method: str = "REQUEST") -> bytes:
    return invitation(
        appt,
        organizer="bookings@diversion.example",
        attendee="participant@example.com",
        attendee_name="Sam Taylor",
        dtstamp=STAMP,
        method=method,
    )


def test_radicale_stores_an_invitation_and_returns_it_with_the_same_uid(caldav):
    appt = appointment("booking-1-a1b2c3@diversion.invalid")
    response = put(caldav, appt.uid, without_method(invite(appt)))
    assert response.status_code in (201, 204), response.text

    (event,) = get(caldav, appt.uid).walk("VEVENT")
    assert event["UID"] == appt.uid
    assert event.DTSTART == appt.starts_at
    assert event["LOCATION"] == appt.location.strip()


def test_radicale_accepts_an_update_to_the_same_uid_with_a_higher_sequence(caldav):
    appt = appointment("booking-2-d4e5f6@diversion.invalid")
    assert put(caldav, appt.uid, without_method(invite(appt))).status_code == 201
    moved = dataclasses.replace(
        appt,
        sequence=1,
        starts_at=datetime(2027, 11, 1, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2027, 11, 1, 11, 30, tzinfo=LONDON),
    )
    response = put(caldav, moved.uid, without_method(invite(moved)))
    assert response.status_code in (201, 204), response.text

    (event,) = get(caldav, moved.uid).walk("VEVENT")
    assert event["UID"] == moved.uid
    assert event["SEQUENCE"] == 1
    assert event.DTSTART == moved.starts_at


def test_radicale_accepts_a_cancellation(caldav):
    appt = appointment("booking-3-a7b8c9@diversion.invalid", sequence=2, cancelled=True)
    response = put(caldav, appt.uid, without_method(invite(appt, method="CANCEL")))
    assert response.status_code in (201, 204), response.text

    (event,) = get(caldav, appt.uid).walk("VEVENT")
    assert event["UID"] == appt.uid
    assert event["STATUS"] == "CANCELLED"


def test_radicale_accepts_each_event_of_a_feed(caldav):
    appts = [
        appointment("booking-4-aaa@diversion.invalid"),
        appointment(
            "booking-5-bbb@diversion.invalid",
            starts_at=datetime(2027, 10, 25, 18, 0, tzinfo=LONDON),
            ends_at=datetime(2027, 10, 25, 19, 30, tzinfo=LONDON),
        ),
    ]
    published = Calendar.from_ical(feed(appts, dtstamp=STAMP, name="Appointments"))
    (zone,) = published.walk("VTIMEZONE")
    events = published.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [appt.uid for appt in appts]
    for event in events:
        # CalDAV takes one event per resource, with the VTIMEZONE it refers to.
        single = Calendar()
        for name in ("VERSION", "PRODID", "CALSCALE"):
            single.add(name, published[name])
        single.add_component(zone)
        single.add_component(event)
        uid = str(event["UID"])
        response = put(caldav, uid, single.to_ical())
        assert response.status_code in (201, 204), response.text
        (stored,) = get(caldav, uid).walk("VEVENT")
        assert stored["UID"] == uid
        assert stored.DTSTART == event.DTSTART
