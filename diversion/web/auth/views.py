"""Signing in and out."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from diversion import clock
from diversion.extensions import db, limiter, login_manager
from diversion.models import User
from diversion.services import accounts
from diversion.web.auth import bp
from diversion.web.auth.forms import LoginForm, SecondFactorForm


@login_manager.user_loader
def load_user(user_id: str):
    # The cookie names a user *and* a session version: logout, disabling or a
    # password change bumps the version, so old cookies stop working here.
    ident, _, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _login_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login:{email}"


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"], key_func=_login_key)
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    expired = session.pop("expired", False)
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr)
        if user is not None:
            target = _safe_next(request.args.get("next"))
            # A fresh session on sign-in: nothing from before survives.
            session.clear()
            if accounts.needs_second_factor(user):
                session["pending_user"] = f"{user.id}:{user.session_version}"
                session["pending_at"] = clock.unmoved_now().isoformat()
                session["pending_next"] = target
                return redirect(url_for("auth.second_factor"))
            return _sign_in(user, target)
        form.email.errors = [*form.email.errors, "Enter a correct email address and password"]
    return render_template("auth/login.html", form=form, expired=expired)


def _sign_in(user: User, target: str | None):
    login_user(user)
    now = clock.unmoved_now().isoformat()
    session["started_at"] = now
    session["seen_at"] = now
    return redirect(target or url_for("home"))


PENDING_MINUTES = 5


def _pending_user() -> User | None:
    ident, _, version = (session.get("pending_user") or "").partition(":")
    started = session.get("pending_at")
    if not ident.isdigit() or not version.isdigit() or not started:
        return None
    try:
        began = datetime.fromisoformat(started)
    except ValueError:
        return None
    if clock.unmoved_now() - began > timedelta(minutes=PENDING_MINUTES):
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"])
def second_factor():
    """Ask an administrator for the code from their authenticator app (set it up first)."""
    user = _pending_user()
    if user is None:
        session.pop("pending_user", None)
        return redirect(url_for("auth.login"))
    attempts = current_app.config["SECOND_FACTOR_ATTEMPTS"]
    if accounts.second_factor_locked(user.id):
        if request.method == "POST":
            # Refused whatever it says, and written down: someone is still trying codes.
            accounts.check_second_factor(user.id, request.form.get("code", ""),
                                         request.remote_addr, attempts=attempts)
        return _locked_out()
    form = SecondFactorForm()
    setting_up = user.totp_confirmed_at is None
    secret = accounts.totp_setup_secret(user.id) if setting_up else None
    if form.validate_on_submit():
        if accounts.check_second_factor(user.id, form.code.data, request.remote_addr,
                                        attempts=attempts):
            target = session.get("pending_next")
            session.clear()
            return _sign_in(user, target)
        if accounts.second_factor_locked(user.id):
            return _locked_out()
        form.code.errors = [*form.code.errors,
                            "Enter the 6-digit code your authenticator app shows now"]
    uri = accounts.totp_uri(db.session.get_one(User, user.id)) if setting_up else None
    qr_code = Markup(segno.make(uri, error="m").svg_inline(
        scale=5, title="QR code of the setup link", svgclass="app-qr-code")) if uri else None
    return render_template("auth/second_factor.html", form=form, secret=secret, uri=uri,
                           qr_code=qr_code,
                           title="Enter your code")


def _locked_out():
    # The pending sign-in is over: only an administrator's unlock lets codes count again.
    session.pop("pending_user", None)
    return render_template("auth/locked.html", title="Your sign-in is locked")


@bp.post("/logout")
@login_required
def logout():
    """Sign out and end the session on the server."""
    accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out")
    return redirect(url_for("auth.login"))
