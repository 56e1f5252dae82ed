"""Response headers, server-side session checks and the body size limit, for every request."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from flask import Flask, current_app, request, session
from flask_login import current_user, logout_user
from werkzeug.exceptions import RequestEntityTooLarge

from diversion import clock

# GOV.UK Frontend's one inline script (it marks <body> so the components start), by
# the hash its documentation publishes; no other inline script runs.
GOVUK_INLINE_SCRIPT = "'sha256-GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw='"
CSP = (
    f"default-src 'self'; script-src 'self' {GOVUK_INLINE_SCRIPT}; style-src 'self'; "
    "img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def register(app: Flask) -> None:
    """Attach security headers and session timeouts."""
    app.before_request(_enforce_session_timeouts)
    app.after_request(_security_headers)


def refuse_oversized_streams() -> None:
    """Answer 413 for a chunked body over ``MAX_CONTENT_LENGTH``, before anything parses it."""
    # Werkzeug refuses an oversized Content-Length up front, but a chunked body has
    # none: it is only cut off at the limit while being read, and the form and JSON
    # parsers then report the cut body as malformed (400). Read it here instead, one
    # byte past the limit, and hand the parsers what was read.
    environ = request.environ
    if (request.content_length is not None or not environ.get("wsgi.input_terminated")
            or "chunked" not in request.headers.get("Transfer-Encoding", "").lower()):
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    body, stream = bytearray(), environ["wsgi.input"]
    while len(body) <= limit:
        chunk = stream.read(limit + 1 - len(body))
        if not chunk:
            break
        body += chunk
    if len(body) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(bytes(body))
    environ["CONTENT_LENGTH"] = str(len(body))


def _enforce_session_timeouts() -> None:
    if request.path.startswith(("/static/", "/assets/", "/api/", "/calendar/")):
        return
    if not current_user.is_authenticated:
        return
    now = clock.unmoved_now()
    started = _read(session.get("started_at"))
    seen = _read(session.get("seen_at"))
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if started is None or seen is None or now - seen > idle or now - started > absolute:
        logout_user()
        session.clear()
        session["expired"] = True
        return
    session["seen_at"] = now.isoformat()


def _read(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if not request.path.startswith(("/static/", "/assets/")):
        # Pages and API answers carry personal data: never keep them in a cache.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response
