"""The practice portal home on the demo IPA (40 practices, a year of capitation and claims, UM, quality runs, offers,
incentive settlements, shared savings and membership fees): a practice user's home and every card answer, every link
on them opens for her, and no other practice's name or code appears anywhere on them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from openipa.accounts.models import User
from openipa.core.months import Month
from openipa.demo import association as demo_association
from openipa.demo import incentives as demo_incentives
from openipa.demo import savings as demo_savings
from openipa.demo.tests.builds import module_demo
from openipa.network.models import Practice
from openipa.web.tests.pages import html

pytestmark = pytest.mark.slow

AS_OF = Month(2026, 10)
CARDS = (
    "/portal/value/",
    "/portal/gaps/",
    "/portal/claims/",
    "/portal/authorizations/",
    "/portal/scorecard/",
)


@pytest.fixture(scope="module")
def built(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    with module_demo(django_db_blocker, tmp_path_factory, "portal-demo", seed=3, members=1500, as_of=AS_OF):
        today = AS_OF.last_day
        demo_incentives.build_incentives(seed=3, today=today)
        demo_savings.build_savings(seed=3, today=today)
        demo_association.build_association(seed=3, today=today)
        yield


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
    own = Practice.objects.get(pk=user.practice_id)
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
        assert client.get(link).status_code == 200, link
