"""The JSON API under /api/v1, documented by the OpenAPI document it generates."""

from __future__ import annotations

import flask_smorest
from flask import Flask, current_app, request, url_for
from webargs.flaskparser import FlaskParser

from diversion.extensions import api, csrf


class _Parser(FlaskParser):
    # docs/api.md keeps 422 for a rule that says no, with a rule code; a body or query
    # that does not fit its schema is a malformed request.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint, answering a request that fails its schema with 400."""

    ARGUMENTS_PARSER = _Parser()

    def arguments(self, schema, **kwargs):
        # Given a schema class, webargs builds a new schema, fields deep-copied, on
        # every request: build it once here.
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


def next_url(endpoint: str, rows: list, limit: int, **params) -> str | None:
    """Return the keyset link to the next page, or None on the last page."""
    if len(rows) < limit:
        return None
    args: dict = {k: v for k, v in request.args.items() if k not in ("after",)}
    args.update({k: v for k, v in params.items() if v is not None})
    args["after"] = rows[-1].id
    # From the configured address, never the request's Host header, which the caller
    # chooses: a link built from it could send the next request anywhere.
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **args)


def register(app: Flask) -> None:
    """Register every API blueprint (token-authenticated, so CSRF-exempt)."""
    from diversion.api import (
        audit,
        bookings,
        cases,
        enrolments,
        flags,
        health,
        participants,
        programmes,
        sessions,
        venues,
    )

    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    for module in (programmes, cases, enrolments, flags, venues, sessions, bookings,
                   participants, audit):
        csrf.exempt(module.bp)
        api.register_blueprint(module.bp)
    app.register_blueprint(health.bp)
    app.before_request(_authenticate_first)


def allowed_roles(view) -> frozenset | None:
    """Find the roles an API view declared with ``requires`` (through any wrappers)."""
    while view is not None:
        roles = getattr(view, "allowed_roles", None)
        if roles is not None:
            return roles
        view = getattr(view, "__wrapped__", None)
    return None


def _authenticate_first():
    # Who is asking is settled before the body is read: an anonymous or wrong-role
    # caller learns nothing from validation messages.
    if not request.path.startswith("/api/v1/") or request.endpoint is None:
        return
    from diversion.api.auth import current_actor
    from diversion.services import Forbidden

    roles = allowed_roles(current_app.view_functions.get(request.endpoint))
    if roles is None:
        return
    actor = current_actor()
    if roles and actor.role not in roles:
        raise Forbidden()
