"""CMS-HCC risk scores for a frame of beneficiaries: pure and vectorized (Polars joins and group-bys, no
per-member Python loop). No Django.

Input frame (one row per beneficiary)::

    member_id        String, unique
    date_of_birth    Date
    sex              String: "M"/"F" (or CMS's "1"/"2")
    orec             String: original reason for entitlement "0" old age, "1" disability, "2" ESRD,
                     "3" disability and ESRD
    medicaid         String: CMS dual-eligibility status code "00" (not dual) .. "10";
                     full-benefit dual = 02, 04, 08; partial-benefit dual = 01, 03, 05, 06
    diagnosis_codes  List(String): ICD-10-CM codes, with or without the dot, any case
    optional: lti (Boolean, long-term institutional), new_enrollee (Boolean), snp (Boolean, a
              new enrollee in a special needs plan) -- absent columns mean False

Public API::

    score(frame, payment_year, model="V28", *, payment=True, switch_edits=True) -> Scores
    validate_frame(frame) -> None          # raises ScoreInputError naming the row and column
    format_thousandths(expr) -> pl.Expr    # Int64 thousandths -> "1.234"
    age_on_february_1(dob_expr, payment_year) -> pl.Expr

``Scores.members``: member_id, age (as of February 1 of the payment year), segment (CNA, CND, CFA, CFD,
CPA, CPD, INS, NE, SNPNE), category (demographic cell, e.g. F70_74), raf (Int64 thousandths: the model's
raw score), payment_raf (Int64 thousandths, or null with ``payment=False``), hccs (List(String), the
payment HCCs after edits and hierarchies, in numeric order), variables (List(String), every model
variable that earned a coefficient, for explanation).
``Scores.diagnoses``: member_id, hcc, diagnosis_code -- which diagnoses led to each HCC of ``hccs``.

The steps follow CMS's SAS software as hccinfhir implements it (its code is the reference read):
age on February 1; the segment from long-term institutional status, new-enrollee status, dual status
and age; diagnoses mapped to CCs; the model's age/sex edits (CMS's mandatory edits and, with
``switch_edits``, the MCE age edits); conditional CCs; hierarchies; disease and demographic
interactions; the count of payment HCCs where the model has it; coefficients summed as integers.

payment_raf, per the year's ``payment_factors.csv`` rows (CMS Rate Announcement): for each blended
model, raw / normalization factor rounded to three decimals; the blend weighted and rounded to three
decimals; times (1 - MA coding pattern adjustment), rounded to three decimals (half away from zero). The
other models of a blend are scored on the same members. Differences from hccinfhir are listed in
docs/risk-adjustment.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from openipa.risk.engine.tables import TableError, load_model, payment_factors

__all__ = [
    "ScoreInputError",
    "Scores",
    "age_on_february_1",
    "format_thousandths",
    "score",
    "validate_frame",
]

REQUIRED = ("member_id", "date_of_birth", "sex", "orec", "medicaid", "diagnosis_codes")
OPTIONAL = ("lti", "new_enrollee", "snp")
SEXES = ("M", "F", "1", "2")
ORECS = ("0", "1", "2", "3")
DUAL_CODES = tuple(f"{i:02d}" for i in range(11))
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
MEDICAID = tuple(f"{i:02d}" for i in range(1, 11))
NEW_ENROLLEE_MEDICAID = ("01", "02", "03", "04", "05", "06", "08")


class ScoreInputError(ValueError):
    """The beneficiary frame is malformed; the message names the row (0-based) and column."""


@dataclass(frozen=True)
class Scores:
    members: pl.DataFrame
    diagnoses: pl.DataFrame


def age_on_february_1(dob: pl.Expr, payment_year: int) -> pl.Expr:
    """Age in whole years on February 1 of ``payment_year`` (CMS's age for the payment year)."""
    after = (dob.dt.month() > 2) | ((dob.dt.month() == 2) & (dob.dt.day() > 1))
    return (pl.lit(payment_year) - dob.dt.year() - after.cast(pl.Int32)).cast(pl.Int32)


def format_thousandths(expr: pl.Expr) -> pl.Expr:
    """Int64 thousandths -> a decimal string with three places ("1.234", "-0.050")."""
    whole = (expr.abs() // 1000).cast(pl.String)
    frac = (expr.abs() % 1000).cast(pl.String).str.zfill(3)
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, pl.lit("."), frac])


