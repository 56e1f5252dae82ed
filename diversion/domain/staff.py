"""Rules about staff accounts that no page or command may break."""

from __future__ import annotations

from diversion.domain.errors import RuleViolation
from diversion.domain.vocabulary import Role


def check_disable(*, actor_id: int | None, user_id: int, role: str,
                  other_active_admins: int) -> None:
    """Refuse disabling one's own account, or the last active administrator's.

    Either would leave nobody able to manage accounts from the pages.
    """
    if actor_id is not None and actor_id == user_id:
        raise RuleViolation("cannot_disable_self",
                            "You cannot disable your own account. Ask another administrator.")
    if role == Role.ADMIN and other_active_admins == 0:
        raise RuleViolation("last_administrator",
                            "This is the last active administrator: enable or create another "
                            "administrator first.")
