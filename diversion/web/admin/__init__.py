from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from diversion.web.admin import programmes, views  # noqa: E402,F401
