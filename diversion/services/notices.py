"""After an unexcused absence: the participant's notice, the warning letter and its hand-over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from diversion import clock
from diversion.database import transaction
from diversion.domain.notices import (
    handover_problem,
    latest_to_make_up,
    latest_unexcused,
    rebook_by,
    still_to_make_up,
)
from diversion.domain.vocabulary import Role
from diversion.extensions import db
from diversion.models import Booking, Enrolment, WarningLetterHandover
from diversion.services import Actor, InvalidInput, NotFound, audit, outbox
from diversion.services.enrolments import participant_reference, visible_enrolment
from diversion.services.facts import booking_facts, enrolment_facts
from diversion.services.programmes import rules_for_enrolment

HANDED_OVER_BY_MAX = 200


def tell_of_absence(enrolment: Enrolment, booking: Booking, key: str) -> None:
    """Queue the participant's notice of an unexcused absence just recorded (caller's
    transaction), unless nothing is left to rebook or they were told already."""
    facts = enrolment_facts(enrolment)
    if not still_to_make_up(facts, booking_facts(booking)) or outbox.absence_told(booking):
        return
    outbox.tell_of_absence(
        booking, key=key, reference=participant_reference(enrolment.id),
        rebook_by=rebook_by(rules_for_enrolment(enrolment), facts, booking.module,
                            clock.today()))


@dataclass(frozen=True)
class WarningLetter:
    """What the printed letter says: to whom, the appointment missed, by when, whom to call."""

    enrolment_id: int
    booking_id: int
    participant_name: str
    reference: str
    missed_at: datetime
    rebook_by: date | None
    contact_phone: str
    produced_on: date
    # The participant's language: the letter is written in it, as their mail is.
    language: str


def warning_letter(actor: Actor, enrolment_id: int) -> WarningLetter:
    """Write the letter about the latest unexcused absence still to make up, or raise
    NotFound; printing it is an audited disclosure."""
    actor.require(Role.CASE_OFFICER)
    enrolment = visible_enrolment(actor, enrolment_id)
    facts = enrolment_facts(enrolment)
    absence = latest_to_make_up(facts)
    if absence is None:
        raise NotFound("warning_letter", enrolment_id)
    today = clock.today()
    letter = WarningLetter(
        enrolment_id=enrolment.id, booking_id=absence.id,
        participant_name=enrolment.case.participant_name,
        reference=participant_reference(enrolment.id), missed_at=absence.starts_at,
        rebook_by=rebook_by(rules_for_enrolment(enrolment), facts, absence.module, today),
        contact_phone=enrolment.programme.contact_phone, produced_on=today,
        language=enrolment.case.language)
    with transaction():
        audit.record(actor, "disclose", "warning_letter", enrolment.id,
                     case_id=enrolment.case_id, detail={"booking_id": absence.id})
    return letter


def letter_due(enrolment: Enrolment) -> Booking | None:
    """Return the absence a warning letter would be about now, or None."""
    absence = latest_to_make_up(enrolment_facts(enrolment))
    return None if absence is None else db.session.get(Booking, absence.id)


def handover_absence(enrolment: Enrolment) -> Booking | None:
    """Return the absence a hand-over recorded now is about: the latest unexcused one."""
    absence = latest_unexcused(enrolment_facts(enrolment))
    return None if absence is None else db.session.get(Booking, absence.id)


def handover_missed_on(actor: Actor, enrolment_id: int) -> date:
    """Return the day of the absence a hand-over recorded now is about, or raise NotFound."""
    actor.require(Role.CASE_OFFICER)
    return _handed_over_about(actor, enrolment_id)[2]


def _handed_over_about(actor: Actor, enrolment_id: int) -> tuple[Enrolment, Booking, date]:
    enrolment = visible_enrolment(actor, enrolment_id)
    absence = handover_absence(enrolment)
    if absence is None:
        raise NotFound("warning_letter", enrolment_id)
    return enrolment, absence, rules_for_enrolment(enrolment).local_date(absence.starts_at)


def record_handover(actor: Actor, enrolment_id: int, *, handed_over_on: date | None,
                    handed_over_by: str) -> WarningLetterHandover:
    """Record when, and by whom, the warning letter was handed to the participant."""
    actor.require(Role.CASE_OFFICER)
    handed_over_by = (handed_over_by or "").strip()
    with transaction():
        enrolment, absence, missed_on = _handed_over_about(actor, enrolment_id)
        if handed_over_on is None:
            raise InvalidInput("Enter the date the letter was handed over",
                               field="handed_over_on")
        problem = handover_problem(handed_over_on, missed_on, clock.today())
        if problem:
            raise InvalidInput(problem, field="handed_over_on")
        if not handed_over_by:
            raise InvalidInput("Enter the name of the person who handed the letter over",
                               field="handed_over_by")
        if len(handed_over_by) > HANDED_OVER_BY_MAX:
            raise InvalidInput(f"The name must be {HANDED_OVER_BY_MAX} characters or fewer",
                               field="handed_over_by")
        handover = WarningLetterHandover(
            enrolment_id=enrolment.id, booking_id=absence.id, handed_over_on=handed_over_on,
            handed_over_by=handed_over_by, recorded_by_id=actor.user_id,
            recorded_at=clock.now())
        db.session.add(handover)
        db.session.flush()
        audit.record(actor, "create", "warning_letter_handover", handover.id,
                     case_id=enrolment.case_id,
                     detail={"booking_id": absence.id,
                             "handed_over_on": handed_over_on.isoformat()})
    return handover


def handovers_of(enrolment_id: int) -> list[WarningLetterHandover]:
    """List the warning letters handed over for an enrolment, latest first."""
    return list(db.session.scalars(
        sa.select(WarningLetterHandover)
        .where(WarningLetterHandover.enrolment_id == enrolment_id)
        .options(so.joinedload(WarningLetterHandover.booking).joinedload(Booking.session))
        .order_by(WarningLetterHandover.handed_over_on.desc(),
                  WarningLetterHandover.id.desc())))
