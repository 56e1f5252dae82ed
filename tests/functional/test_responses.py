"""What every answer carries, whatever the request: request ids, size limits, safe links."""

from __future__ import annotations

import io
import json

from diversion.models import Case
from tests.conftest import case_body, csrf_from, make_token
from tests.functional.test_pages import count

# ---- request ids -------------------------------------------------------------


def test_an_api_call_without_a_token_is_answered_with_a_request_id(client):
    response = client.get("/api/v1/enrolments")
    assert response.status_code == 401
    assert len(response.headers.get("X-Request-ID", "")) >= 8


def test_an_api_call_by_the_wrong_role_is_answered_with_the_callers_request_id(client):
    token = make_token(role="coordinator", force=None)
    response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}",
                                                    "X-Request-ID": "lb-trace-0001"})
    assert response.status_code == 403
    assert response.headers["X-Request-ID"] == "lb-trace-0001"


def test_a_page_refused_to_a_role_is_answered_with_a_request_id(client, login_as):
    login_as("coordinator", force=None)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert response.headers.get("X-Request-ID")


# ---- links to the next page ----------------------------------------------------


def test_the_next_page_link_is_built_from_the_public_address_not_the_host_header(client):
    token = make_token(role="admin", force=None)
    make_token(role="coordinator", force=None)  # a second audit row, so there is a next page
    response = client.get("/api/v1/audit?limit=1", headers={
        "Authorization": f"Bearer {token}", "Host": "evil.example"})
    assert response.status_code == 200
    link = response.get_json()["next"]
    assert link.startswith("http://localhost/api/v1/audit?"), link
    assert "evil.example" not in link


# ---- body size -------------------------------------------------------------------


def _chunked(client, path: str, body: bytes, headers: dict):
    # As gunicorn hands a chunked request on: no Content-Length, the stream ends itself.
    return client.post(path, input_stream=io.BytesIO(body),
                       headers={**headers, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_api_body_over_the_limit_is_413_and_records_nothing(app, client):
    token = make_token(role="case_officer")
    body = case_body()
    body["participant"]["given_name"] = "S" * 70_000
    response = _chunked(client, "/api/v1/cases", json.dumps(body).encode(), {
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["code"] == "too_large"
    assert count(app, Case) == 0


def test_a_chunked_api_body_within_the_limit_is_read_whole(app, client):
    token = make_token(role="case_officer")
    response = _chunked(client, "/api/v1/cases", json.dumps(case_body()).encode(), {
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_json()
    assert count(app, Case) == 1


def test_a_chunked_form_over_the_limit_is_413(client):
    page = client.get("/login").get_data(as_text=True)
    form = f"csrf_token={csrf_from(page)}&email={'x' * 70_000}&password=p".encode()
    response = _chunked(client, "/login", form,
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "The request is too large" in response.get_data(as_text=True)


def test_a_body_declared_over_the_limit_is_413_too(client):
    token = make_token(role="case_officer")
    response = client.post("/api/v1/cases", data=b"x" * 70_000, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 413
