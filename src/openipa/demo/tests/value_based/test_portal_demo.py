"""The practice portal home on the demo IPA (40 practices, a year of capitation and claims, UM, quality runs, offers,
incentive settlements, shared savings and membership fees): a practice user's home and every card answer, every link
on them opens for her, and no other practice's name or code appears anywhere on them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from openipa.accounts.models import User
from openipa.demo.services import DemoSummary
from openipa.network.models import Practice
from openipa.web.tests.pages import html

pytestmark = pytest.mark.slow

CARDS = (
    "/portal/value/",
    "/portal/gaps/",
    "/portal/claims/",
    "/portal/authorizations/",
    "/portal/scorecard/",
)


@pytest.fixture(scope="module")
def built(value_based_demo: DemoSummary) -> None:
    # the whole demo pipeline, as `make demo` builds it: the value-based stages run on everything before them
    summary = value_based_demo
    assert summary.incentives is not None
    assert summary.incentives.paid_runs
    assert summary.savings is not None
    assert summary.savings.settled_run
    assert summary.association is not None
    assert summary.association.invoices
    assert summary.governance is not None
    assert summary.governance.meetings
    assert summary.board is not None
    assert summary.tuva_export is not None
    assert summary.tuva_export.counts["eligibility"] > 0


@pytest.fixture
def db_access(built: None, db: None) -> None:
    """The module's build, read inside each test's transaction."""


def _links(body: str) -> set[str]:
    found = set(re.findall(r'(?:href|hx-get)="(/[^"]*)"', body))
    return {h.replace("&amp;", "&") for h in found if not h.startswith("/static/") and h != "/logout/"}


def test_a_practice_users_home_shows_her_practice_only_and_every_link_opens(db_access: None) -> None:
    user = User.objects.filter(role="practice_user", practice__isnull=False).order_by("username").first()
    assert user is not None
    client = Client()
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    pages = [html(home)]
    for card in CARDS:
        response = client.get(card, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, card
        pages.append(html(response))
    own = Practice.objects.get(pk=user.practice_id or 0)
    assert own.legal_name in pages[0]
    assert 'data-testid="capitation-statements"' in pages[0]
    assert 'data-testid="fee-invoices"' in pages[0]
    assert 'data-testid="value-chart"' in pages[1]
    received = re.findall(r'<rect class="bar[^"]*"', pages[1])
    assert received, "the value chart draws bars"
    assert 'data-testid="gap-total"' in pages[2]  # the demo has quality runs
    assert 'data-testid="latest-claims"' in pages[3]
    assert 'data-testid="scorecard-rows"' in pages[5]
    for testid in ("incentive-statements", "savings-statements", "fee-balance"):
        assert f'data-testid="{testid}"' in pages[0], testid
    others = Practice.objects.exclude(pk=own.pk)
    for body in pages:
        text = re.sub(r"<[^>]+>", " ", body)
        for p in others:
            assert p.legal_name not in body, p.legal_name
            assert not re.search(rf"\b{re.escape(p.code)}\b", text), p.code
    links = set().union(*(_links(b) for b in pages))
    assert len(links) > 20
    for link in sorted(links):
        assert client.get(link, follow=True).status_code == 200, link
