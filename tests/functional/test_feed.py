"""A feed a calendar keeps well: stamped when each appointment changed, a 304 when
nothing has, and the appointments already held still there."""

from __future__ import annotations

from icalendar import Calendar

from diversion import clock
from tests.conftest import enrol_case


def _world(api_as):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", {"name": "Civic Centre", "address": "1 High St"})
    sessions = [coordinator.post("/sessions", {
        "programme_id": 1, "module": m, "starts_at": f"2027-01-{5 + 7 * (m - 1):02d}T18:00:00",
        "venue_id": venue.get_json()["id"], "capacity": 10}).get_json()["id"] for m in (1, 2)]
    enrolment = enrol_case(officer)["id"]
    bookings = [coordinator.post(f"/enrolments/{enrolment}/bookings",
                                 {"session_id": s}).get_json()["id"] for s in sessions]
    url = coordinator.post(f"/enrolments/{enrolment}/calendar-token").get_json()["url"]
    return coordinator, bookings, "/calendar/" + url.rsplit("/", 1)[1]


def _events(response) -> dict[str, dict]:
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): {"start": e.decoded("DTSTART"), "stamp": e.decoded("DTSTAMP"),
                            "class": str(e["CLASS"])} for e in calendar.walk("VEVENT")}


def test_an_unchanged_feed_answers_304_and_a_change_gives_a_new_etag(client, api_as):
    coordinator, bookings, feed = _world(api_as)
    first = client.get(feed)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    clock.set_now("2027-01-04T10:00:00+00:00")  # an hour on: the calendar asks again
    again = client.get(feed, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""

    coordinator.delete(f"/bookings/{bookings[1]}")
    changed = client.get(feed, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert len(_events(changed)) == 1, "a cancelled appointment leaves the feed"


def test_an_attended_session_stays_in_the_feed_stamped_when_its_outcome_was_recorded(
        client, api_as):
    coordinator, bookings, feed = _world(api_as)
    before = _events(client.get(feed))
    assert len(before) == 2
    assert {e["class"] for e in before.values()} == {"PRIVATE"}

    clock.set_now("2027-01-05T19:45:00+00:00")
    recorded = coordinator.put(f"/bookings/{bookings[0]}/attendance", {"outcome": "attended"})
    assert recorded.status_code == 200
    clock.set_now("2027-01-06T09:00:00+00:00")
    after = _events(client.get(feed))

    assert after.keys() == before.keys(), "the attended session is still in the calendar"
    stamps = sorted(e["stamp"].isoformat() for e in after.values())
    assert stamps == ["2027-01-04T09:00:00+00:00", "2027-01-05T19:45:00+00:00"]
