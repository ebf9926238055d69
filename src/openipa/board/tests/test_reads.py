"""What a criterion's page reads (found on the 25,000-member demo, where each drill-down took 7 to 9 s because it
built the whole dashboard): only what the RBO criteria are judged on (ledger balances, the reserve estimates,
claims timeliness), never the revenue, cost-driver or quality figures; and the same criteria as the
dashboard's."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openipa.board import engine, selectors
from openipa.board.tests.conftest import AS_OF
from openipa.core.errors import PermissionDenied

Q2 = "2026-Q2"
NOT_READ = (
    'FROM "capitation_receivedline"',
    'FROM "capitation_distributionline"',
    'FROM "quality_rateresult"',
)


def _client(board_ipa: Any, name: str) -> Client:
    client = Client()
    client.force_login(board_ipa.users[name])
    return client


def test_a_criterion_page_reads_only_what_the_criteria_need(board_ipa: Any) -> None:
    with CaptureQueriesContext(connection) as ctx:
        response = _client(board_ipa, "board").get(
            reverse("web:board:criterion", args=["cash_to_claims"]), {"period": Q2}
        )
    assert response.status_code == 200
    assert "3.5187" in response.content.decode()
    read = [q["sql"] for q in ctx.captured_queries]
    for table in NOT_READ:
        assert not [sql for sql in read if table in sql], table
    # the dashboard itself still reads them (those read through the ORM: on PostgreSQL the received lines come
    # through COPY, which the captured queries do not list)
    with CaptureQueriesContext(connection) as ctx:
        assert (
            _client(board_ipa, "board").get(reverse("web:board:dashboard"), {"period": Q2}).status_code == 200
        )
    read = [q["sql"] for q in ctx.captured_queries]
    assert all([sql for sql in read if table in sql] for table in NOT_READ[1:])


def test_solvency_is_the_dashboards_judgement(board_ipa: Any) -> None:
    period = engine.parse_period(Q2, today=AS_OF)
    board = selectors.board_dashboard(board_ipa.users["board"], period=period, as_of=AS_OF)
    alone = selectors.solvency(board_ipa.users["board"], period=period, as_of=AS_OF)
    assert alone.criteria == board.criteria
    assert alone.balances == board.balances
    assert alone.criteria_version == board.criteria_version
    assert alone.balance_day == board.balance_day
    assert alone.estimate == board.estimate
    assert alone.criterion("cash_to_claims").value == board.criterion("cash_to_claims").value


def test_solvency_is_refused_without_the_board_view(board_ipa: Any) -> None:
    period = engine.parse_period(Q2, today=AS_OF)
    for name in ("alice", "ops"):
        try:
            selectors.solvency(board_ipa.users[name], period=period, as_of=AS_OF)
        except PermissionDenied:
            continue
        raise AssertionError(f"{name} read the solvency criteria")
