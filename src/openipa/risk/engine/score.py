"""CMS-HCC (Part C) and RxHCC (Part D) risk scores for a frame of beneficiaries: pure and vectorized (Polars joins and group-bys, no
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
              new enrollee in a special needs plan), low_income (Boolean, Part D low-income subsidy;
              RxHCC segments only) -- absent columns mean False

Public API::

    score(frame, payment_year, model="V28", *, payment=True, switch_edits=True) -> Scores
    validate_frame(frame) -> None          # raises ScoreInputError naming the row and column
    format_thousandths(expr) -> pl.Expr    # Int64 thousandths -> "1.234"
    age_on_february_1(dob_expr, payment_year) -> pl.Expr

``model``: "V28", "V24" (CMS-HCC) or "RxV08" (RxHCC V08), per ``model_tables.csv``.

``Scores.members``: member_id, age (as of February 1 of the payment year), segment (CNA, CND, CFA, CFD,
CPA, CPD, INS, NE, SNPNE; for RxHCC Rx_CE_LowAged, Rx_CE_NoLowAged, Rx_CE_LowNoAged, Rx_CE_NoLowNoAged,
Rx_CE_LTI, Rx_NE_Lo, Rx_NE_NoLo, Rx_NE_LTI), category (demographic cell, e.g. F70_74), raf (Int64 thousandths: the model's
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

from openipa.risk.engine import esrd
from openipa.risk.engine.frame import (
    DUAL_CODES,
    FULL_DUAL,
    MEDICAID,
    NEW_ENROLLEE_MEDICAID,
    OPTIONAL,
    ORECS,
    PARTIAL_DUAL,
    REQUIRED,
    SEXES,
    ScoreInputError,
    Scores,
    _any_problem,
    _check_schema,
    _raise_first_problem,
    _round_div,
    age_on_february_1,
    format_thousandths,
    validate_frame,
)
from openipa.risk.engine.tables import TableError, domain_of, load_model, payment_factors

__all__ = [
    "DUAL_CODES",
    "FULL_DUAL",
    "MEDICAID",
    "NEW_ENROLLEE_MEDICAID",
    "OPTIONAL",
    "ORECS",
    "PARTIAL_DUAL",
    "REQUIRED",
    "SEXES",
    "ScoreInputError",
    "Scores",
    "age_on_february_1",
    "format_thousandths",
    "score",
    "validate_frame",
]

SEGMENTS = ("CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE", "SNPNE")
SEGMENT = pl.Enum(SEGMENTS)
RX_SEGMENTS = (
    "Rx_CE_LowAged",
    "Rx_CE_NoLowAged",
    "Rx_CE_LowNoAged",
    "Rx_CE_NoLowNoAged",
    "Rx_CE_LTI",
    "Rx_NE_Lo",
    "Rx_NE_NoLo",
    "Rx_NE_LTI",
)
RX_SEGMENT = pl.Enum(RX_SEGMENTS)
NONAGED_TERM = 1_999
"""The NONAGED interaction term (RxHCC): above every CC number, below the disease groups."""
DISABLED_TERM = 0
"""Interaction terms are small integers: an HCC's number, a disease group's GROUP_BASE + n, or 0 for DISABLED."""
GROUP_BASE = 2_000
SHIFT = 16
"""Member-and-CC pairs are packed into one integer, (row << shift) | cc, for fast sorts, unique and filters:
a UInt32 with a shift of CC_BITS while the rows allow it (up to 4,194,304 members: half the memory traffic of
an Int64), else an Int64 with a shift of SHIFT."""
CC_BITS = 10
MAX_CC = 1_024
MAX_VARIABLES = 64
EDIT_KINDS = {"sex": 1, "age": 2, "mce_age": 3}


def _profile_key(frame: pl.DataFrame, payment_year: int) -> pl.LazyFrame:
    """(_i, key, age): the row index and one integer per demographic profile (age, sex, OREC, dual code,
    institutional, new enrollee, SNP); members of one profile share every demographic variable."""
    flags = [
        (pl.col(c) if c in frame.columns else pl.lit(False)).fill_null(False).cast(pl.Int64).alias(c)
        for c in OPTIONAL
    ]
    age = age_on_february_1(pl.col("date_of_birth"), payment_year).alias("age")
    return (
        frame.lazy()
        .select(
            pl.int_range(0, pl.len(), dtype=pl.UInt32).alias("_i"),
            age,
            pl.col("sex").is_in(["F", "2"]).cast(pl.Int64).alias("_female"),
            pl.col("orec").cast(pl.Int64, strict=False).alias("_orec"),  # bad codes: refused by the checks
            pl.col("medicaid").cast(pl.Int64, strict=False).alias("_medicaid"),
            *flags,
        )
        .select(
            "_i",
            "age",
            (
                (
                    (
                        ((pl.col("age").cast(pl.Int64) * 2 + pl.col("_female")) * 4 + pl.col("_orec")) * 11
                        + pl.col("_medicaid")
                    )
                    * 16
                )
                + pl.col("lti") * 8
                + pl.col("new_enrollee") * 4
                + pl.col("snp") * 2
                + pl.col("low_income")
            ).alias("key"),
        )
    )


def _profiles(keys: pl.Series) -> pl.DataFrame:
    """Decode the distinct profile keys into the columns :func:`_demographics` reads."""
    k = pl.col("key")
    return (
        pl.DataFrame({"key": keys.unique()})
        .with_columns(
            (k % 2 == 1).alias("low_income"),
            (k // 2 % 2 == 1).alias("snp"),
            (k // 4 % 2 == 1).alias("new_enrollee"),
            (k // 8 % 2 == 1).alias("lti"),
            (k // 16 % 11).cast(pl.String).str.zfill(2).alias("medicaid"),
            (k // 176 % 4).cast(pl.String).alias("orec"),
            (k // 704 % 2 == 1).alias("female"),
            (k // 1408).cast(pl.Int32).alias("age"),
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
        # RxHCC (hccinfhir's get_coefficent_prefix): institutional, new enrollee by low-income subsidy,
        # community by low income and age.
        pl.when(pl.col("lti") & pl.col("new_enrollee"))
        .then(pl.lit("Rx_NE_LTI"))
        .when(pl.col("lti"))
        .then(pl.lit("Rx_CE_LTI"))
        .when(pl.col("new_enrollee"))
        .then(pl.when(pl.col("low_income")).then(pl.lit("Rx_NE_Lo")).otherwise(pl.lit("Rx_NE_NoLo")))
        .otherwise(
            pl.concat_str(
                pl.lit("Rx_CE_"),
                pl.when(pl.col("low_income")).then(pl.lit("Low")).otherwise(pl.lit("NoLow")),
                pl.when(age >= 65).then(pl.lit("Aged")).otherwise(pl.lit("NoAged")),
            )
        )
        .cast(RX_SEGMENT)
        .alias("rx_segment"),
        (age < 65).alias("non_aged"),
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

    segment_column: str  # "segment" (CMS-HCC) or "rx_segment" (RxHCC): the members' column of this model
    dx_to_cc: pl.DataFrame  # diagnosis_code, code_id, cc (Int32)
    codes: pl.Series  # diagnosis_code by code_id
    code_enum: pl.Enum  # the codes in code_id order: a cast to it and to_physical() yields the code_id
    by_code: pl.DataFrame  # one row per code_id: cc1, cc2 (null unless a second CC), the edit (or nulls)
    cc_names: pl.Series  # "0", "1", ... by CC number (list elements are gathered, not cast)
    hierarchy_words: tuple[tuple[pl.Series, pl.Series], ...]
    """Per word of up to 62 parent CCs: (the bit of each parent CC, the OR of each child CC's parents'
    bits), both indexed by CC number."""
    requirements: pl.DataFrame  # cc, required (Int32)
    hierarchies: pl.DataFrame  # parent, child (Int32)
    groups: pl.DataFrame  # cc, term (Int32: GROUP_BASE + group number)
    interactions: pl.DataFrame  # term1, term2, var_id (Int32), variable
    cc_term_bits: pl.Series  # by CC number: the OR of the bits of the interaction terms it is part of
    disabled_bit: int  # the DISABLED term's bit (0 when no interaction uses it)
    nonaged_bit: int  # the NONAGED term's bit (likewise)
    interaction_masks: tuple[tuple[int, int], ...]  # by var_id: the bits of term1 and term2
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


def _hierarchy_words(hierarchies: pl.DataFrame) -> tuple[tuple[pl.Series, pl.Series], ...]:
    parents = sorted(set(hierarchies.get_column("parent").cast(pl.Int64).to_list()))
    words = []
    for start in range(0, len(parents), 62):
        bit_of = {parent: 1 << j for j, parent in enumerate(parents[start : start + 62])}
        parent_bits = [0] * MAX_CC
        child_masks = [0] * MAX_CC
        for parent, child in hierarchies.select(pl.all().cast(pl.Int64)).iter_rows():
            if parent in bit_of:
                parent_bits[parent] = bit_of[parent]
                child_masks[child] |= bit_of[parent]
        words.append((pl.Series(parent_bits, dtype=pl.Int64), pl.Series(child_masks, dtype=pl.Int64)))
    return tuple(words)


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
    for name, numbers in (
        ("an override CC", edits.get_column("cc_override")),
        ("a required CC", t.requirements.get_column("required")),
        ("a conditional CC", t.requirements.get_column("cc")),
    ):
        if numbers.len() and (numbers.cast(pl.Int64).max() or 0) >= MAX_CC:  # type: ignore[operator]
            raise TableError(f"{model} {payment_year}: {name} numbered {MAX_CC} or more")
    per_code = dx_to_cc.sort("code_id", "cc").group_by("code_id", maintain_order=True).agg(pl.col("cc"))
    if per_code.get_column("cc").list.len().max() > 2:  # type: ignore[operator]
        raise TableError(f"{model} {payment_year}: a diagnosis mapping to more than two CCs")
    # Edits are unique per code (tables.py refuses a second one), so they become columns by code_id.
    by_code = (
        codes.select("code_id")
        .join(per_code, on="code_id", how="left", maintain_order="left")
        .join(edits, on="code_id", how="left", maintain_order="left")
        .select(
            pl.col("cc").list.get(0).alias("cc1"),
            pl.col("cc").list.get(1, null_on_oob=True).alias("cc2"),
            pl.col("edit_type").is_not_null().alias("has_edit"),
            pl.col("edit_type").replace_strict(EDIT_KINDS, default=None, return_dtype=pl.Int8).alias("kind"),
            (pl.col("sex") == "2").alias("edit_female"),
            "age_min",
            "age_max",
            (pl.col("action") == "invalid").alias("invalid"),
            (pl.col("action") == "override").alias("override"),
            "cc_override",
        )
    )
    group_names = sorted(set(t.groups["group"].to_list()))
    group_id = {name: GROUP_BASE + i for i, name in enumerate(group_names)}

    def term(name: str) -> int:
        if name == "DISABLED":
            return DISABLED_TERM
        if name == "NONAGED":
            return NONAGED_TERM
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
    groups = (
        t.groups.select(
            pl.col("cc").cast(pl.Int32),
            pl.col("group").replace_strict(group_id, return_dtype=pl.Int32).alias("term"),
        )
        if group_id  # (an empty mapping leaves the column a String)
        else pl.DataFrame(schema={"cc": pl.Int32, "term": pl.Int32})
    )
    rx = t.domain == "RxHCC"
    segments, segment_enum = (RX_SEGMENTS, RX_SEGMENT) if rx else (SEGMENTS, SEGMENT)
    prefixes = sorted((seg.lower() + "_" for seg in segments), key=len, reverse=True)
    prefix_expr = pl.lit(None, dtype=pl.String)
    for prefix in reversed(prefixes):  # the longest prefix (snpne_ before ne_) wins
        prefix_expr = (
            pl.when(pl.col("variable").str.starts_with(prefix)).then(pl.lit(prefix)).otherwise(prefix_expr)
        )
    split = (
        t.coefficients.with_columns(prefix_expr.alias("prefix"))
        .drop_nulls("prefix")
        .select(
            pl.col("prefix")
            .str.strip_suffix("_")
            .replace_strict({seg.lower(): seg for seg in segments}, return_dtype=pl.String)
            .cast(segment_enum)
            .alias("segment"),
            pl.col("variable").str.slice(pl.col("prefix").str.len_chars()).alias("rest"),
            "value",
        )
    )
    seg = pl.col("segment").to_physical().cast(pl.Int64)
    word = "rxhcc" if rx else "hcc"
    hcc = split.filter(pl.col("rest").str.contains(rf"^{word}[0-9]+$")).with_columns(
        pl.col("rest").str.slice(len(word)).cast(pl.Int64).alias("cc")
    )
    counts = split.filter(pl.col("rest").str.contains(r"^d([0-9]|10p)$")).with_columns(
        pl.col("rest").str.slice(1).str.replace("p", "", literal=True).cast(pl.Int64).alias("n")
    )
    paired = split.join(
        interactions.select("var_id", pl.col("variable").str.to_lowercase().alias("rest")), on="rest"
    )
    hcc_values, hcc_paid = _lookup(
        hcc.filter(pl.col("cc") < MAX_CC), seg * MAX_CC + pl.col("cc"), len(segments) * MAX_CC
    )
    interaction_values, interaction_paid = _lookup(
        paired, seg * MAX_VARIABLES + pl.col("var_id"), len(segments) * MAX_VARIABLES
    )
    count_values, count_paid = _lookup(counts, seg * 16 + pl.col("n"), len(segments) * 16)
    used = sorted(
        set(interactions.get_column("term1").to_list() + interactions.get_column("term2").to_list())
    )
    if len(used) > 62:
        raise TableError(f"{model}: more than 62 distinct interaction terms")
    bit_of = {term: 1 << j for j, term in enumerate(used)}
    cc_term_bits = [0] * MAX_CC
    for used_term in used:
        if used_term < MAX_CC:  # an HCC's own number (as the CC of a member's HCC)
            cc_term_bits[used_term] |= bit_of[used_term]
    for cc, group_term in groups.iter_rows():
        if group_term in bit_of:
            cc_term_bits[cc] |= bit_of[group_term]
    return _Coded(
        segment_column="rx_segment" if rx else "segment",
        cc_term_bits=pl.Series(cc_term_bits, dtype=pl.Int64),
        disabled_bit=bit_of.get(DISABLED_TERM, 0),
        nonaged_bit=bit_of.get(NONAGED_TERM, 0),
        interaction_masks=tuple(
            (bit_of[t1], bit_of[t2])
            for t1, t2 in interactions.sort("var_id").select("term1", "term2").iter_rows()
        ),
        hierarchy_words=_hierarchy_words(t.hierarchies),
        dx_to_cc=dx_to_cc,
        codes=codes.get_column("diagnosis_code"),
        code_enum=pl.Enum(codes.get_column("diagnosis_code")),
        by_code=by_code,
        cc_names=pl.int_range(0, MAX_CC, eager=True).cast(pl.String),
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


def _running(values: pl.Series) -> pl.Series:
    """0 then the running total of ``values`` (Int64): the sum over rows a..b-1 is r[b] - r[a]."""
    return pl.concat([pl.Series([0], dtype=pl.Int64), values.cast(pl.Int64).cum_sum()], rechunk=True)


def _bounds(member_of: pl.Series, n: int) -> pl.Series:
    """For member numbers sorted ascending, n + 1 offsets: member m's rows are bounds[m]..bounds[m+1]-1."""
    runs = member_of.rle().struct.unnest()
    counts = pl.repeat(0, n, dtype=pl.Int64, eager=True).scatter(
        runs.get_column("value"), runs.get_column("len")
    )
    return _running(counts)


