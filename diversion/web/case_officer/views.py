"""Case officer pages: cases, screening, enrolment, the force's dashboard."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from diversion.domain.errors import RuleViolation
from diversion.services import InvalidInput, cases, enrolments
from diversion.services.cases import SCREENING_FIELDS
from diversion.services.programmes import list_programmes
from diversion.web.case_officer import bp
from diversion.web.case_officer.forms import CaseForm, EnrolForm
from diversion.web.roles import actor, role_required

PER_PAGE = 25


@bp.get("/dashboard")
@role_required("case_officer")
def dashboard():
    """Show the force's enrolments by status and the open flags."""
    rows = enrolments.list_enrolments(actor(), limit=200)
    counts: dict[str, int] = {}
    for e in rows:
        counts[e.status] = counts.get(e.status, 0) + 1
    flagged = [e for e in rows if any(f.status == "open" for f in e.flags)]
    return render_template("case_officer/dashboard.html", counts=counts, flagged=flagged,
                           title="Dashboard")


@bp.get("", endpoint="cases")
@role_required("case_officer")
def cases_():
    """List the force's cases, searchable by reference or name."""
    search = (request.args.get("q") or "").strip()[:100]
    page = request.args.get("page", 1, type=int)
    page = max(page, 1)
    rows, total = cases.list_cases(actor(), search=search, page=page, per_page=PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("case_officer/cases.html", cases=rows, search=search, page=page,
                           pages=pages, total=total, title="Cases")



@bp.route("/new", methods=["GET", "POST"])
@role_required("case_officer")
def new_case():
    """Record a case and its screening answers."""
    form = CaseForm()
    if form.validate_on_submit():
        participant = {
            "given_name": form.given_name.data,
            "family_name": form.family_name.data,
            "date_of_birth": form.date_of_birth.data,
            "email": form.email.data,
            "phone": form.phone.data or None,
        }
        screening = {
            name: (getattr(form, name).data == "yes") if name != "image_category"
            else form.image_category.data
            for name in SCREENING_FIELDS
        }
        try:
            case = cases.record_case(actor(), form.reference.data, participant, screening)
        except InvalidInput as error:
            getattr(form, error.field or "reference").errors.append(error.message)
        else:
            flash("Case recorded: " + ("eligible" if case.eligible else "not eligible"))
            return redirect(url_for(".case", case_id=case.id))
    return render_template("case_officer/new_case.html", form=form, title="Record a case")


@bp.get("/<int:case_id>")
@role_required("case_officer")
def case(case_id: int):
    """Show a case: screening result and enrolment status."""
    record = cases.get_case(actor(), case_id)
    return render_template("case_officer/case.html", case=record,
                           title=f"Case {record.reference}")


@bp.route("/<int:case_id>/enrol", methods=["GET", "POST"])
@role_required("case_officer")
def enrol(case_id: int):
    """Enrol an eligible case on a programme."""
    record = cases.get_case(actor(), case_id)
    form = EnrolForm()
    form.programme_id.choices = [SelectChoice(str(p.id), p.name) for p in list_programmes()]
    if record.enrolment is not None:
        return redirect(url_for(".case", case_id=case_id))
    if form.validate_on_submit():
        try:
            enrolments.enrol(actor(), case_id, form.programme_id.data, form.start_date.data)
        except RuleViolation as violation:
            form.form_errors.append(violation.message)
        except InvalidInput as error:
            form.form_errors.append(error.message)
        else:
            flash("Enrolled")
            return redirect(url_for(".case", case_id=case_id))
    return render_template("case_officer/enrol.html", form=form, case=record,
                           title="Enrol on a programme")


@bp.get("/enrolments", endpoint="enrolments")
@role_required("case_officer")
def enrolments_():
    """List the force's enrolments, filtered by status or flag."""
    status = request.args.get("status") or None
    flag = request.args.get("flag") or None
    if status not in (None, "enrolled", "awaiting_follow_up", "completed", "referred",
                      "withdrawn"):
        status = None
    if flag not in (None, "at_risk", "non_completion", "follow_up_missed", "any"):
        flag = None
    after = request.args.get("after", type=int)
    rows = enrolments.list_enrolments(actor(), status=status, flag=flag, after_id=after,
                                      limit=PER_PAGE)
    return render_template("case_officer/enrolments.html", enrolments=rows, status=status,
                           flag=flag, per_page=PER_PAGE, title="Enrolments")

