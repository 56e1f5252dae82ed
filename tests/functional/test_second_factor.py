"""Administrators sign in with a password and a code from an authenticator app."""

import re

import pyotp

from diversion import clock
from tests.conftest import PASSWORD, csrf_from, make_user, pass_second_factor


def _password(client, email):
    page = client.get("/login")
    return client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                       "email": email, "password": PASSWORD})


def _sign_out(client):
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def test_an_administrator_sets_up_an_app_and_is_signed_in_only_after_a_valid_code(client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    admin = make_user(role="admin", force=None, email="ada@example.gov.uk")
    response = _password(client, admin.email)
    assert response.headers["Location"].endswith("/login/code")
    assert client.get("/admin/users").status_code == 302, "not signed in before the code"
    page = client.get("/login/code").get_data(as_text=True)
    assert "Set up your authenticator app" in page
    secret = re.search(r'data-totp-secret="([A-Z2-7]+)"', page).group(1)
    # A QR code of the setup link, drawn on the server: no script, no image request.
    assert re.search(r'<svg[^>]*class="app-qr-code"', page)
    wrong = client.post("/login/code", data={"csrf_token": csrf_from(page), "code": "000000"})
    assert "Enter the 6-digit code your authenticator app shows now" in wrong.get_data(
        as_text=True)
    assert client.get("/admin/users").status_code == 302
    code = pyotp.TOTP(secret).at(clock.now())
    ok = client.post("/login/code", data={"csrf_token": csrf_from(page), "code": code})
    assert ok.status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_a_code_cannot_be_used_twice_and_the_setup_key_is_not_shown_again(client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    admin = make_user(role="admin", force=None, email="ada@example.gov.uk")
    _password(client, admin.email)
    page = client.get("/login/code").get_data(as_text=True)
    secret = re.search(r'data-totp-secret="([A-Z2-7]+)"', page).group(1)
    code = pyotp.TOTP(secret).at(clock.now())
    client.post("/login/code", data={"csrf_token": csrf_from(page), "code": code})
    _sign_out(client)
    _password(client, admin.email)
    page = client.get("/login/code").get_data(as_text=True)
    assert "data-totp-secret" not in page
    assert "Enter your code" in page
    replay = client.post("/login/code", data={"csrf_token": csrf_from(page), "code": code})
    assert replay.status_code == 200
    assert client.get("/admin/users").status_code == 302
    clock.set_now("2027-01-04T09:01:00+00:00")
    assert pass_second_factor(client).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_a_password_without_a_code_expires_after_five_minutes(client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    admin = make_user(role="admin", force=None, email="ada@example.gov.uk")
    _password(client, admin.email)
    clock.set_now("2027-01-04T09:06:00+00:00")
    assert client.get("/login/code").headers["Location"].endswith("/login")


def test_a_case_officer_is_not_asked_for_a_code(client):
    officer = make_user(role="case_officer")
    response = _password(client, officer.email)
    assert response.headers["Location"].endswith("/")
    assert client.get("/cases/dashboard").status_code == 200


# ---- wrong codes lock the account, wherever they come from ----------------------------


def _codes_from(client, codes, addresses):
    """Post codes on the same pending sign-in, each from its own address."""
    responses = []
    for code, address in zip(codes, addresses, strict=True):
        page = client.get("/login/code", environ_base={"REMOTE_ADDR": address})
        token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
        responses.append(client.post("/login/code", data={"csrf_token": token, "code": code},
                                     environ_base={"REMOTE_ADDR": address}))
    return responses


def _current_code(app, email):
    from diversion.extensions import db
    from diversion.services import accounts

    with app.app_context():
        secret = accounts.user_by_email(email).totp_secret
        db.session.remove()
    return pyotp.TOTP(secret).at(clock.now())


def _actions(app, email):
    import sqlalchemy as sa

    from diversion.extensions import db
    from diversion.models import AuditEvent

    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.actor == email).order_by(AuditEvent.id)))
        db.session.remove()
    return rows


