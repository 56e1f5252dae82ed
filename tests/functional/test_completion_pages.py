"""A completed enrolment says so on its page, and the dashboard lists the recent completions."""

from __future__ import annotations

import re
from html import unescape

import pytest

from diversion import clock
from tests.conftest import PASSWORD, Api, csrf_from, enrol_case, make_token


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def completed(client):
    """MET/DONE attends five modules and the follow-up (2 November 2027); MET/OPEN does not."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer", email="api.officer@example.gov.uk"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", {"name": "Hall", "address": "2 Low St"}).get_json()

    def attend(enrolment_id, module, starts_at):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": starts_at,
            "venue_id": venue["id"], "capacity": 10}).get_json()
        booking = coordinator.post(f"/enrolments/{enrolment_id}/bookings",
                                   {"session_id": session["id"]}).get_json()
        return booking

    done = enrol_case(officer, "MET/DONE")
    enrol_case(officer, "MET/OPEN")
    booked = [attend(done["id"], m, f"2027-02-{d}T10:00:00")
              for m, d in ((1, "02"), (2, "09"), (3, "16"), (4, "23"))]
    booked.append(attend(done["id"], 5, "2027-03-02T10:00:00"))
    for booking in booked:
        clock.set_now(booking["ends_at"])
        coordinator.put(f"/bookings/{booking['id']}/attendance", {"outcome": "attended"})
    follow_up = attend(done["id"], "follow_up", "2027-11-02T10:00:00")
    clock.set_now(follow_up["ends_at"])
    coordinator.put(f"/bookings/{follow_up['id']}/attendance", {"outcome": "attended"})
    return done["id"]


def test_a_completed_enrolments_page_says_clearly_it_is_completed(client, login_as, completed):
    login_as("case_officer")

    page = client.get(f"/cases/enrolments/{completed}").get_data(as_text=True)

    banner = re.search(r'<div class="govuk-notification-banner".*?</div>\s*</div>', page,
                       re.S).group(0)
    assert "This enrolment is completed" in banner
    assert "Sam Taylor attended all 5 modules and the follow-up" in text_of_html(banner)
    assert "closed on 2 November 2027: no prosecution follows" in text_of_html(banner)
    assert "Record a decision" not in page
    assert "Completed: every module and the follow-up attended" in text_of_html(
        page.split('id="timeline"')[1])


def test_an_enrolment_in_progress_has_no_completed_banner(client, login_as, completed):
    login_as("case_officer")
    open_id = completed + 1

    page = text_of(client.get(f"/cases/enrolments/{open_id}"))

    assert "This enrolment is completed" not in page


def test_the_dashboard_lists_the_completion_until_the_digest_after_next(client, login_as,
                                                                        completed):
    # The digest of 3 November at 7am counts it; the dashboard keeps it until the next.
    officer = None
    for now in ("2027-11-02T12:00:00+00:00", "2027-11-03T16:00:00+00:00"):
        clock.set_now(now)
        officer = sign_in(client, login_as, officer)
        page = text_of(client.get("/cases/dashboard"))
        assert "MET/DONE Sam Taylor 2 November 2027" in page, now
        assert "MET/OPEN" not in page

    clock.set_now("2027-11-04T08:00:00+00:00")
    sign_in(client, login_as, officer)
    page = text_of(client.get("/cases/dashboard"))
    assert "Completed since Wednesday 3 November 2027 at 7am" in page
    assert "No enrolments completed since then." in page
    assert "MET/DONE" not in page


def test_the_dashboard_links_to_every_completed_enrolment(client, login_as, completed):
    login_as("case_officer")

    html = client.get("/cases/dashboard").get_data(as_text=True)

    assert 'href="/cases/enrolments?status=completed"' in html
    assert "MET/DONE" in text_of(client.get("/cases/enrolments?status=completed"))
    assert "MET/OPEN" not in text_of(client.get("/cases/enrolments?status=completed"))


def sign_in(client, login_as, user=None):
    """Sign the case officer in (again, after the clock moved on and ended the session)."""
    if user is None:
        return login_as("case_officer")
    with client.session_transaction() as session:
        session.clear()
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                "email": user.email, "password": PASSWORD})
    return user


def text_of_html(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
