"""Administrator page of the training environment: moving its clock forward."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from diversion.domain.dates import format_london
from diversion.domain.errors import RuleViolation
from diversion.domain.training import ClockMove
from diversion.domain.vocabulary import Role
from diversion.jobs import tasks
from diversion.services import training
from diversion.web.admin import bp
from diversion.web.admin.forms import ClockDateForm
from diversion.web.roles import actor, role_required


@bp.route("/clock", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def training_clock():
    """Move the training clock forward a day, a week or to a date, for everyone at once."""
    if current_app.config["ENV_NAME"] != "training":
        abort(404)
    form = ClockDateForm()
    status = 200
    if request.method == "POST":
        move = request.form.get("move")
        if move in (ClockMove.DAY, ClockMove.WEEK) or form.validate_on_submit():
            try:
                moved = training.move_clock(actor(), move or ClockMove.DATE,
                                            None if move else form.day.data)
            except RuleViolation as refusal:
                form.day.errors = [*form.day.errors, refusal.message]
            else:
                failed = tasks.catch_up()
                flash(f"The clock now reads {format_london(moved)}, for everyone")
                if failed:
                    flash(f"These jobs failed for the new day: {', '.join(failed)}. "
                          "Background jobs says why.", "warning")
                return redirect(url_for(".training_clock"))
        status = 422
    return render_template("admin/training_clock.html", form=form,
                           title="Training clock"), status
