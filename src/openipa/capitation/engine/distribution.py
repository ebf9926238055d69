"""Distribution: splitting the capitation an IPA received into fees, pools and practice payments.

Each member-month's share of the pool runs down the waterfall (admin fee, reinsurance, risk pool, PCP
capitation less withhold, specialist sub-capitation, quality pool) and whatever is left is retained by the
IPA, so the parts of every member-month add up to its share by construction. The specialist and quality
pools are then split among practices with `openipa.core.money.allocate`, and each practice's quality payout
is spread back over its member-months, so every cent paid maps to a member-month line.

The money received but not matched to a member-month (payer adjustments, interest, payments for members
not eligible) is `pool_cents - sum(share_cents)`; it is retained at pool level and said so in the notes.
The components therefore always sum to `pool_cents` exactly. docs/capitation-rules.md walks through a
worked example; the golden test uses its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import polars as pl

from openipa.core.engine.frames import (
    EngineInputError,
    Schema,
    conform,
    require,
    require_amount,
    require_factor,
    require_not_null,
    require_unique,
    total,
)
from openipa.core.engine.rounding import MAX_AMOUNT_CENTS, MAX_FACTOR, half_up
from openipa.core.money import allocate

PCP_METHODS = ("flat", "age_sex", "risk_adjusted")
SPECIALIST_SPLITS = ("equal", "specialty_weight", "claims_volume")
COMPONENTS = ("admin_fee", "reinsurance", "withhold", "pcp", "specialist", "quality", "retained")

MEMBER_MONTH_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "month": pl.Date,
    "practice_id": pl.Int64,
    "provider_id": pl.Int64,
    "product_id": pl.Int64,
    "age": pl.Int32,
    "sex": pl.String,
    "raf_milli": pl.Int64,
    "share_cents": pl.Int64,
}
AGREEMENT_SCHEMA: Schema = {
    "practice_id": pl.Int64,
    "admin_fee_percent_milli": pl.Int64,
    "admin_fee_pmpm_cents": pl.Int64,
}
SPECIALIST_SCHEMA: Schema = {
    "practice_id": pl.Int64,
    "specialty": pl.String,
    "weight_milli": pl.Int64,
    "claims_cents": pl.Int64,
}
LINE_AMOUNTS = (
    "share_cents",
    "admin_fee_cents",
    "reinsurance_cents",
    "risk_pool_cents",
    "pcp_gross_cents",
    "withhold_cents",
    "pcp_net_cents",
    "specialist_cents",
    "quality_cents",
    "retained_cents",
    "quality_share_cents",
)
"""The money columns of a line, in cents; share = admin_fee + reinsurance + risk_pool + pcp_gross +
specialist + quality + retained, and pcp_gross = withhold + pcp_net."""
LINE_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "month": pl.Date,
    "practice_id": pl.Int64,
    "provider_id": pl.Int64,
    "product_id": pl.Int64,
    "rule_id": pl.Int64,
    "term_id": pl.Int64,
    **dict.fromkeys(LINE_AMOUNTS, pl.Int64),
}
POOL_SHARE_SCHEMA: Schema = {
    "pool": pl.String,
    "practice_id": pl.Int64,
    "weight": pl.Int64,
    "cents": pl.Int64,
    "basis": pl.String,
}
PAYOUT_SCHEMA: Schema = {
    "practice_id": pl.Int64,
    "pcp_gross_cents": pl.Int64,
    "withhold_cents": pl.Int64,
    "pcp_net_cents": pl.Int64,
    "quality_cents": pl.Int64,
    "specialist_cents": pl.Int64,
    "net_cents": pl.Int64,
}

_PERCENT = 100_000
_MILLI = 1000
_LINE_KEY = ("member_id", "month", "product_id")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise EngineInputError(f"rules: {name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise EngineInputError(f"rules: {name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class DistributionRules:
    """How one contract term's capitation is distributed: effective-dated data resolved by the caller.

    Percents are integer thousandths of a percent (85.000% -> 85000), factors integer thousandths
    (1.150 -> 1150), amounts integer cents. Construction checks every field and raises EngineInputError.
    """

    rule_id: int
    term_id: int
    reinsurance_pmpm_cents: int
    withhold_percent_milli: int
    """Withheld from gross PCP capitation and held as a liability."""
    risk_pool_percent_milli: int
    """Of each member-month's share."""
    pcp_method: str
    """"flat" | "age_sex" | "risk_adjusted"."""
    pcp_pmpm_cents: int
    """The flat rate, or the base rate that age_sex factors or the RAF scale."""
    age_sex_factors: tuple[tuple[int, int, str, int], ...]
    """(age_min, age_max inclusive, sex F/M/U, factor_milli); a sex-specific band beats a "U" band."""
    specialist_percent_milli: int
    specialist_pmpm_cents: int
    specialist_split: str
    """"equal" | "specialty_weight" | "claims_volume"."""
    quality_percent_milli: int
    default_admin_fee_percent_milli: int
    """For member-months with no practice assigned."""
    default_admin_fee_pmpm_cents: int

    def __post_init__(self) -> None:
        _check_int("rule_id", self.rule_id, -(2**63), 2**63 - 1)
        _check_int("term_id", self.term_id, -(2**63), 2**63 - 1)
        for name in (
            "withhold_percent_milli",
            "risk_pool_percent_milli",
            "specialist_percent_milli",
            "quality_percent_milli",
            "default_admin_fee_percent_milli",
        ):
            _check_int(name, getattr(self, name), 0, MAX_FACTOR)
        for name in (
            "reinsurance_pmpm_cents",
            "pcp_pmpm_cents",
            "specialist_pmpm_cents",
            "default_admin_fee_pmpm_cents",
        ):
            _check_int(name, getattr(self, name), 0, MAX_AMOUNT_CENTS)
        if self.pcp_method not in PCP_METHODS:
            raise EngineInputError(f"rules: pcp_method must be one of {', '.join(PCP_METHODS)}")
        if self.specialist_split not in SPECIALIST_SPLITS:
            raise EngineInputError(f"rules: specialist_split must be one of {', '.join(SPECIALIST_SPLITS)}")
        self._check_bands()

    def _check_bands(self) -> None:
        by_sex: dict[str, list[tuple[int, int]]] = {}
        for index, band in enumerate(self.age_sex_factors):
            if len(band) != 4:
                raise EngineInputError(
                    f"rules: age_sex_factors[{index}] must be (age_min, age_max, sex, factor)"
                )
            age_min, age_max, sex, factor = band
            _check_int(f"age_sex_factors[{index}] age_min", age_min, 0, 200)
            _check_int(f"age_sex_factors[{index}] age_max", age_max, age_min, 200)
            _check_int(f"age_sex_factors[{index}] factor_milli", factor, 0, MAX_FACTOR)
            if sex not in ("F", "M", "U"):
                raise EngineInputError(f"rules: age_sex_factors[{index}] sex must be F, M or U, got {sex!r}")
            by_sex.setdefault(sex, []).append((age_min, age_max))
        for sex, bands in by_sex.items():
            bands.sort()
            for (_, previous_max), (age_min, _) in pairwise(bands):
                if age_min <= previous_max:
                    raise EngineInputError(
                        f"rules: age_sex_factors bands for sex {sex} overlap at age {age_min}"
                    )


