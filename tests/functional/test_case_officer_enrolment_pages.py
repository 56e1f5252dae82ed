"""The case officer's dashboard, enrolment page, decisions and referral summary."""

import re
from html import unescape

import pytest

from diversion import clock
from tests.conftest import Api, case_body, csrf_from, make_token


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def story(client, login_as):
    """An enrolment with module 1 attended and module 2 missed without excuse."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer_user = login_as("case_officer")
    officer = Api(client, make_token(role="case_officer", email="api.officer@example.gov.uk"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    sessions = [coordinator.post("/sessions", {
        "programme_id": 1, "module": m, "starts_at": f"2027-01-{5 + 7 * (m - 1):02d}T18:00:00",
        "venue_id": venue.get_json()["id"], "capacity": 10}).get_json() for m in (1, 2, 3)]
    case = officer.post("/cases", case_body(reference="MET/77")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    bookings = [coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                 {"session_id": s["id"]}).get_json() for s in sessions[:2]]
    third = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                             {"session_id": sessions[2]["id"]})
    clock.set_now("2027-01-05T19:30:00+00:00")
    coordinator.put(f"/bookings/{bookings[0]['id']}/attendance", {"outcome": "attended"})
    clock.set_now("2027-01-12T19:30:00+00:00")
    coordinator.put(f"/bookings/{bookings[1]['id']}/attendance",
                    {"outcome": "absent_unexcused"})
    # The clock jumps above end the idle web session: sign in again now.
    login_again(client, officer_user)
    return {"enrolment": enrolment, "third": third.get_json(), "officer": officer}


def login_again(client, user):
    from tests.conftest import PASSWORD

    with client.session_transaction() as session:
        session.clear()
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                "email": user.email, "password": PASSWORD})


def test_the_dashboard_counts_enrolments_and_lists_the_open_flag(client, story):
    page = text_of(client.get("/cases/dashboard"))
    assert "Enrolments by stage" in page
    assert "MET/77" in page
    assert "At risk" in page
    assert "Module 2" in page
    html = client.get("/cases/dashboard").get_data(as_text=True)
    assert 'data-status-count="enrolled">1<' in html
    assert "<svg" in html and "<desc" in html


def test_the_enrolment_page_shows_what_happens_next_and_a_timeline(client, story):
    page = text_of(client.get(f"/cases/enrolments/{story['enrolment']['id']}"))
    assert "What happens next" in page
    assert "A flag is open" in page
    assert "4 of 5 modules still to attend by 4 May 2027" in page
    assert "Module 1: attended" in page
    assert "Module 2: absent (unexcused)" in page
    assert "Flag raised" in page


def test_a_refer_decision_closes_the_enrolment_and_cancels_future_sessions(client, story):
    url = f"/cases/enrolments/{story['enrolment']['id']}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    empty = client.post(url, data={"csrf_token": token})
    assert "There is a problem" in text_of(empty)
    assert "Select a decision" in text_of(empty)
    confirmation = client.post(url, data={"csrf_token": token, "decision": "refer",
                                          "reason": "Missed module 2 and would not rebook"})
    assert "Are you sure you want to refer Sam Taylor back to prosecution?" in text_of(
        confirmation)
    assert story["officer"].get(
        f"/enrolments/{story['enrolment']['id']}").get_json()["status"] == "enrolled"
    response = client.post(url + "/decision", data={
        "csrf_token": csrf_from(confirmation.get_data(as_text=True)), "decision": "refer",
        "reason": "Missed module 2 and would not rebook", "confirm": "Confirm"})
    assert response.status_code == 302
    page = text_of(client.get(url))
    assert "Referred back to prosecution on" in page
    assert "Decision: refer" in page
    detail = story["officer"].get(f"/enrolments/{story['enrolment']['id']}").get_json()
    assert detail["status"] == "referred"
    third = [b for b in detail["bookings"] if b["id"] == story["third"]["id"]][0]
    assert third["status"] == "cancelled"


def test_a_continue_decision_with_an_extension_moves_the_deadline(client, story):
    url = f"/cases/enrolments/{story['enrolment']['id']}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "decision": "continue",
                                      "reason": "Hospital appointment", "extend_days": "10"})
    assert response.status_code == 302
    page = text_of(client.get(url))
    assert "14 May 2027 (extended from 4 May 2027)" in page
    assert "Core deadline extended by 10 days to 14 May 2027" in page
    assert "A flag is open" not in page


def test_an_extension_typed_in_words_is_a_field_error_and_changes_nothing(client, story):
    url = f"/cases/enrolments/{story['enrolment']['id']}"
    html = client.get(url).get_data(as_text=True)
    # The extension is revealed under "continue", the one choice it belongs to.
    assert re.search(r'data-aria-controls="conditional-decision"', html)
    assert re.search(r'id="conditional-decision".*?name="extend_days"', html, re.S)
    assert html.count('id="decision"') == 1, "the heading and the first radio share no id"
    response = client.post(url, data={"csrf_token": csrf_from(html), "decision": "continue",
                                      "reason": "Hospital appointment", "extend_days": "ten"})
    assert response.status_code == 200
    page = text_of(response)
    assert "There is a problem" in page
    assert "Enter the number of days as a whole number, like 14" in page
    assert "Not a valid integer" not in page
    assert "4 May 2027" in page and "extended from" not in page


def test_the_referral_summary_prints_as_a_page_and_downloads_as_a_pdf(client, story):
    url = f"/cases/enrolments/{story['enrolment']['id']}/referral-summary"
    page = text_of(client.get(url))
    assert "Referral summary" in page
    assert "MET/77" in page
    assert "Absent (unexcused)" in page and "absent_unexcused" not in page
    pdf = client.get(url + "?format=pdf")
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_another_forces_officer_gets_404_for_the_enrolment_page(client, story, login_as):
    with client.session_transaction() as session:
        session.clear()
    login_as("case_officer", force="KENT", email="kent@example.gov.uk")
    assert client.get(f"/cases/enrolments/{story['enrolment']['id']}").status_code == 404
    assert client.get(
        f"/cases/enrolments/{story['enrolment']['id']}/referral-summary").status_code == 404
