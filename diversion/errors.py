"""One error layer: rule refusals, missing records and bad input, as JSON or pages."""

from __future__ import annotations

import logging

import sqlalchemy.exc as sa_exc
from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from diversion import i18n
from diversion.api.auth import Unauthenticated
from diversion.domain.errors import RuleViolation
from diversion.extensions import db
from diversion.services import Actor, Forbidden, InvalidInput, NotFound, audit
from diversion.services.appointment_links import PATH as APPOINTMENT_PATH

log = logging.getLogger(__name__)

GENERIC = {
    400: ("bad_request", "The request could not be understood"),
    401: ("unauthenticated", "A valid bearer token is needed"),
    403: ("forbidden", "Your role may not do this"),
    404: ("not_found", "No such thing"),
    405: ("method_not_allowed", "That method is not allowed here"),
    409: ("conflict", "That conflicts with the current state"),
    413: ("too_large", "The request is too large"),
    415: ("unsupported_media_type", "Send JSON"),
    422: ("refused", "A rule does not allow this"),
    429: ("too_many_requests", "Too many requests; try again later"),
    500: ("server_error", "Something went wrong on our side"),
    503: ("unavailable", "The service cannot reach its database for a moment: try again "
                         "in a few seconds"),
}
# Seconds a client is asked to wait after a 503: a terminated connection is replaced
# at once, a database failing over to its standby takes longer.
RETRY_AFTER_SECONDS = 5


# Addresses a participant is sent to. Their error pages name nothing: no service, no
# staff layout, no reason (calendar.md: "a plain 404 that reveals nothing").
PARTICIPANT_PATHS = ("/calendar/", APPOINTMENT_PATH)


def wants_json() -> bool:
    """Answer in JSON: the API always; a participant's appointment link when asked to."""
    # Programs call /api/ and GOV.UK Notify's receipts; people read pages.
    if request.path.startswith(("/api/", "/notify/")):
        return True
    return request.path.startswith(APPOINTMENT_PATH) and asks_for_json()


def asks_for_json() -> bool:
    """Whether the request sent JSON, or prefers JSON to a page."""
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return request.is_json or best == "application/json"


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"errors": [{"code": code, "field": field, "message": message}]}


def _flatten(messages, prefix: str = "") -> list[dict]:
    """Turn webargs/marshmallow nested messages into docs/api.md error items."""
    items: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "view_args", "headers") and not prefix:
                items += _flatten(value, "")
                continue
            name = str(key)
            path = f"{prefix}.{name}" if prefix else name
            if name == "_schema":
                path = prefix
            items += _flatten(value, path)
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            for message in messages:
                items.append({"code": "invalid", "field": prefix or None, "message": message})
        else:
            for index, value in enumerate(messages):
                items += _flatten(value, f"{prefix}.{index}" if prefix else str(index))
    else:
        items.append({"code": "invalid", "field": prefix or None, "message": str(messages)})
    return items


def _respond(status: int, body: dict, page_title: str | None = None, message: str | None = None):
    if wants_json():
        return jsonify(body), status
    if request.path.startswith(PARTICIPANT_PATHS):
        # English unless the page knew whose link it was (web/participant/views.py).
        with i18n.speaking(g.get("participant_language")):
            title = gettext("Page not found") if status == 404 else gettext(
                "Sorry, there is a problem")
            page = render_template("participant/error.html", status=status, title=title)
        return page, status
    code, default_message = GENERIC.get(status, GENERIC[500])
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=page_title or default_message,
            message=message or default_message,
        ),
        status,
    )


