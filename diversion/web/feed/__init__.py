"""The participant's private calendar feed: no staff login, the token is the key."""

import hashlib

from flask import Response, abort, request

from diversion.api import Blueprint
from diversion.services import invitations

bp = Blueprint("feed", __name__, description="The participant's private calendar feed")


@bp.get("/calendar/<token>.ics")
@bp.doc(security=[])
@bp.response(200, {"type": "string"}, content_type="text/calendar",
             description="The participant's own appointments (RFC 5545)")
@bp.alt_response(304, description="Unchanged since the ETag sent in If-None-Match")
@bp.alt_response(404, description="An unknown or revoked token",
                 content_type="text/html", schema={"type": "string"})
def calendar(token: str):
    """Serve the participant's own appointments; unknown or revoked tokens are a plain 404.

    Calendar apps poll hourly: an ETag lets an unchanged feed answer 304 with no body.
    """
    body = invitations.feed_for_token(token)
    if body is None:
        abort(404)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.set_etag(hashlib.sha256(body).hexdigest())
    return response.make_conditional(request)