def _key_layout(n: int) -> tuple[int, pl.DataType]:
    """(shift, dtype) of the packed keys for ``n`` members (CC numbers are below MAX_CC = 1 << CC_BITS)."""
    return (CC_BITS, pl.UInt32()) if n <= 1 << (32 - CC_BITS) else (SHIFT, pl.Int64())


def _pack(i: pl.Expr, value: pl.Expr, layout: tuple[int, pl.DataType]) -> pl.Expr:
    shift, dtype = layout
    return (i.cast(dtype) * (1 << shift) + value.cast(dtype)).alias("k")


def _unpack(k: pl.Expr, layout: tuple[int, pl.DataType]) -> list[pl.Expr]:
    shift = layout[0]
    return [(k // (1 << shift)).cast(pl.UInt32).alias("_i"), (k % (1 << shift)).cast(pl.Int32).alias("cc")]


def _flat_codes(frame: pl.DataFrame, c: _Coded) -> pl.LazyFrame:
    """(_i, code, code_id): one row per diagnosis. A code spelled as in the table (upper case, no dot) is its
    code_id by one Enum cast; the others (code_id null) are normalised later, once per distinct spelling."""
    return (
        frame.lazy()
        .select(
            pl.int_range(0, pl.len(), dtype=pl.UInt32).alias("_i"), pl.col("diagnosis_codes").alias("code")
        )
        .explode("code")
        .with_columns(pl.col("code").cast(c.code_enum, strict=False).to_physical().alias("code_id"))
    )


def _model_scores(
    frame: pl.DataFrame,
    members: pl.DataFrame,
    demo: pl.DataFrame,
    payment_year: int,
    model: str,
    switch_edits: bool,
    explain: bool,
    flat: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, Callable[[], pl.DataFrame]]:
    """Raw scores of one model (``flat``: :func:`_flat_codes` of this model when already collected).

    ``members``: _i, key, profile (its row in ``demo``), age, segment, female, disabled (one row per input
    row, in order); ``demo``: the profiles. Returns (raf, hccs[, variables]) in input order, and a function building
    (_i, hcc, diagnosis_code).
    """
    c = _coded(payment_year, model)
    n = members.height
    # Demographic variables: per profile, then shared by its members.
    demo_vars = (
        _demographic_variables(demo)
        .join(demo.select("key", pl.col(c.segment_column).alias("segment")), on="key")
        .with_columns(pl.col("variable").str.to_lowercase().alias("lower"))
        .join(c.other_values, left_on=["segment", "lower"], right_on=["segment", "variable"], how="inner")
    )
    demo_sum = demo_vars.group_by("key").agg(
        pl.col("value").sum().alias("demo_value"), pl.col("variable").alias("demo_variables")
    )
    segment_codes = members.get_column(c.segment_column).to_physical().cast(pl.Int64)

    if flat is None:
        flat = _flat_codes(frame, c).collect()
    found = flat.filter(pl.col("code_id").is_not_null()).select("_i", pl.col("code_id").cast(pl.UInt32))
    missed = flat.filter(pl.col("code_id").is_null() & pl.col("code").is_not_null())
    if missed.height:
        spellings = (
            missed.select(pl.col("code").unique())
            .with_columns(
                pl.col("code")
                .str.replace_all(r"[.\s]", "")
                .str.to_uppercase()
                .cast(c.code_enum, strict=False)
                .to_physical()
                .cast(pl.UInt32)
                .alias("code_id")
            )
            .drop_nulls("code_id")
        )
        if spellings.height:
            fixed = missed.select("_i", "code").join(spellings, on="code").select("_i", "code_id")
            found = pl.concat([found, fixed])
    by_code = c.by_code
    # Gathered by code id as expressions: the three columns in parallel.
    mapped = found.with_columns(
        pl.lit(by_code.get_column(name)).gather(pl.col("code_id")).alias(alias)
        for name, alias in (("cc1", "cc"), ("cc2", "cc2"), ("has_edit", "has_edit"))
    )
    second = mapped.filter(pl.col("cc2").is_not_null())
    mapped = pl.concat(
        [
            mapped.select("_i", "code_id", "cc", "has_edit"),
            second.select("_i", "code_id", pl.col("cc2").alias("cc"), "has_edit"),
        ]
    )
    # Age and sex edits: an "invalid" edit drops the diagnosis; an "override" maps it to another CC.
    kinds = [EDIT_KINDS["age"], EDIT_KINDS["mce_age"]] if switch_edits else [EDIT_KINDS["age"]]
    touched = mapped.filter("has_edit").drop("has_edit")
    touched_ids = touched.get_column("code_id")
    touched_rows = touched.get_column("_i")
    edit = by_code.select("kind", "edit_female", "age_min", "age_max", "invalid", "override", "cc_override")
    edited_part = (
        pl.concat([touched, edit.select(pl.all().gather(touched_ids))], how="horizontal")
        .with_columns(
            members.get_column("age").gather(touched_rows).alias("age"),
            members.get_column("female").gather(touched_rows).alias("female"),
        )
        .with_columns(
            pl.when(pl.col("kind") == EDIT_KINDS["sex"])
            .then(pl.col("edit_female") == pl.col("female"))
            .when(pl.col("kind").is_in(kinds))
            .then(
                (pl.col("age_max").is_not_null() & (pl.col("age") <= pl.col("age_max")))
                | (pl.col("age_min").is_not_null() & (pl.col("age") >= pl.col("age_min")))
            )
            .otherwise(pl.lit(False))
            .fill_null(False)
            .alias("applies")
        )
        .filter(~(pl.col("applies") & pl.col("invalid")))
        .select(
            "_i",
            "code_id",
            pl.when(pl.col("applies") & pl.col("override"))
            .then(pl.col("cc_override"))
            .otherwise(pl.col("cc"))
            .alias("cc"),
        )
    )
    layout = _key_layout(n)
    # (member, CC) pairs packed into one sorted integer: unique, group-by and filters take fast sorted paths.
    edited = pl.concat([mapped.filter(~pl.col("has_edit")).drop("has_edit"), edited_part]).select(
        _pack(pl.col("_i"), pl.col("cc"), layout), "code_id"
    )
    keys = edited.get_column("k").sort().set_sorted().unique()
    cc_of = keys % (1 << layout[0])
    if c.requirements.height:
        needy = keys.filter(cc_of.is_in(c.requirements.get_column("cc").implode()))
        candidates = (
            pl.DataFrame({"k": needy})
            .with_columns(_unpack(pl.col("k"), layout))
            .join(c.requirements, on="cc")
        )
        wanted = candidates.select(_pack(pl.col("_i"), pl.col("required"), layout)).get_column("k")
        satisfied = candidates.filter(_in_sorted(keys, wanted))
        dropped = candidates.filter(~pl.col("k").is_in(satisfied.get_column("k").implode())).get_column("k")
        if dropped.len():
            # dropped keys are among the sorted unique keys: their positions by binary search
            keep = pl.repeat(True, keys.len(), dtype=pl.Boolean, eager=True)
            keys = keys.filter(keep.scatter(keys.search_sorted(dropped), False))
            cc_of = keys % (1 << layout[0])
    member_of = keys // (1 << layout[0])
    bounds = _bounds(member_of, n)
    # Hierarchies: per member, one bit per present parent CC (a member's CCs are unique, so the sum of
    # its bits over its sorted run is their OR); a CC is dropped when the member's bits meet the bits of
    # that CC's parents.
    dropped_by_parent = pl.repeat(False, keys.len(), dtype=pl.Boolean, eager=True)
    for parent_bits, child_masks in c.hierarchy_words:
        running = _running(parent_bits.gather(cc_of))
        member_bits = running.gather(bounds.slice(1, n)) - running.gather(bounds.slice(0, n))
        dropped_by_parent = dropped_by_parent | (
            (member_bits.gather(member_of) & child_masks.gather(cc_of)) != 0
        )
    if c.hierarchy_words:
        kept = ~dropped_by_parent
        bounds = _running(kept.cast(pl.Int64)).gather(bounds)
        keys = keys.filter(kept)
    hccs = (
        pl.DataFrame({"k": keys})
        .with_columns(_unpack(pl.col("k"), layout))
        .with_columns(pl.col("_i").set_sorted())
    )
    hcc_i = hccs.get_column("_i")
    hcc_seg = segment_codes.gather(hcc_i)
    hcc_slot = hcc_seg * MAX_CC + hccs.get_column("cc").cast(pl.Int64)

    # Sorted by member then CC: each member's HCCs are one run; sums of values are differences of a
    # running total (exact integers), and each list comes out in numeric order.
    starts, ends = bounds.slice(0, n), bounds.slice(1, n)
    hcc_count = ends - starts
    running = _running(c.hcc_values.gather(hcc_slot))
    hcc_sum = running.gather(ends) - running.gather(starts)
    with_hccs = (hcc_count > 0).arg_true().cast(pl.UInt32)
    # Interactions: per member, one bit per term the interactions use (disease groups, single HCCs,
    # DISABLED, NONAGED); an interaction is earned when the member's bits meet both of its terms' bits.
    # The HCC terms' bits are OR-ed over the member's HCCs (several HCCs may share a group), the member
    # flags are set for members with an HCC (no interaction without one).
    term_bits = c.cc_term_bits.gather(hccs.get_column("cc"))
    on = (term_bits != 0).arg_true()
    ored_lazy = (
        pl.LazyFrame({"_i": hcc_i.gather(on), "bits": term_bits.gather(on)})
        .with_columns(pl.col("_i").set_sorted())
        .group_by("_i", maintain_order=True)
        .agg(pl.col("bits").bitwise_or())
    )
    # Each member's list of HCC numbers (as text), in numeric order, an empty list without one: its run
    # of the sorted CCs, gathered by offsets (as integers, made text once). Independent of the
    # interactions' bits: collected together, in parallel, the lists in two halves of the members.
    all_ccs = pl.lit(pl.Series([hccs.get_column("cc")]))
    half = n // 2
    lists_lazy = [
        pl.LazyFrame().select(
            all_ccs.list.gather(
                pl.int_ranges(pl.lit(starts.slice(offset, length)), pl.lit(ends.slice(offset, length)))
            )
            .cast(pl.List(pl.String))
            .alias("hccs")
        )
        for offset, length in ((0, half), (half, n - half))
    ]
    ored, *halves = pl.collect_all([ored_lazy, *lists_lazy])
    hcc_lists = pl.concat(halves)
    bits = pl.repeat(0, n, dtype=pl.Int64, eager=True).scatter(ored.get_column("_i"), ored.get_column("bits"))
    has_hcc = hcc_count > 0
    for flag_bit, column in ((c.disabled_bit, "disabled"), (c.nonaged_bit, "non_aged")):
        if flag_bit:
            bits = bits | (members.get_column(column) & has_hcc).cast(pl.Int64) * flag_bit
    earners = (bits != 0).arg_true().cast(pl.UInt32)
    earner_bits = bits.gather(earners)
    interactions = pl.concat(
        [
            pl.DataFrame(
                {
                    "_i": earners.filter(((earner_bits & mask1) != 0) & ((earner_bits & mask2) != 0)),
                }
            ).with_columns(pl.lit(var_id, dtype=pl.Int32).alias("var_id"))
            for var_id, (mask1, mask2) in enumerate(c.interaction_masks)
        ]
        or [pl.DataFrame(schema={"_i": pl.UInt32, "var_id": pl.Int32})]
    )
    inter_seg = segment_codes.gather(interactions.get_column("_i"))
    inter_slot = inter_seg * MAX_VARIABLES + interactions.get_column("var_id").cast(pl.Int64)
    interaction_sum = (
        interactions.select("_i", c.interaction_values.gather(inter_slot).alias("value"))
        .group_by("_i")
        .agg(pl.col("value").sum())
    )
    all_count_slot = segment_codes * 16 + hcc_count.clip(upper_bound=10)  # slot n = 0 holds 0
    # The demographic sum per profile (in ``demo``'s row order), gathered by each member's profile.
    demo_value = (
        demo.select("key")
        .join(demo_sum.select("key", "demo_value"), on="key", how="left", maintain_order="left")
        .get_column("demo_value")
        .fill_null(0)
        .cast(pl.Int64)
    )
    total = demo_value.gather(members.get_column("profile")) + hcc_sum + c.count_values.gather(all_count_slot)
    if interaction_sum.height:
        total = total.scatter(
            interaction_sum.get_column("_i"),
            total.gather(interaction_sum.get_column("_i")) + interaction_sum.get_column("value"),
        )
    out = pl.DataFrame({"raf": total, "hccs": hcc_lists.to_series(), "key": members.get_column("key")})
    counted = pl.DataFrame({"_i": with_hccs, "n": hcc_count.gather(with_hccs)})
    count_slot = all_count_slot.gather(with_hccs)
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
            .with_columns(_unpack(pl.col("k"), layout))
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
    if model in esrd.ESRD_MODELS:  # the ESRD model (dialysis, graft, transplant): engine/esrd.py
        return esrd.scores(
            frame, payment_year, model, payment=payment, switch_edits=switch_edits, explain=explain
        )
    _check_schema(frame)
    coded = _coded(payment_year, model)  # an unknown year or model fails here
    segment_column = coded.segment_column
    # The checks, the demographic profile keys and the diagnosis lookups are independent: one parallel pass.
    problem, keyed, flat = pl.collect_all(
        [frame.lazy().select(_any_problem()), _profile_key(frame, payment_year), _flat_codes(frame, coded)]
    )
    if problem.item():
        _raise_first_problem(frame)
    unborn = keyed.get_column("age").lt(0).arg_true()
    if unborn.len():
        row = int(unborn[0])
        raise ScoreInputError(
            f"row {row}, column date_of_birth: {frame['date_of_birth'][row]} is after February 1, {payment_year}"
        )
    demo = _demographics(_profiles(keyed.get_column("key")))
    members = keyed.join(
        demo.with_row_index("profile").select(
            "key", "profile", "segment", "rx_segment", "category", "female", "disabled", "non_aged"
        ),
        on="key",
        how="left",
        maintain_order="left",
    )
    scored, diagnoses = _model_scores(frame, members, demo, payment_year, model, switch_edits, explain, flat)
    payment_raf: pl.Expr = pl.lit(None, dtype=pl.Int64)
    if payment:
        factors = payment_factors(payment_year, domain_of(model))
        if not factors:
            raise TableError(f"no payment factors for payment year {payment_year} in payment_factors.csv")
        if model not in {f.model for f in factors}:
            blend = ", ".join(f.model for f in factors)
            raise TableError(f"{model} is not a payment model in {payment_year} (the year blends: {blend})")
        unknown = [f.model for f in factors if f.normalization_factor is None]
        if unknown:
            raise TableError(
                f"payment year {payment_year}: no normalization factor on file for {', '.join(unknown)} "
                "(payment_factors.csv: not found in a readable source); raw scores only (payment=False)"
            )
        blended: pl.Expr = pl.lit(0, dtype=pl.Int64)
        for factor in factors:
            assert factor.normalization_factor is not None
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
            members.select("age", pl.col(segment_column).cast(pl.String).alias("segment"), "category"),
            scored.with_columns(payment_raf.alias("payment_raf")),
        ],
        how="horizontal",
    ).with_columns(ids.alias("member_id"))
    out = out.select(*columns, *(["variables"] if explain else []))

    def named_diagnoses() -> pl.DataFrame:
        found = diagnoses()
        return found.select(ids.gather(found.get_column("_i")).alias("member_id"), "hcc", "diagnosis_code")

    return Scores(members=out, _diagnoses=named_diagnoses)
