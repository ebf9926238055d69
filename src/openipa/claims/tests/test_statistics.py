"""When claims intake refreshes PostgreSQL's statistics: a large file, a table never analyzed, or growth of a
fifth or more (many weekly files grow a table as much as one large file)."""

from __future__ import annotations

import pytest
from django.db import connection

from openipa.claims.services.intake import refresh_statistics, statistics_stale


@pytest.mark.parametrize(
    ("new", "known", "stale"),
    [
        (50_000, 10_000_000, True),  # a large file, whatever the table
        (499, -1, False),  # too small to matter
        (600, -1, True),  # never analyzed
        (2_000, 9_000, True),  # a fifth more
        (2_000, 10_001, False),
        (10_000, 1_000_000, False),
    ],
)
def test_statistics_stale(new: int, known: float, stale: bool) -> None:
    assert statistics_stale(new, known) is stale


@pytest.mark.django_db
def test_refresh_statistics_analyzes_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("statistics are PostgreSQL's")
    assert refresh_statistics(10) is False
    assert refresh_statistics(60_000) is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'claims_claimline'::regclass")
        assert cursor.fetchone()[0] >= 0  # analyzed: no longer "never"