@dataclass(frozen=True)
class Distribution:
    """The result of `distribute`: totals, one line per member-month, pool splits and practice payouts."""

    components: dict[str, int]
    """Exactly the keys of COMPONENTS; the values sum to the pool. withhold includes the risk pool."""
    detail: dict[str, int]
    """withhold (PCP withhold alone), risk_pool, pcp_gross, retained_lines (the member-months' retained
    total) and unmatched."""
    lines: pl.DataFrame
    """LINE_SCHEMA, sorted by member_id, month, product_id."""
    pool_shares: pl.DataFrame
    """POOL_SHARE_SCHEMA: who gets what of the specialist and quality pools, and on what basis."""
    practice_payouts: pl.DataFrame
    """PAYOUT_SCHEMA, one row per PCP practice with member-months and per listed specialist practice (even
    at 0), sorted by practice_id."""
    unmatched_cents: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Pool-level explanations: unmatched money, fallbacks, pools kept for lack of recipients."""


def _checked_member_months(frame: pl.DataFrame, rules: DistributionRules) -> pl.DataFrame:
    name = "member_months"
    mm = conform(frame, MEMBER_MONTH_SCHEMA, name)
    require_not_null(mm, ["member_id", "month", "product_id", "sex", "share_cents"], _LINE_KEY, name)
    require(mm, ~pl.col("sex").is_in(["F", "M", "U"]), _LINE_KEY, f"{name}: sex must be F, M or U")
    require_amount(mm, "share_cents", _LINE_KEY, name)
    require_unique(mm, _LINE_KEY, name)
    assigned = pl.col("practice_id").is_not_null()
    if rules.pcp_method == "age_sex":
        require(
            mm, assigned & pl.col("age").is_null(), _LINE_KEY, f"{name}: age is empty (pcp_method age_sex)"
        )
    if rules.pcp_method == "risk_adjusted":
        require(
            mm,
            assigned & pl.col("raf_milli").is_null(),
            _LINE_KEY,
            f"{name}: raf_milli is empty (pcp_method risk_adjusted)",
        )
        require_factor(mm, "raf_milli", _LINE_KEY, name)
    return mm


def _checked_agreements(frame: pl.DataFrame) -> pl.DataFrame:
    name = "agreements"
    agreements = conform(frame, AGREEMENT_SCHEMA, name)
    require_not_null(agreements, AGREEMENT_SCHEMA, ("practice_id",), name)
    require_unique(agreements, ("practice_id",), name)
    require_factor(agreements, "admin_fee_percent_milli", ("practice_id",), name)
    require(
        agreements,
        ~pl.col("admin_fee_pmpm_cents").is_between(0, MAX_AMOUNT_CENTS),
        ("practice_id",),
        f"{name}: admin_fee_pmpm_cents must be between 0 and {MAX_AMOUNT_CENTS}",
    )
    return agreements


def _checked_specialists(frame: pl.DataFrame) -> pl.DataFrame:
    name = "specialists"
    key = ("practice_id", "specialty")
    specialists = conform(frame, SPECIALIST_SCHEMA, name)
    require_not_null(specialists, SPECIALIST_SCHEMA, key, name)
    require_unique(specialists, key, name)
    require_factor(specialists, "weight_milli", key, name)
    require(
        specialists,
        ~pl.col("claims_cents").is_between(0, MAX_AMOUNT_CENTS),
        key,
        f"{name}: claims_cents must be between 0 and {MAX_AMOUNT_CENTS}",
    )
    return specialists


def _pcp_gross(mm: pl.DataFrame, rules: DistributionRules) -> pl.DataFrame:
    """Add pcp_gross_cents: the PCP rate for member-months with a practice, 0 for the others."""
    assigned = pl.col("practice_id").is_not_null()
    if rules.pcp_method == "flat":
        rate: pl.Expr = pl.lit(rules.pcp_pmpm_cents, dtype=pl.Int64)
    elif rules.pcp_method == "risk_adjusted":
        rate = half_up(pl.lit(rules.pcp_pmpm_cents, dtype=pl.Int64), pl.col("raf_milli"), _MILLI)
    else:
        mm = _with_age_sex_factor(mm, rules)
        rate = half_up(pl.lit(rules.pcp_pmpm_cents, dtype=pl.Int64), pl.col("factor_milli"), _MILLI)
    return mm.with_columns(pl.when(assigned).then(rate).otherwise(0).cast(pl.Int64).alias("pcp_gross_cents"))


def _with_age_sex_factor(mm: pl.DataFrame, rules: DistributionRules) -> pl.DataFrame:
    bands = pl.DataFrame(
        list(rules.age_sex_factors),
        schema={"age_min": pl.Int32, "age_max": pl.Int32, "band_sex": pl.String, "factor_milli": pl.Int64},
        orient="row",
    )
    keys = mm.filter(pl.col("practice_id").is_not_null()).select("age", "sex").unique()
    factors = (
        keys.join(bands, how="cross")
        .filter(
            pl.col("age").is_between(pl.col("age_min"), pl.col("age_max"))
            & ((pl.col("band_sex") == pl.col("sex")) | (pl.col("band_sex") == "U"))
        )
        .sort("age", "sex", pl.col("band_sex") == "U")
        .unique(["age", "sex"], keep="first", maintain_order=True)
        .select("age", "sex", "factor_milli")
    )
    mm = mm.join(factors, on=["age", "sex"], how="left", maintain_order="left")
    require(
        mm,
        pl.col("practice_id").is_not_null() & pl.col("factor_milli").is_null(),
        ("member_id", "month", "age", "sex"),
        "rules: no age_sex_factors band for a member-month's age and sex",
    )
    return mm


def _waterfall(
    mm: pl.DataFrame, rules: DistributionRules, pay_specialists: bool, pay_quality: bool
) -> pl.DataFrame:
    """Add every component column to the member-months; retained takes whatever the others leave."""
    share = pl.col("share_cents")
    specialist = half_up(share, rules.specialist_percent_milli, _PERCENT) + rules.specialist_pmpm_cents
    lines = mm.with_columns(
        (half_up(share, pl.col("admin_fee_percent_milli"), _PERCENT) + pl.col("admin_fee_pmpm_cents")).alias(
            "admin_fee_cents"
        ),
        pl.lit(rules.reinsurance_pmpm_cents, dtype=pl.Int64).alias("reinsurance_cents"),
        half_up(share, rules.risk_pool_percent_milli, _PERCENT).alias("risk_pool_cents"),
        half_up(pl.col("pcp_gross_cents"), rules.withhold_percent_milli, _PERCENT).alias("withhold_cents"),
        (specialist if pay_specialists else pl.lit(0, dtype=pl.Int64)).alias("specialist_cents"),
        (
            half_up(share, rules.quality_percent_milli, _PERCENT)
            if pay_quality
            else pl.lit(0, dtype=pl.Int64)
        ).alias("quality_cents"),
        pl.lit(rules.rule_id, dtype=pl.Int64).alias("rule_id"),
        pl.lit(rules.term_id, dtype=pl.Int64).alias("term_id"),
    )
    return lines.with_columns(
        (pl.col("pcp_gross_cents") - pl.col("withhold_cents")).alias("pcp_net_cents"),
        (
            share
            - pl.col("admin_fee_cents")
            - pl.col("reinsurance_cents")
            - pl.col("risk_pool_cents")
            - pl.col("pcp_gross_cents")
            - pl.col("specialist_cents")
            - pl.col("quality_cents")
        ).alias("retained_cents"),
    )


def _with_admin_terms(mm: pl.DataFrame, agreements: pl.DataFrame, rules: DistributionRules) -> pl.DataFrame:
    """Add each member-month's admin fee terms: its practice's agreement, or the rules' defaults."""
    joined = mm.join(
        agreements.with_columns(pl.lit(True).alias("has_agreement")),
        on="practice_id",
        how="left",
        maintain_order="left",
    )
    require(
        joined,
        pl.col("practice_id").is_not_null() & pl.col("has_agreement").is_null(),
        ("practice_id", "member_id", "month"),
        "agreements: no participation agreement for a practice with member-months",
    )
    none = pl.col("practice_id").is_null()
    return joined.with_columns(
        pl.when(none)
        .then(rules.default_admin_fee_percent_milli)
        .otherwise(pl.col("admin_fee_percent_milli"))
        .cast(pl.Int64)
        .alias("admin_fee_percent_milli"),
        pl.when(none)
        .then(rules.default_admin_fee_pmpm_cents)
        .otherwise(pl.col("admin_fee_pmpm_cents"))
        .cast(pl.Int64)
        .alias("admin_fee_pmpm_cents"),
    ).drop("has_agreement")


