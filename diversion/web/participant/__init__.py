"""The participant's own pages, reached through the link in their mail: no staff login,
no staff layout, no name of the service. The calendar feed is in ``web/feed``."""

from flask import Blueprint

bp = Blueprint("participant", __name__)

from diversion.web.participant import views  # noqa: E402,F401