def register(app: Flask) -> None:
    """Map every error to docs/api.md's JSON shape or a plain page."""

    @app.errorhandler(RuleViolation)
    def rule_violation(error: RuleViolation):
        db.session.rollback()
        return _respond(error.status, {"errors": error.items()}, message=error.message)

    @app.errorhandler(InvalidInput)
    def invalid_input(error: InvalidInput):
        db.session.rollback()
        return _respond(error.status, error_body(error.code, error.message, error.field),
                        message=error.message)

    @app.errorhandler(NotFound)
    def not_found(error: NotFound):
        db.session.rollback()
        _audit_refusal(404, error.what, error.object_id)
        return _respond(404, error_body("not_found", f"No such {error.what}"))

    @app.errorhandler(Forbidden)
    def forbidden(_error: Forbidden):
        db.session.rollback()
        _audit_refusal(403)
        return _respond(403, error_body(*GENERIC[403]))

    @app.errorhandler(Unauthenticated)
    def unauthenticated(_error: Unauthenticated):
        response, status = jsonify(error_body(*GENERIC[401])), 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="diversion"'
        return response, status

    @app.errorhandler(HTTPException)
    def http_exception(error: HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        if messages and wants_json():
            items = _flatten(messages)
            # webargs carries the schema's ValidationError; without one, the body was
            # not JSON at all.
            schema_said_no = isinstance(getattr(error, "exc", None), ValidationError)
            code = "invalid" if schema_said_no else "malformed"
            for item in items:
                item["code"] = code
            return jsonify({"errors": items}), status
        _audit_http_refusal(status)
        code, message = GENERIC.get(status, (error.name.lower().replace(" ", "_"), error.name))
        if status == 400 and not wants_json() and "CSRF" in (error.description or ""):
            message = "The form had expired. Go back, refresh the page and try again."
        return _respond(status, error_body(code, message), message=message)

    app.register_error_handler(sa_exc.OperationalError, _database_conflict)
    for fault in (sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError):
        app.register_error_handler(fault, _database_unavailable)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error", exc_info=error)
        db.session.rollback()
        return _respond(500, error_body(*GENERIC[500]))


def _database_conflict(error: sa_exc.OperationalError):
    if _connection_lost(error):
        return _database_unavailable(error)
    db.session.rollback()
    if not _lost_a_race(error):
        log.exception("database error", exc_info=error)
        return _respond(500, error_body(*GENERIC[500]))
    # Two changes crossed (a deadlock, or a writer that waited too long): the database
    # undid this one whole, so nothing changed and trying again is safe.
    log.warning("conflicting change rolled back: %s", error.orig)
    message = "Someone else changed this at the same moment. Nothing was changed: try again."
    return _respond(409, error_body("changed_meanwhile", message), message=message)


def _database_unavailable(error: Exception):
    """The database connection was lost or could not be had: nothing this request did
    was committed, and a new connection serves the next one."""
    db.session.rollback()
    log.warning("database unavailable: %s", getattr(error, "orig", None) or error)
    response, status = _respond(503, error_body(*GENERIC[503]),
                                page_title="Sorry, the service is unavailable",
                                message="Try again in a few seconds.")
    response = make_response(response, status)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _connection_lost(error: sa_exc.OperationalError) -> bool:
    """Tell a lost or refused connection (a restart, a failover, a terminated backend,
    no connection slot left) from a fault of the request's own."""
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None)
    if state is not None:
        # Connection exceptions, administrator or crash shutdown, too many connections.
        return state.startswith("08") or state in ("57P01", "57P02", "57P03", "53300")
    # psycopg has no SQLSTATE for a server it could not reach at all; SQLite has none.
    return db.engine.dialect.name == "postgresql"


def _lost_a_race(error: sa_exc.OperationalError) -> bool:
    """Tell a deadlock or serialisation failure (or SQLite's busy lock) from a real fault."""
    state = getattr(error.orig, "sqlstate", None)
    if state in ("40P01", "40001", "55P03"):
        return True
    return "database is locked" in str(error.orig)


def _audit_http_refusal(status: int) -> None:
    if status == 429 and request.path == "/login":
        _audit_throttled_login()
    elif status == 403:  # a page's role gate
        db.session.rollback()
        _audit_refusal(403)


# Route arguments that name a record, most specific first: a refusal row names the one
# the request was about.
RECORD_ARGUMENTS = ("booking_id", "enrolment_id", "case_id", "session_id", "venue_id",
                    "user_id", "programme_id")


def _refused_record(what: str | None, object_id) -> tuple[str | None, object]:
    args = request.view_args or {}
    if object_id is not None:
        return what, object_id
    if what and f"{what}_id" in args:
        return what, args[f"{what}_id"]
    for name in RECORD_ARGUMENTS:
        if name in args:
            return name.removesuffix("_id"), args[name]
    return what, None


def _acting() -> Actor | None:
    """The staff member making this request, if they are known by now."""
    actor = request.environ.get("diversion.actor")  # an API caller, once authenticated
    if actor is not None:
        return actor
    if request.path.startswith("/api/"):
        return None
    from flask_login import current_user

    from diversion.services.accounts import actor_for

    if current_user and current_user.is_authenticated:
        return actor_for(current_user, request.remote_addr)
    return None


def _audit_refusal(status: int, what: str | None = None, object_id=None) -> None:
    """Write every refusal of a signed-in caller to the audit trail, with its case."""
    if request.path.startswith(PARTICIPANT_PATHS):
        return  # no staff member asked, and the address holds the participant's token
    actor = _acting()
    if actor is None:
        return
    what, object_id = _refused_record(what, object_id)
    try:
        audit.record_refusal(actor, status, what, object_id, method=request.method,
                             path=request.path)
    except Exception:  # the refusal must still be answered if the database is down
        log.exception("could not audit a refusal")
        db.session.rollback()


def _audit_throttled_login() -> None:
    # A throttled attempt never reaches the view, but it is still a failed sign-in.
    from diversion.domain.text import without_unusable_characters
    from diversion.services import Actor, audit

    email = without_unusable_characters(request.form.get("email") or "").strip().lower()[:254]
    try:
        audit.record_now(Actor(user_id=None, email=email or "unknown", role="unknown",
                               remote_addr=request.remote_addr), "login_throttled", "user")
    except Exception:  # the refusal must still be answered if the database is down
        log.exception("could not audit a throttled login")
        db.session.rollback()
