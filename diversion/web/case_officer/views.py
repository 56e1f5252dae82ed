"""Case officer pages: cases, screening, enrolment, the force's dashboard and outcome report."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from diversion import clock
from diversion.documents import referral_summary as referral_summary_pdf
from diversion.documents import warning_letter as warning_letter_pdf
from diversion.domain.contact import phone_for_display
from diversion.domain.errors import RuleViolation
from diversion.domain.progress import CLOSING_DECISIONS
from diversion.domain.vocabulary import (
    OPEN_ENROLMENT,
    BookingStatus,
    DecisionKind,
    EnrolmentStatus,
    FlagStatus,
    Language,
    Role,
    values,
)
from diversion.jobs.tasks import daily_at, digest_window
from diversion.services import (
    InvalidInput,
    cases,
    compliance,
    decisions,
    enrolments,
    exports,
    notices,
    oversight,
    referrals,
    self_service,
)
from diversion.services.cases import SCREENING_FIELDS
from diversion.services.programmes import list_programmes
from diversion.web import callbacks
from diversion.web.args import number_arg, text_arg
from diversion.web.case_officer import bp
from diversion.web.case_officer.forms import (
    CaseForm,
    ConfirmDecisionForm,
    ContactForm,
    DecisionForm,
    EnrolForm,
    HandoverForm,
)
from diversion.web.downloads import csv_download, pdf_download
from diversion.web.filters import long_date, long_datetime, module_name
from diversion.web.reports import outcomes_download, render_outcomes
from diversion.web.roles import actor, role_required

PER_PAGE = 25
# Far beyond any force's cases; it keeps the page's offset within the database's range.
MAX_PAGE = 100_000


@bp.get("/dashboard")
@role_required(Role.CASE_OFFICER)
def dashboard():
    """Show the force's enrolments by status and the open flags."""
    who = actor()
    counts = oversight.status_counts(who)
    flags = compliance.list_flags(who, status=FlagStatus.OPEN, limit=50)
    flagged = {e.id: e for e in enrolments.enrolments_by_id(who, {f.enrolment_id for f in flags})}
    # The completions the latest daily digest counted, and those the next one will.
    since, _ = digest_window(clock.now(), daily_at(current_app.config, "digest"))
    return render_template("case_officer/dashboard.html", counts=counts, flags=flags,
                           flagged=flagged, months=oversight.closures_by_month(who),
                           completed=oversight.completed_since(who, since),
                           completed_since=since, title="Your force's enrolments")


@bp.get("", endpoint="cases")
@role_required(Role.CASE_OFFICER)
def cases_():
    """List the force's cases, searchable by reference or name."""
    search = text_arg("q")
    page = number_arg("page", 1, low=1, high=MAX_PAGE)
    rows, total = cases.list_cases(actor(), search=search, page=page, per_page=PER_PAGE)
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    return render_template("case_officer/cases.html", cases=rows, search=search, page=page,
                           pages=pages, total=total, title="Cases")



@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.CASE_OFFICER)
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
            "language": form.language.data or Language.ENGLISH,
            "sms_consent": form.sms_consent.data,
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
@role_required(Role.CASE_OFFICER)
def case(case_id: int):
    """Show a case: screening result and enrolment status."""
    record = cases.get_case(actor(), case_id)
    return render_template("case_officer/case.html", case=record,
                           title=f"Case {record.reference}")


@bp.route("/<int:case_id>/contact", methods=["GET", "POST"])
@role_required(Role.CASE_OFFICER)
def contact(case_id: int):
    """Change how the participant is reached: phone, language, consent to texts."""
    record = cases.get_case(actor(), case_id)
    form = ContactForm(data=None if request.method == "POST" else {
        "phone": phone_for_display(record.phone), "language": record.language,
        "sms_consent": record.sms_consent})
    if form.validate_on_submit():
        try:
            cases.change_contact(actor(), case_id, {
                "phone": form.phone.data or None,
                "language": form.language.data or Language.ENGLISH,
                "sms_consent": form.sms_consent.data})
        except InvalidInput as error:
            getattr(form, error.field or "phone").errors.append(error.message)
        else:
            flash("Contact details saved: messages from now on follow them")
            return redirect(url_for(".case", case_id=case_id))
    return render_template("case_officer/contact.html", form=form, case=record,
                           title="Change contact details")


