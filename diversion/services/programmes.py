"""Programmes and the rules they carry."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from diversion.domain.programme import ProgrammeRules
from diversion.extensions import db
from diversion.models import Programme
from diversion.services import NotFound

# The programme's columns the rules read: exactly the rules value's fields, so a new
# setting reaches every rule check (and the booking's own statement) by being added there.
RULE_SETTINGS = tuple(field.name for field in dataclasses.fields(ProgrammeRules))


def rules_for(programme: Programme | sa.Row) -> ProgrammeRules:
    """Turn a programme's settings (the model, or a row carrying them) into its rules."""
    return ProgrammeRules(**{name: getattr(programme, name) for name in RULE_SETTINGS})


def list_programmes() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("programme", programme_id)
    return programme
