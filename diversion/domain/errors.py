"""Rule violations: the one way a domain rule says no."""

from __future__ import annotations

# A conflict is a refusal caused by what other requests did meanwhile (409);
# every other rule refusal is a 422.
CONFLICT_CODES = frozenset({"session_full", "already_booked", "places_available",
                            "already_on_waitlist"})


class RuleViolation(Exception):
    """A domain rule refused the operation; ``code`` is the docs/api.md rule code."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        return 409 if self.code in CONFLICT_CODES else 422

    def items(self) -> list[dict[str, object]]:
        """The error items of docs/api.md's ``errors`` list this refusal answers with."""
        return [{"code": self.code, "field": self.field, "message": self.message}]

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.message!r})"


class ChangeBreaksBookings(RuleViolation):
    """A change refused because it would break a rule for people it affects.

    Each breach names the enrolment and the rule, so the caller can show who and why.
    """

    def __init__(self, breaches: list[tuple[int, RuleViolation]]) -> None:
        count = len(breaches)
        super().__init__(
            breaches[0][1].code,
            f"This change would break the booking rules for {count} booked "
            f"participant{'' if count == 1 else 's'}. Nothing has been changed.",
        )
        self.breaches = breaches

    def items(self) -> list[dict[str, object]]:
        return [
            {"code": breach.code, "field": None, "message": breach.message,
             "enrolment_id": enrolment_id}
            for enrolment_id, breach in self.breaches
        ]


class RuleViolations(RuleViolation):
    """Several rules refused one request, each naming its field: all are reported at once.

    It reads as the first of them, so a caller that handles one violation still works.
    """

    def __init__(self, problems: list[RuleViolation]) -> None:
        if not problems:
            raise ValueError("RuleViolations needs at least one problem")
        first = problems[0]
        super().__init__(first.code, first.message, first.field)
        self.problems = tuple(problems)

    def items(self) -> list[dict[str, object]]:
        return [item for problem in self.problems for item in problem.items()]
