"""Claim line pricing: what a contract allows for each professional claim line, explained.

`price_lines` takes one row per claim line and the schedules (contract pricing terms, the Medicare RVU and
GPCI files read by `openipa.contracts.engine.rbrvs`, conversion factors, flat code-rate tables) and returns one
row per line, in input order, with `allowed_cents` and every input the amount was computed from. A line no
schedule prices keeps `allowed_cents` null and says why in `reason`; the adjudication turns that into a pend.

Methods (the method is data: one `CONTRACT_TERM_SCHEMA` row per contract and period):

- ``medicare_rbrvs``: ``[(wRVU x wGPCI) + (peRVU x peGPCI) + (mpRVU x mpGPCI)] x CF`` with the facility PE
  RVU when the place of service is a facility (`DEFAULT_FACILITY_POS`, overridable) and the non-facility one
  otherwise, the GPCIs of the line's locality and the conversion factor in force on the date of service;
- ``percent_of_medicare``: that Medicare amount times the term's `percent_milli` (thousandths of a percent:
  110% -> 110000);
- ``code_rate``: the contract's flat rate in cents per unit for the code (a row for the line's modifier wins
  over the row with modifier "");
- ``percent_of_billed``: the billed charge times `percent_milli`.

Modifiers: 26 and TC (and 53) price from the RVU file's own -26/-TC/-53 rows; 50 pays 150% when the code's
BILAT SURG indicator is 1; codes whose MULT PROC indicator is 2 are ranked on each claim and date of service
by their unreduced fee (highest first, ties by lower line_id) and pay 100% for the first and 50% for the
others. With the term's `cap_at_billed`, the line allows min(billed charge, fee).

Exactness: RVUs are hundredths, GPCIs thousandths, the conversion factor ten-thousandths of a dollar and
percents thousandths of a percent, all integers. The whole product (including units, the bilateral and
multiple-procedure percents and the contract percent) is formed exactly in 128-bit integers and rounded to a
cent once, half up, at the end.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import polars as pl

from openipa.core.engine.frames import Schema, conform, in_force, require, require_not_null

METHODS = ("medicare_rbrvs", "percent_of_medicare", "code_rate", "percent_of_billed")
DEFAULT_FACILITY_POS = frozenset(
    {"19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
"""Places of service paid at the facility PE RVU (CMS's list); any other POS is paid at the non-facility one."""
DEFAULT_PAYABLE_STATUSES = frozenset({"A", "R", "T"})
"""RVU status codes a fee is computed for; any other status (B bundled, I invalid, N non-covered, C carrier
priced...) leaves the line unpriced with the status as the reason."""
COMPONENT_MODIFIERS = ("26", "TC", "53")
"""Modifiers that select their own RVU row, in this order of precedence."""
BILATERAL_MODIFIER = "50"

MAX_UNITS = 100_000
MAX_AMOUNT_CENTS = 10**11
MAX_PERCENT_MILLI = 10_000_000  # 10,000%

LINE_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "claim_id": pl.Int64,
    "contract_id": pl.Int64,
    "service_date": pl.Date,
    "code": pl.String,
    "modifiers": pl.List(pl.String),
    "place_of_service": pl.String,
    "locality_id": pl.String,
    "units": pl.Int64,
    "billed_cents": pl.Int64,
}
CONTRACT_TERM_SCHEMA: Schema = {
    "term_id": pl.Int64,
    "contract_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "method": pl.String,
    "percent_milli": pl.Int64,
    "cap_at_billed": pl.Boolean,
}
CODE_RATE_SCHEMA: Schema = {
    "contract_id": pl.Int64,
    "code": pl.String,
    "modifier": pl.String,
    "rate_cents": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
CONVERSION_FACTOR_SCHEMA: Schema = {
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "conversion_factor_e4": pl.Int64,
}
PRICING_RVU_SCHEMA: Schema = {
    "code": pl.String,
    "modifier": pl.String,
    "status": pl.String,
    "work_rvu_centi": pl.Int64,
    "pe_nonfacility_rvu_centi": pl.Int64,
    "pe_facility_rvu_centi": pl.Int64,
    "mp_rvu_centi": pl.Int64,
    "mult_proc": pl.Int8,
    "bilat_surg": pl.Int8,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
"""The RVU columns pricing reads (a frame from `read_rvu_file` has them, and more)."""
PRICING_GPCI_SCHEMA: Schema = {
    "locality_id": pl.String,
    "pw_gpci_milli": pl.Int64,
    "pe_gpci_milli": pl.Int64,
    "mp_gpci_milli": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
PRICED_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "claim_id": pl.Int64,
    "contract_id": pl.Int64,
    "term_id": pl.Int64,
    "method": pl.String,
    "rvu_modifier": pl.String,
    "rvu_status": pl.String,
    "pe_setting": pl.String,
    "work_rvu_centi": pl.Int64,
    "pe_rvu_centi": pl.Int64,
    "mp_rvu_centi": pl.Int64,
    "locality_id": pl.String,
    "pw_gpci_milli": pl.Int64,
    "pe_gpci_milli": pl.Int64,
    "mp_gpci_milli": pl.Int64,
    "conversion_factor_e4": pl.Int64,
    "percent_milli": pl.Int64,
    "rate_cents": pl.Int64,
    "bilateral_percent": pl.Int64,
    "mult_proc_rank": pl.Int64,
    "mult_proc_percent": pl.Int64,
    "units": pl.Int64,
    "billed_cents": pl.Int64,
    "fee_cents": pl.Int64,
    "capped": pl.Boolean,
    "allowed_cents": pl.Int64,
    "reason": pl.String,
}
"""The output: one row per input line, in input order. `fee_cents` is the contract fee before the billed
cap; `allowed_cents` is null exactly when `reason` is set. `mult_proc_rank` is null for a line not subject to
the multiple-procedure reduction."""

# The exact fee is carried in units of 1e-14 cent (see _fee_e14); times the multiple-procedure percent (in
# hundredths) it is in 1e-16 cent, and rounding divides by this.
_ALLOWED_SCALE = 10**16


def pick_version(
    candidates: pl.DataFrame, date: str, key: Sequence[str], name: str, describe: Sequence[str]
) -> pl.DataFrame:
    """Keep the candidate rows in force on each row's `date`; two in force for one `key` is an input error."""
    chosen = candidates.filter(in_force(pl.col(date)))
    require(
        chosen,
        pl.len().over(key) > 1,
        [*key, *describe],
        f"{name}: more than one version in force (overlapping valid_from/valid_to)",
    )
    return chosen


def half_up_scaled(exact: pl.Expr, scale: int) -> pl.Expr:
    """Round the non-negative Int128 `exact / scale` half up to an Int64 integer."""
    return ((exact * 2 + scale) // (2 * scale)).cast(pl.Int64)


def _check_lines(lines: pl.DataFrame) -> pl.DataFrame:
    name = "lines"
    frame = conform(lines, LINE_SCHEMA, name)
    key = ["line_id"]
    require_not_null(
        frame,
        ["line_id", "claim_id", "contract_id", "service_date", "code", "units", "billed_cents"],
        key,
        name,
    )
    require(frame, pl.col("line_id").is_duplicated(), key, f"{name}: line_id repeats")
    require(
        frame,
        (pl.col("units") < 1) | (pl.col("units") > MAX_UNITS),
        key,
        f"{name}: units out of 1..{MAX_UNITS}",
    )
    require(
        frame,
        (pl.col("billed_cents") < 0) | (pl.col("billed_cents") > MAX_AMOUNT_CENTS),
        key,
        f"{name}: billed_cents out of 0..{MAX_AMOUNT_CENTS}",
    )
    return frame.with_columns(
        pl.col("code").str.strip_chars().str.to_uppercase(),
        pl.col("modifiers")
        .fill_null(pl.lit([], dtype=pl.List(pl.String)))
        .list.eval(pl.element().str.strip_chars().str.to_uppercase()),
        pl.col("place_of_service").str.strip_chars().str.zfill(2),
    )


def _check_terms(terms: pl.DataFrame) -> pl.DataFrame:
    name = "terms"
    frame = conform(terms, CONTRACT_TERM_SCHEMA, name)
    key = ["term_id"]
    require_not_null(frame, ["term_id", "contract_id", "method"], key, name)
    require(
        frame, ~pl.col("method").is_in(METHODS), key, f"{name}: method must be one of {', '.join(METHODS)}"
    )
    require(
        frame,
        pl.col("method").is_in(["percent_of_medicare", "percent_of_billed"])
        & pl.col("percent_milli").is_null(),
        key,
        f"{name}: percent_milli is empty for a percent method",
    )
    require(
        frame,
        (pl.col("percent_milli") < 0) | (pl.col("percent_milli") > MAX_PERCENT_MILLI),
        key,
        f"{name}: percent_milli out of 0..{MAX_PERCENT_MILLI}",
    )
    return frame.with_columns(pl.col("cap_at_billed").fill_null(False))


def _check_schedule(frame: pl.DataFrame, schema: Schema, name: str, key: Sequence[str]) -> pl.DataFrame:
    checked = conform(frame, schema, name)
    require_not_null(checked, [c for c in schema if c not in ("valid_from", "valid_to")], key, name)
    for column, dtype in schema.items():
        if dtype == pl.Int64:
            require(
                checked,
                (pl.col(column) < 0) | (pl.col(column) > MAX_AMOUNT_CENTS),
                key,
                f"{name}: {column} out of 0..{MAX_AMOUNT_CENTS}",
            )
    return checked


def _fee_e14(method: pl.Expr) -> pl.Expr:
    """The unreduced fee of a line (before the multiple-procedure percent), exact, in units of 1e-14 cent.

    RBRVS: RVU hundredths x GPCI thousandths = 1e-5 RVU; x CF in 1e-4 dollars (1e-2 cents) = 1e-7 cents;
    x percent in thousandths of a percent (1e-5) = 1e-12 cents; x bilateral percent (1e-2) = 1e-14 cents.
    """
    big = pl.Int128
    geo = (
        pl.col("work_rvu_centi").cast(big) * pl.col("pw_gpci_milli")
        + pl.col("pe_rvu_centi").cast(big) * pl.col("pe_gpci_milli")
        + pl.col("mp_rvu_centi").cast(big) * pl.col("mp_gpci_milli")
    )
    medicare = (
        geo
        * pl.col("conversion_factor_e4")
        * pl.col("percent_milli")
        * pl.col("bilateral_percent")
        * pl.col("units")
    )
    rate = pl.col("rate_cents").cast(big) * 10**12 * pl.col("bilateral_percent") * pl.col("units")
    billed = pl.col("billed_cents").cast(big) * pl.col("percent_milli") * 10**9
    return (
        pl.when(method.is_in(["medicare_rbrvs", "percent_of_medicare"]))
        .then(medicare)
        .when(method == "code_rate")
        .then(rate)
        .when(method == "percent_of_billed")
        .then(billed)
        .otherwise(None)
    )


def price_lines(
    lines: pl.DataFrame,
    terms: pl.DataFrame,
    rvus: pl.DataFrame,
    gpcis: pl.DataFrame,
    conversion_factors: pl.DataFrame,
    code_rates: pl.DataFrame | None = None,
    *,
    facility_pos: Collection[str] = DEFAULT_FACILITY_POS,
    payable_statuses: Collection[str] = DEFAULT_PAYABLE_STATUSES,
) -> pl.DataFrame:
    """Price each claim line; return a frame shaped like PRICED_SCHEMA, one row per line, in input order.

    `lines` is shaped like LINE_SCHEMA, `terms` like CONTRACT_TERM_SCHEMA, `rvus` and `gpcis` like
    PRICING_RVU_SCHEMA and PRICING_GPCI_SCHEMA (frames from `read_rvu_file`/`read_gpci_file` fit),
    `conversion_factors` like CONVERSION_FACTOR_SCHEMA and `code_rates` like CODE_RATE_SCHEMA. Every schedule
    row is effective-dated (valid_from/valid_to inclusive, null open) and the line's service_date picks the
    version. Raise EngineInputError for unusable input, including two versions of one schedule row in force
    on the same date.
    """
    line = _check_lines(lines).with_row_index("_order")
    term = _check_terms(terms)
    rvu = _check_schedule(rvus, PRICING_RVU_SCHEMA, "rvus", ["code", "modifier"]).with_columns(
        pl.col("code").str.to_uppercase(), pl.col("modifier").fill_null("").str.to_uppercase()
    )
    gpci = _check_schedule(gpcis, PRICING_GPCI_SCHEMA, "gpcis", ["locality_id"])
    cf = _check_schedule(conversion_factors, CONVERSION_FACTOR_SCHEMA, "conversion_factors", ["valid_from"])
    rates_in = code_rates if code_rates is not None else pl.DataFrame(schema=CODE_RATE_SCHEMA)
    rates = _check_schedule(
        rates_in.with_columns(pl.col("modifier").fill_null(""))
        if "modifier" in rates_in.columns
        else rates_in,
        CODE_RATE_SCHEMA,
        "code_rates",
        ["contract_id", "code", "modifier"],
    ).with_columns(pl.col("code").str.to_uppercase(), pl.col("modifier").str.to_uppercase())

    facility = sorted({str(p).zfill(2) for p in facility_pos})
    component = pl.lit(None, dtype=pl.String)
    for modifier in reversed(COMPONENT_MODIFIERS):
        component = (
            pl.when(pl.col("modifiers").list.contains(modifier)).then(pl.lit(modifier)).otherwise(component)
        )
    line = line.with_columns(
        rvu_modifier=component.fill_null(""),
        pe_setting=pl.when(pl.col("place_of_service").is_in(facility))
        .then(pl.lit("facility"))
        .otherwise(pl.lit("nonfacility")),
    )
    keys = line.select(
        "_order", "line_id", "contract_id", "service_date", "code", "rvu_modifier", "locality_id"
    )

    chosen_term = pick_version(
        keys.select("_order", "line_id", "contract_id", "service_date").join(term, on="contract_id"),
        "service_date",
        ["_order"],
        "terms",
        ["line_id", "term_id"],
    ).select("_order", "term_id", "method", "percent_milli", "cap_at_billed")
    chosen_rvu = pick_version(
        keys.select("_order", "line_id", "service_date", "code", "rvu_modifier").join(
            rvu, left_on=["code", "rvu_modifier"], right_on=["code", "modifier"]
        ),
        "service_date",
        ["_order"],
        "rvus",
        ["line_id", "code", "rvu_modifier"],
    ).select(
        "_order",
        pl.col("status").alias("rvu_status"),
        "work_rvu_centi",
        "pe_nonfacility_rvu_centi",
        "pe_facility_rvu_centi",
        "mp_rvu_centi",
        "mult_proc",
        "bilat_surg",
    )
    chosen_gpci = pick_version(
        keys.select("_order", "line_id", "service_date", "locality_id").join(gpci, on="locality_id"),
        "service_date",
        ["_order"],
        "gpcis",
        ["line_id", "locality_id"],
    ).select("_order", "pw_gpci_milli", "pe_gpci_milli", "mp_gpci_milli")
    chosen_cf = pick_version(
        keys.select("_order", "line_id", "service_date").join(cf, how="cross"),
        "service_date",
        ["_order"],
        "conversion_factors",
        ["line_id", "service_date"],
    ).select("_order", "conversion_factor_e4")
    # A rate row for one of the line's modifiers beats the row with no modifier; among several modifier rows
    # that match, the lowest modifier wins, so the choice never depends on row order.
    rate_candidates = (
        line.select("_order", "line_id", "contract_id", "service_date", "code", "modifiers")
        .join(rates, on=["contract_id", "code"])
        .filter((pl.col("modifier") == "") | pl.col("modifiers").list.contains(pl.col("modifier")))
    )
    chosen_rate = (
        pick_version(
            rate_candidates,
            "service_date",
            ["_order", "modifier"],
            "code_rates",
            ["line_id", "code", "modifier"],
        )
        .sort("_order", pl.col("modifier") == "", "modifier")
        .unique("_order", keep="first")
        .select("_order", "rate_cents")
    )

    priced = (
        line.join(chosen_term, on="_order", how="left")
        .join(chosen_rvu, on="_order", how="left")
        .join(chosen_gpci, on="_order", how="left")
        .join(chosen_cf, on="_order", how="left")
        .join(chosen_rate, on="_order", how="left")
        .sort("_order")
    )
    method = pl.col("method")
    rbrvs = method.is_in(["medicare_rbrvs", "percent_of_medicare"])
    reason = (
        pl.when(method.is_null())
        .then(pl.format("no pricing terms for contract {} in force on {}", "contract_id", "service_date"))
        .when(rbrvs & pl.col("rvu_status").is_null())
        .then(pl.format("no RVU for code {} modifier '{}' on {}", "code", "rvu_modifier", "service_date"))
        .when(rbrvs & ~pl.col("rvu_status").is_in(sorted(payable_statuses)))
        .then(pl.format("RVU status {} of code {} is not separately payable", "rvu_status", "code"))
        .when(rbrvs & pl.col("locality_id").is_null())
        .then(pl.lit("no locality on the line"))
        .when(rbrvs & pl.col("pw_gpci_milli").is_null())
        .then(pl.format("no GPCI for locality {} on {}", "locality_id", "service_date"))
        .when(rbrvs & pl.col("conversion_factor_e4").is_null())
        .then(pl.format("no conversion factor in force on {}", "service_date"))
        .when((method == "code_rate") & pl.col("rate_cents").is_null())
        .then(
            pl.format("no code rate for code {} on {} in contract {}", "code", "service_date", "contract_id")
        )
        .otherwise(None)
    )
    adjustable = method.is_in(["medicare_rbrvs", "percent_of_medicare", "code_rate"])
    priced = priced.with_columns(
        reason=reason,
        percent_milli=pl.when(method == "medicare_rbrvs")
        .then(pl.lit(100_000))
        .otherwise(pl.col("percent_milli")),
        pe_rvu_centi=pl.when(pl.col("pe_setting") == "facility")
        .then(pl.col("pe_facility_rvu_centi"))
        .otherwise(pl.col("pe_nonfacility_rvu_centi")),
        bilateral_percent=pl.when(
            adjustable & pl.col("modifiers").list.contains(BILATERAL_MODIFIER) & (pl.col("bilat_surg") == 1)
        )
        .then(pl.lit(150, dtype=pl.Int64))
        .otherwise(pl.lit(100, dtype=pl.Int64)),
    ).with_columns(fee_e14=pl.when(pl.col("reason").is_null()).then(_fee_e14(method)).otherwise(None))

    # Multiple procedures: rank the lines subject to the reduction on each claim and date by their unreduced
    # fee, highest first, ties to the lower line_id; the first pays 100%, the others 50%.
    subject = adjustable & (pl.col("mult_proc") == 2) & pl.col("fee_e14").is_not_null()
    ranked = (
        priced.filter(subject)
        .sort(["claim_id", "service_date", "fee_e14", "line_id"], descending=[False, False, True, False])
        .with_columns(
            mult_proc_rank=(pl.int_range(pl.len()).over(["claim_id", "service_date"]) + 1).cast(pl.Int64)
        )
        .select("_order", "mult_proc_rank")
    )
    priced = priced.join(ranked, on="_order", how="left").sort("_order")
    mp_percent = pl.when(pl.col("mult_proc_rank") > 1).then(pl.lit(50, dtype=pl.Int64)).otherwise(pl.lit(100))
    fee_cents = half_up_scaled(pl.col("fee_e14") * pl.col("mult_proc_percent"), _ALLOWED_SCALE)
    priced = priced.with_columns(mult_proc_percent=mp_percent.cast(pl.Int64)).with_columns(
        fee_cents=fee_cents
    )
    capped = pl.col("cap_at_billed").fill_null(False) & (pl.col("fee_cents") > pl.col("billed_cents"))
    priced = priced.with_columns(capped=capped.fill_null(False)).with_columns(
        allowed_cents=pl.when(pl.col("capped")).then(pl.col("billed_cents")).otherwise(pl.col("fee_cents")),
        rate_cents=pl.when(method == "code_rate").then(pl.col("rate_cents")).otherwise(None),
    )
    # Inputs that did not take part in the line's method are blanked, so the row shows only what was used.
    medicare_only = [
        "work_rvu_centi",
        "pe_rvu_centi",
        "mp_rvu_centi",
        "pw_gpci_milli",
        "pe_gpci_milli",
        "mp_gpci_milli",
        "conversion_factor_e4",
    ]
    priced = priced.with_columns(
        [pl.when(rbrvs).then(pl.col(c)).otherwise(None).alias(c) for c in medicare_only],
        pe_setting=pl.when(rbrvs).then(pl.col("pe_setting")).otherwise(None),
        percent_milli=pl.when(method == "code_rate").then(None).otherwise(pl.col("percent_milli")),
    )
    return priced.select([pl.col(c).cast(t) for c, t in PRICED_SCHEMA.items()])
