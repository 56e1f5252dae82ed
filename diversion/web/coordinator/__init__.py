"""The course coordinator's pages, by area: sessions (the calendar, publishing, one session,
its register), enrolments (participants and their bookings), planning, venues, the capacity
forecast, and the CSV exports."""

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

from diversion.web.coordinator import (  # noqa: E402,F401
    enrolments,
    exports,
    forecast,
    planning,
    sessions,
    venues,
)
