"""The JSON API under /api/v1, documented by the OpenAPI document it generates."""

from __future__ import annotations

from flask import Flask, request, url_for

from diversion.extensions import api, csrf


def next_url(endpoint: str, rows: list, limit: int, **params) -> str | None:
    """Return the keyset link to the next page, or None on the last page."""
    if len(rows) < limit:
        return None
    args = {k: v for k, v in request.args.items() if k not in ("after",)}
    args.update({k: v for k, v in params.items() if v is not None})
    args["after"] = rows[-1].id
    return url_for(endpoint, _external=True, **args)


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
