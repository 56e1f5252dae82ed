"""Marking a participant's request to be called as dealt with: from the coordinator's and
the case officer's participant pages alike."""

from __future__ import annotations

from flask import flash, redirect, url_for

from diversion.services import self_service
from diversion.web.coordinator.forms import ActionForm
from diversion.web.filters import long_datetime
from diversion.web.roles import actor


def mark_dealt_with(enrolment_id: int, request_id: int, *, back_to: str):
    """Record that a request to be called was dealt with; go back to the participant's page."""
    if ActionForm().validate_on_submit():
        request = self_service.mark_dealt_with(actor(), enrolment_id, request_id)
        flash(f"Request to be called, made on {long_datetime(request.requested_at)}, "
              "marked as dealt with")
    return redirect(url_for(back_to, enrolment_id=enrolment_id))
