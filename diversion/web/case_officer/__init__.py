from flask import Blueprint

bp = Blueprint("case_officer", __name__, url_prefix="/cases")

from diversion.web.case_officer import views  # noqa: E402,F401
