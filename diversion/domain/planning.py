"""Find the earliest complete schedule of an enrolment's remaining modules."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from diversion.domain.booking import (
    BookingFacts,
    EnrolmentFacts,
    SessionFacts,
    attended_modules,
    booked_modules,
    check_booking,
    core_complete,
)
from diversion.domain.dates import format_date
from diversion.domain.errors import RuleViolation
from diversion.domain.programme import FOLLOW_UP, ProgrammeRules, module_name
from diversion.domain.vocabulary import BookingStatus, EnrolmentStatus, SessionStatus


def remaining_modules(rules: ProgrammeRules, enrolment: EnrolmentFacts) -> list[int]:
    """Return the modules still to book, in module order."""
    attended = attended_modules(enrolment)
    held = attended | booked_modules(enrolment)
    core = [m for m in rules.core_module_numbers if m not in held]
    if core:
        return core
    if (
        enrolment.status == EnrolmentStatus.AWAITING_FOLLOW_UP
        and core_complete(rules, enrolment)
        and FOLLOW_UP not in held
    ):
        return [FOLLOW_UP]
    return []


def no_plan(rules: ProgrammeRules, enrolment: EnrolmentFacts, modules: list[int]) -> RuleViolation:
    """Say, in words, why no complete plan exists for these modules."""
    names = ", ".join(module_name(m) for m in modules)
    if modules == [FOLLOW_UP] and enrolment.follow_up_window is not None:
        last_day = enrolment.follow_up_window[1]
        spacing = ""
    else:
        last_day = enrolment.core_deadline
        spacing = f" with {rules.min_days_between_sessions} days between sessions"
    return RuleViolation(
        "after_deadline",
        f"No complete plan exists: {names} cannot all be booked into published sessions "
        f"by {format_date(last_day)}{spacing}. Publish more sessions or ask the case "
        "officer about an extension.",
    )


def plan(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    sessions: Sequence[SessionFacts],
    now: datetime,
    modules: Sequence[int] | None = None,
) -> list[SessionFacts] | None:
    """Choose one session per module, earliest first; None if none fits.

    The modules are the remaining ones unless named (a re-plan books only what a change
    took away).
    """
    # "Earliest" is the smallest tuple of (starts_at, session id), taken in module order
    # for an in-order programme; a plan there is chronological by construction. For an
    # any-order programme it is the smallest such tuple sorted by time: the plan that
    # starts soonest, then keeps each next session as early as possible. Session ids
    # only break ties between sessions that start at the same instant.
    modules = remaining_modules(rules, enrolment) if modules is None else sorted(modules)
    if not modules:
        return []
    candidates = _candidates(rules, enrolment, sessions, modules, now)
    if any(not candidates.get(m) for m in modules):
        return None
    search = _Search(rules, enrolment, now, modules, candidates)
    chosen = search.in_order() if rules.modules_in_order else search.any_order()
    if chosen is None:
        return None
    return sorted((c.session for c in chosen), key=lambda s: s.module)


@dataclass(frozen=True)
class _Candidate:
    session: SessionFacts
    on: date

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.session.starts_at, self.session.id)


def _candidates(
    rules: ProgrammeRules,
    enrolment: EnrolmentFacts,
    sessions: Sequence[SessionFacts],
    modules: list[int],
    now: datetime,
) -> dict[int, list[_Candidate]]:
    # Drop up front what check_booking would refuse whatever else is planned, so the
    # search only ever branches on sessions that could be part of a plan.
    wanted = set(modules)
    window = enrolment.follow_up_window
    by_module: dict[int, list[_Candidate]] = {m: [] for m in modules}
    for s in sessions:
        if (
            s.module not in wanted
            or s.status == SessionStatus.CANCELLED
            or s.starts_at <= now
            or s.booked >= s.capacity
        ):
            continue
        on = rules.local_date(s.starts_at)
        if s.module == FOLLOW_UP:
            if window is None or not window[0] <= on <= window[1]:
                continue
        elif on > enrolment.core_deadline:
            continue
        by_module[s.module].append(_Candidate(s, on))
    for found in by_module.values():
        found.sort(key=lambda c: c.order)
    return by_module


class _Search:
    """Depth-first search over candidate sessions, earliest first, with pruning."""

    def __init__(
        self,
        rules: ProgrammeRules,
        enrolment: EnrolmentFacts,
        now: datetime,
        modules: list[int],
        candidates: dict[int, list[_Candidate]],
    ) -> None:
        self.rules = rules
        self.enrolment = enrolment
        self.now = now
        self.modules = modules
        self.candidates = candidates
        self.spacing = timedelta(days=rules.min_days_between_sessions)
        self.deadline = enrolment.core_deadline
        self.core = modules != [FOLLOW_UP]
        # Everything a later session must respect about earlier choices is implied by
        # the latest choice alone: later sessions come after it and keep the spacing
        # from it, so by the triangle inequality they keep it from every earlier one
        # too. A dead end is therefore remembered by (modules left, latest choice).
        self.dead_ends: set[tuple[frozenset[int], tuple[datetime, int]]] = set()

    def _fits(self, chosen: list[_Candidate], candidate: _Candidate) -> bool:
        planned = tuple(
            BookingFacts(
                id=-1 - i,
                session_id=c.session.id,
                module=c.session.module,
                starts_at=c.session.starts_at,
                status=BookingStatus.BOOKED,
            )
            for i, c in enumerate(chosen)
        )
        enrolment = replace(self.enrolment, bookings=self.enrolment.bookings + planned)
        try:
            check_booking(self.rules, enrolment, candidate.session, self.now)
        except RuleViolation:
            return False
        return True

    def _cannot_finish(self, candidate: _Candidate, left_after: int) -> bool:
        # Each module still to come needs its own later day at the minimum spacing.
        return self.core and candidate.on + self.spacing * left_after > self.deadline

    def _start_index(self, pool: list[_Candidate], chosen: list[_Candidate]) -> int:
        if not chosen:
            return 0
        last = chosen[-1]
        after = bisect_right(pool, last.order, key=lambda c: c.order)
        spaced = bisect_left(pool, last.on + self.spacing, key=lambda c: c.on)
        return max(after, spaced) if self.core else after

    def in_order(self) -> list[_Candidate] | None:
        """Assign modules in module order; the first plan found is the earliest."""
        chosen: list[_Candidate] = []

        def extend(level: int) -> bool:
            if level == len(self.modules):
                return True
            pool = self.candidates[self.modules[level]]
            left_after = len(self.modules) - level - 1
            for candidate in pool[self._start_index(pool, chosen) :]:
                if self._cannot_finish(candidate, left_after):
                    return False
                if not self._fits(chosen, candidate):
                    continue
                chosen.append(candidate)
                if extend(level + 1):
                    return True
                chosen.pop()
                # A later session for this module only narrows what the next modules
                # may use (they must follow it at the spacing), so if this one leads
                # nowhere neither does any later one.
                return False
            return False

        return list(chosen) if extend(0) else None

    def any_order(self) -> list[_Candidate] | None:
        """Pick sessions chronologically, any module next; the first plan found is earliest."""
        pool = sorted((c for m in self.modules for c in self.candidates[m]), key=lambda c: c.order)
        last_chance = {m: self.candidates[m][-1].order for m in self.modules}
        chosen: list[_Candidate] = []

        def extend(left: frozenset[int]) -> bool:
            if not left:
                return True
            for candidate in pool[self._start_index(pool, chosen) :]:
                if candidate.session.module not in left:
                    continue
                if self._cannot_finish(candidate, len(left) - 1):
                    break
                rest = left - {candidate.session.module}
                if any(last_chance[m] <= candidate.order for m in rest):
                    continue  # a module still left has no session after this one
                state = (rest, candidate.order)
                if state in self.dead_ends or not self._fits(chosen, candidate):
                    continue
                chosen.append(candidate)
                if extend(rest):
                    return True
                chosen.pop()
                self.dead_ends.add(state)
            return False

        return list(chosen) if extend(frozenset(self.modules)) else None