def _round_div(numerator: pl.Expr, denominator: int) -> pl.Expr:
    """numerator / denominator rounded half away from zero, in exact integers."""
    magnitude = (numerator.abs() * 2 + denominator) // (2 * denominator)
    return pl.when(numerator < 0).then(-magnitude).otherwise(magnitude).cast(pl.Int64)


def validate_frame(frame: pl.DataFrame) -> None:
    """Check the columns, types and codes of a beneficiary frame; raise :class:`ScoreInputError` at the
    first bad row."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ScoreInputError(f"missing columns: {', '.join(missing)}")
    expected: dict[str, type[pl.DataType] | pl.DataType] = {
        "member_id": pl.String,
        "date_of_birth": pl.Date,
        "sex": pl.String,
        "orec": pl.String,
        "medicaid": pl.String,
        "diagnosis_codes": pl.List(pl.String),
    }
    for name, dtype in expected.items():
        if frame.schema[name] != dtype:
            raise ScoreInputError(f"column {name}: type {frame.schema[name]}, expected {dtype}")
    for name in OPTIONAL:
        if name in frame.columns and frame.schema[name] != pl.Boolean:
            raise ScoreInputError(f"column {name}: type {frame.schema[name]}, expected Boolean")
    checks: list[tuple[str, pl.Expr]] = [
        ("member_id", pl.col("member_id").is_null() | (pl.col("member_id") == "")),
        ("member_id", pl.col("member_id").is_duplicated()),
        ("date_of_birth", pl.col("date_of_birth").is_null()),
        ("sex", ~pl.col("sex").is_in(SEXES).fill_null(False)),
        ("orec", ~pl.col("orec").is_in(ORECS).fill_null(False)),
        ("medicaid", ~pl.col("medicaid").is_in(DUAL_CODES).fill_null(False)),
    ]
    flags = frame.select([expr.alias(f"{i}") for i, (_, expr) in enumerate(checks)])
    for i, (name, _) in enumerate(checks):
        bad = flags.get_column(f"{i}").arg_true()
        if bad.len():
            row = int(bad[0])
            raise ScoreInputError(f"row {row}, column {name}: invalid value {frame[name][row]!r}")


def _demographics(frame: pl.DataFrame, payment_year: int) -> pl.DataFrame:
    """One row per member: age, flags, the demographic cell (category) and the coefficient prefix."""
    cols = [pl.col(c) if c in frame.columns else pl.lit(False).alias(c) for c in OPTIONAL]
    age = pl.col("age")
    female = pl.col("female")
    orec = pl.col("orec")
    band = (
        pl.when(age <= 34)
        .then(pl.lit("0_34"))
        .when(age <= 44)
        .then(pl.lit("35_44"))
        .when(age <= 54)
        .then(pl.lit("45_54"))
        .when(age <= 59)
        .then(pl.lit("55_59"))
        .when(age <= 64)
        .then(pl.lit("60_64"))
        .when(age <= 69)
        .then(pl.lit("65_69"))
        .when(age <= 74)
        .then(pl.lit("70_74"))
        .when(age <= 79)
        .then(pl.lit("75_79"))
        .when(age <= 84)
        .then(pl.lit("80_84"))
        .when(age <= 89)
        .then(pl.lit("85_89"))
        .when(age <= 94)
        .then(pl.lit("90_94"))
        .otherwise(pl.lit("95_GT"))
    )
    # New enrollees (not ESRD) have single-year cells from 65 to 69; a 64-year-old entitled by age is in
    # the 65 cell, one entitled by disability in 60_64.
    ne_band = (
        pl.when(age <= 59)
        .then(band)
        .when((age <= 63) | ((age == 64) & (orec != "0")))
        .then(pl.lit("60_64"))
        .when((age == 64) | (age == 65))
        .then(pl.lit("65"))
        .when(age <= 69)
        .then(age.cast(pl.String))
        .otherwise(band)
    )
    return (
        frame.select(
            "member_id",
            "orec",
            "medicaid",
            *cols,
            age_on_february_1(pl.col("date_of_birth"), payment_year).alias("age"),
            pl.col("sex").is_in(["F", "2"]).alias("female"),
        )
        .with_columns(
            (age >= 65).alias("aged"),
            ((age < 65) & (orec != "0")).alias("disabled"),
            orec.is_in(["2", "3"]).alias("esrd"),
            pl.col("medicaid").is_in(FULL_DUAL).alias("fbd"),
            pl.col("medicaid").is_in(PARTIAL_DUAL).alias("pbd"),
            pl.col("medicaid").is_in(MEDICAID).alias("mcaid"),
            (pl.col("new_enrollee") & pl.col("medicaid").is_in(NEW_ENROLLEE_MEDICAID)).alias("nemcaid"),
            ((age >= 65) & (orec == "1")).alias("ne_origds"),
            pl.when(female).then(pl.lit("2")).otherwise(pl.lit("1")).alias("sex12"),
        )
        .with_columns(
            ((orec == "1") & ~pl.col("disabled")).alias("orig_disabled"),
            pl.concat_str(
                pl.when(pl.col("new_enrollee")).then(pl.lit("NE")).otherwise(pl.lit("")),
                pl.when(female).then(pl.lit("F")).otherwise(pl.lit("M")),
                pl.when(pl.col("new_enrollee") & ~pl.col("esrd")).then(ne_band).otherwise(band),
            ).alias("category"),
            pl.when(pl.col("lti"))
            .then(pl.lit("INS"))
            .when(pl.col("new_enrollee") & pl.col("snp"))
            .then(pl.lit("SNPNE"))
            .when(pl.col("new_enrollee"))
            .then(pl.lit("NE"))
            .otherwise(
                pl.concat_str(
                    pl.lit("C"),
                    pl.when(pl.col("fbd"))
                    .then(pl.lit("F"))
                    .when(pl.col("pbd"))
                    .then(pl.lit("P"))
                    .otherwise(pl.lit("N")),
                    pl.when(age >= 65).then(pl.lit("A")).otherwise(pl.lit("D")),
                )
            )
            .alias("segment"),
        )
    )


def _demographic_variables(demo: pl.DataFrame) -> pl.DataFrame:
    """(member_id, variable) for the demographic cell and every demographic interaction that is on."""
    female, aged = pl.col("female"), pl.col("aged")
    sex_word = pl.when(female).then(pl.lit("Female")).otherwise(pl.lit("Male"))
    age_word = pl.when(aged).then(pl.lit("Aged")).otherwise(pl.lit("NonAged"))
    cat = pl.col("category")
    ne_m = pl.when(pl.col("nemcaid")).then(pl.lit("MCAID_")).otherwise(pl.lit("NMCAID_"))
    ne_o = pl.when(pl.col("ne_origds")).then(pl.lit("ORIGDIS_")).otherwise(pl.lit("NORIGDIS_"))
    fbd_o = pl.when(pl.col("fbd")).then(pl.lit("FBD_")).otherwise(pl.lit("ND_PBD_"))
    rules: list[tuple[pl.Expr, pl.Expr]] = [
        (pl.lit(True), cat),
        (aged & pl.col("orig_disabled"), pl.concat_str(pl.lit("OriginallyDisabled_"), sex_word)),
        (aged & pl.col("orec").is_in(["2", "3"]), pl.concat_str(pl.lit("Originally_ESRD_"), sex_word)),
        (pl.col("mcaid"), pl.concat_str(pl.lit("MCAID_"), sex_word, pl.lit("_"), age_word)),
        (pl.col("lti"), pl.concat_str(pl.lit("LTI_"), age_word)),
        (pl.col("lti"), pl.when(aged).then(pl.lit("LTI_GE65")).otherwise(pl.lit("LTI_LT65"))),
        (pl.col("lti") & pl.col("mcaid"), pl.lit("LTIMCAID")),
        (pl.lit(True), pl.concat_str(ne_m, ne_o, cat)),
        (pl.lit(True), pl.concat_str(fbd_o, ne_o, cat)),
        (pl.col("fbd"), pl.concat_str(pl.lit("FBDual_"), sex_word, pl.lit("_"), age_word)),
        (pl.col("pbd"), pl.concat_str(pl.lit("PBDual_"), sex_word, pl.lit("_"), age_word)),
    ]
    return pl.concat([demo.filter(cond).select("member_id", expr.alias("variable")) for cond, expr in rules])


def _model_scores(
    frame: pl.DataFrame, demo: pl.DataFrame, payment_year: int, model: str, switch_edits: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw scores of one model: (member_id, raf, hccs, variables) and (member_id, hcc, diagnosis_code)."""
    t = load_model(payment_year, model)
    dx = (
        frame.select("member_id", pl.col("diagnosis_codes").alias("diagnosis_code"))
        .explode("diagnosis_code")
        .drop_nulls("diagnosis_code")
        .with_columns(
            pl.col("diagnosis_code")
            .str.strip_chars()
            .str.to_uppercase()
            .str.replace_all(".", "", literal=True)
        )
        .filter(pl.col("diagnosis_code") != "")
        .unique()
    )
    mapped = dx.join(t.dx_to_cc, on="diagnosis_code", how="inner")
    # Age and sex edits: an "invalid" edit drops the diagnosis; an "override" maps it to another CC.
    edited = (
        mapped.join(t.edits, on="diagnosis_code", how="left")
        .join(demo.select("member_id", "age", "sex12"), on="member_id", how="left")
        .with_columns(
            pl.when(pl.col("edit_type") == "sex")
            .then(pl.col("sex") == pl.col("sex12"))
            .when(pl.col("edit_type").is_in(["age", "mce_age"] if switch_edits else ["age"]))
            .then(
                (pl.col("age_max").is_not_null() & (pl.col("age") <= pl.col("age_max")))
                | (pl.col("age_min").is_not_null() & (pl.col("age") >= pl.col("age_min")))
            )
            .otherwise(pl.lit(False))
            .fill_null(False)
            .alias("edit_applies")
        )
        .filter(~(pl.col("edit_applies") & (pl.col("action") == "invalid")))
        .select(
            "member_id",
            "diagnosis_code",
            pl.when(pl.col("edit_applies") & (pl.col("action") == "override"))
            .then(pl.col("cc_override"))
            .otherwise(pl.col("cc"))
            .alias("cc"),
        )
        .unique()
    )
    ccs = edited.select("member_id", "cc").unique()
    if t.requirements.height:
        candidates = ccs.join(t.requirements, on="cc", how="inner")
        satisfied = candidates.join(
            ccs.rename({"cc": "required"}), on=["member_id", "required"], how="semi"
        ).select("member_id", "cc")
        dropped = (
            candidates.select("member_id", "cc").unique().join(satisfied, on=["member_id", "cc"], how="anti")
        )
        ccs = ccs.join(dropped, on=["member_id", "cc"], how="anti")
    removed = ccs.join(t.hierarchies, left_on="cc", right_on="parent", how="inner").select(
        "member_id", pl.col("child").alias("cc")
    )
    hccs = ccs.join(removed, on=["member_id", "cc"], how="anti")

    features = pl.concat(
        [
            hccs.join(t.groups, on="cc", how="inner").select("member_id", pl.col("group").alias("term")),
            hccs.select("member_id", pl.concat_str(pl.lit("HCC"), pl.col("cc")).alias("term")),
            demo.filter(pl.col("disabled")).select("member_id", pl.lit("DISABLED").alias("term")),
        ]
    ).unique()
    interactions = (
        features.join(t.interactions, left_on="term", right_on="term1", how="inner")
        .join(features.rename({"term": "term2"}), on=["member_id", "term2"], how="semi")
        .select("member_id", "variable")
        .unique()
    )
    counts = (
        hccs.group_by("member_id")
        .len()
        .select(
            "member_id",
            pl.when(pl.col("len") >= 10)
            .then(pl.lit("D10P"))
            .otherwise(pl.concat_str(pl.lit("D"), pl.col("len").cast(pl.String)))
            .alias("variable"),
        )
    )
    variables = pl.concat(
        [
            _demographic_variables(demo),
            hccs.select("member_id", pl.concat_str(pl.lit("HCC"), pl.col("cc")).alias("variable")),
            interactions,
            counts,
        ]
    )
    earned = (
        variables.join(demo.select("member_id", "segment"), on="member_id", how="left")
        .with_columns(
            pl.concat_str(pl.col("segment"), pl.lit("_"), pl.col("variable")).str.to_lowercase().alias("key")
        )
        .join(t.coefficients, left_on="key", right_on="variable", how="inner")
    )
    sums = earned.group_by("member_id").agg(
        pl.col("value").sum().alias("raf"), pl.col("variable").sort().alias("variables")
    )
    hcc_lists = hccs.group_by("member_id").agg(
        pl.col("cc").sort_by(pl.col("cc").cast(pl.Int64)).alias("hccs")
    )
    members = (
        demo.select("member_id")
        .join(sums, on="member_id", how="left")
        .join(hcc_lists, on="member_id", how="left")
        .with_columns(
            pl.col("raf").fill_null(0).cast(pl.Int64),
            pl.col("hccs").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("variables").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
    )
    diagnoses = (
        edited.join(hccs, on=["member_id", "cc"], how="semi")
        .select("member_id", pl.col("cc").alias("hcc"), "diagnosis_code")
        .sort("member_id", pl.col("hcc").cast(pl.Int64), "diagnosis_code")
    )
    return members, diagnoses


def score(
    frame: pl.DataFrame,
    payment_year: int,
    model: str = "V28",
    *,
    payment: bool = True,
    switch_edits: bool = True,
) -> Scores:
    """Score every beneficiary of ``frame`` with ``model`` for ``payment_year`` (see the module docstring).

    With ``payment`` (the default) the payment year must have payment factors on file and ``model`` must
    be one of its blended models; the blend's other models are scored too. Raises
    :class:`ScoreInputError` for a malformed frame and :class:`~openipa.risk.engine.tables.TableError`
    for a year or model without tables.
    """
    validate_frame(frame)
    demo = _demographics(frame, payment_year)
    members, diagnoses = _model_scores(frame, demo, payment_year, model, switch_edits)
    payment_raf: pl.Expr = pl.lit(None, dtype=pl.Int64)
    if payment:
        factors = payment_factors(payment_year)
        if not factors:
            raise TableError(f"no payment factors for payment year {payment_year} in payment_factors.csv")
        if model not in {f.model for f in factors}:
            blend = ", ".join(f.model for f in factors)
            raise TableError(f"{model} is not a payment model in {payment_year} (the year blends: {blend})")
        blended: pl.Expr = pl.lit(0, dtype=pl.Int64)
        for factor in factors:
            column = f"raw_{factor.model}"
            if factor.model == model:
                members = members.with_columns(pl.col("raf").alias(column))
            else:
                other, _ = _model_scores(frame, demo, payment_year, factor.model, switch_edits)
                members = members.join(
                    other.select("member_id", pl.col("raf").alias(column)), on="member_id", how="left"
                )
            normalized = _round_div(pl.col(column) * 1000, factor.normalization_factor)
            blended = blended + normalized * factor.blend_weight
        coding = {f.coding_adjustment for f in factors}
        if len(coding) != 1:
            raise TableError(
                f"payment year {payment_year}: the blended models have different coding adjustments"
            )
        cpa = coding.pop()
        payment_raf = _round_div(_round_div(blended, 1000) * (1000 - cpa), 1000)
    members = (
        members.join(demo.select("member_id", "age", "segment", "category"), on="member_id", how="left")
        .with_columns(payment_raf.alias("payment_raf"))
        .select("member_id", "age", "segment", "category", "raf", "payment_raf", "hccs", "variables")
    )
    return Scores(members=members, diagnoses=diagnoses)
