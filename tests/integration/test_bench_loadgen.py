"""The benchmarks' load generator (bench/loadgen.py), on both databases."""

import pytest
import sqlalchemy as sa
from click import ClickException

from bench import loadgen
from diversion.extensions import db
from diversion.services import accounts


def _quiet(_text: str) -> None:
    pass


def test_the_load_fills_an_empty_database_with_enrolments_at_every_stage(ctx):
    loadgen.generate(400, echo=_quiet)
    statuses = dict(db.session.execute(sa.text(
        "SELECT status, count(*) FROM enrolments GROUP BY status")).all())
    assert sum(statuses.values()) == 400
    assert {"enrolled", "awaiting_follow_up", "completed"} <= statuses.keys()
    # Every session's counter agrees with its bookings, as the booking code keeps it.
    drift = db.session.scalar(sa.text(
        "SELECT count(*) FROM sessions s WHERE s.booked <> (SELECT count(*) FROM bookings b"
        " WHERE b.session_id = s.id AND b.status <> 'cancelled') OR s.booked > s.capacity"))
    assert drift == 0
    kinds = set(db.session.scalars(sa.text("SELECT DISTINCT status FROM bookings")))
    assert {"booked", "attended"} <= kinds
    with pytest.raises(ClickException, match="needs an empty database"):
        loadgen.generate(10, echo=_quiet)


def test_nobody_can_sign_in_as_a_generated_account_but_a_token_still_works(ctx, client):
    loadgen.generate(20, echo=_quiet)
    assert db.session.scalar(sa.text(
        "SELECT count(*) FROM users WHERE password_hash IS NOT NULL")) == 0
    email = "coordinator0@load.diversion.test"
    for password in ("", "load-generator passphrase", "a long enough passphrase"):
        assert accounts.authenticate(email, password) is None
    token = accounts.create_token(email)
    db.session.remove()
    response = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
