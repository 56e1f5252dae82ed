"""The participant's private feed token."""

from flask import current_app

from diversion.api import Blueprint
from diversion.api.auth import current_actor, requires
from diversion.api.schemas import TokenOut
from diversion.domain.vocabulary import Role
from diversion.services import invitations

bp = Blueprint("feeds", __name__, url_prefix="/api/v1", description="Calendar feeds")


def feed_urls(token: str) -> dict:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    https = f"{base}/calendar/{token}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    return {"url": https, "webcal_url": webcal}


@bp.post("/enrolments/<int:enrolment_id>/calendar-token")
@bp.response(201, TokenOut)
@requires(Role.COORDINATOR)
def issue(enrolment_id):
    """Issue (or replace, revoking the old) the participant's private feed link."""
    return feed_urls(invitations.issue_feed_token(current_actor(), enrolment_id))
