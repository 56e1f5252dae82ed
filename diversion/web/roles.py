"""Role gates for pages, and the acting person for services."""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from diversion.services import Actor
from diversion.services.accounts import actor_for


def role_required(*roles: str):
    """Let signed-in staff with one of these roles through; others get 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def actor() -> Actor:
    return actor_for(current_user, request.remote_addr)
