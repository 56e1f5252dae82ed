"""Signing in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from diversion import clock
from diversion.extensions import db, limiter, login_manager
from diversion.models import User
from diversion.services import accounts
from diversion.web.auth import bp
from diversion.web.auth.forms import LoginForm


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
            # A fresh session on sign-in: nothing from before survives.
            session.clear()
            login_user(user)
            now = clock.now().isoformat()
            session["started_at"] = now
            session["seen_at"] = now
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
        form.email.errors = [*form.email.errors, "Enter a correct email address and password"]
    return render_template("auth/login.html", form=form, expired=expired)


@bp.post("/logout")
@login_required
def logout():
    """Sign out and end the session on the server."""
    accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("You have signed out")
    return redirect(url_for("auth.login"))
