"""Recording cases and screening them for eligibility."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.contact import language_of, normalised_phone, sms_consent_problem
from diversion.domain.eligibility import Screening, assess
from diversion.domain.intake import date_of_birth_problem
from diversion.domain.vocabulary import Language, Role
from diversion.extensions import db
from diversion.models import Case
from diversion.services import Actor, Forbidden, InvalidInput, NotFound, audit, like_term

SCREENING_FIELDS = (
    "previous_sexual_or_violent_conviction",
    "first_offence",
    "image_category",
    "contact_offending_suspected",
    "children_at_risk",
    "prosecutor_agreed",
    "participant_consented",
)


def _require_case_officer(actor: Actor) -> None:
    if actor.role != Role.CASE_OFFICER or actor.force_id is None:
        raise Forbidden()


def record_case(actor: Actor, reference: str, participant: dict, screening: dict) -> Case:
    """Record a case with its screening answers and decide eligibility."""
    _require_case_officer(actor)
    today = clock.today()
    problem = date_of_birth_problem(participant["date_of_birth"], today)
    if problem:
        raise InvalidInput(problem, field="date_of_birth")
    for name in ("given_name", "family_name"):
        if not participant[name].strip():
            raise InvalidInput("Enter a name, not only spaces", field=name)
    phone, language, sms_consent = _contact(participant)
    answers = Screening(**{name: screening[name] for name in SCREENING_FIELDS})
    result = assess(answers, date_of_birth=participant["date_of_birth"], screened_on=today)
    reference = reference.strip()
    with transaction():
        clash = db.session.scalar(
            sa.select(Case.id).where(Case.force_id == actor.force_id, Case.reference == reference)
        )
        if clash is not None:
            raise InvalidInput(
                "A case with this reference already exists in your force",
                field="reference",
                code="already_exists",
                status=409,
            )
        case = Case(
            force_id=actor.force_id,
            reference=reference,
            given_name=participant["given_name"].strip(),
            family_name=participant["family_name"].strip(),
            date_of_birth=participant["date_of_birth"],
            email=participant["email"].strip().lower(),
            phone=phone,
            language=language,
            sms_consent=sms_consent,
            eligible=result.eligible,
            ineligible_reasons=" ".join(result.reasons),
            created_by_id=actor.user_id,
            created_at=clock.now(),
            **{name: getattr(answers, name) for name in SCREENING_FIELDS},
        )
        db.session.add(case)
        db.session.flush()
        audit.record(actor, "create", "case", case.id, case_id=case.id,
                     detail={"eligible": result.eligible})
    return case


def _visible_case(actor: Actor, case_id: int) -> Case:
    _require_case_officer(actor)
    case = db.session.get(Case, case_id, options=[so.joinedload(Case.enrolment)])
    if case is None or case.force_id != actor.force_id or case.erased_at is not None:
        raise NotFound("case", case_id)
    return case


def get_case(actor: Actor, case_id: int) -> Case:
    """Return one of the actor's force's cases, recording the read."""
    case = _visible_case(actor, case_id)
    with transaction():
        audit.record(actor, "read", "case", case.id, case_id=case.id)
    return case


def change_contact(actor: Actor, case_id: int, participant: dict) -> Case:
    """Change how the participant is reached: phone, language and consent to texts.

    Messages already queued keep what they were written with; what is sent from now
    on follows the change, except that a text message not yet sent is withdrawn once
    the consent to texts is, or the number changes (the sender checks before it goes).
    The audit row names the fields changed, never their values.
    """
    phone, language, sms_consent = _contact(participant)
    with transaction():
        case = _visible_case(actor, case_id)
        before = {"phone": case.phone, "language": case.language,
                  "sms_consent": case.sms_consent}
        after = {"phone": phone, "language": language, "sms_consent": sms_consent}
        changed = sorted(name for name in after if after[name] != before[name])
        for name in changed:
            setattr(case, name, after[name])
        if changed:
            audit.record(actor, "update", "case", case.id, case_id=case.id,
                         detail={"changed": changed})
    return case


def list_cases(
    actor: Actor, *, search: str | None = None, page: int = 1, per_page: int = 25
) -> tuple[list[Case], int]:
    """List the force's cases, newest first, optionally searched by reference or name."""
    _require_case_officer(actor)
    query = sa.select(Case).where(Case.force_id == actor.force_id, Case.erased_at.is_(None))
    if search:
        term = like_term(search)
        query = query.where(
            sa.or_(
                sa.func.lower(Case.reference).like(term, escape="\\"),
                sa.func.lower(Case.given_name + " " + Case.family_name)
                .like(term, escape="\\"),
                sa.func.lower(Case.family_name).like(term, escape="\\"),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.session.scalars(
            query.options(so.selectinload(Case.enrolment))
            .order_by(Case.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    with transaction():
        audit.record(actor, "read", "case_list", None,
                     detail={"search": search or "", "page": page, "ids": [c.id for c in rows]})
        audit.record_reads(actor, "case", [(c.id, c.id) for c in rows], "case_list")
    return rows, total


def _contact(participant: dict) -> tuple[str | None, Language, bool]:
    """The participant's phone number in one form, their language and their consent to
    text messages, or the field error that says what to change."""
    try:
        phone = normalised_phone(participant.get("phone"))
    except ValueError as error:
        raise InvalidInput(str(error), field="phone") from error
    sms_consent = bool(participant.get("sms_consent", False))
    problem = sms_consent_problem(phone, sms_consent)
    if problem:
        raise InvalidInput(problem, field="phone")
    return phone, language_of(participant.get("language")), sms_consent
