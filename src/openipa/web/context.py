"""Template context: the navigation for the signed-in user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from openipa.core.roles import Perm, has_perm

# (label, url name, permission needed or None for every signed-in user)
NAV_ITEMS: list[tuple[str, str, Perm | None]] = [
    ("Dashboard", "web:dashboard", None),
    ("Practices", "web:practice_list", Perm.VIEW_NETWORK),
    ("Providers", "web:provider_list", Perm.VIEW_NETWORK),
    ("Members", "web:member_list", Perm.VIEW_MEMBERS),
    ("Payers", "web:payer_list", Perm.VIEW_CONTRACTS),
    ("Contracts", "web:contract_list", Perm.VIEW_CONTRACTS),
    ("Audit log", "web:audit_list", Perm.VIEW_AUDIT),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(label, name) for label, name, perm in NAV_ITEMS if perm is None or has_perm(user, perm)]
    return {"nav_items": items}
