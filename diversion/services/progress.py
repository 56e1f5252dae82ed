"""Keep an enrolment's status, follow-up dates and flags in step with its facts."""

from __future__ import annotations

from diversion import clock
from diversion.domain.progress import derive_progress
from diversion.domain.vocabulary import EnrolmentStatus
from diversion.models import Booking, Enrolment
from diversion.services import compliance
from diversion.services.facts import enrolment_facts
from diversion.services.programmes import rules_for_enrolment


def refresh(enrolment: Enrolment, bookings: list[Booking]) -> None:
    """Recompute status, core completion and the follow-up window from the bookings."""
    # The follow-up dates follow from the terms the enrolment was enrolled under.
    rules = rules_for_enrolment(enrolment)
    progress = derive_progress(rules, enrolment_facts(enrolment, bookings),
                               enrolment.follow_up_extension_days)
    if progress.status != enrolment.status and progress.status == EnrolmentStatus.COMPLETED:
        enrolment.closed_at = clock.now()
    elif (progress.status != EnrolmentStatus.COMPLETED
          and enrolment.status == EnrolmentStatus.COMPLETED):
        enrolment.closed_at = None
    enrolment.status = progress.status
    enrolment.core_completed_on = progress.core_completed_on
    enrolment.follow_up_due = progress.follow_up_due
    if progress.follow_up_window is None:
        enrolment.follow_up_opens = enrolment.follow_up_closes = None
    else:
        enrolment.follow_up_opens, enrolment.follow_up_closes = progress.follow_up_window


def reassess(*enrolments: Enrolment) -> None:
    """Bring each enrolment's status, dates and flags in line with facts just changed.

    Runs inside the caller's transaction, once per enrolment it touched, after the
    change: a cancelled booking, a cancelled or moved session, a decision, an extension
    or an attendance raises the flags it calls for at once, through the one rule the
    daily sweep also applies (the sweep remains for the passing of time).
    """
    # bookings.py calls this at the end of its use cases: imported here, not at the top.
    from diversion.services.bookings import bookings_of

    for enrolment in sorted(set(enrolments), key=lambda e: e.id):
        bookings = bookings_of(enrolment)
        refresh(enrolment, bookings)
        compliance.raise_flags_for(enrolment, bookings)
