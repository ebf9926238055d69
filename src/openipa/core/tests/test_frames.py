"""query_frame: a queryset's rows as a typed frame, dates and nulls included, on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from openipa.core.frames import query_frame
from openipa.membership.models import EligibilitySpan

pytestmark = pytest.mark.django_db


def test_rows_dates_and_nulls(small_ipa: Any) -> None:
    span = EligibilitySpan.objects.get(member=small_ipa.member_a)
    span.valid_to = dt.date(2026, 6, 30)
    span.save()
    frame = query_frame(
        EligibilitySpan.objects.order_by("member_id"),
        {"member_id": ("member_id", pl.Int64), "valid_from": ("valid_from", pl.Date),
         "valid_to": ("valid_to", pl.Date)},
    )  # fmt: skip
    assert frame.schema == {"member_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date}
    assert frame.rows() == [
        (small_ipa.member_a.pk, dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        (small_ipa.member_b.pk, dt.date(2026, 1, 1), None),
    ]
    empty = query_frame(EligibilitySpan.objects.none(), {"member_id": ("member_id", pl.Int64)})
    assert empty.height == 0


def test_text_empty_null_and_awkward_characters(small_ipa: Any) -> None:
    """Text keeps empty strings apart from NULLs, and commas, quotes and line breaks survive (PostgreSQL reads
    the rows as CSV)."""
    from openipa.membership.models import Member

    a, b = small_ipa.member_a, small_ipa.member_b
    Member.objects.filter(pk=a.pk).update(last_name='O\'Brien, "Jr"\nII', address_line1="")
    Member.objects.filter(pk=b.pk).update(last_name="Núñez", date_of_death=dt.date(2026, 3, 4))
    frame = query_frame(
        Member.objects.filter(pk__in=[a.pk, b.pk]).order_by("pk"),
        {"last": ("last_name", pl.String), "address": ("address_line1", pl.String),
         "died": ("date_of_death", pl.Date), "death_year": ("date_of_death__year", pl.Int32)},
    )  # fmt: skip
    assert frame.rows() == [
        ('O\'Brien, "Jr"\nII', "", None, None),
        ("Núñez", b.address_line1, dt.date(2026, 3, 4), 2026),
    ]


def test_booleans(small_ipa: Any) -> None:
    from openipa.claims.models import InterestRule

    for n, (working, following) in enumerate([(True, False), (False, True)]):
        InterestRule.objects.create(line_of_business=f"lob{n}", limit_days=45, working_days=working,
                                    annual_rate_percent=15, count_from_next_day=following,
                                    valid_from=dt.date(2026, 1, 1))  # fmt: skip
    frame = query_frame(InterestRule.objects.order_by("pk"), {"working": ("working_days", pl.Boolean),
                                                             "next": ("count_from_next_day", pl.Boolean)})  # fmt: skip
    rows = list(InterestRule.objects.order_by("pk").values_list("working_days", "count_from_next_day"))
    assert frame.schema == {"working": pl.Boolean, "next": pl.Boolean}
    assert (True, False) in rows
    assert (False, True) in rows
    assert frame.rows() == rows


def test_rows_keep_the_query_order(small_ipa: Any) -> None:
    from openipa.membership.models import Member

    for n in range(30):
        Member.objects.create(payer=small_ipa.payer, payer_member_id=f"ORD{n:02d}", first_name="A",
                              last_name=f"{(n * 7) % 30:02d}", date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    query = Member.objects.filter(payer_member_id__startswith="ORD")
    for order in ("-last_name", "last_name", "-payer_member_id"):
        frame = query_frame(query.order_by(order), {"key": ("payer_member_id", pl.String)})
        assert frame["key"].to_list() == list(query.order_by(order).values_list("payer_member_id", flat=True))