def test_five_wrong_codes_from_five_addresses_lock_the_account(app, client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    admin = make_user(role="admin", force=None, email="ada@example.gov.uk")
    _password(client, admin.email)
    client.get("/login/code")  # sets up the secret
    addresses = [f"203.0.113.{n}" for n in range(1, 6)]
    responses = _codes_from(client, ["000000"] * 5, addresses)
    assert all(r.status_code == 200 for r in responses)
    assert "Enter the 6-digit code" in responses[3].get_data(as_text=True)
    assert "Your sign-in is locked" in responses[4].get_data(as_text=True)

    # The right code, from a fresh address and a fresh sign-in, is refused too.
    _password(client, admin.email)
    assert "Your sign-in is locked" in client.get("/login/code").get_data(as_text=True)
    _codes_from(client, [_current_code(app, admin.email)], ["198.51.100.7"])
    assert client.get("/admin/users").status_code == 302
    assert _actions(app, admin.email)[-6:] == (
        ["second_factor_failed"] * 4 + ["second_factor_locked", "login"])


def test_a_right_code_starts_the_count_of_wrong_ones_again(app, client):
    clock.set_now("2027-01-04T09:00:00+00:00")
    admin = make_user(role="admin", force=None, email="ada@example.gov.uk")
    _password(client, admin.email)
    client.get("/login/code")
    _codes_from(client, ["000000"] * 4, ["203.0.113.1"] * 4)
    assert pass_second_factor(client).status_code == 302
    _sign_out(client)
    clock.set_now("2027-01-04T09:01:00+00:00")
    _password(client, admin.email)
    responses = _codes_from(client, ["000000"] * 4, ["203.0.113.1"] * 4)
    assert "Your sign-in is locked" not in responses[-1].get_data(as_text=True)


def test_an_administrator_unlocks_a_locked_account_and_the_unlock_is_audited(
    app, client, login_as,
):
    clock.set_now("2027-01-04T09:00:00+00:00")
    locked = make_user(role="admin", force=None, email="ada@example.gov.uk")
    stranger = app.test_client()
    _password(stranger, locked.email)
    stranger.get("/login/code")
    _codes_from(stranger, ["000000"] * 5, ["203.0.113.1"] * 5)

    login_as("admin", force=None, email="grace@example.gov.uk")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Locked out" in page
    response = client.post(f"/admin/users/{locked.id}/unlock",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert "ada@example.gov.uk can sign in with a code again" in client.get(
        "/admin/users").get_data(as_text=True)
    assert "Locked out" not in client.get("/admin/users").get_data(as_text=True)
    assert _actions(app, "grace@example.gov.uk")[-1] == "update"

    clock.set_now("2027-01-04T09:02:00+00:00")
    again = app.test_client()
    _password(again, locked.email)
    assert pass_second_factor(again).status_code == 302
    assert again.get("/admin/users").status_code == 200


def test_unlocking_without_a_csrf_token_is_refused_and_the_lock_stays(app, client, login_as):
    clock.set_now("2027-01-04T09:00:00+00:00")
    locked = make_user(role="admin", force=None, email="ada@example.gov.uk")
    stranger = app.test_client()
    _password(stranger, locked.email)
    stranger.get("/login/code")
    _codes_from(stranger, ["000000"] * 5, ["203.0.113.1"] * 5)
    login_as("admin", force=None, email="grace@example.gov.uk")
    assert client.post(f"/admin/users/{locked.id}/unlock").status_code == 400
    assert "Locked out" in client.get("/admin/users").get_data(as_text=True)


def test_the_command_line_unlocks_an_account_when_no_administrator_can(app, client, runner):
    clock.set_now("2027-01-04T09:00:00+00:00")
    locked = make_user(role="admin", force=None, email="ada@example.gov.uk")
    _password(client, locked.email)
    client.get("/login/code")
    _codes_from(client, ["000000"] * 5, ["203.0.113.1"] * 5)
    result = runner.invoke(args=["unlock-second-factor", "ada@example.gov.uk"])
    assert result.exit_code == 0, result.output
    _password(client, locked.email)
    assert pass_second_factor(client).status_code == 302
