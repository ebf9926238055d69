"""The navigation lists what the signed-in user's role may open, with who is signed in and a sign-out
button that posts."""

from __future__ import annotations

import pytest

from openipa.web.tests.pages import html, nav_labels

ALL = [
    "Dashboard",
    "Practices",
    "Providers",
    "Credentialing",
    "Members",
    "Payers",
    "Contracts",
    "Claims",
    "Authorizations",
    "Performance",
    "Clinical data",
    "Quality",
    "Risk",
    "Capitation",
    "Ledger",
    "Scorecards",
    "Incentives",
    "Shared savings",
    "Membership fees",
    "Programs",
    "Board",
    "Governance",
    "Audit log",
]


OPS = [
    "Dashboard",
    "Practices",
    "Providers",
    "Members",
    "Payers",
    "Contracts",
    "Claims",
    "Authorizations",
    "Performance",
    "Clinical data",
    "Quality",
    "Risk",
    "Scorecards",
    "Programs",
]
FINANCE = [
    "Dashboard",
    "Practices",
    "Providers",
    "Members",
    "Payers",
    "Contracts",
    "Claims",
    "Capitation",
    "Ledger",
    "Scorecards",
    "Incentives",
    "Shared savings",
    "Membership fees",
    "Board",
]
PRACTICE = [
    "Dashboard",
    "Practices",
    "Providers",
    "Members",
    "Claims",
    "Authorizations",
    "Quality",
    "Risk",
    "Notifications",
    "Offers",
    "Statements",
    "Scorecards",
    "Incentive statements",
    "Savings statements",
    "Membership fees",
    "Programs",
    "Governance",
]
"""A practice user's navigation (the other tests that check navigation import these lists)."""


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("admin", ALL),
        ("ops", OPS),
        ("fin", FINANCE),
        ("auditor", ALL),
        # offers are the messenger's and each practice's own: no other role has them (ADR 0012)
        ("messenger", ["Dashboard", "Practices", "Providers", "Payers", "Contracts", "Offers"]),
        ("alice", PRACTICE),
    ],
)
def test_each_role_sees_its_own_navigation(client_for, persona, expected):
    response = client_for(persona).get("/")
    assert response.status_code == 200
    assert nav_labels(response) == expected


def test_a_board_member_sees_the_board_and_governance_only(client_for, small_ipa):
    """Aggregates and governance: no members, contracts, offers or money pages (ADR 0012)."""
    from openipa.accounts.services import user_create
    from openipa.core.roles import Role

    small_ipa.users["trustee"] = user_create(
        actor=None, username="trustee", password="pw-long-enough-1", role=Role.BOARD
    )
    assert nav_labels(client_for("trustee").get("/")) == [
        "Dashboard",
        "Practices",
        "Providers",
        "Board",
        "Governance",
    ]


def test_the_shell_names_the_user_and_role_and_signs_out_by_post(client_for):
    body = html(client_for("alice").get("/"))
    assert '<span class="user" data-testid="user">alice</span>' in body
    assert "Practice user" in body
    assert "Alder Family Medicine" in body
    assert '<form method="post" action="/logout/">' in body


def test_the_current_section_is_marked_in_the_navigation(client_for):
    body = html(client_for("ops").get("/providers/"))
    assert '<a href="/providers/" aria-current="page">Providers</a>' in body
    assert '<a href="/" aria-current="page">' not in body


def test_htmx_is_served_from_the_package_not_a_cdn(client_for):
    body = html(client_for("ops").get("/"))
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in body
    assert '<link rel="stylesheet" href="/static/web/openipa.css">' in body
    assert "https://" not in body.split("<body")[0]