@bp.route("/<int:case_id>/enrol", methods=["GET", "POST"])
@role_required(Role.CASE_OFFICER)
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
        except (RuleViolation, InvalidInput) as error:
            target = getattr(form, error.field, None) if error.field else None
            (target.errors if target is not None else form.form_errors).append(error.message)
        else:
            flash("Enrolled")
            return redirect(url_for(".case", case_id=case_id))
    return render_template("case_officer/enrol.html", form=form, case=record,
                           title="Enrol on a programme")


def _enrolment_filters() -> dict:
    """Read the enrolment list's filters (status, flag or concern, search) from the address."""
    status = request.args.get("status") or None
    flag = request.args.get("flag") or None
    if status not in (None, *values(EnrolmentStatus)):
        status = None
    if flag not in (None, *enrolments.FLAG_FILTERS):
        flag = None
    search = text_arg("q")
    return {"status": status, "flag": flag, "search": search}


@bp.get("/enrolments", endpoint="enrolments")
@role_required(Role.CASE_OFFICER)
def enrolments_():
    """List the force's enrolments with what needs attention; filter, search, sort and page."""
    filters = _enrolment_filters()
    sort = request.args.get("sort") if request.args.get("sort") in enrolments.SORTS else None
    page = enrolments.enrolment_page(
        actor(), status=filters["status"], flag=filters["flag"],
        search=filters["search"] or None, sort=sort or "enrolled",
        after=request.args.get("after"), before=request.args.get("before"), per_page=PER_PAGE)
    return render_template("case_officer/enrolments.html", page=page,
                           filters={**filters, "sort": sort}, title="Enrolments", **filters)


@bp.get("/enrolments.csv")
@role_required(Role.CASE_OFFICER)
def enrolments_csv():
    """Download every enrolment the list's filters match, as CSV."""
    return csv_download(exports.enrolments(actor(), **_enrolment_filters()))



@bp.route("/enrolments/<int:enrolment_id>", methods=["GET", "POST"])
@role_required(Role.CASE_OFFICER)
def enrolment(enrolment_id: int):
    """Show an enrolment's progress, what happens next, its timeline, and record a decision.

    A referral or a withdrawal is not recorded from here: it goes to its confirmation
    step first, since it cancels sessions and tells the participant.
    """
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            decisions.check_decision(form.decision.data, form.reason.data,
                                     form.extend_days.data)
            if form.decision.data in CLOSING_DECISIONS:
                return _confirmation(enrolment_id, form.decision.data, form.reason.data)
            decisions.decide(actor(), enrolment_id, decision=form.decision.data,
                             reason=form.reason.data, extend_days=form.extend_days.data)
        except (RuleViolation, InvalidInput) as error:
            _refused(form, error)
        else:
            flash(DECIDED[form.decision.data])
            return redirect(url_for(".enrolment", enrolment_id=enrolment_id))
    return _enrolment_page(enrolment_id, form)


DECIDED = {
    DecisionKind.CONTINUE: "Decision recorded: continues on the programme",
    DecisionKind.REFER: "Decision recorded: referred back to prosecution",
    DecisionKind.WITHDRAW: "Decision recorded: withdrawn from the programme",
}


