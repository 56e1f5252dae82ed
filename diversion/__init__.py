"""Diversion: deferred-prosecution diversion courses, end to end."""

from __future__ import annotations

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from diversion import clock, logs
from diversion.config import ROOT, engine_options, from_environment, normalise_database_url


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "diversion" / "static"),
        static_url_path="/static",
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(from_environment())
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if app.config.get("DIVERSION_NOW"):
        clock.set_now(app.config["DIVERSION_NOW"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        ROOT.joinpath("instance").mkdir(exist_ok=True)

    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    logs.configure(app)
    return app


def register_templates(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    from diversion.web import filters

    filters.register(app)
    register_vocabulary(app)


def register_vocabulary(app: Flask) -> None:
    """Let templates compare with the domain's words rather than spell them again."""
    from diversion.domain import vocabulary

    app.jinja_env.globals.update(
        OPEN_ENROLMENT=vocabulary.OPEN_ENROLMENT,
        BookingStatus=vocabulary.BookingStatus,
        DecisionKind=vocabulary.DecisionKind,
        EnrolmentStatus=vocabulary.EnrolmentStatus,
        FlagKind=vocabulary.FlagKind,
        FlagStatus=vocabulary.FlagStatus,
        JobOutcome=vocabulary.JobOutcome,
        Role=vocabulary.Role,
        SessionStatus=vocabulary.SessionStatus,
    )


def register_extensions(app: Flask) -> None:
    from diversion import database
    from diversion.extensions import api, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.register(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from diversion.api import register as register_api
    from diversion.web import register as register_web

    register_api(app)
    register_web(app)


def register_errorhandlers(app: Flask) -> None:
    from diversion.errors import register

    register(app)


def register_security(app: Flask) -> None:
    from diversion.web.security import register

    register(app)


def register_commands(app: Flask) -> None:
    from diversion.cli import register

    register(app)
