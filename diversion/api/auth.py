"""Bearer-token authentication and role checks for the JSON API."""

from __future__ import annotations

from functools import wraps

from flask import request

from diversion.services import Actor, Forbidden
from diversion.services.accounts import actor_for_token


class Unauthenticated(Exception):
    """No token, or a token that is unknown or revoked."""


def current_actor() -> Actor:
    """Return the actor for this API request's bearer token."""
    # Cached on the request itself: an app context (and so ``g``) can outlive
    # one request, and an actor must never leak from one request into another.
    actor = request.environ.get("diversion.actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    actor = actor_for_token(token.strip(), request.remote_addr)
    if actor is None:
        raise Unauthenticated()
    request.environ["diversion.actor"] = actor
    return actor


def requires(*roles: str):
    """Let only these roles through (401 without a valid token, 403 for another role)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if roles and actor.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        # Read by the access-matrix test: every operation declares who may call it.
        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper

    return decorate
