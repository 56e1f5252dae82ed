"""An administrator of the training environment reads the kept mail and moves the clock."""

from __future__ import annotations

from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from diversion import clock
from diversion.extensions import db
from diversion.notify.delivery import deliver_all
from diversion.notify.sink import Handler
from tests.conftest import enrol_case, make_user
from tests.functional.browser.test_journeys import enter_date, sign_in
from tests.functional.conftest import VENUE
from tests.functional.test_training import app  # noqa: F401  (the training environment)
from tests.integration.notify.conftest import free_port

SLOW = 15_000


def test_an_administrator_reads_the_mail_a_participant_got_and_moves_the_clock_on(
        app, open_tab, api_as, tmp_path):  # noqa: F811
    folder = tmp_path / "mail"
    sink = Controller(Handler(folder), hostname="127.0.0.1", port=free_port())
    sink.start()
    app.config.update(MAIL_PORT=sink.port, MAIL_SINK_DIR=str(folder))
    try:
        coordinator = api_as("coordinator", force=None)
        venue = coordinator.post("/venues", VENUE).get_json()
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": 1, "starts_at": "2027-01-19T18:00:00+00:00",
            "venue_id": venue["id"], "capacity": 10}).get_json()
        enrolment = enrol_case(api_as("case_officer"), "CASE/1", start="2027-01-12")
        clock.set_now(None)  # enrol_case pins the clock it found: back to the training clock
        assert coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": session["id"]}).status_code == 201
        with app.app_context():
            assert deliver_all().sent == 1
            db.session.remove()
    finally:
        sink.stop()
    admin = make_user(role="admin", force=None)

    tab = open_tab("operations")
    page = tab.page
    tab.goto("/login")
    tab.check("Training sign-in")
    sign_in(tab, admin.email)
    page.get_by_role("link", name="Mail", exact=True).click()
    tab.check("Mail kept by the sink")
    page.get_by_role("link", name="Your appointment on Tuesday 19 January at 6pm").click()
    expect(page.frame_locator("iframe[title='The message as HTML']").get_by_text(
        "Please arrive 10 minutes early")).to_be_visible(timeout=SLOW)
    tab.check("One kept message")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the calendar object (invite.ics)").click()
    assert download.value.suggested_filename == "invite.ics"

    page.get_by_role("link", name="Training clock").click()
    tab.check("Training clock")
    page.get_by_role("button", name="Move forward a week").click()
    expect(page.locator(".app-training-banner")).to_contain_text(
        "Tuesday 19 January 2027", timeout=SLOW)
    tab.check("Training clock moved")
    enter_date(page, "Move the clock to a date", 1, 1, 2027)
    page.get_by_role("button", name="Move the clock to this date").click()
    page.get_by_role("alert").get_by_role(
        "link", name="The training clock only moves forward: choose 20 January 2027 or later"
    ).click()
    assert page.evaluate("() => document.activeElement.id") == "day-day"
    tab.check("Training clock refused")