@bp.post("/enrolments/<int:enrolment_id>/decision")
@role_required(Role.CASE_OFFICER)
def confirm_decision(enrolment_id: int):
    """Record a referral or withdrawal once confirmed, or go back to change it."""
    form = ConfirmDecisionForm()
    again = DecisionForm(formdata=None, data={"decision": form.decision.data,
                                              "reason": form.reason.data})
    if form.change.data:
        return _enrolment_page(enrolment_id, again)
    if not form.validate_on_submit():
        again.form_errors.extend(e for errors in form.errors.values() for e in errors)
        return _enrolment_page(enrolment_id, again)
    try:
        decisions.decide(actor(), enrolment_id, decision=form.decision.data,
                         reason=form.reason.data)
    except (RuleViolation, InvalidInput) as error:
        _refused(again, error)
        return _enrolment_page(enrolment_id, again)
    flash(DECIDED[form.decision.data])
    return redirect(url_for(".enrolment", enrolment_id=enrolment_id))


def _confirmation(enrolment_id: int, decision: str, reason: str) -> str:
    """Show what a referral or withdrawal would do, with the button that does it."""
    outcome = decisions.consequences(actor(), enrolment_id, decision)
    form = ConfirmDecisionForm(formdata=None, data={"decision": decision, "reason": reason})
    name = outcome.enrolment.case.participant_name
    question = (f"withdraw {name} from the programme" if decision == DecisionKind.WITHDRAW
                else f"refer {name} back to prosecution")
    return render_template("case_officer/confirm_decision.html", outcome=outcome, form=form,
                           question=question, title=f"Are you sure you want to {question}?")


def _refused(form: DecisionForm | HandoverForm, error: RuleViolation | InvalidInput) -> None:
    """Show a refusal beside the field it names, or above the form."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None:
        form.form_errors.append(error.message)
    else:
        # A form filled from data, not validated, holds its field errors in a tuple.
        target.errors = [*target.errors, error.message]


def _enrolment_page(enrolment_id: int, form: DecisionForm,
                    handover_form: HandoverForm | None = None) -> str:
    record, events = oversight.timeline(actor(), enrolment_id)
    if handover_form is None:
        handover_form = HandoverForm(formdata=None, data={
            "handed_over_by": current_user.name or current_user.email})
    return render_template("case_officer/enrolment.html", enrolment=record, events=events,
                           form=form, next_steps=what_happens_next(record),
                           callbacks=self_service.callbacks_of(record),
                           letter_due=notices.letter_due(record),
                           handover_absence=notices.handover_absence(record),
                           handovers=notices.handovers_of(record.id),
                           handover_form=handover_form,
                           messages=referrals.messages_to_participant(record),
                           title=f"Enrolment of {record.case.participant_name}")


@bp.post("/enrolments/<int:enrolment_id>/callbacks/<int:request_id>/dealt-with")
@role_required(Role.CASE_OFFICER)
def callback_dealt_with(enrolment_id: int, request_id: int):
    """Record that the participant's request to be called has been dealt with."""
    return callbacks.mark_dealt_with(enrolment_id, request_id, back_to="case_officer.enrolment")


@bp.get("/enrolments/<int:enrolment_id>/warning-letter")
@role_required(Role.CASE_OFFICER)
def warning_letter(enrolment_id: int):
    """Download the letter about the latest unexcused absence, to hand over in person."""
    letter = notices.warning_letter(actor(), enrolment_id)
    return pdf_download(warning_letter_pdf.render(letter), f"letter-{enrolment_id}.pdf")


@bp.post("/enrolments/<int:enrolment_id>/warning-letter/handover")
@role_required(Role.CASE_OFFICER)
def record_handover(enrolment_id: int):
    """Record when, and by whom, the warning letter was handed over."""
    form = HandoverForm(missed_on=notices.handover_missed_on(actor(), enrolment_id))
    if form.validate_on_submit():
        try:
            notices.record_handover(actor(), enrolment_id,
                                    handed_over_on=form.handed_over_on.data,
                                    handed_over_by=form.handed_over_by.data)
        except InvalidInput as error:
            _refused(form, error)
        else:
            flash(f"Recorded: the warning letter was handed over on "
                  f"{long_date(form.handed_over_on.data)}")
            return redirect(url_for(".enrolment", enrolment_id=enrolment_id) + "#warning-letter")
    return _enrolment_page(enrolment_id, DecisionForm(formdata=None), form)


