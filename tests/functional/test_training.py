"""The training environment: a banner on every page, and a clock an administrator moves
forward for web, API, command line and jobs at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from diversion import clock, create_app
from diversion.config import ROOT
from diversion.extensions import db
from tests.conftest import BASE_CONFIG, _current, csrf_from

STARTS_AT = "2027-01-12T09:00:00+00:00"  # a Tuesday


@pytest.fixture
def app(database_url, tmp_path):
    """A training environment whose clock starts at STARTS_AT, kept in its instance folder."""
    application = create_app({
        **BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "ENV_NAME": "training",
        "INSTANCE_PATH": str(tmp_path / "instance"), "DIVERSION_NOW": STARTS_AT,
        "MAIL_SINK": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 8025,
        "MAIL_SINK_PORT": 8025})
    _current.append(application)
    yield application
    _current.pop()
    clock.use_training_clock(None)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def banner(html: str) -> str:
    match = re.search(r'<div class="govuk-phase-banner [^"]*app-training-banner">(.*?)</div>',
                      html, re.S)
    assert match, "no training banner"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def move(client, **data):
    page = client.get("/admin/clock").get_data(as_text=True)
    return client.post("/admin/clock", data={"csrf_token": csrf_from(page), **data})


def test_every_page_says_it_is_training_and_what_the_clock_reads(client, login_as):
    said = "Training The clock reads Tuesday 12 January 2027 at 9am; nothing here is real."
    assert banner(client.get("/login").get_data(as_text=True)) == said
    # A participant's calendar link too: it says nothing about the programme.
    assert banner(client.get("/calendar/no-such-token.ics").get_data(as_text=True)) == said
    login_as("coordinator", force=None)
    assert banner(client.get("/coordinator/week").get_data(as_text=True)) == said


def test_an_administrator_moves_the_clock_forward_for_every_process(
        app, client, login_as, tmp_path):
    login_as("admin", force=None)
    assert "(move the clock)" in banner(client.get("/admin/users").get_data(as_text=True))

    moved = move(client, move="week")
    assert moved.status_code == 302
    page = client.get("/admin/clock").get_data(as_text=True)  # still signed in
    assert "Tuesday 19 January 2027 at 9am" in banner(page)
    assert "The clock now reads Tuesday 19 January 2027 at 9am, for everyone" in page
    # The API reads the same clock: the next sweep is tomorrow morning.
    jobs = {job["job"]: job for job in client.get("/healthz?detail=1").get_json()["jobs"]}
    assert jobs["sweep"]["next_run"] == "2027-01-20T06:00:00+00:00"
    assert jobs["sweep"]["last_scheduled_for"] == "2027-01-19T06:00:00+00:00"  # caught up

    # Another process started from the same folder: the command line.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAIL_", "DIVERSION_", "PUBLIC_BASE_URL"))}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], DIVERSION_ENV="training",
               SECRET_KEY="training-test")
    spec = f"diversion:create_app({{'INSTANCE_PATH': {str(tmp_path / 'instance')!r}}})"
    swept = subprocess.run([sys.executable, "-m", "flask", "--app", spec, "sweep"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.startswith("sweep as of 2027-01-19:")

    assert move(client, move="day").status_code == 302
    assert move(client, day=["1", "2", "2027"]
                ).status_code == 302
    assert "Monday 1 February 2027 at 9am" in banner(
        client.get("/admin/users").get_data(as_text=True))


def test_the_clock_never_moves_backwards(client, login_as):
    login_as("admin", force=None)
    refused = move(client, day=["11", "1", "2027"])
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "The training clock only moves forward: choose 13 January 2027 or later" in html
    assert 'href="#day-day"' in html  # the error summary leads to the date
    assert move(client, day=["12", "1", "2031"]
                ).status_code == 422
    assert "Tuesday 12 January 2027 at 9am" in banner(html)


def test_signing_in_after_the_clock_moved_takes_the_code_the_authenticator_shows(
        app, client, login_as):
    from diversion.services import Actor, training

    with app.app_context():
        training.move_clock(Actor(user_id=None, email="trainer", role="admin"), "week")
    login_as("admin", force=None)  # its code is for the real time, not the training clock
    assert client.get("/admin/clock").status_code == 200


def test_only_an_administrator_moves_the_clock_and_only_in_training(app, client, login_as):
    login_as("coordinator", force=None)
    assert client.get("/admin/clock").status_code == 403
    assert client.post("/admin/clock", data={"move": "week"}).status_code in (400, 403)
    assert "Tuesday 12 January 2027 at 9am" in banner(
        client.get("/coordinator/week").get_data(as_text=True))


def test_outside_training_there_is_no_clock_page_and_no_banner(app, client, login_as):
    app.config["ENV_NAME"] = "development"
    login_as("admin", force=None)
    assert client.get("/admin/clock").status_code == 404
    assert "app-training-banner" not in client.get("/admin/users").get_data(as_text=True)


def test_the_demo_still_has_sessions_to_book_after_the_clock_moves_half_a_year_on(
        app, runner):
    from datetime import timedelta

    from diversion.domain.programme import FOLLOW_UP
    from diversion.services import Actor, sessions, training

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    trainer = Actor(user_id=None, email="trainer", role="admin")
    with app.app_context():
        training.move_clock(trainer, "date", (clock.now() + timedelta(days=182)).date())
        for module in (1, 2, 3, 4, 5, FOLLOW_UP):
            assert sessions.list_sessions(programme_id=1, module=module, start=clock.now(),
                                          include_cancelled=False, limit=1), module
        db.session.remove()
    swept = runner.invoke(args=["sweep"])
    assert swept.output.startswith("sweep as of 2027-07-13:")
    assert " 0 new flags" not in swept.output  # half a year on, deadlines have passed
