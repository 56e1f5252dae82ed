"""Programmes and the rules they carry."""

from __future__ import annotations

import sqlalchemy as sa

from diversion.domain.programme import ProgrammeRules
from diversion.extensions import db
from diversion.models import Programme
from diversion.services import NotFound


def rules_for(programme: Programme) -> ProgrammeRules:
    """Turn a programme's settings into the domain's rules value."""
    return ProgrammeRules(
        core_modules=programme.core_modules,
        session_minutes=programme.session_minutes,
        core_months=programme.core_months,
        follow_up_months=programme.follow_up_months,
        follow_up_window_days=programme.follow_up_window_days,
        min_days_between_sessions=programme.min_days_between_sessions,
        reminder_hours=programme.reminder_hours,
        timezone=programme.timezone,
        holiday_region=programme.holiday_region,
        modules_in_order=programme.modules_in_order,
    )


def list_programmes() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.id)))


def get_programme(programme_id: int) -> Programme:
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("programme")
    return programme
