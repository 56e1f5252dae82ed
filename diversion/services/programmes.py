"""Programmes: their settings, the rules they carry, and an administrator changing them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from diversion.database import transaction
from diversion.domain.errors import RuleViolations
from diversion.domain.programme import ProgrammeRules
from diversion.domain.programme_settings import (
    SETTING_NAMES,
    ProgrammeSettings,
    changes,
    check_change,
    check_settings,
    normalised,
)
from diversion.domain.vocabulary import OPEN_ENROLMENT, Role
from diversion.extensions import db
from diversion.models import Enrolment, Programme
from diversion.services import Actor, InvalidInput, NotFound, audit

# The programme's columns the rules read: exactly the rules value's fields, so a new
# setting reaches every rule check (and the booking's own statement) by being added there.
RULE_SETTINGS = tuple(field.name for field in dataclasses.fields(ProgrammeRules))

# Ids are the database's integers: one beyond them names no programme.
LARGEST_ID = 2**31 - 1


def rules_for(programme: Programme | sa.Row) -> ProgrammeRules:
    """Turn a programme's settings (the model, or a row carrying them) into its rules."""
    return ProgrammeRules(**{name: getattr(programme, name) for name in RULE_SETTINGS})


def rules_for_enrolment(enrolment: Enrolment) -> ProgrammeRules:
    """The rules an enrolment is held to: its programme's, under the terms it was enrolled on."""
    return rules_for(enrolment.programme).under(enrolment.terms)


def settings_of(programme: Programme) -> ProgrammeSettings:
    """Read a programme's settings as the domain sees them."""
    return ProgrammeSettings(**{name: getattr(programme, name) for name in SETTING_NAMES})


def list_programmes() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))


def get_programme(programme_id: int, *, lock: bool = False) -> Programme:
    """Return a programme, locked for the caller's transaction if asked; or raise NotFound."""
    if not 0 < programme_id <= LARGEST_ID:
        raise NotFound("programme")
    if lock:
        programme = db.session.scalar(
            sa.select(Programme).where(Programme.id == programme_id).with_for_update()
            .execution_options(populate_existing=True))
    else:
        programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("programme", programme_id)
    return programme


def create_programme(actor: Actor, values: dict[str, Any]) -> Programme:
    """Add a programme; a setting not given takes docs/domain.md's default."""
    actor.require(Role.ADMIN)
    _refuse_unknown(values)
    if "name" not in values:
        raise InvalidInput("Enter the programme's name", field="name")
    settings = ProgrammeSettings(**normalised(values))
    check_settings(settings)
    with transaction():
        programme = Programme(**dataclasses.asdict(settings))
        db.session.add(programme)
        db.session.flush()
        audit.record(actor, "create", "programme", programme.id,
                     detail={"before": None, "after": dataclasses.asdict(settings)})
    return programme


@dataclass(frozen=True)
class ProgrammeChange:
    """A change to a programme's settings: each changed setting as (before, after)."""

    programme: Programme
    changed: dict[str, tuple[Any, Any]]
    enrolments_in_progress: int
    # The settings the change was worked out from, as ``fingerprint`` gives them.
    seen: str


def preview_change(actor: Actor, programme_id: int, values: dict[str, Any]) -> ProgrammeChange:
    """Check a change against the rules and say what it would change, changing nothing."""
    actor.require(Role.ADMIN)
    return _checked_change(get_programme(programme_id), values)


def update_programme(actor: Actor, programme_id: int, values: dict[str, Any], *,
                     seen: str | None = None) -> ProgrammeChange:
    """Change a programme's settings; audited with each setting's before and after.

    Given ``seen`` (a preview's), the change is refused if the settings moved since the
    administrator checked it: what they confirmed is what they were shown.
    """
    actor.require(Role.ADMIN)
    with transaction():
        # Locked, so two administrators' changes queue and each audit row's "before" is
        # what that change replaced.
        programme = get_programme(programme_id, lock=True)
        if seen is not None and fingerprint(settings_of(programme)) != seen:
            raise InvalidInput(
                "Someone else changed this programme's settings while you were checking "
                "yours. Check your changes again.", code="changed_meanwhile", status=409)
        change = _checked_change(programme, values)
        if change.changed:
            for name, (_before, after) in change.changed.items():
                setattr(programme, name, after)
            audit.record(actor, "update", "programme", programme.id, detail={
                "before": {name: before for name, (before, _after) in change.changed.items()},
                "after": {name: after for name, (_before, after) in change.changed.items()},
            })
    return change


def enrolments_in_progress(programme_id: int) -> int:
    """Count the programme's enrolments still open."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Enrolment)
        .where(Enrolment.programme_id == programme_id, Enrolment.status.in_(OPEN_ENROLMENT))
    ) or 0


def fingerprint(settings: ProgrammeSettings) -> str:
    """Digest a programme's settings: equal digests, unchanged settings."""
    text = json.dumps(dataclasses.asdict(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _checked_change(programme: Programme, values: dict[str, Any]) -> ProgrammeChange:
    _refuse_unknown(values)
    before = settings_of(programme)
    after = dataclasses.replace(before, **normalised(values))
    changed = changes(before, after)
    in_progress = enrolments_in_progress(programme.id)
    try:
        check_change(before, after, enrolments_in_progress=in_progress)
    except RuleViolations as refusal:
        # A change is judged on what it changes: a setting left alone is not its concern.
        problems = [p for p in refusal.problems if p.field in changed]
        if problems:
            raise RuleViolations(problems) from None
    return ProgrammeChange(programme, changed, in_progress, fingerprint(before))


def _refuse_unknown(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(SETTING_NAMES))
    if unknown:
        raise InvalidInput(f"{unknown[0]} is not a programme setting", field=unknown[0])
