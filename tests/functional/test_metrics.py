"""GET /metrics: what Prometheus reads, and who may read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from diversion import clock
from diversion.jobs import tasks
from tests.conftest import enrol_case
from tests.functional.conftest import VENUE, _deliver

NOW = "2027-01-04T09:00:00+00:00"
ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape(client, **kwargs) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/plain"
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_answered(samples, endpoint: str, status: str) -> float:
    return sum(v for (name, labels), v in samples.items()
               if name == "diversion_http_request_duration_seconds_count"
               and ("endpoint", endpoint) in labels and ("status", status) in labels)


# ---- who may read it --------------------------------------------------------------


def test_metrics_are_read_from_loopback_or_with_the_metrics_token_and_hidden_otherwise(
        app, client):
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    assert client.get("/metrics", environ_base=ELSEWHERE).status_code == 404
    assert client.get("/metrics", environ_base=ELSEWHERE,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    # A proxy on the same machine relays the world's requests from loopback.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert scrape(client, environ_base=ELSEWHERE,
                  headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert scrape(client)  # from loopback, as a Prometheus beside the service


def test_without_a_metrics_token_only_loopback_reads_the_metrics(app, client):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", environ_base=ELSEWHERE,
                      headers={"Authorization": "Bearer "}).status_code == 404
    assert scrape(client)


def test_requests_are_counted_by_endpoint_never_by_a_path_that_holds_a_token(client):
    secret = "feedtoken-that-must-never-be-a-label"
    client.get(f"/calendar/{secret}.ics")
    client.get(f"/no/such/{secret}")
    text = client.get("/metrics").get_data(as_text=True)
    assert secret not in text
    samples = scrape(client)
    assert requests_answered(samples, "unmatched", "404") >= 1
    assert requests_answered(samples, "feed.calendar", "404") >= 1


# ---- what it says ---------------------------------------------------------------------


def _booking_world(api_as):
    clock.set_now(NOW)
    officer = api_as("case_officer")
    coordinator = api_as("coordinator", force=None)
    venue = coordinator.post("/venues", VENUE).get_json()
    session = coordinator.post("/sessions", {
        "programme_id": 1, "module": 1, "starts_at": "2027-01-12T18:00:00+00:00",
        "venue_id": venue["id"], "capacity": 10}).get_json()

    def book(reference: str):
        enrolment = enrol_case(officer, reference)
        return coordinator.post(f"/enrolments/{enrolment['id']}/bookings",
                                {"session_id": session["id"]})

    return book


def test_a_booking_and_a_send_move_the_counts(app, client, api_as, mailbox):
    book = _booking_world(api_as)
    before = scrape(client)
    booked = book("CASE/1")
    assert booked.status_code == 201
    after_booking = scrape(client)
    created = {dict(labels)["endpoint"]: v - before.get((name, labels), 0.0)
               for (name, labels), v in after_booking.items()
               if name == "diversion_http_request_duration_seconds_count"
               and ("status", "201") in labels and v > before.get((name, labels), 0.0)}
    assert created["bookings.create"] == 1
    # The invitation is due at once; the reminder only the day before the session.
    assert value(after_booking, "diversion_outbox_due_messages", channel="email") == 1

    clock.set_now(clock.now() + timedelta(minutes=10))
    waiting = scrape(client)
    assert value(waiting, "diversion_outbox_oldest_due_age_seconds", channel="email") == 600

    with app.app_context():
        assert "sent 1" in tasks.deliver_mail()
    sent = scrape(client)
    assert value(sent, "diversion_outbox_due_messages", channel="email") == 0
    assert value(sent, "diversion_outbox_oldest_due_age_seconds", channel="email") == 0
    assert value(sent, "diversion_job_last_success_timestamp_seconds",
                 job="send_mail") == clock.now().timestamp()
    assert ("diversion_job_last_success_duration_seconds",
            frozenset({("job", "send_mail")})) in sent
    assert value(sent, "diversion_delivery_failures_total", channel="email") == 0

    mailbox.refusing = True
    assert book("CASE/2").status_code == 201
    _deliver(app)
    refused = scrape(client)
    assert value(refused, "diversion_delivery_failures_total", channel="email") == 1
    assert mailbox.accepted == 1


def test_flags_raised_by_kind_and_the_sweep_are_counted(app, client, api_as):
    clock.set_now(NOW)
    enrol_case(api_as("case_officer"), "CASE/1")  # never booked
    before = scrape(client)
    assert value(before, "diversion_flags_raised_total", kind="non_completion") == 0
    assert ("diversion_sweep_duration_seconds", frozenset()) not in before

    clock.set_now("2027-05-10T07:00:00+01:00")  # past the four-month core deadline
    with app.app_context():
        assert "1 new flags" in tasks.sweep()
    after = scrape(client)
    assert value(after, "diversion_flags_raised_total", kind="non_completion") == 1
    assert ("diversion_sweep_duration_seconds", frozenset()) in after
    assert value(after, "diversion_job_last_success_timestamp_seconds",
                 job="sweep") == clock.now().timestamp()


@pytest.mark.parametrize("method", ["BREW", "get"])
def test_a_made_up_method_never_becomes_a_label_of_its_own(client, method):
    client.open("/healthz", method=method)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'method="BREW"' not in text and 'method="get"' not in text
