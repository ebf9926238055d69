"""The CMS-HCC ESRD model V24 (dialysis, functioning graft, kidney transplant): raw risk scores for a frame of
beneficiaries, pure Polars (joins and group-bys, no per-member Python loop). No Django.

Input: the columns of ``score.py`` (member_id, date_of_birth, sex, orec, medicaid, diagnosis_codes; optional
lti, new_enrollee) plus two OPTIONAL columns:

    crec          String: current reason for entitlement "0".."3" (absent or null: not ESRD by it)
    graft_months  Int: months since a kidney transplant (absent or null: no transplant, i.e. dialysis
                  when the member has ESRD)

The steps are hccinfhir's (``model_demographics``, ``model_hierarchies``, ``model_interactions``,
``model_coefficients``), read as the reference:

* ESRD = orec in 2/3 or crec in 2/3. Segment (coefficient prefix): ESRD without graft_months: ``DI``
  (``DNE`` for a new enrollee); ESRD with graft_months: ``GI`` if institutional, else ``GNE`` for a new
  enrollee, else ``GF``/``GNP`` (full dual or not) + ``A``/``N`` (65 or over or not); not ESRD with
  graft_months 1-3: ``TRANSPLANT_KIDNEY_ONLY_<n>M``; otherwise the CMS-HCC prefix (which has no ESRD
  coefficient).
* CCs 134-137 removed, then the V24 ESRD hierarchies.
* Variables looked up as prefix + name (lower case); the functioning-graft terms ``FGC_*``, ``FGI_*`` and
  ``LTI_GE65``/``LTI_LT65`` without the prefix.

Where this reproduces a hccinfhir behaviour that differs from CMS's model, docs/risk-adjustment.md says so.
Raw scores only: no ESRD normalization factor is held in payment_factors.csv.
"""

from __future__ import annotations

import polars as pl

from openipa.risk.engine import tables
from openipa.risk.engine.frame import ORECS, ScoreInputError, Scores, age_on_february_1, validate_frame

__all__ = ["ESRD_MODELS", "score_esrd", "scores", "validate_esrd_frame"]

ESRD_MODELS = ("ESRDV24",)
MODEL_NAME = "CMS-HCC ESRD Model V24"
REMOVED_CCS = ("134", "135", "136", "137")
ESRD_CODES = ("2", "3")
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
MEDICAID = tuple(f"{i:02d}" for i in range(1, 11))
NE_MEDICAID = ("01", "02", "03", "04", "05", "06", "08")
UNPREFIXED = ("fgc", "fgi")


def _files(payment_year: int) -> dict[str, str]:
    rows = {(int(r["payment_year"]), r["model"]): r for _, r in tables._own_rows("esrd_model_tables.csv")}
    row = rows.get((payment_year, "ESRDV24"))
    if row is None:
        years = sorted(y for y, _ in rows)
        raise tables.TableError(f"the ESRD model V24 has no tables for {payment_year} (years: {years})")
    return row


def _band(age: pl.Expr, detailed: pl.Expr) -> pl.Expr:
    grouped = (
        pl.when(age <= 34).then(pl.lit("0_34"))
        .when(age <= 44).then(pl.lit("35_44"))
        .when(age <= 54).then(pl.lit("45_54"))
        .when(age <= 59).then(pl.lit("55_59"))
        .when(age <= 64).then(pl.lit("60_64"))
        .when(age <= 69).then(pl.lit("65_69"))
        .when(age <= 74).then(pl.lit("70_74"))
        .when(age <= 79).then(pl.lit("75_79"))
        .when(age <= 84).then(pl.lit("80_84"))
        .when(age <= 89).then(pl.lit("85_89"))
        .when(age <= 94).then(pl.lit("90_94"))
        .otherwise(pl.lit("95_GT"))
    )  # fmt: skip
    single = (pl.col("age") == 64) & (pl.col("orec") == "0") | (pl.col("age") == 65)
    fine = (
        pl.when((age >= 60) & (age <= 64) & ~single).then(pl.lit("60_64"))
        .when(single).then(pl.lit("65"))
        .when(age <= 69).then(age.cast(pl.String))
        .otherwise(None)
    )  # fmt: skip
    return pl.when(detailed & (age >= 60) & (age <= 69)).then(fine).otherwise(grouped)


