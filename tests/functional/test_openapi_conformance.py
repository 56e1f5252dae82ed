"""Schemathesis against the service's own OpenAPI document, through the WSGI app.

Every operation in ``/api/v1/openapi.json`` (the feed and ``/healthz`` too) gets
generated requests, valid and invalid, sent with each staff role's token in turn.
Each answer must be no 5xx, have a documented status and content type, and a body
that fits the documented schema. On PostgreSQL, where an out-of-range integer or a
NUL byte fails loudly; bounded so the whole run takes a minute or two.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from diversion import clock, create_app
from tests.conftest import BASE_CONFIG, PG_URL, _reset_postgresql, case_body, make_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
ROLES = ("admin", "coordinator", "case_officer")


def _document() -> dict:
    """Fetch the OpenAPI document as a client would (it needs no database)."""
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_document())
schema.config.generation.update(max_examples=12, deterministic=True, database="none")


@pytest.fixture
def database_url(pg_reference) -> str:
    tables, reference = pg_reference
    _reset_postgresql(tables, reference)
    return PG_URL


@pytest.fixture
def tokens(app, client):
    """A token per role, and one of everything for requests to find (ids 1 and up)."""
    clock.set_now("2027-01-04T09:00:00+00:00")
    issued = {role: make_token(role=role, force="MET" if role == "case_officer" else None)
              for role in ROLES}
    officer = {"Authorization": f"Bearer {issued['case_officer']}"}
    coordinator = {"Authorization": f"Bearer {issued['coordinator']}"}
    venue = client.post("/api/v1/venues", headers=coordinator,
                        json={"name": "Hall", "address": "1 St", "rooms": ["Room 1"]}).get_json()
    session = client.post("/api/v1/sessions", headers=coordinator, json={
        "programme_id": 1, "module": 1, "starts_at": "2027-01-05T18:00:00",
        "venue_id": venue["id"], "capacity": 5}).get_json()
    case = client.post("/api/v1/cases", headers=officer, json=case_body()).get_json()
    enrolment = client.post(f"/api/v1/cases/{case['id']}/enrolment", headers=officer,
                            json={"programme_id": 1, "start_date": "2027-01-04"}).get_json()
    booked = client.post(f"/api/v1/enrolments/{enrolment['id']}/bookings", headers=coordinator,
                         json={"session_id": session["id"]})
    assert booked.status_code == 201, booked.get_json()
    return issued


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_document_says_for_every_role(case, app, tokens):
    for role in ROLES:
        case.call_and_validate(app=app, headers={"Authorization": f"Bearer {tokens[role]}"},
                               checks=CHECKS)
