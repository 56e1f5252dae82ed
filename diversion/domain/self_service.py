"""A participant moving their own appointment: how close to its start, and how often.

The booking rules decide which sessions a participant could take instead, exactly as
for a coordinator's booking; these limits decide whether the participant may make the
move themselves, or should ask to be called. Both come from the programme's settings
(``self_service_cutoff_hours``, ``self_service_moves``) as they are at the time of the
move, counting the moves already made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from diversion.domain.errors import RuleViolation
from diversion.domain.text import has_unusable_characters


@dataclass(frozen=True)
class SelfServiceLimits:
    """How late, and how many times per enrolment, a participant may move an appointment."""

    cutoff_hours: int = 24
    moves: int = 2

    def __post_init__(self) -> None:
        if self.cutoff_hours < 0 or self.moves < 0:
            raise ValueError("self-service limits must not be negative")

    def closes_at(self, starts_at: datetime) -> datetime:
        """The last instant the appointment starting then may be moved by the participant.

        Elapsed hours, computed in UTC: Python subtracts from a London time by the wall
        clock, and across a clock change "24 hours before" is not "the same time the
        day before".
        """
        return starts_at.astimezone(UTC) - timedelta(hours=self.cutoff_hours)

    def moves_left(self, moves_made: int) -> int:
        """How many more moves the participant may make themselves."""
        return max(self.moves - moves_made, 0)


def move_refusal(limits: SelfServiceLimits, starts_at: datetime, moves_made: int,
                 now: datetime) -> RuleViolation | None:
    """Say why the participant may not move an appointment starting then now, or None.

    Too close to the start (or started) is ``self_service_closed``; past the number of
    moves is ``self_service_limit``. The first is said first: it holds whatever the count.
    """
    if now >= starts_at or now > limits.closes_at(starts_at):
        hours = limits.cutoff_hours
        return RuleViolation(
            "self_service_closed",
            f"An appointment can be changed online until {hours} hour"
            f"{'' if hours == 1 else 's'} before it starts.",
        )
    if limits.moves_left(moves_made) == 0:
        return RuleViolation(
            "self_service_limit",
            f"Appointments can be changed online {limits.moves} time"
            f"{'' if limits.moves == 1 else 's'} at most.",
        )
    return None


def check_move(limits: SelfServiceLimits, starts_at: datetime, moves_made: int,
               now: datetime) -> None:
    """Refuse, with the limit that says no, a participant's own move of this appointment."""
    refusal = move_refusal(limits, starts_at, moves_made, now)
    if refusal is not None:
        raise refusal


# The longest note a participant may leave when asking to be called.
MESSAGE_LONGEST = 500


def message_problem(message: str) -> str | None:
    """Say what is wrong with a participant's note, as a code their page words, or None."""
    if has_unusable_characters(message):
        return "unusable_characters"
    if len(message) > MESSAGE_LONGEST:
        return "too_long"
    return None