def _demographics(frame: pl.DataFrame, payment_year: int) -> pl.DataFrame:

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
    age = pl.col("age")
    esrd = pl.col("orec").is_in(ESRD_CODES) | pl.col("crec").is_in(ESRD_CODES).fill_null(False)
    d = d.with_columns(
        esrd.alias("esrd"),
        (age >= 65).alias("aged"),
        pl.col("medicaid").is_in(FULL_DUAL).alias("fbd"),
        pl.col("medicaid").is_in(PARTIAL_DUAL).alias("pbd"),
    )
    disabled = (age < 65) & (pl.col("orec") != "0")
    sex = pl.when(pl.col("female")).then(pl.lit("F")).otherwise(pl.lit("M"))
    ne = pl.when(pl.col("new_enrollee")).then(pl.lit("NE")).otherwise(pl.lit(""))
    d = d.with_columns(
        ((pl.col("orec") == "1") & ~disabled).alias("orig_disabled"),
        pl.concat_str(ne, sex, _band(age, pl.col("new_enrollee") & ~pl.col("esrd"))).alias("category"),
    )
    has_graft = pl.col("graft_months").is_not_null()
    community_graft = pl.concat_str(
        pl.lit("G"),
        pl.when(pl.col("fbd")).then(pl.lit("F")).otherwise(pl.lit("NP")),
        pl.when(pl.col("aged")).then(pl.lit("A")).otherwise(pl.lit("N")),
        pl.lit("_"),
    )
    cms = pl.concat_str(
        pl.lit("C"),
        pl.when(pl.col("fbd")).then(pl.lit("F")).when(pl.col("pbd")).then(pl.lit("P")).otherwise(pl.lit("N")),
        pl.when(pl.col("aged")).then(pl.lit("A")).otherwise(pl.lit("D")),
        pl.lit("_"),
    )
    prefix = (
        pl.when(pl.col("esrd") & has_graft & pl.col("lti")).then(pl.lit("GI_"))
        .when(pl.col("esrd") & has_graft & pl.col("new_enrollee")).then(pl.lit("GNE_"))
        .when(pl.col("esrd") & has_graft).then(community_graft)
        .when(pl.col("esrd") & pl.col("new_enrollee")).then(pl.lit("DNE_"))
        .when(pl.col("esrd")).then(pl.lit("DI_"))
        .when(pl.col("graft_months").is_between(1, 3))
        .then(pl.concat_str(pl.lit("TRANSPLANT_KIDNEY_ONLY_"), pl.col("graft_months").cast(pl.String), pl.lit("M")))
        .when(pl.col("lti")).then(pl.lit("INS_"))
        .when(pl.col("new_enrollee")).then(pl.lit("NE_"))
        .otherwise(cms)
    )  # fmt: skip
    return d.with_columns(prefix.alias("prefix"))


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
        .join(demo.select("row", "age", "female"), on="row")
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
    """(row, name) for every interaction hccinfhir sets to 1 for the ESRD V24 model."""
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
    nemcaid = c("new_enrollee") & c("medicaid").is_in(NE_MEDICAID)
    ne_origds = (c("age") >= 65) & (c("orec") == "1")
    gm = c("graft_months").fill_null(0)
    dur4_9 = (gm >= 4) & (gm <= 9)
    dur10 = gm >= 10
    fbd, pbd = c("fbd"), c("pbd")
    cat = c("category")
    rules: list[tuple[str | pl.Expr, pl.Expr]] = [
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
        ("LTI_GE65", lti & c("aged")),
        ("LTI_LT65", lti & na),
        ("LTIMCAID", lti & mcaid),
        (pl.concat_str(pl.lit("NMCAID_NORIGDIS_"), cat), ~nemcaid & ~ne_origds),
        (pl.concat_str(pl.lit("MCAID_NORIGDIS_"), cat), nemcaid & ~ne_origds),
        (pl.concat_str(pl.lit("NMCAID_ORIGDIS_"), cat), ~nemcaid & ne_origds),
        (pl.concat_str(pl.lit("MCAID_ORIGDIS_"), cat), nemcaid & ne_origds),
        (pl.concat_str(pl.lit("FBD_NORIGDIS_"), cat), fbd & ~ne_origds),
        (pl.concat_str(pl.lit("FBD_ORIGDIS_"), cat), fbd & ne_origds),
        (pl.concat_str(pl.lit("ND_PBD_NORIGDIS_"), cat), ~fbd & ~ne_origds),
        (pl.concat_str(pl.lit("ND_PBD_ORIGDIS_"), cat), ~fbd & ne_origds),
        ("FBDual_Female_Aged", fbd & fem & c("aged")),
        ("FBDual_Female_NonAged", fbd & fem & na),
        ("FBDual_Male_Aged", fbd & male & c("aged")),
        ("FBDual_Male_NonAged", fbd & male & na),
        ("PBDual_Female_Aged", pbd & fem & c("aged")),
        ("PBDual_Female_NonAged", pbd & fem & na),
        ("PBDual_Male_Aged", pbd & male & c("aged")),
        ("PBDual_Male_NonAged", pbd & male & na),
    ]
    for setting, place in (("FGC", ~lti), ("FGI", lti)):
        for ages, older in (("GE65", c("aged")), ("LT65", na)):
            for dur, when in (("DUR4_9", dur4_9), ("DUR10PL", dur10)):
                rules.append((f"{setting}_{ages}_{dur}_ND_PBD", ~fbd & when & older & place))
                rules.append((f"{setting}_{ages}_{dur}_FBD", fbd & when & older & place))
            rules.append((f"{setting}_PBD_{ages}_flag", ~fbd & pbd & (gm >= 4) & older & place))
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
    names = [
        pl.when(cond).then(pl.lit(name) if isinstance(name, str) else name).otherwise(None)
        for name, cond in rules
    ]
    return d.select("row", pl.concat_list(names).alias("name")).explode("name").drop_nulls("name")


