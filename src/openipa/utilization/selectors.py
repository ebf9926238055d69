"""Reads of utilization management data."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from openipa.utilization.models import Authorization

AUTH_FRAME_SCHEMA = {"member_id": pl.Int64, "number": pl.String, "code": pl.String, "servicing_npi": pl.String,
                     "units_milli": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date}  # fmt: skip


def approved_authorizations_frame(member_ids: Iterable[int]) -> pl.DataFrame:
    """The approved authorizations of ``member_ids``, one row per authorized code, for claims adjudication to
    match lines against. A lookup for a batch run (ids, codes and dates), so it takes no actor."""
    ids = sorted(set(member_ids))
    rows = []
    for start in range(0, len(ids), 20_000):
        for member_id, number, codes, npi, units, valid_from, valid_to in Authorization.objects.filter(
            member_id__in=ids[start : start + 20_000], status=Authorization.Status.APPROVED
        ).values_list("member_id", "number", "codes", "servicing_npi", "units", "valid_from", "valid_to"):
            for code in {c.strip().upper() for c in codes.split(",") if c.strip()}:
                rows.append((member_id, number, code, npi, int(units * 1000), valid_from, valid_to))
    return pl.DataFrame(rows, schema=AUTH_FRAME_SCHEMA, orient="row")
