"""Generated input, odd strings and CR/LF: never a 5xx, never an injected line.

Runs on SQLite only: the point is the request handling, which is the same code
on both databases, and a thousand inputs per operation twice over would double
the suite for nothing.
"""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diversion import clock
from tests.conftest import Api, case_body, make_token

ODD = st.sampled_from([
    "", " ", "\r\n", "a\r\nBcc: x@example.com", "ATTENDEE:mailto:evil@example.com\r\n",
    "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "😀" * 50, "x" * 5000, "-1",
    "2027-13-45", "2027-03-29T18:00:00", "follow_up", "null", "=cmd|' /C calc'!A0",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=60), ODD,
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=20), inner, max_size=5)),
    max_leaves=12)


def _mutated(base: dict):
    """A valid body with some fields replaced by generated values (or removed)."""
    keys = list(base)
    return st.fixed_dictionaries({}).flatmap(lambda _: st.lists(
        st.tuples(st.sampled_from(keys), st.one_of(JSON, st.just(KeyError))), max_size=4)
    ).map(lambda changes: _apply(base, changes))


def _apply(base: dict, changes) -> dict:
    body = dict(base)
    for key, value in changes:
        if value is KeyError:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    import shutil

    template = request.getfixturevalue("sqlite_template")
    path = tmp_path / "fuzz.sqlite3"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def world(app, client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    officer = Api(client, make_token(role="case_officer"))
    coordinator = Api(client, make_token(role="coordinator", force=None))
    venue = coordinator.post("/venues", {"name": "Hall", "address": "1 St"}).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 5}).get_json()
    case = officer.post("/cases", case_body()).get_json()
    enrolment = officer.post(f"/cases/{case['id']}/enrolment",
                             {"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    booking = coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                               {"session_id": session["id"]}).get_json()
    return {"officer": officer, "coordinator": coordinator, "venue": venue,
            "session": session, "case": case, "enrolment": enrolment, "booking": booking}


FUZZ = settings(max_examples=1000, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _no_server_error(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.is_json:
        errors = response.get_json().get("errors") if isinstance(response.get_json(),
                                                                 dict) else None
        if response.status_code >= 400:
            assert errors and all("code" in e for e in errors)


def test_generated_case_bodies_never_cause_a_server_error(world):
    officer = world["officer"]

    @FUZZ
    @given(body=st.one_of(JSON, _mutated(case_body(reference="FUZZ/1"))),
           participant=_mutated(case_body()["participant"]))
    def run(body, participant):
        if isinstance(body, dict) and "participant" in body and isinstance(participant, dict):
            body = {**body, "participant": participant}
        _no_server_error(officer.post("/cases", body))

    run()


def test_generated_session_bodies_never_cause_a_server_error(world):
    coordinator = world["coordinator"]
    valid = {"programme_id": 1, "module": 1, "starts_at": "2027-02-02T18:00:00",
             "venue_id": world["venue"]["id"], "capacity": 5}

    @FUZZ
    @given(body=st.one_of(JSON, _mutated(valid)))
    def run(body):
        _no_server_error(coordinator.post("/sessions", body))
        _no_server_error(coordinator.post("/sessions/series", body))
        _no_server_error(coordinator.patch(f"/sessions/{world['session']['id']}", body))

    run()


def test_generated_booking_attendance_and_decision_bodies_never_cause_a_server_error(world):
    coordinator, officer = world["coordinator"], world["officer"]
    enrolment = world["enrolment"]["id"]

    @FUZZ
    @given(body=st.one_of(JSON, _mutated({"session_id": world["session"]["id"]}),
                          _mutated({"outcome": "absent_excused", "reason": "ill"}),
                          _mutated({"decision": "continue", "reason": "x",
                                    "extend_days": 3})))
    def run(body):
        _no_server_error(coordinator.post(f"/enrolments/{enrolment}/bookings", body))
        _no_server_error(coordinator.put(f"/bookings/{world['booking']['id']}/attendance",
                                         body))
        _no_server_error(officer.post(f"/enrolments/{enrolment}/decisions", body))
        _no_server_error(officer.post(f"/cases/{world['case']['id']}/enrolment", body))

    run()


def test_generated_query_strings_never_cause_a_server_error(world):
    coordinator, officer = world["coordinator"], world["officer"]

    @FUZZ
    @given(value=st.one_of(st.text(max_size=40), ODD))
    def run(value):
        for key in ("from", "to", "module", "after", "limit", "venue_id"):
            _no_server_error(coordinator.get("/sessions", query_string={key: value}))
        for key in ("status", "flag", "after", "limit"):
            _no_server_error(officer.get("/enrolments", query_string={key: value}))

    run()


def test_generated_forecast_and_report_queries_never_cause_a_server_error(world):
    coordinator, officer = world["coordinator"], world["officer"]

    @FUZZ
    @given(value=st.one_of(st.text(max_size=40), ODD, st.integers(-(2**70), 2**70).map(str)))
    def run(value):
        for key in ("weeks", "programme_id"):
            _no_server_error(coordinator.get("/forecast", query_string={key: value}))
        for key in ("from", "to"):
            _no_server_error(officer.get("/reports/outcomes", query_string={key: value}))

    run()


def test_crlf_in_a_venue_never_becomes_a_calendar_line_or_a_header(world):
    coordinator = world["coordinator"]
    venue = coordinator.post("/venues", {
        "name": "Hall\r\nATTENDEE:mailto:evil@example.com",
        "address": "1 St\r\nBcc: evil@example.com"}).get_json()
    coordinator.patch(f"/sessions/{world['session']['id']}", {"venue_id": venue["id"]})
    invite = coordinator.get(f"/bookings/{world['booking']['id']}/invite.ics")
    text = invite.get_data(as_text=True)
    assert not re.search(r"^ATTENDEE:mailto:evil", text, re.M)
    assert len(re.findall(r"^ATTENDEE", text, re.M)) == 1
    assert "\r\nBcc:" not in text
