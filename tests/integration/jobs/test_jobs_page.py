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
