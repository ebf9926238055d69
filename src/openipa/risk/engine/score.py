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

import functools
from collections.abc import Callable
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


@dataclass
class Scores:
    """``members`` (one row per input row, in input order) and ``diagnoses`` (built on first access)."""

    members: pl.DataFrame
    _diagnoses: Callable[[], pl.DataFrame]

    @functools.cached_property
    def diagnoses(self) -> pl.DataFrame:
        return self._diagnoses()


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
    # One pass for "any problem at all"; the row masks only when there is one.
    cheap = [expr.any() for name, expr in checks if name != "member_id"]
    cheap.append(pl.col("member_id").n_unique() < pl.len())
    cheap.append((pl.col("member_id").is_null() | (pl.col("member_id") == "")).any())
    if not frame.select(pl.any_horizontal(cheap)).item():
        return
    flags = frame.select([expr.alias(f"{i}") for i, (_, expr) in enumerate(checks)])
    for i, (name, _) in enumerate(checks):
        bad = flags.get_column(f"{i}").arg_true()
        if bad.len():
            row = int(bad[0])
            raise ScoreInputError(f"row {row}, column {name}: invalid value {frame[name][row]!r}")


SEGMENTS = ("CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE", "SNPNE")
SEGMENT = pl.Enum(SEGMENTS)
DISABLED_TERM = 0
"""Interaction terms are small integers: an HCC's number, a disease group's GROUP_BASE + n, or 0 for DISABLED."""
GROUP_BASE = 2_000
SHIFT = 16
"""Member-and-CC pairs are packed into one Int64, (row << SHIFT) | cc, for fast unique, semi and anti joins."""
MAX_CC = 1_024
MAX_VARIABLES = 64


def _profile_key(frame: pl.DataFrame, payment_year: int) -> pl.DataFrame:
    """(_i, key, age): the row index and one integer per demographic profile (age, sex, OREC, dual code,
    institutional, new enrollee, SNP); members of one profile share every demographic variable."""
    flags = [
        (pl.col(c) if c in frame.columns else pl.lit(False)).fill_null(False).cast(pl.Int64).alias(c)
        for c in OPTIONAL
    ]
    age = age_on_february_1(pl.col("date_of_birth"), payment_year).alias("age")
    return frame.select(
        pl.int_range(0, pl.len(), dtype=pl.UInt32).alias("_i"),
        age,
        pl.col("sex").is_in(["F", "2"]).cast(pl.Int64).alias("_female"),
        pl.col("orec").cast(pl.Int64).alias("_orec"),
        pl.col("medicaid").cast(pl.Int64).alias("_medicaid"),
        *flags,
    ).select(
        "_i",
        "age",
        (
            (
                (
                    ((pl.col("age").cast(pl.Int64) * 2 + pl.col("_female")) * 4 + pl.col("_orec")) * 11
                    + pl.col("_medicaid")
                )
                * 8
            )
            + pl.col("lti") * 4
            + pl.col("new_enrollee") * 2
            + pl.col("snp")
        ).alias("key"),
    )


