"""The mail sink of `make run`: every message the service sends is kept as a file, and an
administrator reads it at /admin/mail as its recipient would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar

from diversion import clock
from diversion.config import ROOT
from diversion.notify.sink import Handler
from tests.integration.notify.conftest import NOW, deliver, free_port


@pytest.fixture
def sink(app, tmp_path):
    """The sink's own handler on loopback, and the app pointed at it as in development."""
    folder = tmp_path / "mail"
    controller = Controller(Handler(folder), hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SINK=True, MAIL_SINK_DIR=str(folder), MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=controller.port, MAIL_SINK_PORT=controller.port,
                      MAIL_SENDER="Appointments <appointments@diversion.invalid>")
    yield folder
    controller.stop()


def _booked(api_as) -> str:
    """Book one participant onto a session; return their address."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High Street"})
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-12T18:00:00+00:00",
        "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
    case = officer.post("/cases", {
        "reference": "CASE/1",
        "participant": {"given_name": "Sam", "family_name": "Taylor",
                        "date_of_birth": "1990-04-02", "email": "sam@example.com",
                        "phone": "07700 900982"},
        "screening": {"previous_sexual_or_violent_conviction": False, "first_offence": True,
                      "image_category": "C", "contact_offending_suspected": False,
                      "children_at_risk": False, "prosecutor_agreed": True,
                      "participant_consented": True}}).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    booked = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                              {"session_id": session["id"]})
    assert booked.status_code == 201, booked.get_json()
    return "sam@example.com"


def test_a_message_the_service_sends_is_kept_whole_as_a_file(app, api_as, sink):
    address = _booked(api_as)
    result = deliver(app)
    assert result.sent == 1
    (kept,) = sink.glob("*.eml")
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    message = BytesParser(policy=policy.default).parsebytes(kept.read_bytes())
    assert message["To"] == address
    assert message["Subject"] == "Your appointment on Tuesday 12 January at 6pm"
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert Calendar.from_ical(calendar.get_payload(decode=True)).get("METHOD") == "REQUEST"


def test_an_administrator_lists_reads_and_downloads_the_kept_mail(
        app, client, api_as, login_as, sink):
    _booked(api_as)
    deliver(app)
    login_as("admin", force=None)

    listing = client.get("/admin/mail")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert 'href="/admin/mail"' in html  # in the admin navigation
    assert "Your appointment on Tuesday 12 January at 6pm" in html
    assert "sam@example.com" in html
    assert "Monday 4 January 2027 at 9am" in html
    (name,) = [p.name for p in sink.glob("*.eml")]

    page = client.get(f"/admin/mail/{name}")
    assert page.status_code == 200
    shown = page.get_data(as_text=True)
    assert "Please arrive 10 minutes early" in shown  # the text part
    assert f'<iframe class="app-mail-frame" sandbox src="/admin/mail/{name}/html"' in shown

    frame = client.get(f"/admin/mail/{name}/html")
    assert frame.status_code == 200
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "script-src" not in frame.headers["Content-Security-Policy"]  # default-src 'none'
    assert "<table" in frame.get_data(as_text=True)

    ics = client.get(f"/admin/mail/{name}/invite.ics")
    assert ics.status_code == 200
    assert ics.mimetype == "text/calendar"
    assert ics.headers["Content-Disposition"] == 'attachment; filename="invite.ics"'
    assert Calendar.from_ical(ics.data).get("METHOD") == "REQUEST"

    whole = client.get(f"/admin/mail/{name}/message.eml")
    assert whole.data == (sink / name).read_bytes()


def test_only_an_administrator_reads_the_kept_mail(app, client, api_as, login_as, sink):
    _booked(api_as)
    deliver(app)
    (name,) = [p.name for p in sink.glob("*.eml")]
    assert client.get("/admin/mail").status_code == 302  # to sign in
    login_as("coordinator", force=None, email="cora@example.gov.uk")
    assert client.get("/admin/mail").status_code == 403
    assert client.get(f"/admin/mail/{name}").status_code == 403
    assert client.get(f"/admin/mail/{name}/invite.ics").status_code == 403


def test_no_address_reads_a_file_the_sink_did_not_keep(
        app, client, api_as, login_as, sink, tmp_path):
    _booked(api_as)
    deliver(app)
    (name,) = [p.name for p in sink.glob("*.eml")]
    login_as("admin", force=None)
    (tmp_path / "secret.eml").write_text("Subject: not a kept message\n\n")
    for wrong in ("..%2Fsecret.eml", "secret.eml", name.replace(".eml", ".txt")):
        assert client.get(f"/admin/mail/{wrong}").status_code == 404


def test_where_mail_really_goes_out_there_is_no_mail_page(app, client, login_as, sink):
    app.config["MAIL_SINK"] = False
    login_as("admin", force=None)
    assert client.get("/admin/mail").status_code == 404
    assert 'href="/admin/mail"' not in client.get("/admin/jobs").get_data(as_text=True)


def test_the_mail_sink_command_keeps_mail_until_stopped_and_then_stops_cleanly(tmp_path):
    """As `make run` starts it: its own process, stopped by the signal Ctrl-C sends."""
    import smtplib

    folder, port = tmp_path / "mail", free_port()
    env = {**os.environ, "MAIL_SINK_DIR": str(folder), "MAIL_SINK_PORT": str(port),
           "DATABASE_URL": f"sqlite:///{tmp_path}/sink.sqlite3", "DIVERSION_ENV": "development",
           "SECRET_KEY": "sink-test"}
    env.pop("MAIL_SINK", None)
    log = tmp_path / "sink.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail-sink"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "the sink never listened"
                time.sleep(0.1)
        with smtp:
            smtp.sendmail("a@example.com", ["b@example.com"],
                          b"Subject: Hello\r\nTo: b@example.com\r\n\r\nHi\r\n")
        (kept,) = Path(folder).glob("*.eml")
        assert b"Subject: Hello" in kept.read_bytes()
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert f"Mail sink on 127.0.0.1:{port}" in log.read_text()


def test_in_production_the_mail_sink_refuses_to_start_unless_asked_for(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/sink.sqlite3",
           "DIVERSION_ENV": "production", "SECRET_KEY": "x" * 40}
    env.pop("MAIL_SINK", None)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "mail-sink"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "the mail sink is off here" in result.stderr
