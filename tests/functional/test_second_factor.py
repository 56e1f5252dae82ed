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
