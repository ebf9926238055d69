"""Template context: the navigation for the signed-in user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from openipa.core.roles import Actor, Perm, has_perm, is_practice_scoped
from openipa.ui.navigation import NavLink, is_active

PRACTICE_ONLY = "practice"
"""In place of a permission: only practice users see the item (staff reach the page another way)."""
FEES = "fees"
"""In place of a permission: finance (VIEW_FINANCE) and practice users (their own fees)."""
STAFF_UM = "staff_um"
"""In place of a permission: IPA staff with the UM view (not practice users, who see only their own requests)."""

# (label, url name, permission needed, PRACTICE_ONLY, or None for every signed-in user)
NAV_ITEMS: list[tuple[str, str, Perm | str | None]] = [
    ("Dashboard", "web:dashboard", None),
    ("Practices", "web:practice_list", Perm.VIEW_NETWORK),
    ("Providers", "web:provider_list", Perm.VIEW_NETWORK),
    ("Credentialing", "web:credentialing:screening", Perm.VIEW_CREDENTIALING),
    ("Members", "web:member_list", Perm.VIEW_MEMBERS),
    ("Payers", "web:payer_list", Perm.VIEW_CONTRACTS),
    ("Contracts", "web:contract_list", Perm.VIEW_CONTRACTS),
    ("Claims", "web:claims:claim_list", Perm.VIEW_CLAIMS),
    # referrals and prior authorizations (a practice user: its own requests)
    ("Authorizations", "web:utilization:queue", Perm.VIEW_UM),
    # how practices use care against their peers (the under-service watch): IPA staff with the UM view
    ("Performance", "web:performance:under_service_watch", STAFF_UM),
    # clinical data from the practices' EHRs, labs and HIEs, and the patient-matching review
    ("Clinical data", "web:clinical:home", Perm.VIEW_CLINICAL),
    ("Quality", "web:quality:home", Perm.VIEW_GAPS),
    # CMS-HCC risk scores, the diagnoses behind them and coding gaps per PCP
    ("Risk", "web:risk:home", Perm.VIEW_GAPS),
    # a practice user's own members' admissions, discharges and ED visits (staff: a tab of Clinical data)
    ("Notifications", "web:clinical:notifications", PRACTICE_ONLY),
    # fee-for-service offers: the messenger's, and each practice's own (no other role: ADR 0012)
    ("Offers", "web:messenger:offer_list", Perm.VIEW_OFFERS),
    ("Capitation", "web:capitation:overview", Perm.VIEW_FINANCE),
    ("Ledger", "web:ledger:trial_balance", Perm.VIEW_FINANCE),
    # a practice user's own capitation statements (the page scopes them to the user's practice)
    ("Statements", "web:capitation:statement_list", PRACTICE_ONLY),
    # value-based performance: scorecards (a practice user: its own, against aggregated peers only)
    ("Scorecards", "web:performance:scorecards", Perm.VIEW_SCORECARDS),
    # incentive pools and shared savings: the runs for finance, each practice's own statements
    ("Incentives", "web:incentives:run_list", Perm.VIEW_FINANCE),
    ("Shared savings", "web:savings:overview", Perm.VIEW_FINANCE),
    ("Incentive statements", "web:incentives:statement_list", PRACTICE_ONLY),
    ("Savings statements", "web:savings:statement_list", PRACTICE_ONLY),
    # membership fees: finance invoices and collects; a practice user sees its own statement of account
    ("Membership fees", "web:association:fees_home", FEES),
    ("Programs", "web:association:program_list", Perm.VIEW_GAPS),
    # the board dashboard (aggregates only) and governance
    ("Board", "web:board:dashboard", Perm.VIEW_BOARD),
    ("Governance", "web:governance:home", Perm.VIEW_GOVERNANCE),
    ("Audit log", "web:audit_list", Perm.VIEW_AUDIT),
]


def _allowed(user: Actor, perm: Perm | str | None) -> bool:
    if perm is None:
        return True
    if perm == PRACTICE_ONLY:
        return is_practice_scoped(user)
    if perm == FEES:
        return has_perm(user, Perm.VIEW_FINANCE) or is_practice_scoped(user)
    if perm == STAFF_UM:
        return has_perm(user, Perm.VIEW_UM) and not is_practice_scoped(user)
    return has_perm(user, Perm(perm))


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`nav_items` (label, url name) and `nav_links` (label, url, active) allowed to the user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_links": []}
    items = [(label, name) for label, name, perm in NAV_ITEMS if _allowed(user, perm)]
    links = []
    for label, name in items:
        url = reverse(name)
        links.append(NavLink(label=label, url=url, active=is_active(url, request.path)))
    return {"nav_items": items, "nav_links": links}
