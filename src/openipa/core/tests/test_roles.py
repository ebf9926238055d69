"""Who may move money: separation of duties in the role table."""

from __future__ import annotations

from openipa.core.roles import ROLE_PERMS, Perm, Role


def test_only_finance_moves_money_or_changes_bank_details() -> None:
    # whoever edits the network (the administrator) must not also be able to pay or redirect payments
    for perm in (Perm.EDIT_FINANCE, Perm.EDIT_BANK, Perm.VIEW_BANK):
        holders = {role for role, perms in ROLE_PERMS.items() if perm in perms}
        assert holders == {Role.FINANCE}, perm


def test_practice_users_see_no_finance_pages() -> None:
    assert Perm.VIEW_FINANCE not in ROLE_PERMS[Role.PRACTICE_USER]
    assert Perm.VIEW_FINANCE in ROLE_PERMS[Role.AUDITOR]
    assert Perm.EDIT_FINANCE not in ROLE_PERMS[Role.AUDITOR]
