"""A realistic demo data set: three forces, staff, and participants at every stage.

The messy cases are there too: a participant who missed module 2 with modules 3 to 5
still booked, one whose module 3 register was never taken after that, and sessions whose
register is overdue.

The clock is moved back while the history is written, so sessions, bookings and
attendance carry believable dates; it is restored afterwards.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from diversion import clock
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP
from diversion.domain.vocabulary import LONDON, DecisionKind, Outcome, Role
from diversion.extensions import db
from diversion.models import Booking, User
from diversion.services import (
    Actor,
    accounts,
    attendance,
    bookings,
    cases,
    decisions,
    enrolments,
    planning,
    sessions,
    venues,
)
from diversion.services.accounts import actor_for

FORCES = [("MET", "Metropolitan Police Service"), ("KENT", "Kent Police"),
          ("WMP", "West Midlands Police")]
GIVEN = ["Alex", "Sam", "Jordan", "Chris", "Jamie", "Robin", "Lee", "Daniel", "Mark", "Paul",
         "Steven", "Andrew", "David", "James", "Tom", "Ryan", "Gareth", "Owen"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
          "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall", "Wood", "Clarke"]
# How many participants reach each stage.
STAGES = ([("ineligible", 4), ("new", 6), ("in_progress", 12), ("at_risk", 4),
           ("awaiting_follow_up", 6), ("completed", 4), ("referred", 2), ("overdue", 2),
           ("missed_module_2", 1), ("missed_module_2_unrecorded", 1), ("register_overdue", 2)])


def seed(*, if_empty: bool = False, echo=print) -> None:
    """Load the demo data set (once: with if_empty, do nothing when accounts exist)."""
    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        echo("Demo data not loaded: the database already has accounts.")
        return
    rng = random.Random(20261123)
    real_now = clock.now()
    pinned = clock._override
    try:
        _seed(rng, real_now, echo)
    finally:
        clock.set_now(pinned)


def _at(day, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def _seed(rng: random.Random, real_now: datetime, echo) -> None:
    today = real_now.astimezone(LONDON).date()
    logins = []
    for code, name in FORCES:
        accounts.create_force(code, name)

    def account(email, role, force=None, name=""):
        password = secrets.token_urlsafe(12)
        user = accounts.create_user(email, role, password=password, force_code=force, name=name)
        logins.append((email, role, force or "", password))
        return actor_for(user)

    account("admin@demo.diversion.test", Role.ADMIN, name="Ada Admin")
    coordinator = account("coordinator@demo.diversion.test", Role.COORDINATOR,
                          name="Cora Coordinator")
    officers = {code: account(f"officer.{code.lower()}@demo.diversion.test", Role.CASE_OFFICER,
                              code, name=f"{code} case officer")
                for code, _ in FORCES}

    start_of_history = today - timedelta(days=420)
    clock.set_now(_at(start_of_history - timedelta(days=1)))
    halls = [venues.create_venue(coordinator, "Civic Centre", "1 High Street, Leeds LS1 1AA",
                                 ["Room 1", "Room 2"]),
             venues.create_venue(coordinator, "Community Hub", "22 Mill Lane, Bristol BS1 4DJ",
                                 ["Main hall"])]
    # Each module runs weekly on its own weekday, all year; follow-ups on Saturdays. The
    # series run a year past today, so a training clock moved months on still finds
    # sessions to book.
    first_monday = start_of_history + timedelta(days=(7 - start_of_history.weekday()) % 7)
    weeks = (today + timedelta(days=365) - first_monday).days // 7 + 1
    for module in range(1, 6):
        day = first_monday + timedelta(days=module - 1)
        sessions.publish_series(coordinator, programme_id=1, module=module,
                                first_starts_at=datetime.combine(day, time(18, 0)),
                                count=weeks, interval_days=7, venue_id=halls[module % 2].id,
                                capacity=12, facilitator="R. Patel")
    sessions.publish_series(coordinator, programme_id=1, module=FOLLOW_UP,
                            first_starts_at=datetime.combine(first_monday + timedelta(days=5),
                                                             time(10, 0)),
                            count=weeks, interval_days=7, venue_id=halls[0].id, capacity=20,
                            facilitator="R. Patel")

    number = 0
    for stage, count in STAGES:
        for _ in range(count):
            number += 1
            code = FORCES[number % len(FORCES)][0]
            _participant(rng, stage, number, officers[code], coordinator, today, real_now)
    clock.set_now(real_now)
    echo(f"Demo data loaded: 3 forces, 5 staff, {number} participants.")
    echo("Demo sign-ins (shown once; write them down):")
    for email, role, force, password in logins:
        echo(f"  {role:<13} {force:<5} {email:<40} {password}")


def _participant(rng, stage, number, officer: Actor, coordinator: Actor, today, real_now):
    ago = {"new": 3, "in_progress": rng.randint(10, 80), "at_risk": rng.randint(30, 70),
           "awaiting_follow_up": rng.randint(130, 200), "completed": rng.randint(330, 400),
           "referred": rng.randint(60, 100), "overdue": rng.randint(125, 160),
           "ineligible": 5, "missed_module_2": 35, "missed_module_2_unrecorded": 42,
           "register_overdue": rng.randint(20, 40)}[stage]
    start = today - timedelta(days=ago)
    clock.set_now(_at(start))
    screening = _screening(rng, stage)
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    case = cases.record_case(
        officer, f"{officer.email[8:11].upper()}/{start.year}/{1000 + number}",
        {"given_name": given, "family_name": family,
         # Adults on the day of screening, up to 400 days back.
         "date_of_birth": today.replace(year=today.year - rng.randint(20, 60), day=1),
         "email": f"{given.lower()}.{family.lower()}{number}@example.com",
         "phone": f"07700 900{number:03d}"},
        screening,
    )
    if stage == "ineligible":
        return
    enrolment = enrolments.enrol(officer, case.id, 1, start)
    if stage == "overdue":
        return  # never booked: the sweep will flag non-completion
    if stage.startswith("missed_module_2"):
        _missed_module_2(coordinator, enrolment.id, start, today, real_now,
                         module_3_unrecorded=stage.endswith("unrecorded"))
        return
    try:
        planned = planning.plan_enrolment(coordinator, enrolment.id)
    except RuleViolation:
        return
    if stage == "register_overdue":
        # Every register taken but the latest one that has ended.
        ended = [b for b in planned if b.session.ends_at < real_now]
        planned = ended[:-1]
    _attend_past(coordinator, planned, stage, real_now)
    if stage == "referred":
        clock.set_now(min(real_now, _at(start + timedelta(days=40))))
        decisions.decide(officer, enrolment.id, decision=DecisionKind.REFER,
                         reason="The prosecutor ended the agreement after a new allegation")
    if stage == "completed":
        db.session.refresh(enrolment)
        if enrolment.follow_up_due and _at(enrolment.follow_up_opens) < real_now:
            clock.set_now(_at(enrolment.follow_up_opens) - timedelta(days=1))
            try:
                (follow_up,) = planning.plan_enrolment(coordinator, enrolment.id)
            except (RuleViolation, ValueError):
                return
            if follow_up.session.ends_at < real_now:
                clock.set_now(follow_up.session.ends_at)
                attendance.record(coordinator, follow_up.id, Outcome.ATTENDED)


def _first_session(module: int, after: datetime):
    """The first scheduled session of a module starting after this instant."""
    (found,) = sessions.list_sessions(programme_id=1, module=module, start=after,
                                      include_cancelled=False, limit=1)
    return found


def _missed_module_2(coordinator: Actor, enrolment_id: int, start, today, real_now: datetime,
                     *, module_3_unrecorded: bool) -> None:
    """Module 1 attended, module 2 missed, later modules still booked after it.

    With ``module_3_unrecorded`` module 3 has happened too and its register was never
    taken: nothing can be planned for this participant until it is.
    """
    week = timedelta(days=7)
    chosen = [_first_session(1, _at(start + timedelta(days=1)))]
    chosen.append(_first_session(2, chosen[0].starts_at + week))
    first_future = _at(today + timedelta(days=1))
    for module in range(3, 6):
        after = chosen[-1].starts_at + week
        if module == 3 and not module_3_unrecorded or module == 4 and module_3_unrecorded:
            after = max(after, first_future)
        chosen.append(_first_session(module, after))
    for session in chosen:
        bookings.book(coordinator, enrolment_id, session.id)
    made = _in_module_order(enrolment_id)
    for booking, outcome in zip(made, (Outcome.ATTENDED, Outcome.ABSENT_UNEXCUSED),
                                strict=False):
        clock.set_now(booking.session.ends_at)
        attendance.record(coordinator, booking.id, outcome)
    clock.set_now(real_now)


def _in_module_order(enrolment_id: int):
    """Return the enrolment's bookings in module order."""
    return sorted(db.session.scalars(sa.select(Booking).where(
        Booking.enrolment_id == enrolment_id)), key=lambda b: b.module)


def _screening(rng, stage: str) -> dict:
    answers = {
        "previous_sexual_or_violent_conviction": False, "first_offence": True,
        "image_category": "C", "contact_offending_suspected": False,
        "children_at_risk": False, "prosecutor_agreed": True, "participant_consented": True,
    }
    if stage == "ineligible":
        answers.update(rng.choice([
            {"image_category": "B"}, {"children_at_risk": True}, {"first_offence": False},
            {"contact_offending_suspected": True}]))
    return answers


def _attend_past(coordinator: Actor, planned, stage: str, real_now: datetime) -> None:
    for index, booking in enumerate(planned):
        if booking.session.ends_at >= real_now:
            return
        clock.set_now(booking.session.ends_at)
        outcome = (Outcome.ABSENT_UNEXCUSED if stage == "at_risk" and index == 1
                   else Outcome.ATTENDED)
        attendance.record(coordinator, booking.id, outcome)
        if outcome != Outcome.ATTENDED:
            return
