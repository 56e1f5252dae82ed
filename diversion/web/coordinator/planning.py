"""The coordinator's planning: book a participant's remaining modules, or a whole list's."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import Role
from diversion.services import InvalidInput
from diversion.services import enrolments as enrolment_service
from diversion.services import planning as planning_service
from diversion.web.args import form_ids
from diversion.web.coordinator import bp
from diversion.web.coordinator.enrolments import PER_PAGE, render_enrolment
from diversion.web.coordinator.forms import ActionForm
from diversion.web.filters import long_datetime, module_name
from diversion.web.roles import actor, role_required


@bp.post("/participants/plan")
@role_required(Role.COORDINATOR)
def plan_cohort():
    """Plan everyone listed, in turn, and show who was booked and who could not be.

    Planning books sessions and sends invitations, so the list is shown for a check first.
    """
    form = ActionForm()
    ids = form_ids("enrolment_id")[:PER_PAGE]
    if not form.validate_on_submit() or not ids:
        flash("Nothing was planned: choose the participants to plan from the list")
        return redirect(url_for(".enrolments"))
    people = {e.id: e for e in enrolment_service.enrolments_by_id(actor(), set(ids))}
    if request.form.get("confirmed") != "yes":
        return render_template("coordinator/cohort_plan_check.html",
                               title="Check who you are planning for",
                               people=[people[i] for i in ids if i in people])
    outcome = planning_service.plan_enrolments(actor(), ids)
    return render_template(
        "coordinator/cohort_plan.html", title="Planning results", people=people,
        booked={i: made for i, made in sorted(outcome.planned.items()) if made},
        nothing={i for i, made in outcome.planned.items() if not made},
        refused=dict(sorted(outcome.refused.items())))


@bp.post("/participants/<int:enrolment_id>/plan")
@role_required(Role.COORDINATOR)
def plan(enrolment_id: int):
    """Book every remaining module into the earliest sessions that fit, or explain why not."""
    form = ActionForm()
    if form.validate_on_submit():
        try:
            made = planning_service.plan_enrolment(actor(), enrolment_id)
        except (RuleViolation, InvalidInput) as error:
            form.form_errors.append(f"Nothing was booked. {error.message}")
            return render_enrolment(enrolment_id, plan_form=form)
        if made:
            flash(f"Planned and booked {len(made)} "
                  f"{'session' if len(made) == 1 else 'sessions'}: " + "; ".join(
                      f"{module_name(b.module)} on {long_datetime(b.session.starts_at)}"
                      for b in made))
        else:
            flash("Nothing to plan: every module is already booked or attended")
        return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return render_enrolment(enrolment_id, plan_form=form)
