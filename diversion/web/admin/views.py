"""Administrator pages: staff accounts, forces, background jobs and the outcome report."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, flash, redirect, render_template, url_for
from wtforms import SelectChoice

from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import Role
from diversion.jobs.schedule import job_overview, last_day_of_mail, what_it_did
from diversion.services import InvalidInput, accounts
from diversion.web.admin import bp
from diversion.web.admin.forms import ForceForm, UserForm
from diversion.web.args import text_arg
from diversion.web.reports import outcomes_download, render_outcomes
from diversion.web.roles import actor, role_required

PER_PAGE = 50


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    """List staff accounts, a page at a time, searchable by email or name."""
    search = text_arg("q")
    rows, has_previous, has_next = accounts.list_users(
        search=search, after=text_arg("after", 254) or None,
        before=text_arg("before", 254) or None, limit=PER_PAGE)
    return render_template("admin/users.html", users=rows, search=search,
                           has_previous=has_previous and bool(rows),
                           has_next=has_next and bool(rows), title="Staff accounts")


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    """Create a staff account."""
    form = UserForm()
    form.force.choices = [SelectChoice("", "No force")] + [
        SelectChoice(f.code, f"{f.name} ({f.code})") for f in accounts.list_forces()]
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.role.data, password=form.password.data,
                                 force_code=form.force.data or None, name=form.name.data,
                                 actor=actor())
        except InvalidInput as error:
            field = error.field if error.field and error.field in form else "email"
            getattr(form, field).errors.append(error.message)
        else:
            flash(f"Account created for {form.email.data}")
            return redirect(url_for(".users"))
    return render_template("admin/new_user.html", form=form, title="Create an account")


@bp.get("/users/<int:user_id>/disable")
@role_required(Role.ADMIN)
def confirm_disable(user_id: int):
    """Ask before disabling an account: it signs the person out everywhere at once."""
    return render_template("admin/confirm_disable.html", user=accounts.get_user(user_id),
                           error=None, title="Disable this account?")


@bp.post("/users/<int:user_id>/active/<int:active>")
@role_required(Role.ADMIN)
def set_active(user_id: int, active: int):
    """Enable or disable an account."""
    try:
        user = accounts.set_active(user_id, bool(active), actor())
    except RuleViolation as refusal:
        return render_template("admin/confirm_disable.html",
                               user=accounts.get_user(user_id), error=refusal.message,
                               title="Disable this account?"), 422
    flash(f"{user.email} {'enabled' if active else 'disabled'}")
    return redirect(url_for(".users"))


@bp.post("/users/<int:user_id>/unlock")
@role_required(Role.ADMIN)
def unlock(user_id: int):
    """Let an account locked after too many wrong codes try its second factor again."""
    user = accounts.clear_second_factor_lock(user_id, actor())
    flash(f"{user.email} can sign in with a code again")
    return redirect(url_for(".users"))


@bp.route("/forces", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def forces():
    """List forces and add one."""
    form = ForceForm()
    if form.validate_on_submit():
        try:
            accounts.create_force(form.code.data, form.name.data)
        except InvalidInput as error:
            field = error.field if error.field and error.field in form else "code"
            getattr(form, field).errors.append(error.message)
        else:
            flash(f"Force {form.code.data.upper()} added")
            return redirect(url_for(".forces"))
    return render_template("admin/forces.html", form=form, forces=accounts.list_forces(),
                           title="Forces")


JOB_NAMES = {"send_mail": "Send mail", "sweep": "Compliance sweep", "digest": "Daily digest",
             "retention": "Retention"}


@bp.get("/jobs")
@role_required(Role.ADMIN)
def jobs():
    """Show each background job's last run, outcome and next run."""
    overview = [
        {**job, "name": JOB_NAMES.get(job["job"], job["job"]),
         "did": what_it_did(job["job"], job["counts"], job["summary"]),
         **{key: datetime.fromisoformat(job[key]) if job[key] else None
            for key in ("last_scheduled_for", "last_finished_at", "next_run")}}
        for job in job_overview(current_app.config)
    ]
    return render_template("admin/jobs.html", jobs=overview, mail_last_day=last_day_of_mail(),
                           title="Background jobs")


@bp.get("/reports/outcomes")
@role_required(Role.ADMIN)
def outcomes():
    """Show every force's outcomes, by force and by month started."""
    return render_outcomes(".outcomes", ".outcomes_csv")


@bp.get("/reports/outcomes.csv")
@role_required(Role.ADMIN)
def outcomes_csv():
    """Download every force's outcomes by month as CSV."""
    return outcomes_download(".outcomes", ".outcomes_csv")
