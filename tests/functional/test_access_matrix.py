"""Every API operation × every role: refused unless the role is allowed, and logged."""

import re

import pytest

from diversion import clock
from tests.conftest import Api, case_body, make_token

ROLES = ("admin", "coordinator", "case_officer")


def _operations(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint.startswith("api-docs"):
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        if roles is None:
            # flask-smorest wraps views; find the marker on the wrapped chain.
            inner = view
            while roles is None and hasattr(inner, "__wrapped__"):
                inner = inner.__wrapped__
                roles = getattr(inner, "allowed_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
            yield method, path, roles


def test_every_api_operation_declares_its_roles(app):
    operations = [op for op in _operations(app) if "openapi" not in op[1]]
    assert len(operations) >= 20
    assert [op for op in operations if op[2] is None] == []


def test_every_operation_refuses_without_a_token_and_refuses_other_roles(app, client):
    tokens = {role: make_token(role=role, force="MET" if role == "case_officer" else None)
              for role in ROLES}
    for method, path, roles in _operations(app):
        if "openapi" in path:
            continue
        anonymous = client.open(path, method=method, json={})
        assert anonymous.status_code == 401, (method, path)
        for role in ROLES:
            if role in roles:
                continue
            response = client.open(path, method=method, json={},
                                   headers={"Authorization": f"Bearer {tokens[role]}"})
            assert response.status_code == 403, (method, path, role, response.status_code)


@pytest.mark.parametrize("path", [
    "/cases/{case}", "/enrolments/{enrolment}", "/enrolments/{enrolment}/referral-summary",
])
def test_another_forces_records_are_404_and_the_refusal_is_logged(client, path):
    clock.set_now("2026-12-01T09:00:00+00:00")
    mine = Api(client, make_token(role="case_officer", force="MET"))
    theirs = Api(client, make_token(role="case_officer", force="KENT",
                                    email="other@example.gov.uk"))
    admin = Api(client, make_token(role="admin", force=None))
    case = mine.post("/cases", case_body()).get_json()
    enrolment = mine.post(f"/cases/{case['id']}/enrolment",
                          {"programme_id": 1, "start_date": "2026-12-01"}).get_json()
    url = path.format(case=case["id"], enrolment=enrolment["id"])
    response = theirs.get(url)
    assert response.status_code == 404
    assert "Sam" not in response.get_data(as_text=True)
    refused = [e for e in admin.get("/audit?actor=other@example.gov.uk").get_json()["items"]
               if e["action"] == "refused"]
    assert len(refused) == 1