_SPLIT_BASES = {
    "equal": "equal: one share per listed specialty",
    "specialty_weight": "specialty weight (thousandths)",
    "claims_volume": "claims volume (cents)",
}
_SPLIT_WEIGHTS = {"specialty_weight": "specialty weight", "claims_volume": "claims volume"}


def _specialist_weights(specialists: pl.DataFrame, split: str) -> tuple[pl.DataFrame, str, bool]:
    """Return (practice_id, weight) sorted by practice, the basis text, and whether the split fell back.

    A weighted split whose weights are all 0 (no claims yet, or no specialty weights set) falls back to
    equal shares rather than leaving the pool unpaid.
    """
    per_practice = (
        specialists.group_by("practice_id")
        .agg(
            pl.len().cast(pl.Int64).alias("equal"),
            pl.col("weight_milli").sum().alias("specialty_weight"),
            pl.col("claims_cents").sum().alias("claims_volume"),
        )
        .sort("practice_id")
    )
    if split != "equal" and total(per_practice, split) == 0:
        basis = f"equal: the {_SPLIT_WEIGHTS[split]} is 0 for every specialist"
        return per_practice.select("practice_id", pl.col("equal").alias("weight")), basis, True
    return per_practice.select("practice_id", pl.col(split).alias("weight")), _SPLIT_BASES[split], False


