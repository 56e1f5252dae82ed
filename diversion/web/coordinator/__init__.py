from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

from diversion.web.coordinator import exports, views  # noqa: E402,F401