def what_happens_next(e) -> list[str]:
    """Say, in plain words, what happens next for this enrolment."""
    attended = {b.module for b in e.bookings if b.status == BookingStatus.ATTENDED}
    core = [m for m in range(1, e.programme.core_modules + 1)]
    left = [m for m in core if m not in attended]
    now = clock.now()
    upcoming = sorted((b for b in e.bookings
                       if b.status == BookingStatus.BOOKED and b.session.starts_at > now),
                      key=lambda b: b.session.starts_at)
    steps = []
    if any(f.status == FlagStatus.OPEN for f in e.flags):
        steps.append("A flag is open: record a decision below (continue, with or without "
                     "an extension, or refer back to prosecution).")
    unrecorded = sorted((b for b in e.bookings
                         if b.status == BookingStatus.BOOKED and b.session.ends_at <= now),
                        key=lambda b: b.session.starts_at)
    if e.status in OPEN_ENROLMENT and unrecorded:
        steps.append(f"The register for {module_name(unrecorded[0].module)} on "
                     f"{long_date(unrecorded[0].session.starts_at)} has not been taken: the "
                     "coordinator records whether it was attended.")
    if e.status == EnrolmentStatus.ENROLLED:
        steps.append(f"{len(left)} of {len(core)} modules still to attend by "
                     f"{long_date(e.core_deadline)}.")
        if upcoming:
            steps.append(f"Next session: {long_datetime(upcoming[0].session.starts_at)}.")
        elif left:
            steps.append("No session is booked yet: the coordinator books the next module.")
    elif e.status == EnrolmentStatus.AWAITING_FOLLOW_UP:
        steps.append(f"Core modules complete. The follow-up is due {long_date(e.follow_up_due)}"
                     f" and must be attended between {long_date(e.follow_up_opens)} and "
                     f"{long_date(e.follow_up_closes)}.")
    elif e.status == EnrolmentStatus.COMPLETED:
        steps.append(f"Completed on {long_date(e.closed_at)}. No prosecution follows; "
                     "nothing more to do.")
    elif e.status == EnrolmentStatus.REFERRED:
        steps.append(f"Referred back to prosecution on {long_date(e.closed_at)}. Download the "
                     "referral summary for the file.")
    elif e.status == EnrolmentStatus.WITHDRAWN:
        steps.append(f"Withdrawn from the programme on {long_date(e.closed_at)}. Its future "
                     "sessions were cancelled; nothing more to do.")
    else:
        steps.append("This enrolment is closed.")
    return steps


@bp.get("/enrolments/<int:enrolment_id>/referral-summary")
@role_required(Role.CASE_OFFICER)
def referral_summary(enrolment_id: int):
    """Show the referral summary to print, or download it as a PDF (?format=pdf)."""
    wants_pdf = request.args.get("format") == "pdf"
    summary = referrals.summary(actor(), enrolment_id, form="pdf" if wants_pdf else "html")
    if wants_pdf:
        return pdf_download(referral_summary_pdf.render(summary),
                            f"referral-summary-{enrolment_id}.pdf")
    return render_template("case_officer/referral_summary.html", summary=summary,
                           enrolment_id=enrolment_id, title="Referral summary")


@bp.get("/reports/outcomes")
@role_required(Role.CASE_OFFICER)
def outcomes():
    """Show the force's outcomes by month started."""
    return render_outcomes(".outcomes", ".outcomes_csv")


@bp.get("/reports/outcomes.csv")
@role_required(Role.CASE_OFFICER)
def outcomes_csv():
    """Download the force's outcomes by month as CSV."""
    return outcomes_download(".outcomes", ".outcomes_csv")
