"""Administrators and case officers read the outcome report and download it, in Chromium."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from playwright.sync_api import expect

from diversion import clock
from diversion.extensions import db
from diversion.models import Enrolment
from tests.conftest import enrol_case, make_user
from tests.functional.browser.test_journeys import enter_date, sign_in

NOW = "2027-03-15T09:00:00+00:00"
# Pages load slowly on a busy machine: assertions about a page just opened wait for it.
SLOW = 15_000


def test_an_administrator_and_a_case_officer_read_and_download_the_outcome_report(
        app, open_tab, api_as):
    clock.set_now(NOW)
    met = api_as("case_officer", force="MET")
    kent = api_as("case_officer", force="KENT", email="officer@kent.example.gov.uk")
    ids = [enrol_case(met, reference=f"MET/{n}", start=start)["id"]
           for n, start in enumerate(["2026-11-09", "2027-01-04", "2027-01-20", "2027-02-08"])]
    enrol_case(kent, reference="KENT/1", start="2027-02-10")
    with app.app_context():
        for enrolment_id, status in ((ids[0], "completed"), (ids[1], "completed"),
                                     (ids[2], "referred")):
            db.session.execute(sa.update(Enrolment).where(Enrolment.id == enrolment_id)
                               .values(status=status))
        db.session.commit()
    admin = make_user(role="admin", force=None)
    officer = make_user(role="case_officer", force="MET", email="reader@met.example.gov.uk")

    tab = open_tab("outcomes-admin")
    page = tab.page
    tab.goto("/login")
    sign_in(tab, admin.email)
    page.get_by_role("link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("img", name="Outcomes by force")).to_have_count(1, timeout=SLOW)
    expect(page.get_by_role("img", name="Outcomes by month started")).to_have_count(1)
    tab.check("Outcomes for every force")

    enter_date(page, "From", 1, 3, 2027)
    enter_date(page, "To", 1, 2, 2027)
    page.get_by_role("button", name="Show report").click()
    page.get_by_role("alert").get_by_role(
        "link", name="The end of the period must be on or after its start").click()
    assert page.evaluate("() => document.activeElement.id") == "to-day"
    tab.check("Outcomes with an error")

    tab = open_tab("outcomes-case-officer")
    page = tab.page
    tab.goto("/login")
    sign_in(tab, officer.email)
    page.get_by_role("link", name="Outcomes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcomes", timeout=SLOW)
    enter_date(page, "From", 1, 1, 2027)
    enter_date(page, "To", 31, 3, 2027)
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_role("heading", name="Started from 1 January 2027 to 31 March 2027")
           ).to_have_count(1, timeout=SLOW)
    assert page.get_by_role("img", name="Outcomes by force").count() == 0
    tab.check("Outcomes for the officer's force")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the report by force and month (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(
        download_info.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r["Month started"], r["Enrolled"], r["Completion rate"]) for r in rows] == [
        ("2027-01", "2", "50.0%"), ("2027-02", "1", ""), ("All months", "3", "50.0%")]