def _pool_rows(pool: str, weights: pl.DataFrame, amount: int, basis: str) -> pl.DataFrame:
    parts = allocate(amount, weights["weight"].to_list()) if weights.height else []
    return pl.DataFrame(
        {
            "pool": [pool] * weights.height,
            "practice_id": weights["practice_id"],
            "weight": weights["weight"],
            "cents": parts,
            "basis": [basis] * weights.height,
        },
        schema=POOL_SHARE_SCHEMA,
    )


def _quality_shares(lines: pl.DataFrame, quality: pl.DataFrame) -> pl.DataFrame:
    """Spread each practice's quality payout over its member-month lines, in line order.

    This is `allocate(payout, [1] * n)` for each practice's n lines, computed as columns: with equal weights
    the largest remainder method gives every line floor(|payout| / n) and the first |payout| mod n lines
    one cent more (the tie-break is by position), negated for a negative payout. Calling `allocate` itself
    would build a Python list per practice, too slow for a million member-months; the tests check the two
    agree.
    """
    payout = pl.col("cents")
    count = pl.len().over("practice_id").cast(pl.Int64)
    position = pl.int_range(pl.len(), dtype=pl.Int64).over("practice_id")
    base = payout.abs() // count
    extra = (position < payout.abs() % count).cast(pl.Int64)
    magnitude = base + extra
    return (
        lines.join(
            quality.select("practice_id", "cents"), on="practice_id", how="left", maintain_order="left"
        )
        .with_columns(
            pl.when(pl.col("practice_id").is_null())
            .then(0)
            .when(payout < 0)
            .then(-magnitude)
            .otherwise(magnitude)
            .cast(pl.Int64)
            .alias("quality_share_cents")
        )
        .drop("cents")
    )


