"""The command-line operations of docs/api.md."""

import re

import sqlalchemy as sa

from diversion.extensions import db
from diversion.models import Case, Enrolment, User


def test_create_force_user_and_token_give_a_working_bearer_token(runner, client):
    assert runner.invoke(args=["create-force", "MET", "Metropolitan Police"]).exit_code == 0
    result = runner.invoke(
        args=["create-user", "Officer@Example.gov.uk", "--role", "case_officer", "--force",
              "MET", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-token", "officer@example.gov.uk"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_\-]{40,}", token), "only the token is printed"
    response = client.get("/api/v1/programmes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_a_case_officer_without_a_force_and_a_breached_password_are_refused(runner, app):
    result = runner.invoke(args=["create-user", "a@example.gov.uk", "--role", "case_officer",
                                 "--password-stdin"], input="a long enough passphrase\n")
    assert result.exit_code != 0
    assert "force" in result.output.lower()
    result = runner.invoke(args=["create-user", "b@example.gov.uk", "--role", "coordinator",
                                 "--password-stdin"], input="password123\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_the_demo_data_has_forces_staff_and_participants_at_every_stage_messy_ones_too(
        runner, app):
    from diversion.models import Booking
    from diversion.services import registers

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.diversion.test" in result.output
    assert "44 participants" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == 44
        statuses = set(db.session.scalars(sa.select(Enrolment.status)))
        # Sessions whose register was never taken, for the coordinator's home page.
        assert registers.overdue_registers().total >= 2
        # Someone who missed module 2 and still holds modules 3 to 5.
        held: dict[int, dict[int, str]] = {}
        for booking in db.session.scalars(sa.select(Booking)):
            held.setdefault(booking.enrolment_id, {})[booking.module] = booking.status
        assert any(modules.get(2) == "absent_unexcused"
                   and [modules.get(m) for m in (3, 4, 5)] == ["booked"] * 3
                   for modules in held.values())
    assert {"enrolled", "awaiting_follow_up", "completed", "referred"} <= statuses
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not loaded" in again.output
    sweep = runner.invoke(args=["sweep"])
    assert sweep.exit_code == 0
    assert "new flags" in sweep.output


def test_the_load_generator_is_not_a_command_of_the_service(runner):
    assert "generate-load" not in runner.invoke(args=["--help"]).output


def test_seed_demo_refuses_in_production_and_creates_no_accounts(runner, app):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_coordinator_or_an_administrator_given_a_force_is_refused(runner, app):
    assert runner.invoke(args=["create-force", "MET", "Metropolitan Police"]).exit_code == 0
    for role in ("coordinator", "admin"):
        result = runner.invoke(args=["create-user", f"{role}@example.gov.uk", "--role", role,
                                     "--force", "MET", "--password-stdin"],
                               input="a long enough passphrase\n")
        assert result.exit_code != 0, role
        assert "Only a case officer belongs to a force" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
