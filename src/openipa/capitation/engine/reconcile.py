"""Reconciliation of one payer-month: what the contract says the payer owes per member-month (expected) against
what the payer sent (received), sorted into the discrepancy categories an IPA disputes.

Pure: frames in, a frame of discrepancies out. Every discrepancy's ``impact_cents`` is ``expected - received``
for the money it covers (positive: the IPA is owed; negative: it was overpaid), so the impacts of a month add up
to the month's variance on member lines, and payer-level deductions come on top.

Categories, in the order they are decided for a member-month:

1. ``duplicate_payment``: more than one capitation line for the member-month; the extra lines are the impact.
2. ``paid_after_death``: paid for a month that begins after the member's date of death.
3. ``retro_term``: paid, not eligible, and a roster change after the month's start ended the coverage.
4. ``paid_not_eligible``: paid, not eligible (including a member id not on file).
5. ``retro_add``: eligible, not paid, and the coverage came in a roster file dated after the month.
6. ``eligible_not_paid``: eligible, not paid (a member without a PCP is called out in the cause).
7. ``wrong_rate``: paid, eligible, and the amount differs from the expected one; the likely cause names the
   rate cell the amount matches (age band, sex, product), when one does.

Capitation paid as one amount for the payer-month (an 835 whose PLB carries it; no member lines) covers every
eligible member without a line of their own: its difference from their expected total is one ``wrong_rate``
row with no member.

``deduction_mismatch`` rows come from payer-level lines (no member): a negative amount whose reason code the
payer's profile does not accept as a contract deduction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from openipa.core.money import format_money

RECEIVED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member_id": pl.Int64,
    "payer_member_id": pl.String,
    "kind": pl.String,
    "amount_cents": pl.Int64,
    "reason_code": pl.String,
    "reference": pl.String,
    "remittance_id": pl.Int64,
}
"""``received``: one row per received line of the month; ``member_id`` null for an unknown member id or a
payer-level amount (then ``payer_member_id`` is "" too); ``kind`` capitation | adjustment | retro | interest."""

DISCREPANCY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "member_id": pl.Int64,
    "payer_member_id": pl.String,
    "category": pl.String,
    "expected_cents": pl.Int64,
    "received_cents": pl.Int64,
    "impact_cents": pl.Int64,
    "cause": pl.String,
    "months_back": pl.Int32,
    "inside_window": pl.Boolean,
}


@dataclass(frozen=True, slots=True)
class RateCellInfo:
    """A rate cell of the contract term in force, to name the cell a wrong amount matches."""

    rate_cell_id: int
    product_id: int
    product_code: str
    age_min: int
    age_max: int
    sex: str
    pmpm_cents: int


def months_back(later: dt.date, month: dt.date) -> int:
    """Whole months from ``month`` (its first day) to the month of ``later``: how far back a change reached."""
    return (later.year - month.year) * 12 + later.month - month.month


def owed(expected: pl.DataFrame, roster: pl.DataFrame, month: dt.date) -> pl.DataFrame:
    """``expected`` with nothing owed for a member whose date of death is before the month: a roster may still
    list them, but no contract pays capitation for the dead. Reconciliation totals and discrepancies use it."""
    died = roster.select("member_id", "date_of_death")
    return (
        expected.join(died, on="member_id", how="left")
        .with_columns(
            pl.when(pl.col("date_of_death") < month)
            .then(0)
            .otherwise(pl.col("expected_cents"))
            .cast(pl.Int64)
            .alias("expected_cents")
        )
        .drop("date_of_death")
    )


def reconcile_month(
    *,
    month: dt.date,
    expected: pl.DataFrame,
    roster: pl.DataFrame,
    received: pl.DataFrame,
    retro_window_months: int,
    retro_terms: Mapping[int, dt.date] | None = None,
    deaths: Mapping[int, dt.date] | None = None,
    rate_cells: Iterable[RateCellInfo] = (),
    accepted_deductions: Iterable[str] = (),
) -> pl.DataFrame:
    """The discrepancies of one payer-month (DISCREPANCY_SCHEMA), sorted by category then member.

    - ``expected``: the expected capitation engine's output for the month's roster (member_id, product_id,
      age, rate_cell_id, expected_cents, ...).
    - ``roster``: ``membership.selectors.month_roster`` for the month (payer_member_id, date_of_death,
      practice_id, coverage_file_date).
    - ``received``: RECEIVED_SCHEMA rows of the month.
    - ``retro_terms``: member id -> date of the roster file that ended coverage covering this month, for members
      paid but no longer eligible.
    - ``deaths``: member id -> date of death, for members paid but not on the month's roster.
    - ``retro_window_months``: how far back the contract lets either side correct (retro adds and terms).
    """
    retro_terms = retro_terms or {}
    deaths = deaths or {}
    first_day = month
    cells = list(rate_cells)
    accepted = {code.strip().upper() for code in accepted_deductions}
    eligible = owed(expected, roster, month).join(
        roster.select("member_id", "payer_member_id", "date_of_death", "practice_id", "coverage_file_date"),
        on="member_id",
        how="left",
    )
    capitation = received.filter(pl.col("kind").is_in(["capitation", "retro"]))
    # Most member-months are paid once, at the expected amount, for a living member: settle those in one
    # vectorized pass and look at the rest (a few percent of a month) one by one.
    per_member = (
        capitation.filter(pl.col("member_id").is_not_null())
        .group_by("member_id", maintain_order=True)
        .agg(pl.len().alias("n"), pl.col("amount_cents").first().alias("first"))
    )
    settled = (
        eligible.join(per_member, on="member_id", how="inner")
        .filter(
            (pl.col("n") == 1)
            & (pl.col("first") == pl.col("expected_cents"))
            & (pl.col("date_of_death").is_null() | (pl.col("date_of_death") >= month))
        )
        .select("member_id")
    )
    eligible = eligible.join(settled, on="member_id", how="anti")
    capitation = capitation.join(settled, on="member_id", how="anti")
    by_member = {row["member_id"]: row for row in eligible.iter_rows(named=True)}
    paid: dict[tuple[int | None, str], list[int]] = {}
    sent_keys: dict[int, str] = {}
    for member_id, key, amount in capitation.select(
        "member_id", "payer_member_id", "amount_cents"
    ).iter_rows():
        paid.setdefault((member_id, key if member_id is None else ""), []).append(amount)
        if member_id is not None:
            sent_keys.setdefault(member_id, key)
    out: list[tuple[object, ...]] = []

    def add(
        member_id: int | None, key: str, category: str, expected_cents: int, received_cents: int, cause: str,
        back: int | None = None, inside: bool | None = None,
    ) -> None:  # fmt: skip
        out.append((member_id, key, category, expected_cents, received_cents, expected_cents - received_cents,
                    cause, back, inside))  # fmt: skip

    # capitation paid as one amount for the payer-month (an 835's PLB): it covers every eligible member paid no
    # line of their own, so only its difference from their expected total is a discrepancy
    lump = paid.pop((None, ""), [])
    for (member_id, sent_key), amounts in paid.items():
        row = by_member.get(member_id) if member_id is not None else None
        if row is not None:
            key = row["payer_member_id"]
        else:
            key = sent_key if member_id is None else sent_keys.get(member_id, "")
        if len(amounts) > 1:
            extra = amounts[1:]
            add(member_id, key, "duplicate_payment", 0, sum(extra),
                f"paid {len(amounts)} times for the month ({', '.join(format_money(a) for a in amounts)})")  # fmt: skip
        amount = amounts[0]
        died = (
            row["date_of_death"]
            if row is not None
            else deaths.get(member_id)
            if member_id is not None
            else None
        )
        if died is not None and died < first_day:
            add(member_id, key, "paid_after_death", 0, amount, f"member died {died.isoformat()}")
            continue
        if row is None:
            ended = retro_terms.get(member_id) if member_id is not None else None
            if ended is not None:
                back = months_back(ended, first_day)
                inside = back <= retro_window_months
                add(member_id, key, "retro_term", 0, amount,
                    f"coverage ended by a roster dated {ended.isoformat()}, {back} months back, "
                    + ("inside the retro window: the payer will recoup" if inside
                       else f"outside the {retro_window_months}-month retro window"),
                    back, inside)  # fmt: skip
            elif member_id is None:
                add(None, key, "paid_not_eligible", 0, amount, f"member id {key} is not on file")
            else:
                add(member_id, key, "paid_not_eligible", 0, amount, "no eligibility for the month")
            continue
        expected_cents = int(row["expected_cents"])
        if amount != expected_cents:
            add(member_id, key, "wrong_rate", expected_cents, amount, _rate_cause(row, amount, cells))

    lump_expected = 0
    lump_members = 0
    for member_id, row in by_member.items():
        if (member_id, "") in paid:
            continue
        if lump:
            lump_expected += int(row["expected_cents"])
            lump_members += 1
            continue
        expected_cents = int(row["expected_cents"])
        if expected_cents == 0:
            continue  # nothing is owed (coverage starting after the cut-off day, a member who died ...)
        filed = row["coverage_file_date"]
        key = row["payer_member_id"]
        if filed is not None and filed > _last_day(first_day):
            back = months_back(filed, first_day)
            inside = back <= retro_window_months
            add(member_id, key, "retro_add", expected_cents, 0,
                f"added by a roster dated {filed.isoformat()}, {back} months back, "
                + ("inside the retro window" if inside else f"outside the {retro_window_months}-month retro window"),
                back, inside)  # fmt: skip
        elif expected_cents:
            cause = "not paid" + ("; PCP not yet assigned" if row["practice_id"] is None else "")
            add(member_id, key, "eligible_not_paid", expected_cents, 0, cause)

    if lump and sum(lump) != lump_expected:
        add(None, "", "wrong_rate", lump_expected, sum(lump),
            f"capitation paid as one amount of {format_money(sum(lump))} for {lump_members} members expected to "
            f"be paid {format_money(lump_expected)}")  # fmt: skip

    payer_level = received.filter(
        pl.col("member_id").is_null()
        & (pl.col("payer_member_id") == "")
        & ~pl.col("kind").is_in(["capitation", "retro"])
    )
    for kind, amount, reason in payer_level.select("kind", "amount_cents", "reason_code").iter_rows():
        if amount < 0 and (reason or "").strip().upper() not in accepted:
            add(None, "", "deduction_mismatch", 0, amount,
                f"payer {kind} {reason or '(no reason code)'} of {format_money(amount)} is not a deduction "
                "the contract allows")  # fmt: skip

    frame = pl.DataFrame(out, schema=DISCREPANCY_SCHEMA, orient="row")
    return frame.sort(["category", "payer_member_id", "member_id"], nulls_last=True)


def _last_day(first: dt.date) -> dt.date:
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _rate_cause(row: Mapping[str, object], amount: int, cells: list[RateCellInfo]) -> str:
    """Why a member-month was paid ``amount`` instead of the expected amount: the rate cell it matches."""
    expected = int(str(row["expected_cents"]))
    base = f"paid {format_money(amount)}, expected {format_money(expected)}"
    full = row.get("full_month_cents")
    if expected and full and int(str(full)) != expected:
        base += " (prorated)"
    if not cells:
        return base
    age = row.get("age")
    product = row.get("product_id")
    matches = [c for c in cells if c.pmpm_cents == amount]
    if not matches:
        return f"{base}; no rate cell of the contract pays {format_money(amount)}"
    own = next((c for c in cells if c.rate_cell_id == row.get("rate_cell_id")), None)
    best = matches[0]
    reasons: list[str] = []
    if own is not None and best.product_id != product:
        reasons.append(f"product {best.product_code}")
    if isinstance(age, int) and not best.age_min <= age <= best.age_max:
        reasons.append(f"age band {best.age_min}-{best.age_max} (member is {age} on the reference day)")
    if own is not None and best.sex != own.sex and best.sex != "U":
        reasons.append(f"sex {best.sex} (member's cell is {own.sex})")
    if not reasons:
        reasons.append(f"rate cell {best.rate_cell_id}")
    return f"{base}; likely cause: paid at {', '.join(reasons)}"


def summarize(discrepancies: pl.DataFrame) -> dict[str, dict[str, int]]:
    """``{category: {"count": n, "cents": impact}}`` for the categories present."""
    grouped = discrepancies.group_by("category").agg(
        pl.len().alias("count"), pl.col("impact_cents").sum().alias("cents")
    )
    return {
        str(category): {"count": int(count), "cents": int(cents)}
        for category, count, cents in grouped.sort("category").iter_rows()
    }
