"""Admins see each background job's last run, its outcome and when it runs next."""

from __future__ import annotations

import re

from diversion import clock
from diversion.extensions import db
from diversion.jobs import tasks
from diversion.notify.delivery import MailConfigError


def _row(html: str, name: str) -> str:
    rows = [r for r in re.split(r"<tr[ >]", html) if f">{name}<" in r]
    assert len(rows) == 1, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0])).strip()


def test_the_jobs_page_shows_each_jobs_last_run_outcome_summary_and_next_run(
        app, client, login_as):
    clock.set_now("2027-03-01T06:10:00+00:00")
    app.config["MAIL_SERVER"] = ""
    with app.app_context():
        tasks.sweep()
        try:
            tasks.deliver_mail()
        except MailConfigError:
            pass
        db.session.remove()
    login_as("admin", force=None)

    page = client.get("/admin/jobs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/admin/jobs"' in html  # in the admin navigation
    sweep = _row(html, "Compliance sweep")
    assert "Monday 1 March 2027 at 6am" in sweep
    assert "Succeeded" in sweep
    assert "Tuesday 2 March 2027 at 6am" in sweep
    mail = _row(html, "Send mail")
    assert "Failed" in mail
    assert "MailConfigError: MAIL_SERVER is not set" in mail
    digest = _row(html, "Daily digest")
    assert "Never" in digest and "Not run yet" in digest
    assert "Monday 1 March 2027 at 7am" in digest


def test_only_admins_may_see_the_jobs_page(client, login_as):
    assert client.get("/admin/jobs").status_code == 302  # to sign in
    login_as("coordinator", force=None)
    assert client.get("/admin/jobs").status_code == 403


def test_the_jobs_page_says_what_each_run_did_and_what_mail_went_out_in_a_day(
        app, client, login_as, api_as, smtp):
    from tests.conftest import enrol_case
    from tests.integration.jobs.conftest import SENDER

    clock.set_now("2027-01-04T09:00:00+00:00")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SENDER=SENDER)
    officer, coordinator = api_as("case_officer"), api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High Street"})
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-12T18:00:00+00:00",
        "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
    for reference in ("CASE/1", "CASE/2"):
        enrolment = enrol_case(officer, reference)
        assert coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": session["id"]}).status_code == 201
    with app.app_context():
        tasks.deliver_mail()  # both invitations
        clock.set_now("2027-01-04T09:05:00+00:00")
        tasks.deliver_mail()  # nothing due any more
        db.session.remove()
    login_as("admin", force=None)

    mail = _row(client.get("/admin/jobs").get_data(as_text=True), "Send mail")
    assert "Succeeded" in mail
    assert "Nothing due" in mail
    assert "Last 24 hours: 2 sent" in mail

    enrol_case(officer, "CASE/3")  # never booked
    clock.set_now("2027-05-10T06:10:00+01:00")  # past every core deadline
    with app.app_context():
        tasks.sweep()
        db.session.remove()
    login_as("admin", force=None, email="admin.may@example.gov.uk")  # signed out meanwhile
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert "3 new flags (non-completion 3) among 3 open enrolments" in _row(html,
                                                                        "Compliance sweep")
    assert "Last 24 hours: nothing due" in _row(html, "Send mail")
