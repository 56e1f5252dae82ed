"""Settings from the environment; ``create_app(config)`` keys override them."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{ROOT / 'instance' / 'diversion.sqlite3'}"
    return normalise_database_url(url)


def _migration_database_url() -> str | None:
    url = os.environ.get("MIGRATION_DATABASE_URL")
    return normalise_database_url(url) if url else None


def normalise_database_url(url: str) -> str:
    """Let a plain ``postgresql://`` URL reach psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _int_or_none(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    return int(value) if value else None


def _prepare_threshold() -> int | None:
    # PgBouncer in transaction mode hands each transaction any server connection, where
    # a statement prepared on another one does not exist: "none" turns preparing off.
    value = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
    return None if value in {"", "none", "off"} else int(value)


def engine_options(config: dict) -> dict:
    """SQLAlchemy engine options for the configured database, over any given in config."""
    options: dict = {
        "pool_pre_ping": True,
        # Errors reach the logs; their statement parameters hold personal data.
        "hide_parameters": True,
    }
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement on a connection once it has run this many times.
        options["connect_args"] = {"prepare_threshold": config["DATABASE_PREPARE_THRESHOLD"]}
    return options | config.get("SQLALCHEMY_ENGINE_OPTIONS", {})


ENVIRONMENTS = ("development", "training", "production")
MAIL_SINK_PORT = 8025


def _environment() -> str:
    name = os.environ.get("DIVERSION_ENV", "development").strip().lower()
    return name if name in ENVIRONMENTS else "development"


def from_environment() -> dict:
    """Read every setting the service knows from the environment."""
    env_name = _environment()
    production = env_name == "production"
    secret = os.environ.get("SECRET_KEY")
    if production and not secret:
        raise RuntimeError("SECRET_KEY must be set in production")
    # Outside production, mail goes to the local sink unless MAIL_SINK=off says otherwise.
    sink = _bool("MAIL_SINK", not production)
    sink_port = int(os.environ.get("MAIL_SINK_PORT", str(MAIL_SINK_PORT)))
    return {
        "ENV_NAME": env_name,
        # Unset in development: create_app takes the one kept in instance/.
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        # The schema owner's connection, for `db upgrade` and `db grant-app-role`; the
        # application itself connects with DATABASE_URL, as a role that cannot alter it.
        "MIGRATION_DATABASE_URI": _migration_database_url(),
        "DATABASE_PREPARE_THRESHOLD": _prepare_threshold(),
        "DIVERSION_NOW": os.environ.get("DIVERSION_NOW"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", str(sink_port if sink else 25))),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_SENDER": os.environ.get("MAIL_SENDER", "appointments@appointments.invalid"),
        # GOV.UK Notify, for text messages: without an API key none is queued.
        "NOTIFY_API_KEY": os.environ.get("NOTIFY_API_KEY") or None,
        "NOTIFY_SMS_TEMPLATE_ID": os.environ.get("NOTIFY_SMS_TEMPLATE_ID") or None,
        "NOTIFY_BASE_URL": os.environ.get("NOTIFY_BASE_URL")
        or "https://api.notifications.service.gov.uk",
        "NOTIFY_TIMEOUT_SECONDS": float(os.environ.get("NOTIFY_TIMEOUT_SECONDS", "30")),
        # What Notify sends with each delivery receipt (POST /notify/callback).
        "NOTIFY_CALLBACK_TOKEN": os.environ.get("NOTIFY_CALLBACK_TOKEN") or None,
        # `flask mail-sink` keeps each message it is given as a file in MAIL_SINK_DIR
        # (default instance/mail), for administrators to read at /admin/mail.
        "MAIL_SINK": sink,
        "MAIL_SINK_PORT": sink_port,
        "MAIL_SINK_DIR": os.environ.get("MAIL_SINK_DIR") or None,
        # The links handed to participants point at the port this process serves.
        "PUBLIC_BASE_URL": os.environ.get(
            "PUBLIC_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}"),
        # Prometheus scrapes /metrics with this bearer token (or from loopback).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024))),
        "SESSION_COOKIE_SECURE": production or _bool("SESSION_COOKIE_SECURE"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "WEB_CONCURRENCY": _int_or_none("WEB_CONCURRENCY"),
        "RATELIMIT_ENABLED": not _bool("RATELIMIT_DISABLED"),
        "LOGIN_LIMIT": os.environ.get("LOGIN_LIMIT", "10 per minute;100 per hour"),
        # A participant's appointment link: every request through one link, and every
        # request to any link from one address (a guesser tries many links).
        "APPOINTMENT_LINK_LIMIT": os.environ.get("APPOINTMENT_LINK_LIMIT",
                                                 "20 per minute;200 per day"),
        "APPOINTMENT_ADDRESS_LIMIT": os.environ.get("APPOINTMENT_ADDRESS_LIMIT",
                                                    "60 per minute;1000 per day"),
        "SECOND_FACTOR_ATTEMPTS": int(os.environ.get("SECOND_FACTOR_ATTEMPTS", "5")),
        "WTF_CSRF_TIME_LIMIT": None,
        "SCHEDULER_MAIL_INTERVAL_SECONDS": int(
            os.environ.get("SCHEDULER_MAIL_INTERVAL_SECONDS", "60")
        ),
        "SCHEDULER_SWEEP_AT": os.environ.get("SCHEDULER_SWEEP_AT", "06:00"),
        "SCHEDULER_DIGEST_AT": os.environ.get("SCHEDULER_DIGEST_AT", "07:00"),
        "SCHEDULER_RETENTION_AT": os.environ.get("SCHEDULER_RETENTION_AT", "02:30"),
        "MAIL_CLAIM_LEASE_SECONDS": int(os.environ.get("MAIL_CLAIM_LEASE_SECONDS", "300")),
        "API_PAGE_SIZE": 50,
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "json" if production else "text"),
        # flask-smorest: the OpenAPI document lives beside the API it describes.
        "API_TITLE": "Diversion",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "security": [{"bearerAuth": []}],
            "info": {"description": "Integration contract: docs/api.md in the repository. "
                                    "Bearer tokens from `flask --app wsgi create-token EMAIL`."},
        },
    }


SECRET_KEY_FILE = "secret_key"


def development_secret_key(instance: Path) -> str:
    """Return the development secret kept in ``instance/``, creating it the first time.

    Every process started from this directory (each worker of ``gunicorn -w 2``, the
    scheduler, the CLI) reads the same key, so a session or CSRF token signed by one
    is good in another. The file is readable by its owner only. Never in production,
    which must be given SECRET_KEY.
    """
    path = instance / SECRET_KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: a process that
        # loses the race reads the winner's key, never a half-written file.
        draft = instance / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def limiter_store_problem(storage_uri: str, workers: int | None) -> str | None:
    """Say why this throttling store cannot serve this many web workers, or None."""
    if storage_uri.startswith("memory://") and workers is not None and workers > 1:
        return (f"RATELIMIT_STORAGE_URI is memory://, which each of the {workers} web "
                "workers would keep for itself, multiplying every limit: set it to a "
                "shared store (redis://...)")
    return None
