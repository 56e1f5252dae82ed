"""The coordinator's capacity forecast page, and publishing a suggested session from it."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from diversion import clock
from diversion.extensions import db
from diversion.models import Programme
from tests.conftest import csrf_from, enrol_case
from tests.functional.test_coordinator_pages import text_of

NOW = "2027-01-04T09:00:00+00:00"  # a Monday in winter (GMT)


@pytest.fixture
def world(app, client, api_as, login_as):
    """Three participants starting today, one module 1 session of two places with one booked."""
    clock.set_now(NOW)
    officer = api_as("case_officer")
    api = api_as("coordinator", force=None, email="api.coordinator@example.gov.uk")
    venue = api.post("/venues", {"name": "Civic Centre", "address": "1 High St"}).get_json()
    enrolments = [enrol_case(officer, reference=f"MET/{n}") for n in range(3)]
    session = api.post("/sessions", {"programme_id": 1, "module": 1,
                                     "starts_at": "2027-01-05T18:00:00",
                                     "venue_id": venue["id"], "capacity": 2}).get_json()
    api.post(f"/enrolments/{enrolments[0]['id']}/bookings", {"session_id": session["id"]})
    login_as("coordinator", force=None)
    return {"client": client, "api": api, "venue": venue, "app": app, "officer": officer}


def links(page, text: str) -> list[str]:
    html = page.get_data(as_text=True)
    return [unescape(href) for href, inner in re.findall(
        r'<a class="govuk-link" href="([^"]+)">(.*?)</a>', html, re.S)
        if text in re.sub(r"<[^>]+>", "", inner)]


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_the_coordinators_navigation_leads_to_the_forecast(world):
    page = world["client"].get("/coordinator/sessions")
    assert 'href="/coordinator/forecast"' in page.get_data(as_text=True)


def test_the_forecast_shows_each_modules_places_as_a_chart_with_a_table_beside_it(world):
    page = world["client"].get("/coordinator/forecast")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(page)
    assert "12 weeks from Monday 4 January 2027" in text
    assert html.count('role="img"') == 6  # modules 1 to 5 and the follow-up
    assert "Module 1: places needed and places free, by week" in html
    row = re.search(r"4 Jan 2027</t[dh]>(.*?)</tr>", html, re.S).group(1)
    assert [int(n) for n in re.findall(r">\s*(\d+)\s*<", row)[:3]] == [2, 1, 1]
    assert "Places needed 14" in text  # 2 of module 1, and 3 each of modules 2 to 5


def test_a_shortfall_offers_a_publish_link_that_fills_in_the_publish_form(world):
    client = world["client"]
    (publish, *_) = links(client.get("/coordinator/forecast"), "Publish")
    assert query(publish) | {"venue_id": "v"} == {
        "programme_id": "1", "module": "1", "capacity": "2", "date": "2027-01-05",
        "time": "18:00", "venue_id": "v", "from": "forecast", "weeks": "12"}
    form = client.get(publish).get_data(as_text=True)
    assert re.search(r'<option value="1" selected>Module 1</option>', form)
    assert 'name="time" type="text" value="18:00"' in form
    assert 'name="capacity" type="text" value="2"' in form
    assert re.search(r'id="date-day" name="date" type="text"[^>]*value="05"', form)
    assert re.search(rf'<option value="{world["venue"]["id"]}" selected>Civic Centre', form)
    assert "Back to the forecast" in form


def test_publishing_from_the_forecast_returns_to_it_with_the_shortfall_met(world):
    client = world["client"]
    (publish, *_) = links(client.get("/coordinator/forecast?weeks=2"), "Publish")
    form = client.get(publish).get_data(as_text=True)
    response = client.post(publish, data={
        "csrf_token": csrf_from(form), "programme_id": "1", "module": "1",
        "date": ["5", "1", "2027"], "time": "18:00", "venue_id": str(world["venue"]["id"]),
        "capacity": "2", "facilitator": "", "room": ""})
    assert response.status_code == 302
    assert response.headers["Location"] == "/coordinator/forecast?weeks=2&programme_id=1"
    page = client.get(response.headers["Location"])
    assert "Module 1 published for Tuesday 5 January 2027 at 6pm" in text_of(page)
    html = page.get_data(as_text=True)
    row = re.search(r'id="module-1".*?4 Jan 2027</t[dh]>(.*?)</tr>', html, re.S).group(1)
    assert [int(n) for n in re.findall(r">\s*(\d+)\s*<", row)[:3]] == [2, 3, 0]


def test_weeks_in_a_row_that_need_sessions_can_be_published_as_a_weekly_series(world):
    client = world["client"]
    enrol_case(world["officer"], reference="MET/NEXT-WEEK", start="2027-01-12")
    page = client.get("/coordinator/forecast?weeks=6")
    (series,) = links(page, "Publish a weekly series of 2 sessions of module 1")
    assert query(series)["count"] == "2" and query(series)["interval_days"] == "7"
    form = client.get(series).get_data(as_text=True)
    assert 'name="count" type="text" value="2"' in form
    assert 'name="interval_days" type="text" value="7"' in form


@pytest.mark.parametrize(("weeks", "message"), [
    ("0", "Weeks ahead must be between 1 and 52"),
    ("53", "Weeks ahead must be between 1 and 52"),
    ("abc", "Enter the number of weeks as a whole number, like 12"),
    ("", "Enter how many weeks to forecast"),
])
def test_weeks_out_of_range_is_a_field_error_not_a_forecast(world, weeks, message):
    page = world["client"].get(f"/coordinator/forecast?weeks={weeks}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "There is a problem" in html
    assert f'href="#weeks">{message}</a>' in html
    assert 'class="govuk-error-message"' in html
    assert 'role="img"' not in html


def test_an_address_without_weeks_forecasts_twelve(world):
    page = world["client"].get("/coordinator/forecast?programme_id=1")
    assert "12 weeks from Monday 4 January 2027" in text_of(page)


def test_with_two_programmes_the_coordinator_chooses_which_to_forecast(world):
    with world["app"].app_context():
        db.session.add(Programme(name="Three-module course", core_modules=3))
        db.session.commit()
    client = world["client"]
    page = client.get("/coordinator/forecast?weeks=2&programme_id=2")
    assert "Three-module course: 2 weeks from" in text_of(page)
    assert page.get_data(as_text=True).count('role="img"') == 4
    refused = client.get("/coordinator/forecast?weeks=2&programme_id=9")
    assert 'href="#programme_id">Select a programme</a>' in refused.get_data(as_text=True)


@pytest.mark.parametrize("role", ["case_officer", "admin"])
def test_only_coordinators_see_the_forecast(client, login_as, role):
    login_as(role, force="MET" if role == "case_officer" else None)
    assert client.get("/coordinator/forecast").status_code == 403


def test_a_publish_form_opened_with_nonsense_in_the_address_is_simply_empty(world):
    client = world["client"]
    page = client.get("/coordinator/sessions/new?module=x&date=2027-99-01&time=25:00"
                      "&capacity=-3&from=elsewhere")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="time" type="text" value=""' in html or 'name="time" type="text">' in html
    assert "Back to sessions" in html
