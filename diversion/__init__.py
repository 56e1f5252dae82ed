"""Diversion: deferred-prosecution diversion courses, end to end."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from diversion import clock, logs
from diversion.config import (
    ROOT,
    development_secret_key,
    engine_options,
    from_environment,
    limiter_store_problem,
    normalise_database_url,
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands."""
    config = config or {}
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "diversion" / "static"),
        static_url_path="/static",
        instance_path=str(config.get("INSTANCE_PATH") or ROOT / "instance"),
    )
    app.config.update(from_environment())
    app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    if app.config["ENV_NAME"] == "production":
        refuse_unsafe_production(app.config)
    elif not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))
    if not app.config.get("MAIL_SINK_DIR"):
        app.config["MAIL_SINK_DIR"] = str(Path(app.instance_path) / "mail")
    if app.config["ENV_NAME"] == "training":
        refuse_real_mail_in_training(app.config)
        # DIVERSION_NOW is where the training clock starts, not a pin.
        clock.use_training_clock(Path(app.instance_path), app.config.get("DIVERSION_NOW"))
    else:
        clock.use_training_clock(None)
        if app.config.get("DIVERSION_NOW"):
            clock.set_now(app.config["DIVERSION_NOW"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        ROOT.joinpath("instance").mkdir(exist_ok=True)

    # First, so a request refused by a later hook (a bad token, a throttle) still
    # carries its request id, and an oversized body is refused before anything reads it.
    logs.configure(app)
    register_metrics(app)
    register_body_limit(app)
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security(app)
    register_commands(app)
    return app


def refuse_unsafe_production(config: dict) -> None:
    """Refuse to start production with settings that defeat its own protections."""
    if not config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production")
    problem = limiter_store_problem(config["RATELIMIT_STORAGE_URI"], config["WEB_CONCURRENCY"])
    if problem:
        raise RuntimeError(problem)


def refuse_real_mail_in_training(config: dict) -> None:
    """Refuse a training environment whose mail could reach a real person."""
    loopback = config.get("MAIL_SERVER") in {"127.0.0.1", "localhost", "::1"}
    if not (config.get("MAIL_SINK") and loopback
            and int(config.get("MAIL_PORT") or 0) == int(config["MAIL_SINK_PORT"])):
        raise RuntimeError("DIVERSION_ENV=training sends mail only to the mail sink: leave "
                           "MAIL_SERVER, MAIL_PORT and MAIL_SINK unset")


def register_metrics(app: Flask) -> None:
    from diversion.web.metrics import register

    register(app)


def register_body_limit(app: Flask) -> None:
    from diversion.web.security import refuse_oversized_streams

    app.before_request(refuse_oversized_streams)


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
    from diversion import database, i18n
    from diversion.api.schemas import ErrorResponse
    from diversion.extensions import api, babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.register(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    # No locale selector: every request is English (staff pages) unless a participant's
    # page renders inside i18n.speaking(language).
    babel.init_app(app, default_locale="en",
                   default_translation_directories=str(i18n.TRANSLATIONS))
    app.jinja_env.globals["current_language"] = i18n.current_language
    # Errors are docs/api.md's list of {code, field, message}, documented per operation
    # and status (diversion/api/__init__.py), not flask-smorest's catch-all "default".
    api.ERROR_SCHEMA = ErrorResponse
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from diversion.api import register as register_api
    from diversion.limits import IdConverter
    from diversion.web import register as register_web

    # Every <int:...> in a route is an id: one beyond an integer column is a 404.
    app.url_map.converters["int"] = IdConverter
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
