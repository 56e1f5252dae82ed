"""Rule violations: the one way a domain rule says no."""

from __future__ import annotations

# A conflict is a refusal caused by what other requests did meanwhile (409);
# every other rule refusal is a 422.
CONFLICT_CODES = frozenset({"session_full", "already_booked"})


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

    def __repr__(self) -> str:
        return f"RuleViolation({self.code!r}, {self.message!r})"


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
