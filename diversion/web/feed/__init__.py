"""The participant's private calendar feed: no staff login, the token is the key."""

from flask import Blueprint, Response, abort

from diversion.services import invitations

bp = Blueprint("feed", __name__)


@bp.get("/calendar/<token>.ics")
def calendar(token: str):
    """Serve the participant's own appointments; unknown or revoked tokens are a plain 404."""
    body = invitations.feed_for_token(token)
    if body is None:
        abort(404)
    return Response(body, content_type="text/calendar; charset=utf-8")
