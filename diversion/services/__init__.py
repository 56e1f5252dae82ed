"""Use cases, and the reads and helpers they are built from.

A use case (given the acting person, or run by a job as the system) owns one
transaction, ``database.transaction()``: it commits once, on success, and rolls back on
any error; nothing it calls commits. Helpers that lock, insert or cancel inside a
caller's transaction say so in their docstrings. Reads that write nothing need no
transaction of their own. The one write kept apart is the audit row of a refusal, which
must outlast the refused request: the one error layer writes it (``audit.record_refusal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from diversion.domain.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, or the system itself (jobs, CLI)."""

    user_id: int | None
    email: str
    role: str
    force_id: int | None = None
    remote_addr: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(user_id=None, email=name, role="system")

    @property
    def is_case_officer(self) -> bool:
        return self.role == Role.CASE_OFFICER

    def require(self, *roles: str) -> None:
        """Refuse (403) unless this actor has one of these roles."""
        if self.role not in roles:
            raise Forbidden()


class NotFound(Exception):
    """No such record, or not one this actor may see (never reveal which).

    ``object_id`` names the record asked for, so the refusal's audit row can say which
    one, and whose case it belongs to.
    """

    def __init__(self, what: str = "record", object_id: int | str | None = None) -> None:
        super().__init__(f"No such {what}")
        self.what = what
        self.object_id = object_id


class Forbidden(Exception):
    """This role may not do this."""


class InvalidInput(Exception):
    """Input failed a validation a schema cannot express; ``field`` names it.

    A 400, as a body that fails its schema is: docs/api.md keeps 422 for rule refusals.
    """

    def __init__(
        self, message: str, field: str | None = None, code: str = "invalid", status: int = 400
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.status = status


def like_term(search: str) -> str:
    """Make a LIKE pattern that matches the text literally (% and _ are not wildcards)."""
    text = search.strip().lower()
    for special in ("\\", "%", "_"):
        text = text.replace(special, "\\" + special)
    return f"%{text}%"
