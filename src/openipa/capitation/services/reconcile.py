"""Reconcile a payer-month: expected capitation (roster x contract terms) against what the payer sent.

One transaction: the payer-month's Reconciliation row is replaced, its open discrepancies are brought up to
date, new ones are opened, and open ones no longer found are closed as settled by the latest remittance.
Discrepancies a person resolved or wrote off stay closed; if the same difference comes back, it is a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from openipa.capitation.engine.expected import MEMBER_MONTH_SCHEMA, expected_capitation
from openipa.capitation.engine.reconcile import (
    RECEIVED_SCHEMA,
    RateCellInfo,
    owed,
    reconcile_month,
    summarize,
)
from openipa.capitation.models import (
    CapitationProfile,
    Discrepancy,
    ReceivedLine,
    Reconciliation,
    RemittanceImport,
)
from openipa.contracts import selectors as contract_selectors
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.bulk import insert_rows, update_rows
from openipa.core.frames import query_frame
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require
from openipa.membership import selectors as membership_selectors
from openipa.risk import selectors as risk_selectors

OPEN_STATUSES = (Discrepancy.Status.OPEN, Discrepancy.Status.DISPUTED)
CHANGING = ("expected_cents", "received_cents", "impact_cents", "cause", "detail")
"""What reconciling again may change on an open discrepancy."""
NEW_FIELDS = ("payer_id", "month", "member_id", "payer_member_id", "category", "expected_cents", "received_cents",
              "impact_cents", "cause", "detail", "status", "opened_at", "dispute_note", "resolution")  # fmt: skip
"""The columns a new discrepancy is written with (the others are null)."""
DEFAULT_RETRO_WINDOW = 6
"""Months, when no contract term is in force for the month (the contract model's own default)."""


def received_frame(payer: Payer, month: Month) -> pl.DataFrame:
    """Every line of the payer's applied remittances paying ``month`` (RECEIVED_SCHEMA)."""
    rows = ReceivedLine.objects.filter(
        payer=payer, month=month.first_day, remittance__status=RemittanceImport.Status.APPLIED
    ).order_by("remittance_id", "id")
    return query_frame(rows, {name: (name, kind) for name, kind in RECEIVED_SCHEMA.items()})


def expected_frame(actor: Actor | None, payer: Payer, month: Month, roster: pl.DataFrame) -> pl.DataFrame:
    """The expected capitation of the month's roster under the payer's contract terms."""
    pricing = contract_selectors.pricing_frames(actor, payer)
    member_months = roster.with_columns(pl.lit(month.first_day).alias("month")).select(
        list(MEMBER_MONTH_SCHEMA)
    )
    # risk-adjusted terms: the payment RAF of the year's latest approved risk run (raf_assumed where none)
    raf = risk_selectors.approved_payment_rafs(month.year).select(
        "member_id", pl.lit(month.first_day).alias("month"), "raf_milli"
    )
    return expected_capitation(member_months, pricing.terms, pricing.rate_cells, raf=raf)


def _window_and_cells(actor: Actor | None, payer: Payer, month: Month) -> tuple[int, list[RateCellInfo]]:
    pricing = contract_selectors.pricing_frames(actor, payer)
    on = month.first_day
    in_force = [
        t
        for t in pricing.terms_by_id.values()
        if t.valid_from <= on and (t.valid_to is None or on <= t.valid_to)
    ]
    window = max((t.retro_window_months for t in in_force), default=DEFAULT_RETRO_WINDOW)
    ids = {t.pk for t in in_force}
    cells = [
        RateCellInfo(r["rate_cell_id"], r["product_id"], pricing.product_codes.get(r["product_id"], ""),
                     r["age_min"], r["age_max"], r["sex"], r["pmpm_cents"])
        for r in pricing.rate_cells.iter_rows(named=True)
        if r["term_id"] in ids
    ]  # fmt: skip
    return window, cells


def reconcile(*, actor: Actor | None, payer: Payer, month: Month, who: str = "") -> Reconciliation:
    """Reconcile ``payer``'s ``month``. ``actor`` None is the system (the CLI); a person needs EDIT_FINANCE."""
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    roster = membership_selectors.month_roster(
        actor, payer_id=payer.pk, month=month, purpose="capitation reconciliation"
    )
    expected = expected_frame(actor, payer, month, roster)
    received = received_frame(payer, month)
    window, cells = _window_and_cells(actor, payer, month)
    eligible = set(roster["member_id"].to_list())
    paid_members = [m for m in received["member_id"].drop_nulls().unique().to_list() if m not in eligible]
    profile = CapitationProfile.objects.filter(payer=payer).first()
    found = reconcile_month(
        month=month.first_day,
        expected=expected,
        roster=roster,
        received=received,
        retro_window_months=window,
        retro_terms=membership_selectors.retro_term_dates(paid_members, month),
        deaths=membership_selectors.death_dates(paid_members),
        rate_cells=cells,
        accepted_deductions=list((profile.accepted_deductions or {}) if profile else {}),
    )
    expected_cents = int(owed(expected, roster, month.first_day)["expected_cents"].sum())
    received_cents = int(received["amount_cents"].sum())
    remittances = sorted({int(r) for r in received["remittance_id"].unique().to_list()})
    with transaction.atomic():
        record, _ = Reconciliation.objects.update_or_create(
            payer=payer,
            month=month.first_day,
            defaults={
                "expected_cents": expected_cents,
                "received_cents": received_cents,
                "variance_cents": expected_cents - received_cents,
                "by_category": summarize(found),
                "member_months": roster.height,
                "inputs": {
                    "remittances": remittances,
                    "terms": sorted({int(t) for t in expected["term_id"].drop_nulls().unique().to_list()}),
                    "roster_members": roster.height,
                    "computed_on": dt.date.today().isoformat(),
                },
                "computed_by": who
                or (getattr(actor, "username", "") if actor is not None else "")
                or "system",
            },
        )
        _update_discrepancies(payer, month, found, remittances)
        audit.record_write(
            actor,
            "capitation.reconcile",
            record,
            after={"expected_cents": expected_cents, "received_cents": received_cents,
                   "discrepancies": found.height},
        )  # fmt: skip
    return record


def _key(member_id: int | None, payer_member_id: str, category: str) -> tuple[Any, ...]:
    return (member_id, payer_member_id if member_id is None else "", category)


def _update_discrepancies(payer: Payer, month: Month, found: pl.DataFrame, remittances: list[int]) -> None:
    existing = {
        _key(d.member_id, d.payer_member_id, d.category): d
        for d in Discrepancy.objects.filter(payer=payer, month=month.first_day, status__in=OPEN_STATUSES)
    }
    fresh: list[tuple[Any, ...]] = []
    now = timezone.now()
    changed: list[Discrepancy] = []
    seen: set[tuple[Any, ...]] = set()
    # payer-level deductions have no member: several may share a key, so they are matched in order
    for row in found.iter_rows(named=True):
        key = _key(row["member_id"], row["payer_member_id"], row["category"])
        detail = {"months_back": row["months_back"], "inside_window": row["inside_window"]}
        current = existing.get(key) if key not in seen else None
        seen.add(key)
        if current is None:
            fresh.append(
                (payer.pk, month.first_day, row["member_id"], row["payer_member_id"], row["category"],
                 row["expected_cents"], row["received_cents"], row["impact_cents"], row["cause"][:300], detail,
                 Discrepancy.Status.OPEN, now, "", "")
            )  # fmt: skip
            continue
        values = (
            row["expected_cents"],
            row["received_cents"],
            row["impact_cents"],
            row["cause"][:300],
            detail,
        )
        if values != tuple(getattr(current, f) for f in CHANGING):
            for field, value in zip(CHANGING, values, strict=True):
                setattr(current, field, value)
            changed.append(current)
    insert_rows(Discrepancy, NEW_FIELDS, fresh)
    update_rows(
        Discrepancy,
        CHANGING,
        [(d.pk, *(getattr(d, f) for f in CHANGING)) for d in changed],
    )
    settled = [d for key, d in existing.items() if key not in seen]
    if settled:
        latest = max(remittances) if remittances else None
        for d in settled:
            d.status = Discrepancy.Status.RESOLVED
            d.closed_at = now
            d.settled_by_id = latest
            d.resolution = "settled: no longer found when the month was reconciled again"
        Discrepancy.objects.bulk_update(
            settled, ["status", "closed_at", "settled_by", "resolution"], batch_size=2000
        )


def result_json(record: Reconciliation) -> dict[str, Any]:
    """The CLI's ``--json``: ``{"expected_cents", "received_cents", "variance_cents", "by_category"}``."""
    return {
        "expected_cents": record.expected_cents,
        "received_cents": record.received_cents,
        "variance_cents": record.variance_cents,
        "by_category": record.by_category,
    }
