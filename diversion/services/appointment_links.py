"""The participant's private link to one appointment: ``/appointments/{token}``.

The token is the booking's id and calendar sequence, signed with the service's secret
(itsdangerous, HMAC-SHA256), so nothing needs storing and nothing can be guessed. It
names the booking as it stands: a move, a change of time or place (a higher sequence)
or a cancellation supersedes it, and the message that tells the participant carries
the new one. Whether a well-signed token still opens anything is the self-service
service's to say (``services/self_service.py``).
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from diversion.limits import MAX_ID

# Keeps these signatures apart from every other use of the secret (sessions, CSRF).
SALT = "appointment-link"
# Far longer than any token this module makes; a longer one is read no further.
LONGEST_TOKEN = 200
PATH = "/appointments/"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT,
                             signer_kwargs={"digest_method": hashlib.sha256})


def token_for(booking_id: int, sequence: int) -> str:
    """Sign the token of a booking as it stands (its id and sequence)."""
    return str(_serializer().dumps([booking_id, sequence]))


def link_for(booking_id: int, sequence: int) -> str:
    """The participant's full link to this booking, from the configured public address."""
    return link_to(token_for(booking_id, sequence))


def link_to(token: str) -> str:
    """The full link holding this token."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + PATH + token


def read_token(token: str) -> tuple[int, int] | None:
    """Return the booking id and sequence a token was signed for, or None if it is not ours."""
    if not token or len(token) > LONGEST_TOKEN:
        return None
    try:
        value = _serializer().loads(token)
    except BadData:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(type(part) is int and 0 <= part <= MAX_ID for part in value)):
        return None
    return value[0], value[1]


def token_key(token: str) -> str:
    """A name for a token that is not the token: for a throttle's store, never a log."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
