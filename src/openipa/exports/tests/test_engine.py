"""The pure Tuva mapping (no database): the column lists from the data file, exact money, the choices the
mapping makes (diagnoses, coverage on a date, attribution per month)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openipa.exports.engine import tuva

D = dt.date
STAMP = tuva.Stamp(open_end=D(2026, 4, 30))


def test_data_file_names_tuvas_tables_with_their_sources() -> None:
    layer = tuva.tables()
    assert list(layer) == ["eligibility", "medical_claim", "pharmacy_claim", "provider_attribution"]
    for name, table in layer.items():
        # each list was checked against one commit of Tuva's model file, named in full
        assert re.fullmatch(
            rf"https://github\.com/tuva-health/tuva/blob/[0-9a-f]{{40}}/models/input_layer/input_layer__{name}\.yml",
            table.source,
        )
        assert len(set(table.names)) == len(table.names)
        assert table.names.count("data_source") == 1
    assert [len(t.columns) for t in layer.values()] == [31, 148, 25, 15]
    assert layer["eligibility"].names[:4] == ["person_id", "member_id", "subscriber_id", "gender"]
    assert layer["eligibility"].names[-4:] == ["data_source", "file_name", "file_date", "ingest_datetime"]
    assert layer["pharmacy_claim"].names[:3] == ["claim_id", "claim_line_number", "person_id"]
    assert layer["provider_attribution"].names[:4] == ["person_id", "patient_id", "member_id", "year_month"]


def test_medical_claim_numbered_columns_are_complete_and_in_order() -> None:
    names = tuva.tables()["medical_claim"].names
    for stem, count in (("hcpcs_modifier_", 5), ("diagnosis_code_", 25), ("diagnosis_poa_", 25),
                        ("procedure_code_", 25), ("procedure_date_", 25)):  # fmt: skip
        found = [n for n in names if re.fullmatch(rf"{stem}\d+", n)]
        assert found == [f"{stem}{i}" for i in range(1, count + 1)]
        first = names.index(found[0])
        assert names[first : first + count] == found  # consecutive
    order = ["claim_id", "claim_line_number", "claim_type", "person_id", "member_id", "payer", "plan"]
    assert names[:7] == order
    money = ["paid_amount", "allowed_amount", "charge_amount", "coinsurance_amount", "copayment_amount",
             "deductible_amount", "total_cost_amount"]  # fmt: skip
    assert names[names.index("paid_amount") : names.index("paid_amount") + 7] == money
    kinds = dict(tuva.tables()["medical_claim"].columns)
    assert {kinds[m] for m in money} == {"amount"}
    assert kinds["claim_line_number"] == "integer"
    assert kinds["in_network_flag"] == "flag"


def test_conform_orders_fills_and_refuses_unknown_columns() -> None:
    table = tuva.tables()["provider_attribution"]
    out = tuva.conform(pl.DataFrame({"year_month": ["202601"], "person_id": ["openipa-1"]}), table)
    assert out.columns == table.names
    assert out.row(0, named=True)["person_id"] == "openipa-1"
    assert out["payer"].null_count() == 1
    with pytest.raises(ValueError, match="not in Tuva's input layer: \\['yearmonth'\\]"):
        tuva.conform(pl.DataFrame({"yearmonth": ["202601"]}), table)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**15), max_value=10**15), min_size=1, max_size=30))
def test_cents_become_exact_decimals(values: list[int]) -> None:
    out = pl.DataFrame({"c": values}, schema={"c": pl.Int64}).select(tuva.cents("c").alias("a"))
    texts = out["a"].cast(pl.String).to_list()
    assert texts == [f"{Decimal(v) / 100:.2f}" for v in values]
    assert all(Decimal(t).as_tuple().exponent == -2 for t in texts)
    assert out["a"].sum() == Decimal(sum(values)) / 100  # the parts sum to the whole, exactly


def _header(claim: int, diagnoses: str, **extra: Any) -> dict[str, Any]:
    base = {
        "claim_pk": claim, "kind": "professional", "member_id": 1, "payer_member_id": "X1", "member_payer": "Plan",
        "claim_from": D(2026, 2, 1), "claim_to": D(2026, 2, 1), "place_of_service": "11", "type_of_bill": "",
        "rendering_npi": "", "billing_npi": "1234567893", "billing_tin": "", "facility_npi": "",
        "diagnoses": diagnoses, "in_network": False, "file_name": None, "file_date": None, "ingested": None,
    }  # fmt: skip
    base.update(extra)
    return base


def _lines(claim: int) -> dict[str, Any]:
    return {
        "claim_pk": claim, "number": 1, "code": "99213", "modifiers": " 25, ,59 ", "revenue_code": "", "units": "1",
        "charge_cents": 100, "allowed_cents": None, "cost_share_cents": 0, "paid_cents": 0,
        "line_from": D(2026, 2, 1), "line_to": D(2026, 2, 1), "place_of_service": "", "rendering_npi": "",
        "paid_date": None,
    }  # fmt: skip


def _claims(headers: list[dict[str, Any]], spans: pl.DataFrame | None = None) -> pl.DataFrame:
    lines = pl.DataFrame([_lines(h["claim_pk"]) for h in headers])
    cover = tuva.coverage(spans if spans is not None else _spans([]))
    return tuva.medical_claim(pl.DataFrame(headers), lines, cover, STAMP)


def _spans(rows: list[tuple[int, D, D | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"member_id": m, "valid_from": a, "valid_to": b, "payer_name": "Plan", "product_name": p} for m, a, b, p in rows],
        schema={"member_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date, "payer_name": pl.String,
                "product_name": pl.String},
    )  # fmt: skip


def test_diagnoses_principal_first_icd9_and_admitting_left_out() -> None:
    many = ",".join(f'["ABF", "Z{i:03d}"]' for i in range(30))
    out = _claims([
        _header(1, '[["ABJ", "R05"], ["ABK", "E11.9"], ["APR", "R51"], ["ABF", "I10"]]'),
        _header(2, '[["BK", "25000"], ["BF", "4019"]]'),
        _header(3, "[]"),
        _header(4, f'[["ABK", "A000"], {many}]'),
    ])  # fmt: skip
    rows = {r["claim_id"]: r for r in out.to_dicts()}
    assert (rows["1"]["diagnosis_code_type"], rows["1"]["diagnosis_code_1"], rows["1"]["diagnosis_code_2"]) == (
        "icd-10-cm", "E119", "I10")  # fmt: skip
    assert rows["1"]["diagnosis_code_3"] is None
    assert (rows["2"]["diagnosis_code_type"], rows["2"]["diagnosis_code_1"]) == ("icd-9-cm", "25000")
    assert rows["3"]["diagnosis_code_type"] is None
    assert rows["3"]["diagnosis_code_1"] is None
    assert rows["4"]["diagnosis_code_1"] == "A000"
    assert rows["4"]["diagnosis_code_25"] == "Z023"  # 25 kept, the rest dropped
    # modifiers: blanks between commas dropped, order kept
    assert (rows["1"]["hcpcs_modifier_1"], rows["1"]["hcpcs_modifier_2"], rows["1"]["hcpcs_modifier_3"]) == (
        "25", "59", None)  # fmt: skip
    assert rows["1"]["in_network_flag"] is None


def test_plan_is_the_span_in_force_on_the_claim_date() -> None:
    spans = _spans(
        [(1, D(2026, 1, 1), D(2026, 1, 31), "January plan"), (1, D(2026, 3, 1), None, "March plan")]
    )
    out = _claims(
        [
            _header(1, "[]", claim_from=D(2026, 1, 31)),
            _header(2, "[]", claim_from=D(2026, 2, 15)),  # between spans: the member's payer, no plan
            _header(3, "[]", claim_from=D(2027, 6, 1)),
            _header(4, "[]", claim_from=D(2026, 2, 1), member_id=2, member_payer="Other"),
        ],
        spans,
    )
    got = {r["claim_id"]: (r["payer"], r["plan"]) for r in out.to_dicts()}
    assert got == {"1": ("Plan", "January plan"), "2": ("Plan", None), "3": ("Plan", "March plan"),
                   "4": ("Other", None)}  # fmt: skip


def _elig(rows: list[tuple[int, D, D | None, str]]) -> pl.DataFrame:
    spans = _spans(rows)
    return spans.with_columns(
        pl.lit("X").alias("payer_member_id"),
        pl.lit("medicare_advantage").alias("line_of_business"),
    )


def _pcp(rows: list[tuple[int, D, D | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"member_id": m, "valid_from": a, "valid_to": b, "npi": n, "practice_name": f"P{n}"} for m, a, b, n in rows],
        schema={"member_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date, "npi": pl.String,
                "practice_name": pl.String},
    )  # fmt: skip


def test_attribution_picks_the_pcp_with_most_days_and_the_later_on_a_tie() -> None:
    spans = _elig([(1, D(2026, 4, 1), D(2026, 6, 30), "HMO")])
    pcp = _pcp([
        (1, D(2026, 1, 1), D(2026, 4, 15), "A"),   # April: 15 days
        (1, D(2026, 4, 16), D(2026, 5, 16), "B"),  # April: 15 days (tie: the later wins); May: 16 days
        (1, D(2026, 5, 17), None, "C"),            # May: 15 days; June: all
    ])  # fmt: skip
    out = tuva.provider_attribution(spans, pcp, STAMP, first=None, last=None)
    assert [(r["year_month"], r["payer_attributed_provider"]) for r in out.to_dicts()] == [
        ("202604", "B"), ("202605", "B"), ("202606", "C")]  # fmt: skip
    assert set(out["payer_attributed_provider_lob"]) == {"medicare"}


def test_attribution_months_window_and_no_pcp() -> None:
    spans = _elig([(1, D(2026, 1, 20), None, "HMO"), (2, D(2026, 3, 1), D(2026, 3, 1), "HMO")])
    out = tuva.provider_attribution(spans, _pcp([]), STAMP, first=D(2026, 2, 1), last=None)
    got = [(r["person_id"], r["year_month"], r["payer_attributed_provider"]) for r in out.to_dicts()]
    assert got == [("openipa-1", "202602", None), ("openipa-1", "202603", None), ("openipa-1", "202604", None),
                   ("openipa-2", "202603", None)]  # fmt: skip
    assert out["payer_attributed_provider_lob"].null_count() == out.height


def test_open_span_ends_at_the_open_end_never_before_it_starts() -> None:
    spans = _elig([(1, D(2026, 1, 1), None, "HMO"), (2, D(2026, 7, 1), None, "HMO")]).with_columns(
        pl.lit("F").alias("sex"), pl.lit("Q").alias("first_name"), pl.lit("Z").alias("last_name"),
        pl.lit(None, pl.Date).alias("birth_date"), pl.lit(D(2026, 2, 3)).alias("death_date"),
        *(pl.lit("").alias(c) for c in ("address", "city", "state", "zip_code", "phone")),
        pl.lit("0").alias("orec"), pl.lit("00").alias("dual_status"), pl.lit(None, pl.String).alias("file_name"),
        pl.lit(None, pl.Date).alias("file_date"), pl.lit("2026-01-02 03:04:05.678+00").alias("ingested"),
    )  # fmt: skip
    out = tuva.eligibility(spans, STAMP).to_dicts()
    assert [(r["enrollment_start_date"], r["enrollment_end_date"]) for r in out] == [
        (D(2026, 1, 1), D(2026, 4, 30)), (D(2026, 7, 1), D(2026, 7, 1))]  # fmt: skip
    assert out[0]["death_flag"] == 1
    assert out[0]["address"] is None  # blank is null, not an empty string
    assert out[0]["ingest_datetime"] == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert out[0]["gender"] == "female"


def test_pharmacy_reversal_cancels_only_its_own_fill() -> None:
    base = {"member_id": 1, "payer_member_id": "X1", "member_payer": "Plan", "ndc": "00000000001",
            "fill_date": D(2026, 2, 1), "days_supply": 30, "quantity": "30", "prescriber_npi": "",
            "pharmacy_npi": "1598765432", "file_name": "f", "file_date": D(2026, 2, 2), "ingested": None}  # fmt: skip
    fills = pl.DataFrame([
        {**base, "source_code": "pbm", "claim_id": "1", "status": "paid", "paid_cents": 500},
        {**base, "source_code": "pbm", "claim_id": "1", "status": "reversed", "paid_cents": -500},
        {**base, "source_code": "plan", "claim_id": "1", "status": "paid", "paid_cents": 701},  # same id, other source
    ])  # fmt: skip
    out = tuva.pharmacy_claim(fills, tuva.coverage(_spans([])), STAMP)
    assert out.select("claim_id", pl.col("paid_amount").cast(pl.String)).rows() == [("plan:1", "7.01")]
    assert out["prescribing_provider_npi"].to_list() == [None]


def test_empty_inputs_give_empty_typed_tables() -> None:
    empty = tuva.medical_claim(pl.DataFrame(), pl.DataFrame(), tuva.coverage(_spans([])), STAMP)
    assert empty.height == 0
    assert empty.schema == pl.Schema(tuva.tables()["medical_claim"].schema)
