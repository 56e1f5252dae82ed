"""Withdrawing (and referring) from the enrolment page goes through a confirmation step."""

from __future__ import annotations

import re
from html import unescape

import pytest

from diversion import clock
from tests.conftest import Api, case_body, csrf_from, make_token


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def story(client, login_as):
    """Module 1 missed without excuse (an open flag); modules 2 and 3 booked ahead."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer", email="api.officer@example.gov.uk"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    case = officer.post("/cases", case_body(reference="MET/88")).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    booked = []
    for module, day in ((1, "05"), (2, "12"), (3, "19")):
        session = coordinator.post("/sessions", {
            "programme_id": 1, "module": module, "starts_at": f"2027-01-{day}T18:00:00",
            "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()
        booked.append(coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                       {"session_id": session["id"]}).get_json())
    clock.set_now("2027-01-05T19:45:00+00:00")
    coordinator.put(f"/bookings/{booked[0]['id']}/attendance", {"outcome": "absent_unexcused"})
    clock.set_now("2027-01-05T20:00:00+00:00")
    login_as("case_officer")  # now: moving the clock on ends a web session
    url = f"/cases/enrolments/{enrolment['id']}"
    return {"url": url, "id": enrolment["id"], "officer": officer, "booked": booked}


def _status(story) -> str:
    return story["officer"].get(f"/enrolments/{story['id']}").get_json()["status"]


def _ask(client, story, decision="withdraw", reason="The prosecutor ended the agreement",
         **more):
    token = csrf_from(client.get(story["url"]).get_data(as_text=True))
    return client.post(story["url"], data={"csrf_token": token, "decision": decision,
                                           "reason": reason, **more})


def _confirm(client, story, page, decision="withdraw",
             reason="The prosecutor ended the agreement", button="confirm"):
    return client.post(story["url"] + "/decision", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "decision": decision,
        "reason": reason, button: "yes"})


def test_the_enrolment_page_offers_withdrawal_as_a_decision(client, story):
    page = text_of(client.get(story["url"]))

    assert "Withdraw from the programme" in page
    assert "you are asked to confirm it first" in page


def test_asking_to_withdraw_shows_what_will_happen_and_changes_nothing_yet(client, story):
    response = _ask(client, story)

    assert response.status_code == 200
    page = text_of(response)
    assert "Are you sure you want to withdraw Sam Taylor from the programme?" in page
    assert "The prosecutor ended the agreement" in page
    assert "The enrolment closes as withdrawn." in page
    assert "2 future sessions are cancelled:" in page
    assert "Module 2, Tuesday 12 January 2027 at 6pm, Civic Centre" in page
    assert "Module 3, Tuesday 19 January 2027 at 6pm, Civic Centre" in page
    assert "Sam Taylor is emailed a cancellation for each of them, at sam@example.com." in page
    assert "1 open flag is closed." in page
    assert "Yes, withdraw from the programme" in page
    assert _status(story) == "enrolled"
    bookings = story["officer"].get(f"/enrolments/{story['id']}").get_json()["bookings"]
    assert [b["status"] for b in bookings] == ["absent_unexcused", "booked", "booked"]


def test_confirming_the_withdrawal_records_it_and_the_page_says_so(client, story):
    response = _confirm(client, story, _ask(client, story))

    assert response.status_code == 302
    page = text_of(client.get(story["url"]))
    assert "Decision recorded: withdrawn from the programme" in page
    assert "Withdrawn from the programme on 5 January 2027" in page
    assert "Decision: withdraw by case_officer.met@example.gov.uk — " \
           "The prosecutor ended the agreement" in page
    assert "Module 2 booking cancelled: Arrangement ended" in page
    assert "Record a decision" not in page
    detail = story["officer"].get(f"/enrolments/{story['id']}").get_json()
    assert detail["status"] == "withdrawn"
    assert [b["status"] for b in detail["bookings"]] == [
        "absent_unexcused", "cancelled", "cancelled"]
    assert [f["status"] for f in detail["flags"]] == ["closed"]


def test_a_withdrawn_enrolment_is_found_by_the_status_filter(client, story):
    _confirm(client, story, _ask(client, story))

    page = text_of(client.get("/cases/enrolments?status=withdrawn"))

    assert "MET/88" in page
    assert "MET/88" not in text_of(client.get("/cases/enrolments?status=enrolled"))


def test_changing_the_decision_goes_back_to_the_form_as_it_was_filled_in(client, story):
    response = _confirm(client, story, _ask(client, story), button="change")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'value="withdraw"[^>]*checked', html)
    assert ">The prosecutor ended the agreement</textarea>" in html
    assert _status(story) == "enrolled"


def test_withdrawing_without_a_reason_shows_the_error_and_no_confirmation(client, story):
    response = _ask(client, story, reason="")

    page = text_of(response)
    assert "There is a problem" in page
    assert "Give the reason for the decision" in page
    assert "Are you sure" not in page


def test_withdrawing_with_an_extension_is_refused_beside_the_extension(client, story):
    response = _ask(client, story, extend_days="10")

    page = text_of(response)
    assert "There is a problem" in page
    assert "A withdrawal cannot extend a deadline" in page
    assert "Are you sure" not in page
    assert _status(story) == "enrolled"


def test_a_decision_made_meanwhile_is_shown_as_an_error_on_confirming(client, story):
    page = _ask(client, story)
    story["officer"].post(f"/enrolments/{story['id']}/decisions",
                          {"decision": "refer", "reason": "Referred meanwhile"})

    response = _confirm(client, story, page)

    assert response.status_code == 200
    assert "This enrolment is already referred." in text_of(response)
    assert _status(story) == "referred"


def test_a_tampered_confirmation_records_nothing(client, story):
    page = _ask(client, story)

    response = _confirm(client, story, page, decision="continue")

    assert "There is a problem" in text_of(response)
    assert _status(story) == "enrolled"


def test_the_confirmation_needs_its_csrf_token_and_nothing_changes_on_get(client, story):
    assert client.post(story["url"] + "/decision", data={
        "decision": "withdraw", "reason": "No token", "confirm": "yes"}).status_code == 400
    assert client.get(story["url"] + "/decision").status_code == 405
    assert _status(story) == "enrolled"


def test_another_forces_officer_gets_404_for_the_confirmation(client, story, login_as):
    page = _ask(client, story)
    with client.session_transaction() as session:
        session.clear()
    login_as("case_officer", force="KENT", email="kent@example.gov.uk")
    kent_page = client.get("/cases/dashboard")

    response = client.post(story["url"] + "/decision", data={
        "csrf_token": csrf_from(kent_page.get_data(as_text=True)), "decision": "withdraw",
        "reason": "Not mine", "confirm": "yes"})

    assert response.status_code == 404
    assert page.status_code == 200
    assert _status(story) == "enrolled"


def test_a_referral_asks_for_the_same_confirmation_and_mentions_the_summary(client, story):
    page = _ask(client, story, decision="refer", reason="Missed module 1")

    text = text_of(page)
    assert "Are you sure you want to refer Sam Taylor back to prosecution?" in text
    assert "The enrolment closes as referred back to prosecution." in text
    assert "The referral summary records the decision" in text
    assert _status(story) == "enrolled"
    assert _confirm(client, story, page, decision="refer",
                    reason="Missed module 1").status_code == 302
    assert _status(story) == "referred"


def test_a_decision_to_continue_needs_no_confirmation(client, story):
    response = _ask(client, story, decision="continue", reason="Car broke down")

    assert response.status_code == 302
    assert "A flag is open" not in text_of(client.get(story["url"]))
