import pytest

from diversion.domain.errors import RuleViolation
from diversion.domain.staff import check_disable


def test_an_administrator_cannot_disable_their_own_account():
    with pytest.raises(RuleViolation) as refused:
        check_disable(actor_id=1, user_id=1, role="admin", other_active_admins=3)
    assert refused.value.code == "cannot_disable_self"


def test_the_last_active_administrator_cannot_be_disabled():
    with pytest.raises(RuleViolation) as refused:
        check_disable(actor_id=None, user_id=2, role="admin", other_active_admins=0)
    assert refused.value.code == "last_administrator"


def test_another_administrator_or_any_other_account_can_be_disabled():
    check_disable(actor_id=1, user_id=2, role="admin", other_active_admins=1)
    check_disable(actor_id=1, user_id=3, role="coordinator", other_active_admins=0)
