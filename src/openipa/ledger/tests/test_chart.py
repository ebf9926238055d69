"""The chart of accounts: seeded by the data migration with the codes callers post to, kept present after
a flush, and named by constants; and entry numbers stay unique when two postings race."""

from __future__ import annotations

import datetime as dt
import importlib
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from openipa.ledger import accounts
from openipa.ledger.accounts import CHART, Kind
from openipa.ledger.models import Account, JournalEntry
from openipa.ledger.services import post_entry, seed_chart
from openipa.ledger.tests.conftest import receipt

EXPECTED_CODES = {
    "1000": "asset",
    "1100": "asset",
    "2000": "liability",
    "2100": "liability",
    "2200": "liability",
    "2300": "liability",
    "2400": "liability",
    "2500": "liability",
    "2600": "liability",
    "2700": "liability",
    "2800": "liability",
    "3000": "equity",
    "4000": "revenue",
    "4100": "revenue",
    "5000": "expense",
    "5100": "expense",
    "1200": "asset",
    "1300": "asset",
    "2650": "liability",
    "2900": "liability",
    "4200": "revenue",
    "4300": "revenue",
    "5200": "expense",
    "5300": "expense",
}


def test_the_migration_seeds_the_chart_with_the_codes_callers_post_to(db):
    assert dict(Account.objects.values_list("code", "kind")) == EXPECTED_CODES
    assert all(Account.objects.values_list("active", flat=True))
    assert Account.objects.get(code=accounts.CASH).normal_balance == "debit"
    assert Account.objects.get(code=accounts.CAPITATION_REVENUE).normal_balance == "credit"


def test_the_migrations_frozen_chart_is_the_modules_chart():
    frozen = [
        row
        for name in ("0002_chart_of_accounts", "0003_claims_accounts", "0004_value_based_accounts")
        for row in importlib.import_module(f"openipa.ledger.migrations.{name}").CHART
    ]
    assert frozen == [(a.code, a.name, a.kind.value, a.description) for a in CHART]


def test_the_constants_name_the_charts_codes():
    constants = {value for name, value in vars(accounts).items() if name.isupper() and isinstance(value, str)}
    assert constants == set(EXPECTED_CODES)


def test_normal_balances_follow_the_kind():
    assert [k for k in Kind if k.debit_normal] == [Kind.ASSET, Kind.EXPENSE]


def test_seeding_adds_missing_accounts_and_leaves_the_rest_alone(db):
    Account.objects.filter(code=accounts.RISK_POOL_LIABILITY).delete()
    Account.objects.filter(code=accounts.CASH).update(name="Cash - First Bank operating", active=False)
    assert seed_chart() == [accounts.RISK_POOL_LIABILITY]
    assert seed_chart() == []
    cash = Account.objects.get(code=accounts.CASH)
    assert (cash.name, cash.active) == ("Cash - First Bank operating", False)
    assert Account.objects.count() == len(CHART)


def test_a_flushed_database_gets_the_chart_back(transactional_db):
    call_command("flush", interactive=False, verbosity=0)
    assert Account.objects.count() == len(CHART)


def test_two_postings_at_once_get_different_numbers(transactional_db):
    """Two threads, two connections, posting together: the counter's row lock makes one wait (PostgreSQL);
    SQLite's write lock queues them. Either way the numbers are 1..n with no duplicate."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("the in-memory SQLite test database is not shared between threads")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def poster(tag: str) -> None:
        try:
            start.wait()
            for i in range(5):
                post_entry(
                    actor=None,
                    date=dt.date(2026, 1, 31),
                    memo=f"{tag} {i}",
                    postings=receipt(100 + i),
                    source_type="test",
                    source_id=f"{tag}-{i}",
                )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poster, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(JournalEntry.objects.values_list("number", flat=True)) == list(range(1, 11))
