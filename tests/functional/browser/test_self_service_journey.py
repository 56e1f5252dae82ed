"""A participant moves their own appointment on a phone, with only a keyboard.

The booking is made through the JSON API, as the coordinator's system would; the link
is the one the invitation carries. The participant uses only what the page shows, on
a 375-pixel-wide screen, and every page passes the checks in ``Pages.check`` (axe-core
among them, and no sideways scrolling at 320 pixels).
"""

from __future__ import annotations

import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import OutboxMessage
from tests.conftest import enrol_case
from tests.functional.browser.test_journeys import MONDAY, banner, focused, follow, tab_to

PHONE = {"width": 375, "height": 812}


def _link(app, booking_id: int) -> str:
    with app.app_context():
        payload = db.session.scalars(
            sa.select(OutboxMessage.payload).where(OutboxMessage.booking_id == booking_id,
                                                   OutboxMessage.kind == "invitation")).one()
        db.session.remove()
    return "/" + payload["link"].split("/", 3)[3]


def test_a_participant_moves_their_appointment_on_a_phone_by_keyboard(open_tab, api_as, app):
    clock.set_now(MONDAY)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre",
                                         "address": "1 High Street"}).get_json()["id"]

    def publish(module: int, starts_at: str) -> int:
        return coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at, "venue_id": venue,
            "capacity": 10}).get_json()["id"]

    booked = publish(1, "2027-01-08T18:00:00")
    publish(1, "2027-01-06T10:00:00")
    enrolment = enrol_case(officer)["id"]
    booking = coordinator.post(f"/enrolments/{enrolment}/bookings",
                               {"session_id": booked}).get_json()["id"]
    tab = open_tab("self-service")
    page = tab.page
    page.set_viewport_size(PHONE)

    tab.goto(_link(app, booking))
    assert page.get_by_role("heading", level=1).inner_text() == "Your appointment"
    assert "Friday 8 January 2027" in page.locator("#appointment").inner_text()
    tab.check("Your appointment")
    page.set_viewport_size(PHONE)

    # Straight to the button without choosing: the page says what to do.
    follow(page, "Change my appointment")
    assert "Select the appointment you want instead" in page.get_by_role("alert").inner_text()
    tab.check("No time chosen")
    page.set_viewport_size(PHONE)

    choice = tab_to(page, "Wednesday 6 January 2027, 10am to 11:30am",
                    legend="Which appointment do you want instead?")
    assert choice["checked"] is False
    page.keyboard.press("Space")
    assert focused(page)["checked"] is True
    follow(page, "Change my appointment")

    assert "Your appointment has changed" in banner(page)
    assert "Wednesday 6 January 2027" in page.locator("#appointment").inner_text()
    assert "10am to 11:30am" in page.locator("#appointment").inner_text()
    tab.check("Appointment changed")
    page.set_viewport_size(PHONE)

    # One move is left, and Friday's session is offered back.
    assert page.get_by_label("Friday 8 January 2027, 6pm to 7:30pm").count() == 1
    tab_to(page, "Anything we should know before we call (optional)")
    page.keyboard.type("Mornings are best")
    follow(page, "Ask us to call you")

    assert page.get_by_role("heading", level=1).inner_text().startswith("We will call you")
    tab.check("Asked to be called")
    page.set_viewport_size(PHONE)
    follow(page, "Back to your appointment")
    assert "You asked us to call you" in page.locator("#asked").inner_text()