def _practice_payouts(lines: pl.DataFrame, pools: pl.DataFrame) -> pl.DataFrame:
    money = ("pcp_gross_cents", "withhold_cents", "pcp_net_cents")
    pcp = (
        lines.filter(pl.col("practice_id").is_not_null())
        .group_by("practice_id")
        .agg([pl.col(c).cast(pl.Int128).sum().cast(pl.Int64).alias(c) for c in money])
    )
    by_pool = {
        pool: pools.filter(pl.col("pool") == pool).select(
            "practice_id", pl.col("cents").alias(f"{pool}_cents")
        )
        for pool in ("quality", "specialist")
    }
    payouts = (
        pcp.join(by_pool["quality"], on="practice_id", how="full", coalesce=True)
        .join(by_pool["specialist"], on="practice_id", how="full", coalesce=True)
        .with_columns(pl.exclude("practice_id").fill_null(0).cast(pl.Int64))
        .with_columns(
            (pl.col("pcp_net_cents") + pl.col("quality_cents") + pl.col("specialist_cents")).alias(
                "net_cents"
            )
        )
        .sort("practice_id")
    )
    return payouts.select([pl.col(c).cast(t) for c, t in PAYOUT_SCHEMA.items()])


def distribute(
    pool_cents: int,
    member_months: pl.DataFrame,
    rules: DistributionRules,
    agreements: pl.DataFrame,
    specialists: pl.DataFrame,
) -> Distribution:
    """Distribute `pool_cents` received for a payer-month over its member-months, practices and pools.

    Inputs follow MEMBER_MONTH_SCHEMA, AGREEMENT_SCHEMA and SPECIALIST_SCHEMA (extra columns are ignored).
    The components always sum to `pool_cents`, whatever the shares, rates or signs. A pool with nobody to
    pay (no specialist listed, no member-month with a PCP practice) is retained and a note says so. Raise
    EngineInputError for unusable input: a missing column or value, a duplicate member-month, a practice
    with no agreement, an age and sex no factor band covers.
    """
    if isinstance(pool_cents, bool) or not isinstance(pool_cents, int):
        raise EngineInputError(f"pool_cents must be int cents, not {type(pool_cents).__name__}")
    if not isinstance(rules, DistributionRules):
        raise EngineInputError(f"rules must be DistributionRules, not {type(rules).__name__}")
    mm = _checked_member_months(member_months, rules).sort(_LINE_KEY)
    checked_agreements = _checked_agreements(agreements)
    checked_specialists = _checked_specialists(specialists)
    notes: list[str] = []

    pay_specialists = checked_specialists.height > 0
    if not pay_specialists and (rules.specialist_percent_milli or rules.specialist_pmpm_cents) and mm.height:
        notes.append("no specialist listed: the specialist sub-capitation is retained")
    quality_weights = (
        mm.filter(pl.col("practice_id").is_not_null())
        .group_by("practice_id")
        .agg(pl.len().cast(pl.Int64).alias("weight"))
        .sort("practice_id")
    )
    pay_quality = quality_weights.height > 0
    if not pay_quality and rules.quality_percent_milli and mm.height:
        notes.append("no member-month has a PCP practice: the quality pool is retained")

    lines = _waterfall(
        _pcp_gross(_with_admin_terms(mm, checked_agreements, rules), rules),
        rules,
        pay_specialists,
        pay_quality,
    )
    specialist_pool = total(lines, "specialist_cents")
    quality_pool = total(lines, "quality_cents")
    weights, basis, fell_back = _specialist_weights(checked_specialists, rules.specialist_split)
    if fell_back and specialist_pool:
        notes.append(f"specialist pool split {basis}")
    pools = pl.concat(
        [
            _pool_rows("quality", quality_weights, quality_pool, "member-months"),
            _pool_rows("specialist", weights, specialist_pool, basis),
        ]
    )
    lines = _quality_shares(lines, pools.filter(pl.col("pool") == "quality"))
    lines = lines.select([pl.col(c).cast(t) for c, t in LINE_SCHEMA.items()])

    unmatched = pool_cents - total(lines, "share_cents")
    if unmatched:
        notes.append(
            f"{unmatched} cents of the pool match no member-month (payer adjustments, interest, payments for "
            "members not eligible) and are retained"
        )
    sums = {column: total(lines, column) for column in LINE_AMOUNTS}
    components = {
        "admin_fee": sums["admin_fee_cents"],
        "reinsurance": sums["reinsurance_cents"],
        "withhold": sums["withhold_cents"] + sums["risk_pool_cents"],
        "pcp": sums["pcp_net_cents"],
        "specialist": sums["specialist_cents"],
        "quality": sums["quality_cents"],
        "retained": sums["retained_cents"] + unmatched,
    }
    detail = {
        "withhold": sums["withhold_cents"],
        "risk_pool": sums["risk_pool_cents"],
        "pcp_gross": sums["pcp_gross_cents"],
        "retained_lines": sums["retained_cents"],
        "unmatched": unmatched,
    }
    return Distribution(
        components=components,
        detail=detail,
        lines=lines,
        pool_shares=pools.sort("pool", "practice_id"),
        practice_payouts=_practice_payouts(lines, pools),
        unmatched_cents=unmatched,
        notes=tuple(notes),
    )