def validate_esrd_frame(frame: pl.DataFrame) -> None:
    """``score.validate_frame`` plus the ESRD columns: crec "0".."3" or null (String), graft_months a
    non-negative integer or null. Raises ``ScoreInputError`` naming the row and column."""

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
        bad = frame.select((pl.col("graft_months") < 0).fill_null(False).arg_true()).to_series()
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
    raf, payment_raf, hccs[, variables]; diagnoses). No ESRD normalization factor is on file, so
    ``payment=True`` is refused (raw scores only, as for RxHCC)."""

    if model not in ESRD_MODELS:
        raise tables.TableError(f"unknown ESRD model {model!r} (known: {', '.join(ESRD_MODELS)})")
    if payment:
        raise tables.TableError(
            f"payment year {payment_year}: no normalization factor on file for {model} (payment_factors.csv "
            "holds none for the ESRD model); raw scores only (payment=False)"
        )
    validate_esrd_frame(frame)
    unborn = frame.select(
        (age_on_february_1(pl.col("date_of_birth"), payment_year) < 0).arg_true()
    ).to_series()
    if unborn.len():
        row = int(unborn[0])
        raise ScoreInputError(
            f"row {row}, column date_of_birth: {frame['date_of_birth'][row]} is after February 1, {payment_year}"
        )
    members = score_esrd(frame, payment_year, model, switch_edits=switch_edits).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("payment_raf")
    )
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


def score_esrd(
    frame: pl.DataFrame, payment_year: int, model: str = "ESRDV24", *, switch_edits: bool = True
) -> pl.DataFrame:
    """One row per input row, in input order: member_id, age, segment (the coefficient prefix without its
    trailing underscore), category, raf (Int64 thousandths, the raw score), hccs (List(String)), variables
    (List(String): the coefficient names that contributed, lower case)."""
    if model not in ESRD_MODELS:
        raise tables.TableError(f"unknown ESRD model {model!r} (known: {', '.join(ESRD_MODELS)})")
    validate_esrd_frame(frame)
    files = _files(payment_year)
    coefficients = tables._coefficients(
        files["coefficients_file"], "ESRD", files["coefficients_version"], duplicates="refuse"
    )
    demo = _demographics(frame, payment_year)
    ccs, _ = _ccs(frame, demo, files, switch_edits)
    inter = _interactions(demo, ccs)
    prefix = demo.select("row", "prefix")
    hcc_keys = ccs.join(prefix, on="row").select(
        "row", pl.concat_str("prefix", pl.lit("HCC"), "cc").str.to_lowercase().alias("variable")
    )
    lower = pl.col("name").str.to_lowercase()
    bare = lower.str.starts_with("fgc") | lower.str.starts_with("fgi") | lower.is_in(["lti_ge65", "lti_lt65"])
    inter_keys = inter.join(prefix, on="row").select(
        "row",
        pl.when(bare)
        .then(lower)
        .otherwise(pl.concat_str("prefix", "name").str.to_lowercase())
        .alias("variable"),
    )
    demo_keys = demo.select("row", pl.concat_str("prefix", "category").str.to_lowercase().alias("variable"))
    terms = pl.concat([demo_keys, hcc_keys, inter_keys]).unique().join(coefficients, on="variable")
    sums = terms.group_by("row").agg(
        pl.col("value").sum().alias("raf"), pl.col("variable").sort().alias("variables")
    )
    hccs = ccs.group_by("row").agg(pl.col("cc").sort_by(pl.col("cc").cast(pl.Int32)).alias("hccs"))
    return (
        demo.select(
            "row", "member_id", "age", pl.col("prefix").str.strip_suffix("_").alias("segment"), "category"
        )
        .join(sums, on="row", how="left")
        .join(hccs, on="row", how="left")
        .sort("row")
        .select(
            "member_id",
            "age",
            "segment",
            "category",
            pl.col("raf").fill_null(0),
            pl.col("hccs").fill_null([]),
            pl.col("variables").fill_null([]),
        )
    )
