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
