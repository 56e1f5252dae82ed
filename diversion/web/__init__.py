"""Pages for people: one blueprint per audience."""

from __future__ import annotations

from flask import Flask, redirect, url_for
from flask_login import current_user

from diversion.extensions import api, login_manager


def register(app: Flask) -> None:
    from diversion.web import admin, auth, case_officer, coordinator, feed, notify, participant

    login_manager.login_view = "auth.login"
    # The sign-in page says what to do; a banner saying it again is noise (and would
    # stack on the "your session ended" banner).
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    app.register_blueprint(auth.bp)
    app.register_blueprint(case_officer.bp)
    app.register_blueprint(coordinator.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(participant.bp)
    app.register_blueprint(notify.bp)
    # The feed is part of the integration contract: its blueprint documents it in the
    # OpenAPI document beside the API.
    api.register_blueprint(feed.bp)
    register_assets(app)
    register_training_banner(app)

    @app.get("/")
    def home():
        """Send each person to the start page for their role."""
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return redirect(url_for(HOME_FOR_ROLE[current_user.role]))


HOME_FOR_ROLE = {
    "case_officer": "case_officer.dashboard",
    "coordinator": "coordinator.week",
    "admin": "admin.users",
}


def register_training_banner(app: Flask) -> None:
    """In training, give every page the clock for its banner."""
    from diversion import clock

    @app.context_processor
    def training_clock():
        training = app.config["ENV_NAME"] == "training"
        return {"training_now": clock.now() if training else None}


def register_assets(app: Flask) -> None:
    from flask import send_from_directory

    from diversion.config import ROOT

    assets_dir = ROOT / "diversion" / "static" / "govuk" / "assets"

    @app.get("/assets/<path:filename>")
    def assets(filename):
        """Serve GOV.UK Frontend's fonts and images where its stylesheet expects them."""
        return send_from_directory(assets_dir, filename, max_age=86400)
