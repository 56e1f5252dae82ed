"""The outcome report pages: every force for administrators, their own for case officers."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import AuditEvent, Enrolment
from tests.conftest import enrol_case
from tests.functional.test_coordinator_pages import text_of

NOW = "2027-03-15T09:00:00+00:00"
PERIOD = "from=1&from=1&from=2027&to=31&to=3&to=2027"


@pytest.fixture
def world(app, api_as):
    """Three Met enrolments (one completed, one referred) and one in Kent."""
    met = api_as("case_officer", force="MET")
    kent = api_as("case_officer", force="KENT", email="officer@kent.example.gov.uk")
    ids = []
    for n, start in enumerate(["2027-01-04", "2027-01-20", "2027-02-08"]):
        clock.set_now(f"{start}T09:00:00+00:00")  # each enrolled on its start date
        ids.append(enrol_case(met, reference=f"MET/{n}", start=start)["id"])
    clock.set_now("2027-02-10T09:00:00+00:00")
    enrol_case(kent, reference="KENT/1", start="2027-02-10")
    clock.set_now(NOW)
    with app.app_context():
        for enrolment_id, status in ((ids[0], "completed"), (ids[1], "referred")):
            db.session.execute(sa.update(Enrolment).where(Enrolment.id == enrolment_id)
                               .values(status=status))
        db.session.commit()
    return app


def row_of(html: str, first_cell: str) -> list[str]:
    """Return the text of a table row's cells, found by its first cell."""
    match = re.search(rf"<t[hd][^>]*>\s*(?:<strong>)?{re.escape(first_cell)}(?:</strong>)?\s*"
                      r"</t[hd]>(.*?)</tr>", html, re.S)
    assert match, f"no row for {first_cell}"
    return [unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1),
                                                    re.S)]


def test_an_administrator_sees_outcomes_by_force_and_by_month(world, client, login_as):
    login_as("admin", force=None)
    assert 'href="/admin/reports/outcomes"' in client.get("/admin/users").get_data(as_text=True)
    page = client.get(f"/admin/reports/outcomes?{PERIOD}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Started from 1 January 2027 to 31 March 2027" in text_of(page)
    assert row_of(html, "MET Police (MET)") == ["3", "1", "1", "1", "0", "50%"]
    assert row_of(html, "KENT Police (KENT)") == ["1", "1", "0", "0", "0", "None closed"]
    assert row_of(html, "All forces") == ["4", "2", "1", "1", "0", "50%"]
    assert row_of(html, "January 2027") == ["2", "0", "1", "1", "0", "50%"]
    assert row_of(html, "February 2027") == ["2", "2", "0", "0", "0", "None closed"]
    assert html.count('role="img"') == 2
    assert 'aria-labelledby="forces-chart-title forces-chart-desc"' in html


def test_a_case_officer_sees_only_their_own_forces_outcomes(world, client, login_as):
    login_as("case_officer", force="KENT", email="kent.pages@example.gov.uk")
    page = client.get(f"/cases/reports/outcomes?{PERIOD}")
    html = page.get_data(as_text=True)
    assert "By month started: KENT Police" in text_of(page)
    assert "MET" not in html
    assert html.count('role="img"') == 1
    assert row_of(html, "February 2027") == ["1", "1", "0", "0", "0", "None closed"]


def test_without_a_period_the_last_twelve_months_are_shown(world, client, login_as):
    login_as("case_officer", force="MET", email="met.pages@example.gov.uk")
    page = client.get("/cases/reports/outcomes")
    assert "Started from 1 April 2026 to 15 March 2027" in text_of(page)
    html = page.get_data(as_text=True)
    assert re.search(r'id="from-year" name="from" type="text"[^>]*value="2026"', html)


@pytest.mark.parametrize(("query", "message", "anchor"), [
    ("from=1&from=2&from=2027&to=31&to=1&to=2027",
     "The end of the period must be on or after its start", "to-day"),
    ("from=31&from=2&from=2027&to=1&to=3&to=2027",
     "Enter the from date as a real date, like 1 1 2027", "from-day"),
    ("from=1&from=1&from=1999&to=1&to=3&to=2027", "Dates must be between 2000 and 2100",
     "from-day"),
    ("from=&from=&from=&to=1&to=3&to=2027",
     "Enter the from date as a real date, like 1 1 2027", "from-day"),
    ("from=1", "Enter the from date as a real date, like 1 1 2027", "from-day"),
])
def test_a_period_that_cannot_be_is_a_field_error(world, client, login_as, query, message,
                                                  anchor):
    login_as("admin", force=None)
    page = client.get(f"/admin/reports/outcomes?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="#{anchor}">{message}</a>' in html
    assert 'role="img"' not in html


def test_the_csv_download_has_a_row_per_month_and_is_recorded(world, client, login_as):
    user = login_as("case_officer", force="MET", email="met.csv@example.gov.uk")
    page = client.get(f"/cases/reports/outcomes?{PERIOD}").get_data(as_text=True)
    (link,) = re.findall(r'href="([^"]+)" download>Download the report', page)
    response = client.get(unescape(link))
    assert response.mimetype == "text/csv"
    assert 'filename="outcomes-2027-01-01-to-2027-03-31.csv"' in response.headers[
        "Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["Force code"], r["Month started"], r["Enrolled"]) for r in rows] == [
        ("MET", "2027-01", "2"), ("MET", "2027-02", "1"), ("MET", "All months", "3")]
    with world.app_context():
        (event,) = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.object_type == "outcome_report"))
        assert (event.actor, event.action, event.detail["export"]) == (user.email, "read", "csv")


def test_looking_at_the_report_is_not_an_export(world, client, login_as):
    login_as("admin", force=None)
    client.get(f"/admin/reports/outcomes?{PERIOD}")
    with world.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "outcome_report")) == 0


@pytest.mark.parametrize(("role", "path"), [
    ("coordinator", "/admin/reports/outcomes"), ("coordinator", "/cases/reports/outcomes"),
    ("coordinator", "/cases/reports/outcomes.csv"), ("case_officer", "/admin/reports/outcomes"),
    ("case_officer", "/admin/reports/outcomes.csv"), ("admin", "/cases/reports/outcomes"),
])
def test_each_report_page_is_only_for_its_audience(client, login_as, role, path):
    login_as(role, force="MET" if role == "case_officer" else None)
    assert client.get(path).status_code == 403
