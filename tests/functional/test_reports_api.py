"""GET /reports/outcomes: outcomes by force, for administrators and case officers."""

import pytest
import sqlalchemy as sa

from diversion import clock
from diversion.extensions import db
from diversion.models import Enrolment
from tests.conftest import enrol_case, make_force
from tests.integration.test_query_counts import _counted

NOW = "2027-03-15T09:00:00+00:00"


@pytest.fixture
def world(app, api_as):
    """Three Met enrolments (one completed, one withdrawn) and one in Kent."""
    clock.set_now(NOW)
    met = api_as("case_officer", force="MET")
    kent = api_as("case_officer", force="KENT", email="officer@kent.example.gov.uk")
    ids = [enrol_case(met, reference=f"MET/{n}", start=start)["id"]
           for n, start in enumerate(["2027-01-04", "2027-01-20", "2027-02-08"])]
    enrol_case(kent, reference="KENT/1", start="2027-02-10")
    with app.app_context():
        # Completion and withdrawal have their own use cases; here only the status counts.
        for enrolment_id, status in ((ids[0], "completed"), (ids[1], "withdrawn")):
            db.session.execute(sa.update(Enrolment).where(Enrolment.id == enrolment_id)
                               .values(status=status))
        db.session.commit()
    return {"met": met, "kent": kent, "admin": api_as("admin", force=None), "app": app}


def test_an_administrator_sees_one_item_per_force(world):
    body = world["admin"].get("/reports/outcomes?from=2027-01-01&to=2027-03-31").get_json()
    items = {i["force"]: i for i in body["items"]}
    assert set(items) == {"MET", "KENT"}
    met = items["MET"]
    assert {k: met[k] for k in ("enrolled", "in_progress", "completed", "referred", "withdrawn",
                                "completion_rate")} == {
        "enrolled": 3, "in_progress": 1, "completed": 1, "referred": 0, "withdrawn": 1,
        "completion_rate": 0.5}
    assert items["KENT"]["completion_rate"] is None
    assert [(m["month"], m["enrolled"]) for m in met["months"]] == [("2027-01", 2),
                                                                    ("2027-02", 1)]
    assert body["total"]["enrolled"] == 4
    assert (body["from"], body["to"], body["next"]) == ("2027-01-01", "2027-03-31", None)


def test_a_case_officer_sees_only_their_own_force(world):
    body = world["kent"].get("/reports/outcomes?from=2027-01-01&to=2027-03-31").get_json()
    assert [(i["force"], i["enrolled"]) for i in body["items"]] == [("KENT", 1)]


def test_only_enrolments_started_in_the_period_count(world):
    body = world["met"].get("/reports/outcomes?from=2027-01-20&to=2027-02-07").get_json()
    (met,) = body["items"]
    assert (met["enrolled"], met["withdrawn"], met["completion_rate"]) == (1, 1, 0.0)


def test_without_dates_the_report_covers_the_last_twelve_months(world):
    body = world["met"].get("/reports/outcomes").get_json()
    assert (body["from"], body["to"]) == ("2026-04-01", "2027-03-15")
    assert body["items"][0]["enrolled"] == 3


@pytest.mark.parametrize(("query", "field"), [
    ("from=2027-02-01&to=2027-01-31", "to"),
    ("from=1999-12-31&to=2027-01-31", "from"),
    ("from=2027-01-01&to=2101-01-01", "to"),
    ("from=2027-13-45", "from"),
    ("to=yesterday", "to"),
    ("from=", "from"),
])
def test_a_period_that_cannot_be_is_a_400_naming_the_date(world, query, field):
    response = world["admin"].get(f"/reports/outcomes?{query}")
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["code"] == "invalid"


def test_a_coordinator_may_not_read_outcome_reports(api_as):
    response = api_as("coordinator", force=None).get("/reports/outcomes")
    assert response.status_code == 403
    assert response.get_json()["errors"][0]["code"] == "forbidden"


def test_outcome_reports_need_a_token(client):
    assert client.get("/api/v1/reports/outcomes").status_code == 401


def test_the_report_runs_as_many_statements_for_thirty_forces_as_for_three(world):
    app, admin = world["app"], world["admin"]
    few_response, few = _counted(app, lambda: admin.get("/reports/outcomes"))
    with app.app_context():
        for n in range(28):
            make_force(f"F{n:02d}")
    many_response, many = _counted(app, lambda: admin.get("/reports/outcomes"))
    assert few_response.status_code == many_response.status_code == 200
    assert len(many_response.get_json()["items"]) == 30
    assert few == many <= 6
