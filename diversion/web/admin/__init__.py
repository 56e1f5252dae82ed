from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from diversion.web.admin import mail, programmes, training, views  # noqa: E402,F401
