"""Administrator pages: programmes and their settings, changed through a check of what
the change affects."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from diversion.domain.errors import RuleViolation
from diversion.domain.holidays import UK_HOLIDAY_REGIONS
from diversion.domain.programme_settings import EFFECTS, LABELS, ProgrammeSettings
from diversion.domain.vocabulary import Role
from diversion.services import InvalidInput
from diversion.services import programmes as programme_service
from diversion.web.admin import bp
from diversion.web.admin.forms import (
    ConfirmProgrammeForm,
    EditProgrammeForm,
    NewProgrammeForm,
    ProgrammeForm,
)
from diversion.web.roles import actor, role_required

# The unit each count is in, for people: "4 months", "1 day".
UNITS = {
    "core_modules": "module", "session_minutes": "minute", "core_months": "month",
    "follow_up_months": "month", "follow_up_window_days": "day",
    "min_days_between_sessions": "day", "reminder_hours": "hour",
    "self_service_cutoff_hours": "hour", "self_service_moves": "move",
    "retention_ineligible_months": "month", "retention_closed_months": "month",
    "retention_message_months": "month", "retention_audit_months": "month",
}

# The settings page's sections, in the order the form asks.
SECTIONS = [
    ("Names and contact", ["name", "invite_title", "invite_title_cy", "contact_phone",
                           "organizer_email"]),
    ("The course", ["core_modules", "session_minutes", "modules_in_order"]),
    ("Deadlines of new enrolments", ["core_months", "follow_up_months",
                                     "follow_up_window_days"]),
    ("Bookings and reminders", ["min_days_between_sessions", "reminder_hours",
                                "holiday_region", "timezone"]),
    ("Participants' own moves", ["self_service_cutoff_hours", "self_service_moves"]),
    ("How long personal data is kept", ["retention_ineligible_months",
                                        "retention_closed_months", "retention_message_months",
                                        "retention_audit_months"]),
]


@bp.app_template_filter("setting")
def setting(value, name: str) -> str:
    """Show one setting's value as a person reads it."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "holiday_region":
        return f"{UK_HOLIDAY_REGIONS.get(value, value)} ({value})"
    if name in UNITS:
        return f"{value} {UNITS[name]}{'' if value == 1 else 's'}"
    return str(value)


@bp.context_processor
def programme_words():
    return {"setting_label": LABELS, "setting_effect": EFFECTS, "sections": SECTIONS}


def _show_refusal(form, error: RuleViolation | InvalidInput) -> None:
    """Put each refused setting's message on its field, or on the whole form."""
    for problem in getattr(error, "problems", (error,)):
        field = form._fields.get(problem.field) if problem.field else None
        if field is not None:
            field.errors = [*field.errors, problem.message]
        else:
            form.form_errors.append(problem.message)


@bp.get("/programmes")
@role_required(Role.ADMIN)
def programmes():
    """List the programmes with their main settings."""
    return render_template("admin/programmes.html",
                           programmes=programme_service.list_programmes(), title="Programmes")


@bp.route("/programmes/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_programme():
    """Add a programme (for example one for Wales, with the Welsh holidays)."""
    form = NewProgrammeForm() if request.method == "POST" else NewProgrammeForm(
        data=ProgrammeForm.data_of(ProgrammeSettings(name="")))
    if form.validate_on_submit():
        try:
            programme = programme_service.create_programme(actor(), form.settings())
        except (RuleViolation, InvalidInput) as error:
            _show_refusal(form, error)
        else:
            flash(f"{programme.name} added")
            return redirect(url_for(".programme", programme_id=programme.id))
    return render_template("admin/programme_form.html", form=form, programme=None,
                           title="Add a programme")


@bp.get("/programmes/<int:programme_id>")
@role_required(Role.ADMIN)
def programme(programme_id: int):
    """Show a programme's settings."""
    record = programme_service.get_programme(programme_id)
    return render_template(
        "admin/programme.html", programme=record,
        in_progress=programme_service.enrolments_in_progress(record.id), title=record.name)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_programme(programme_id: int):
    """Change a programme's settings; the next page shows what the change affects."""
    record = programme_service.get_programme(programme_id)
    form = EditProgrammeForm() if request.method == "POST" else EditProgrammeForm(
        data=ProgrammeForm.data_of(record))
    if form.validate_on_submit():
        try:
            change = programme_service.preview_change(actor(), programme_id, form.settings())
        except (RuleViolation, InvalidInput) as error:
            _show_refusal(form, error)
        else:
            if not change.changed:
                flash("No settings were changed")
                return redirect(url_for(".programme", programme_id=programme_id))
            return _check_page(form, change)
    return render_template("admin/programme_form.html", form=form, programme=record,
                           title=f"Change {record.name}")


@bp.post("/programmes/<int:programme_id>/confirm")
@role_required(Role.ADMIN)
def confirm_programme(programme_id: int):
    """Save a change the administrator has checked, or take them back to change it."""
    record = programme_service.get_programme(programme_id)
    form = ConfirmProgrammeForm()
    if form.validate_on_submit() and not form.change.data:
        try:
            change = programme_service.update_programme(actor(), programme_id, form.settings(),
                                                        seen=form.seen.data)
        except InvalidInput as error:
            if error.code != "changed_meanwhile":
                raise
            # Show the change again against the settings as they are now.
            form.form_errors.append(error.message)
            return _recheck(form, programme_id)
        except RuleViolation as error:
            _show_refusal(form, error)
        else:
            changed = "; ".join(LABELS[name] for name in change.changed) or "nothing changed"
            flash(f"Settings saved for {change.programme.name}: {changed}")
            return redirect(url_for(".programme", programme_id=programme_id))
    return render_template("admin/programme_form.html", form=form, programme=record,
                           title=f"Change {record.name}")


def _recheck(form, programme_id: int):
    try:
        change = programme_service.preview_change(actor(), programme_id, form.settings())
    except (RuleViolation, InvalidInput) as error:
        _show_refusal(form, error)
        record = programme_service.get_programme(programme_id)
        return render_template("admin/programme_form.html", form=form, programme=record,
                               title=f"Change {record.name}")
    return _check_page(form, change)


def _check_page(form, change):
    # The change travels to the confirmation in hidden fields, exactly as it was typed.
    hidden = {name: request.form.get(name, "") for name in form.settings()}
    return render_template("admin/programme_check.html", form=form, change=change,
                           programme=change.programme, hidden=hidden,
                           title=f"Check your changes to {change.programme.name}")