def _profiles(keys: pl.Series) -> pl.DataFrame:
    """Decode the distinct profile keys into the columns :func:`_demographics` reads."""
    k = pl.col("key")
    return (
        pl.DataFrame({"key": keys.unique()})
        .with_columns(
            (k % 2 == 1).alias("snp"),
            (k // 2 % 2 == 1).alias("new_enrollee"),
            (k // 4 % 2 == 1).alias("lti"),
            (k // 8 % 11).cast(pl.String).str.zfill(2).alias("medicaid"),
            (k // 88 % 4).cast(pl.String).alias("orec"),
            (k // 352 % 2 == 1).alias("female"),
            (k // 704).cast(pl.Int32).alias("age"),
        )
        .with_columns((pl.col("snp") & pl.col("new_enrollee")).alias("snp"))
    )


def _demographics(profiles: pl.DataFrame) -> pl.DataFrame:
    """Per profile: flags, the demographic cell (category) and the segment (coefficient prefix)."""
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
    return profiles.with_columns(
        (age >= 65).alias("aged"),
        ((age < 65) & (orec != "0")).alias("disabled"),
        orec.is_in(["2", "3"]).alias("esrd"),
        pl.col("medicaid").is_in(FULL_DUAL).alias("fbd"),
        pl.col("medicaid").is_in(PARTIAL_DUAL).alias("pbd"),
        pl.col("medicaid").is_in(MEDICAID).alias("mcaid"),
        (pl.col("new_enrollee") & pl.col("medicaid").is_in(NEW_ENROLLEE_MEDICAID)).alias("nemcaid"),
        ((age >= 65) & (orec == "1")).alias("ne_origds"),
        pl.when(female).then(pl.lit("2")).otherwise(pl.lit("1")).alias("sex12"),
    ).with_columns(
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
        .cast(SEGMENT)
        .alias("segment"),
    )


def _demographic_variables(demo: pl.DataFrame) -> pl.DataFrame:
    """(key, variable) for the demographic cell and every demographic interaction that is on."""
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
    return pl.concat([demo.filter(cond).select("key", expr.alias("variable")) for cond, expr in rules])


@dataclass(frozen=True)
class _Coded:
    """A model's tables with integer keys (built once per payment year and model)."""

    dx_to_cc: pl.DataFrame  # diagnosis_code, code_id, cc (Int32)
    codes: pl.Series  # diagnosis_code by code_id
    edits: pl.DataFrame  # code_id, edit_type, sex, age_min, age_max, action, cc_override (Int32)
    requirements: pl.DataFrame  # cc, required (Int32)
    hierarchies: pl.DataFrame  # parent, child (Int32)
    groups: pl.DataFrame  # cc, term (Int32: GROUP_BASE + group number)
    interactions: pl.DataFrame  # term1, term2, var_id (Int32), variable
    hcc_values: pl.Series  # value at segment * MAX_CC + cc (0 when the segment has no such coefficient)
    hcc_paid: pl.Series  # True where a coefficient exists, same index
    interaction_values: pl.Series  # value at segment * MAX_VARIABLES + var_id
    interaction_paid: pl.Series
    count_values: pl.Series  # value at segment * 16 + n (n = 1..10, 10 meaning 10 or more)
    count_paid: pl.Series
    other_values: pl.DataFrame  # segment, variable (lower case, no prefix), value


def _lookup(frame: pl.DataFrame, index: pl.Expr, size: int) -> tuple[pl.Series, pl.Series]:
    """Dense arrays (value, present) indexed by ``index`` over ``size`` slots."""
    slots = frame.select(index.cast(pl.Int64).alias("slot"), "value")
    dense = (
        pl.DataFrame({"slot": pl.int_range(0, size, dtype=pl.Int64, eager=True)})
        .join(slots, on="slot", how="left", maintain_order="left")
        .select(pl.col("value").fill_null(0).cast(pl.Int64), pl.col("value").is_not_null().alias("paid"))
    )
    return dense.get_column("value"), dense.get_column("paid")


@functools.cache
def _coded(payment_year: int, model: str) -> _Coded:
    t = load_model(payment_year, model)
    codes = (
        t.dx_to_cc.select("diagnosis_code")
        .unique()
        .sort("diagnosis_code")
        .with_row_index("code_id")
        .with_columns(pl.col("code_id").cast(pl.Int32))
    )
    dx_to_cc = t.dx_to_cc.join(codes, on="diagnosis_code").with_columns(pl.col("cc").cast(pl.Int32))
    if dx_to_cc.get_column("cc").max() >= MAX_CC:  # type: ignore[operator]
        raise TableError(f"{model} {payment_year}: a CC number of {MAX_CC} or more")
    edits = t.edits.join(codes, on="diagnosis_code", how="inner").select(
        "code_id", "edit_type", "sex", "age_min", "age_max", "action", pl.col("cc_override").cast(pl.Int32)
    )
    group_names = sorted(set(t.groups["group"].to_list()))
    group_id = {name: GROUP_BASE + i for i, name in enumerate(group_names)}

    def term(name: str) -> int:
        if name == "DISABLED":
            return DISABLED_TERM
        if name in group_id:
            return group_id[name]
        return int(name[3:])  # HCC<n>

    interactions = t.interactions.with_row_index("var_id").select(
        pl.col("var_id").cast(pl.Int32),
        "variable",
        pl.col("term1").map_elements(term, return_dtype=pl.Int32),
        pl.col("term2").map_elements(term, return_dtype=pl.Int32),
    )
    if interactions.height > MAX_VARIABLES:
        raise TableError(f"{model}: more than {MAX_VARIABLES} disease interactions")
    groups = t.groups.select(
        pl.col("cc").cast(pl.Int32),
        pl.col("group").replace_strict(group_id, return_dtype=pl.Int32).alias("term"),
    )
    prefixes = sorted((seg.lower() + "_" for seg in SEGMENTS), key=len, reverse=True)
    prefix_expr = pl.lit(None, dtype=pl.String)
    for prefix in reversed(prefixes):  # the longest prefix (snpne_ before ne_) wins
        prefix_expr = (
            pl.when(pl.col("variable").str.starts_with(prefix)).then(pl.lit(prefix)).otherwise(prefix_expr)
        )
    split = (
        t.coefficients.with_columns(prefix_expr.alias("prefix"))
        .drop_nulls("prefix")
        .select(
            pl.col("prefix").str.strip_suffix("_").str.to_uppercase().cast(SEGMENT).alias("segment"),
            pl.col("variable").str.slice(pl.col("prefix").str.len_chars()).alias("rest"),
            "value",
        )
    )
    seg = pl.col("segment").to_physical().cast(pl.Int64)
    hcc = split.filter(pl.col("rest").str.contains(r"^hcc[0-9]+$")).with_columns(
        pl.col("rest").str.slice(3).cast(pl.Int64).alias("cc")
    )
    counts = split.filter(pl.col("rest").str.contains(r"^d([0-9]|10p)$")).with_columns(
        pl.col("rest").str.slice(1).str.replace("p", "", literal=True).cast(pl.Int64).alias("n")
    )
    paired = split.join(
        interactions.select("var_id", pl.col("variable").str.to_lowercase().alias("rest")), on="rest"
    )
    hcc_values, hcc_paid = _lookup(
        hcc.filter(pl.col("cc") < MAX_CC), seg * MAX_CC + pl.col("cc"), len(SEGMENTS) * MAX_CC
    )
    interaction_values, interaction_paid = _lookup(
        paired, seg * MAX_VARIABLES + pl.col("var_id"), len(SEGMENTS) * MAX_VARIABLES
    )
    count_values, count_paid = _lookup(counts, seg * 16 + pl.col("n"), len(SEGMENTS) * 16)
    return _Coded(
        dx_to_cc=dx_to_cc,
        codes=codes.get_column("diagnosis_code"),
        edits=edits,
        requirements=t.requirements.select(pl.col("cc").cast(pl.Int32), pl.col("required").cast(pl.Int32)),
        hierarchies=t.hierarchies.select(pl.col("parent").cast(pl.Int32), pl.col("child").cast(pl.Int32)),
        groups=groups,
        interactions=interactions,
        hcc_values=hcc_values,
        hcc_paid=hcc_paid,
        interaction_values=interaction_values,
        interaction_paid=interaction_paid,
        count_values=count_values,
        count_paid=count_paid,
        other_values=split.select("segment", pl.col("rest").alias("variable"), "value"),
    )


def _in_sorted(haystack: pl.Series, needles: pl.Series) -> pl.Series:
    """Whether each needle is in ``haystack`` (sorted): a binary search per needle, no hash set."""
    if haystack.len() == 0:
        return pl.repeat(False, needles.len(), dtype=pl.Boolean, eager=True)
    position = haystack.search_sorted(needles).clip(upper_bound=haystack.len() - 1)
    return haystack.gather(position) == needles


def _pack(i: pl.Expr, value: pl.Expr) -> pl.Expr:
    return (i.cast(pl.Int64) * (1 << SHIFT) + value.cast(pl.Int64)).alias("k")


def _unpack(k: pl.Expr) -> list[pl.Expr]:
    return [(k // (1 << SHIFT)).cast(pl.UInt32).alias("_i"), (k % (1 << SHIFT)).cast(pl.Int32).alias("cc")]


def _model_scores(
    frame: pl.DataFrame,
    members: pl.DataFrame,
    demo: pl.DataFrame,
    payment_year: int,
    model: str,
    switch_edits: bool,
    explain: bool,
) -> tuple[pl.DataFrame, Callable[[], pl.DataFrame]]:
    """Raw scores of one model.

    ``members``: _i, key, age, segment, female, disabled (one row per input row, in order); ``demo``: the
    profiles. Returns (raf, hccs[, variables]) in input order, and a function building
    (_i, hcc, diagnosis_code).
    """
    c = _coded(payment_year, model)
    n = members.height
    # Demographic variables: per profile, then shared by its members.
    demo_vars = (
        _demographic_variables(demo)
        .join(demo.select("key", "segment"), on="key")
        .with_columns(pl.col("variable").str.to_lowercase().alias("lower"))
        .join(c.other_values, left_on=["segment", "lower"], right_on=["segment", "variable"], how="inner")
    )
    demo_sum = demo_vars.group_by("key").agg(
        pl.col("value").sum().alias("demo_value"), pl.col("variable").alias("demo_variables")
    )
    segment_codes = members.get_column("segment").to_physical().cast(pl.Int64)

    exploded = (
        frame.select(
            pl.int_range(0, pl.len(), dtype=pl.UInt32).alias("_i"), pl.col("diagnosis_codes").alias("code")
        )
        .explode("code")
        .drop_nulls("code")
    )
    # Spellings are normalised once per distinct spelling (upper case, no dot or blank), then joined back.
    spellings = (
        exploded.select(pl.col("code").unique())
        .with_columns(pl.col("code").str.replace_all(r"[.\s]", "").str.to_uppercase().alias("normal"))
        .join(
            c.dx_to_cc.select("diagnosis_code", "code_id", "cc"), left_on="normal", right_on="diagnosis_code"
        )
        .select(
            "code",
            "code_id",
            "cc",
            pl.col("code_id").is_in(c.edits.get_column("code_id").implode()).alias("has_edit"),
        )
    )
    mapped = exploded.join(spellings, on="code", maintain_order="left").drop("code")
    # Age and sex edits: an "invalid" edit drops the diagnosis; an "override" maps it to another CC.
    edit_types = ["age", "mce_age"] if switch_edits else ["age"]
    ages = members.get_column("age")
    females = members.get_column("female")
    touched = mapped.filter("has_edit").drop("has_edit").join(c.edits, on="code_id")
    edited_part = (
        touched.with_columns(
            ages.gather(touched.get_column("_i")).alias("age"),
            females.gather(touched.get_column("_i")).alias("female"),
        )
        .with_columns(
            pl.when(pl.col("edit_type") == "sex")
            .then(pl.col("sex") == pl.when(pl.col("female")).then(pl.lit("2")).otherwise(pl.lit("1")))
            .when(pl.col("edit_type").is_in(edit_types))
            .then(
                (pl.col("age_max").is_not_null() & (pl.col("age") <= pl.col("age_max")))
                | (pl.col("age_min").is_not_null() & (pl.col("age") >= pl.col("age_min")))
            )
            .otherwise(pl.lit(False))
            .fill_null(False)
            .alias("applies")
        )
        .filter(~(pl.col("applies") & (pl.col("action") == "invalid")))
        .select(
            "_i",
            "code_id",
            pl.when(pl.col("applies") & (pl.col("action") == "override"))
            .then(pl.col("cc_override"))
            .otherwise(pl.col("cc"))
            .alias("cc"),
        )
    )
    # (member, CC) pairs packed into one sorted Int64: unique, group-by and filters take fast sorted paths.
    edited = pl.concat([mapped.filter(~pl.col("has_edit")).drop("has_edit"), edited_part]).select(
        _pack(pl.col("_i"), pl.col("cc")), "code_id"
    )
    keys = edited.get_column("k").sort().set_sorted().unique()
    ccs = pl.DataFrame({"k": keys}).with_columns(_unpack(pl.col("k")))
    if c.requirements.height:
        candidates = ccs.filter(pl.col("cc").is_in(c.requirements.get_column("cc").implode())).join(
            c.requirements, on="cc"
        )
        wanted = candidates.select(_pack(pl.col("_i"), pl.col("required"))).get_column("k")
        satisfied = candidates.filter(_in_sorted(keys, wanted))
        dropped = candidates.filter(~pl.col("k").is_in(satisfied.get_column("k").implode())).get_column("k")
        if dropped.len():
            ccs = ccs.filter(~pl.col("k").is_in(dropped.implode()))
    parents = ccs.filter(pl.col("cc").is_in(c.hierarchies.get_column("parent").implode()))
    removed = (
        parents.join(c.hierarchies, left_on="cc", right_on="parent")
        .select(_pack(pl.col("_i"), pl.col("child")))
        .get_column("k")
        .sort()
    )
    hccs = ccs.filter(~_in_sorted(removed, ccs.get_column("k"))).with_columns(pl.col("_i").set_sorted())
    hcc_seg = segment_codes.gather(hccs.get_column("_i"))
    hcc_slot = hcc_seg * MAX_CC + hccs.get_column("cc").cast(pl.Int64)

    # Sorted by member then CC, so each list comes out in numeric order without a sort.
    counted = (
        hccs.with_columns(c.hcc_values.gather(hcc_slot).alias("value"))
        .group_by("_i", maintain_order=True)
        .agg(pl.col("cc").alias("hcc_list"), pl.len().cast(pl.Int64).alias("n"), pl.col("value").sum())
    )
    disabled_rows = members.get_column("disabled").arg_true().cast(pl.UInt32)
    # Features: (member, term) for the terms the interactions use -- disease groups, single HCCs and
    # DISABLED -- each once (HCCs are unique per member, groups made so, DISABLED per member).
    term1s = c.interactions.get_column("term1")
    term2s = c.interactions.get_column("term2")
    used = pl.concat([term1s, term2s]).unique()
    group_keys = (
        hccs.join(c.groups, on="cc")
        .filter(pl.col("term").is_in(used.implode()))
        .select(_pack(pl.col("_i"), pl.col("term")))
        .get_column("k")
        .unique()
    )
    features = pl.concat(
        [
            pl.DataFrame({"k": group_keys}),
            hccs.filter(pl.col("cc").is_in(used.implode())).select("k"),
            counted.filter(pl.col("_i").is_in(disabled_rows.implode())).select(
                _pack(pl.col("_i"), pl.lit(DISABLED_TERM))
            ),
        ]
    ).with_columns(
        (pl.col("k") // (1 << SHIFT)).cast(pl.UInt32).alias("_i"),
        (pl.col("k") % (1 << SHIFT)).cast(pl.Int32).alias("term"),
    )
    second_keys = features.filter(pl.col("term").is_in(term2s.implode())).get_column("k")
    # One row per (member, interaction): term1 is fixed per interaction and features are unique.
    interactions = (
        features.filter(pl.col("term").is_in(term1s.implode()))
        .join(c.interactions.select("term1", "term2", "var_id"), left_on="term", right_on="term1")
        .filter(_pack(pl.col("_i"), pl.col("term2")).is_in(second_keys.implode()))
        .select("_i", "var_id")
    )
    inter_seg = segment_codes.gather(interactions.get_column("_i"))
    inter_slot = inter_seg * MAX_VARIABLES + interactions.get_column("var_id").cast(pl.Int64)
    interaction_sum = (
        interactions.select("_i", c.interaction_values.gather(inter_slot).alias("value"))
        .group_by("_i")
        .agg(pl.col("value").sum())
    )
    count_slot = segment_codes.gather(counted.get_column("_i")) * 16 + counted.get_column("n").clip(
        upper_bound=10
    )
    raf = members.select("key").join(
        demo_sum.select("key", "demo_value"), on="key", how="left", maintain_order="left"
    )
    total = raf.get_column("demo_value").fill_null(0).cast(pl.Int64)
    total = total.scatter(
        counted.get_column("_i"),
        total.gather(counted.get_column("_i"))
        + counted.get_column("value")
        + c.count_values.gather(count_slot),
    )
    total = total.scatter(
        interaction_sum.get_column("_i"),
        total.gather(interaction_sum.get_column("_i")) + interaction_sum.get_column("value"),
    )
    empty = pl.lit([], dtype=pl.List(pl.String))
    lists = pl.DataFrame({"_i": pl.int_range(0, n, dtype=pl.UInt32, eager=True)}).join(
        counted.select("_i", pl.col("hcc_list").cast(pl.List(pl.String))),
        on="_i",
        how="left",
        maintain_order="left",
    )
    out = pl.DataFrame(
        {
            "raf": total,
            "hccs": lists.select(pl.col("hcc_list").fill_null(empty)).to_series(),
            "key": members.get_column("key"),
        }
    )
    if explain:
        names = c.interactions.sort("var_id").get_column("variable")
        earned = pl.concat(
            [
                pl.DataFrame(
                    {
                        "_i": hccs.get_column("_i"),
                        "variable": hccs.select(pl.format("HCC{}", pl.col("cc"))).to_series(),
                        "paid": c.hcc_paid.gather(hcc_slot),
                    }
                ),
                pl.DataFrame(
                    {
                        "_i": interactions.get_column("_i"),
                        "variable": names.gather(interactions.get_column("var_id")),
                        "paid": c.interaction_paid.gather(inter_slot),
                    }
                ),
                pl.DataFrame(
                    {
                        "_i": counted.get_column("_i"),
                        "variable": counted.select(
                            pl.when(pl.col("n") >= 10)
                            .then(pl.lit("D10P"))
                            .otherwise(pl.format("D{}", pl.col("n")))
                        ).to_series(),
                        "paid": c.count_paid.gather(count_slot),
                    }
                ),
            ]
        ).filter("paid")
        per_member = earned.group_by("_i").agg(pl.col("variable").alias("disease_variables"))
        out = (
            out.with_columns(pl.int_range(0, n, dtype=pl.UInt32).alias("_i"))
            .join(per_member, on="_i", how="left", maintain_order="left")
            .join(demo_sum.select("key", "demo_variables"), on="key", how="left", maintain_order="left")
            .with_columns(
                pl.concat_list(
                    pl.col("demo_variables").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                    pl.col("disease_variables").fill_null(pl.lit([], dtype=pl.List(pl.String))),
                )
                .list.sort()
                .alias("variables")
            )
            .drop("demo_variables", "disease_variables", "_i")
        )

    def diagnoses() -> pl.DataFrame:
        kept = (
            edited.filter(pl.col("k").is_in(hccs.get_column("k").implode()))
            .unique(["k", "code_id"])
            .sort("k", "code_id")
            .with_columns(_unpack(pl.col("k")))
        )
        return pl.DataFrame(
            {
                "_i": kept.get_column("_i"),
                "hcc": kept.get_column("cc").cast(pl.String),
                "diagnosis_code": c.codes.gather(kept.get_column("code_id")),
            }
        )

    return out.drop("key"), diagnoses


def score(
    frame: pl.DataFrame,
    payment_year: int,
    model: str = "V28",
    *,
    payment: bool = True,
    switch_edits: bool = True,
    explain: bool = False,
) -> Scores:
    """Score every beneficiary of ``frame`` with ``model`` for ``payment_year`` (see the module docstring).

    With ``payment`` (the default) the payment year must have payment factors on file and ``model`` must
    be one of its blended models; the blend's other models are scored too. With ``explain`` the members
    frame gets a ``variables`` column. Raises :class:`ScoreInputError` for a malformed frame and
    :class:`~openipa.risk.engine.tables.TableError` for a year or model without tables.
    """
    validate_frame(frame)
    keyed = _profile_key(frame, payment_year)
    unborn = keyed.get_column("age").lt(0).arg_true()
    if unborn.len():
        row = int(unborn[0])
        raise ScoreInputError(
            f"row {row}, column date_of_birth: {frame['date_of_birth'][row]} is after February 1, {payment_year}"
        )
    demo = _demographics(_profiles(keyed.get_column("key")))
    members = keyed.join(
        demo.select("key", "segment", "category", "female", "disabled"),
        on="key",
        how="left",
        maintain_order="left",
    )
    scored, diagnoses = _model_scores(frame, members, demo, payment_year, model, switch_edits, explain)
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
                scored = scored.with_columns(pl.col("raf").alias(column))
            else:
                other, _ = _model_scores(
                    frame, members, demo, payment_year, factor.model, switch_edits, False
                )
                scored = scored.with_columns(other.get_column("raf").alias(column))
            normalized = _round_div(pl.col(column) * 1000, factor.normalization_factor)
            blended = blended + normalized * factor.blend_weight
        coding = {f.coding_adjustment for f in factors}
        if len(coding) != 1:
            raise TableError(
                f"payment year {payment_year}: the blended models have different coding adjustments"
            )
        cpa = coding.pop()
        payment_raf = _round_div(_round_div(blended, 1000) * (1000 - cpa), 1000)
    ids = frame.get_column("member_id")
    columns = ["member_id", "age", "segment", "category", "raf", "payment_raf", "hccs"]
    out = pl.concat(
        [
            members.select("age", pl.col("segment").cast(pl.String), "category"),
            scored.with_columns(payment_raf.alias("payment_raf")),
        ],
        how="horizontal",
    ).with_columns(ids.alias("member_id"))
    out = out.select(*columns, *(["variables"] if explain else []))

    def named_diagnoses() -> pl.DataFrame:
        found = diagnoses()
        return found.select(ids.gather(found.get_column("_i")).alias("member_id"), "hcc", "diagnosis_code")

    return Scores(members=out, _diagnoses=named_diagnoses)
