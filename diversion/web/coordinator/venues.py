"""The coordinator's venues: the list, and adding one."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import Role
from diversion.services import InvalidInput
from diversion.services import venues as venue_service
from diversion.web.coordinator import bp
from diversion.web.coordinator.forms import VenueForm, show_refusal
from diversion.web.roles import actor, role_required


@bp.route("/venues", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def venues():
    """List venues and add one."""
    form = VenueForm()
    if form.validate_on_submit():
        try:
            venue = venue_service.create_venue(actor(), form.name.data, form.address.data,
                                               (form.rooms.data or "").splitlines())
        except (RuleViolation, InvalidInput) as error:
            show_refusal(form, error)
        else:
            flash(f"Venue added: {venue.name}")
            return redirect(url_for(".venues"))
    return render_template("coordinator/venues.html", form=form,
                           venues=venue_service.list_venues(), title="Venues")
