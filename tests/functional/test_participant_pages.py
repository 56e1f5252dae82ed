"""What a participant's links show when they lead nowhere: a plain page that names nothing."""

from __future__ import annotations

import pytest

from tests.conftest import enrol_case
from tests.functional.test_pages import text_of

# What would give the programme away on a shared screen, or mark the page as the staff's.
GIVEAWAYS = ("Diversion", "govuk-header", "govuk-service-navigation", "Sign in", "Sign out",
             "openapi", "No such thing", "start page")


@pytest.fixture
def tokens(api_as):
    """A participant's live feed token, and the one it replaced."""
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    enrolment = enrol_case(officer)
    url = f"/enrolments/{enrolment['id']}/calendar-token"
    revoked = coordinator.post(url).get_json()["url"].rsplit("/", 1)[1].removesuffix(".ics")
    live = coordinator.post(url).get_json()["url"].rsplit("/", 1)[1].removesuffix(".ics")
    return live, revoked


def assert_plain_not_found(response) -> None:
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for giveaway in GIVEAWAYS:
        assert giveaway not in html, giveaway
    assert "<title>Page not found</title>" in html
    assert "Page not found" in text_of(response)


def test_an_unknown_feed_token_is_a_plain_not_found_page(client):
    assert_plain_not_found(client.get("/calendar/not-a-real-link.ics"))


def test_a_revoked_feed_token_is_the_same_plain_page_and_the_live_one_works(client, tokens):
    live, revoked = tokens
    assert client.get(f"/calendar/{live}.ics").status_code == 200
    assert_plain_not_found(client.get(f"/calendar/{revoked}.ics"))


def test_an_overlong_feed_token_is_the_same_plain_page(client):
    assert_plain_not_found(client.get(f"/calendar/{'A' * 5000}.ics"))


def test_a_feed_address_without_a_token_is_the_same_plain_page(client):
    assert_plain_not_found(client.get("/calendar/"))
    assert_plain_not_found(client.get("/calendar/abc"))


def test_a_signed_in_staff_member_sees_no_staff_layout_on_a_dead_feed_link(client, login_as):
    user = login_as("coordinator", force=None)
    response = client.get("/calendar/not-a-real-link.ics")
    assert_plain_not_found(response)
    assert user.email not in response.get_data(as_text=True)


def test_the_plain_page_still_carries_the_security_headers(client):
    response = client.get("/calendar/not-a-real-link.ics")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
