"""The coordinator's CSV downloads: the sessions shown, and the participants list."""

from __future__ import annotations

from datetime import timedelta

from diversion.domain.vocabulary import Role
from diversion.services import exports
from diversion.web.coordinator import bp
from diversion.web.coordinator.enrolments import list_filters
from diversion.web.coordinator.sessions import shown_period
from diversion.web.downloads import csv_download
from diversion.web.roles import actor, role_required


@bp.get("/sessions.csv")
@role_required(Role.COORDINATOR)
def sessions_csv():
    """Download the sessions of the week (or month) shown, with its filters, as CSV."""
    period = shown_period()
    return csv_download(exports.sessions(
        actor(), start=period["start"], end=period["end"], first_day=period["first"],
        last_day=period["last"] - timedelta(days=1), module=period["module"],
        venue_id=period["venue_id"]))


@bp.get("/participants.csv")
@role_required(Role.COORDINATOR)
def participants_csv():
    """Download every participant the list's search and filters match, as CSV."""
    filters = list_filters()
    return csv_download(exports.participants(actor(), name=filters["search"],
                                             status=filters["status"], flag=filters["flag"]))
