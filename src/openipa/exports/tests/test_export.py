"""The Tuva export end to end on the golden member (conftest): every value read back from the files, CSV and
Parquet alike, the filters, the refusals (nothing written), the audit event and the command line."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from openipa.contracts.models import Payer, Product
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.models import AuditEvent
from openipa.exports import selectors
from openipa.exports.engine import tuva
from openipa.exports.selectors import Filters
from openipa.exports.services import export_tuva
from openipa.membership.services import eligibility_add, member_create

D = dt.date
TO_APRIL = Filters(date_to=D(2026, 4, 30))
TABLES = ("eligibility", "medical_claim", "pharmacy_claim", "provider_attribution")


def run(out: Path, fmt: str = "csv", filters: Filters = TO_APRIL, actor: Any = None) -> Any:
    return export_tuva(
        actor, out_dir=out, fmt=fmt, filters=filters, exported_by="tester", today=D(2026, 5, 1)
    )


def read(out: Path, name: str, fmt: str = "csv") -> pl.DataFrame:
    """A written table as text, one string per value (null for an empty field), whatever the format."""
    if fmt == "csv":
        return pl.read_csv(out / f"{name}.csv", infer_schema=False)
    frame = pl.read_parquet(out / f"{name}.parquet")
    return frame.select(
        pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S")
        if kind == pl.Datetime
        else pl.col(c).dt.strftime("%Y-%m-%d")
        if kind == pl.Date
        else pl.col(c).cast(pl.String)
        for c, kind in frame.schema.items()
    )


def rows_of(frame: pl.DataFrame, person: str) -> list[dict[str, Any]]:
    return frame.filter(pl.col("person_id") == person).to_dicts()


def nonnull(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def test_every_table_has_exactly_tuvas_columns_in_order(golden: Any, tmp_path: Path) -> None:
    result = run(tmp_path)
    layer = tuva.tables()
    assert [t.name for t in result.tables] == list(TABLES)
    for name in TABLES:
        header = (tmp_path / f"{name}.csv").read_text().splitlines()[0].split(",")
        assert header == layer[name].names
    run(tmp_path / "pq", "parquet")
    for name in TABLES:
        assert pl.read_parquet(tmp_path / "pq" / f"{name}.parquet").schema == pl.Schema(layer[name].schema)


def test_golden_eligibility(golden: Any, tmp_path: Path) -> None:
    run(tmp_path)
    person = f"openipa-{golden.member.pk}"
    rows = rows_of(read(tmp_path, "eligibility"), person)
    common = {
        "person_id": person, "member_id": "SUN0099", "gender": "female", "birth_date": "1951-06-07",
        "death_flag": "0", "payer": "Sunrise Health Plan", "first_name": "Gina", "last_name": "Golden",
        "address": "5 Elm St", "city": "Pasadena", "state": "CA", "zip_code": "91101", "phone": "626-555-0199",
        "data_source": "openipa",
    }  # fmt: skip
    assert [nonnull(r) for r in rows] == [
        {**common, "enrollment_start_date": "2026-01-01", "enrollment_end_date": "2026-03-15",
         "payer_type": "medicare", "plan": "Sunrise Medicare HMO", "original_reason_entitlement_code": "1",
         "dual_status_code": "02"},
        # open-ended: ends at --to; not Medicare, so no entitlement or dual codes
        {**common, "enrollment_start_date": "2026-03-16", "enrollment_end_date": "2026-04-30",
         "payer_type": "commercial", "plan": "Sunrise Commercial HMO"},
    ]  # fmt: skip


def test_golden_medical_claims(golden: Any, tmp_path: Path) -> None:
    run(tmp_path)
    person = f"openipa-{golden.member.pk}"
    frame = read(tmp_path, "medical_claim")
    rows = rows_of(frame, person)
    ingest = {r["ingest_datetime"] for r in rows}
    assert len(ingest) == 1
    assert dt.datetime.fromisoformat(ingest.pop())
    rows = [{k: v for k, v in nonnull(r).items() if k != "ingest_datetime"} for r in rows]
    prof, inst = str(golden.professional.pk), str(golden.institutional.pk)
    header = {"person_id": person, "member_id": "SUN0099", "payer": "Sunrise Health Plan", "data_source": "openipa",
              "file_name": "claims-2026-03.837", "file_date": "2026-03-25", "diagnosis_code_type": "icd-10-cm"}  # fmt: skip
    p = {**header, "claim_id": prof, "claim_type": "professional", "plan": "Sunrise Medicare HMO",
         "claim_start_date": "2026-02-10", "claim_end_date": "2026-02-10", "claim_line_start_date": "2026-02-10",
         "claim_line_end_date": "2026-02-10", "place_of_service_code": "11", "billing_npi": "1234567893",
         "billing_tin": "123456789", "diagnosis_code_1": "E119", "diagnosis_code_2": "I10", "in_network_flag": "1",
         "paid_date": "2026-03-05", "service_unit_quantity": "1.000"}  # fmt: skip
    i = {**header, "claim_id": inst, "claim_type": "institutional", "plan": "Sunrise Commercial HMO",
         "claim_start_date": "2026-03-20", "claim_end_date": "2026-03-22", "claim_line_start_date": "2026-03-20",
         "claim_line_end_date": "2026-03-22", "bill_type_code": "0111", "billing_npi": "1003000126",
         "billing_tin": "987654321", "facility_npi": "1003000126", "diagnosis_code_1": "I214",
         "diagnosis_code_2": "E119", "diagnosis_code_3": "N179"}  # fmt: skip
    assert rows == [
        {**p, "claim_line_number": "1", "hcpcs_code": "99214", "hcpcs_modifier_1": "25",
         "rendering_npi": "1234567893", "paid_amount": "70.00", "allowed_amount": "90.00",
         "charge_amount": "150.00", "total_cost_amount": "90.00"},
        {**p, "claim_line_number": "2", "hcpcs_code": "36415", "rendering_npi": "1245319599",
         "paid_amount": "10.00", "allowed_amount": "10.00", "charge_amount": "25.00", "total_cost_amount": "10.00"},
        # paid in a run not yet paid: no paid date
        {**i, "claim_line_number": "1", "revenue_center_code": "0120", "service_unit_quantity": "2.000",
         "paid_amount": "3000.00", "allowed_amount": "3000.00", "charge_amount": "4000.00",
         "total_cost_amount": "3000.00"},
        {**i, "claim_line_number": "2", "revenue_center_code": "0250", "service_unit_quantity": "10.500",
         "paid_amount": "100.00", "allowed_amount": "100.01", "charge_amount": "123.45",
         "total_cost_amount": "100.01"},
        # denied: nothing paid, no allowed amount
        {**i, "claim_line_number": "3", "revenue_center_code": "0450", "service_unit_quantity": "1.000",
         "hcpcs_code": "99284", "hcpcs_modifier_1": "25", "hcpcs_modifier_2": "GT", "paid_amount": "0.00",
         "charge_amount": "999.99"},
    ]  # fmt: skip
    # the replaced original, the void, the pended claim and the claim without a member are not there
    assert frame.height == 5


def test_golden_pharmacy_claim_skips_the_reversed_fill(golden: Any, tmp_path: Path) -> None:
    run(tmp_path)
    person = f"openipa-{golden.member.pk}"
    assert [nonnull(r) for r in rows_of(read(tmp_path, "pharmacy_claim"), person)] == [
        {"claim_id": "pbm:RX1", "claim_line_number": "1", "person_id": person, "member_id": "SUN0099",
         "payer": "Sunrise Health Plan", "plan": "Sunrise Medicare HMO", "prescribing_provider_npi": "1234567893",
         "dispensing_provider_npi": "1598765432", "dispensing_date": "2026-02-05", "ndc_code": "00093505601",
         "quantity": "30.000", "days_supply": "30", "paid_amount": "12.34", "data_source": "openipa",
         "file_name": "pbm-2026-02.csv", "file_date": "2026-02-09", "ingest_datetime": "2026-02-09 16:30:00"},
    ]  # fmt: skip


def test_golden_attribution_per_member_month_and_plan(golden: Any, tmp_path: Path) -> None:
    run(tmp_path)
    person = f"openipa-{golden.member.pk}"
    got = [
        (r["year_month"], r["plan"], r["payer_attributed_provider"], r["payer_attributed_provider_practice"],
         r["payer_attributed_provider_lob"], r["payer_attributed_provider_organization"])
        for r in rows_of(read(tmp_path, "provider_attribution"), person)
    ]  # fmt: skip
    alder = ("1234567893", "Alder Family Medicine", "medicare")
    birch_commercial = ("1245319599", "Birch Pediatrics", "commercial")
    org = "OPEN IPA DEMO"
    assert got == [
        ("202601", "Sunrise Medicare HMO", *alder, org),
        ("202602", "Sunrise Medicare HMO", *alder, org),
        # March: Medicare days 1-15 (Alder 10 of them, Birch 5), commercial days 16-31 (Birch only)
        ("202603", "Sunrise Commercial HMO", *birch_commercial, org),
        ("202603", "Sunrise Medicare HMO", *alder, org),
        ("202604", "Sunrise Commercial HMO", *birch_commercial, org),
    ]


def test_csv_and_parquet_hold_the_same_rows(golden: Any, tmp_path: Path) -> None:
    run(tmp_path / "csv", "csv")
    run(tmp_path / "pq", "parquet")
    for name in TABLES:
        csv, parquet = read(tmp_path / "csv", name), read(tmp_path / "pq", name, "parquet")
        assert csv.height > 0
        assert csv.equals(parquet), name


def test_values_round_trip_to_the_types_tuva_expects(golden: Any, tmp_path: Path) -> None:
    """Read the CSV files back with Tuva's types (strictly): every date parses, every amount is an exact decimal
    with two places, every flag is 0 or 1."""
    run(tmp_path)
    for name, table in tuva.tables().items():
        typed = pl.read_csv(tmp_path / f"{name}.csv", schema=table.schema)
        text = pl.read_csv(tmp_path / f"{name}.csv", infer_schema=False)
        for column, kind in table.columns:
            values = [v for v in text[column].to_list() if v is not None]
            assert typed[column].null_count() == text[column].null_count(), (name, column)
            if kind == "amount":
                assert all(Decimal(v).as_tuple().exponent == -2 for v in values), (name, column)
            if kind == "date":
                assert all(dt.date.fromisoformat(v) for v in values)
            if kind == "flag":
                assert set(values) <= {"0", "1"}
    paid = pl.read_csv(tmp_path / "medical_claim.csv", schema=tuva.tables()["medical_claim"].schema)[
        "paid_amount"
    ]
    assert paid.sum() == Decimal("3180.00")  # 70 + 10 + 3000 + 100 + 0, exactly


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_claims_written_in_batches_equal_one_batch(
    golden: Any, tmp_path: Path, monkeypatch: Any, fmt: str
) -> None:
    run(tmp_path / "one", fmt)
    batches: list[int] = []
    mapped = tuva.medical_claim

    def counting(headers: pl.DataFrame, *args: Any) -> pl.DataFrame:
        batches.append(headers.height)
        return mapped(headers, *args)

    monkeypatch.setattr(selectors, "CLAIM_BATCH", 1)  # one claim per batch (Parquet: one part file each)
    monkeypatch.setattr(tuva, "medical_claim", counting)
    run(tmp_path / "many", fmt)
    assert batches == [1, 1]
    for name in TABLES:
        assert read(tmp_path / "one", name, fmt).equals(read(tmp_path / "many", name, fmt)), name
    if fmt == "csv":  # byte for byte: one header, rows appended
        one, many = (tmp_path / d / "medical_claim.csv" for d in ("one", "many"))
        assert one.read_bytes() == many.read_bytes()


def test_manifest(golden: Any, tmp_path: Path) -> None:
    result = run(tmp_path, "parquet")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == "parquet"
    assert manifest["exported_by"] == "tester"
    assert manifest["tuva"]["version"] == tuva.input_layer()["tuva_version"]
    assert manifest["filters"] == {
        "from": None,
        "to": "2026-04-30",
        "payer": None,
        "open_spans_end": "2026-04-30",
    }
    assert manifest["skipped"] == {"claims_without_member": 1}
    assert manifest["members"] == 3
    for name in TABLES:
        entry = manifest["tables"][name]
        data = (tmp_path / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["columns"] == tuva.tables()[name].names
        assert entry["rows"] == pl.read_parquet(tmp_path / entry["file"]).height == result.counts[name]
    # nothing else is left in the folder (no staging folder, no part files)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.parquet" for n in TABLES] + ["manifest.json"]
    )


def test_date_filters(golden: Any, tmp_path: Path) -> None:
    result = run(tmp_path, filters=Filters(date_from=D(2026, 3, 1), date_to=D(2026, 3, 31)))
    person = f"openipa-{golden.member.pk}"
    assert result.counts["medical_claim"] == 3  # the institutional claim only
    assert set(read(tmp_path, "medical_claim")["claim_id"]) == {str(golden.institutional.pk)}
    assert result.counts["pharmacy_claim"] == 0
    months = read(tmp_path, "provider_attribution")["year_month"].unique().to_list()
    assert months == ["202603"]
    spans = rows_of(read(tmp_path, "eligibility"), person)
    assert [(r["enrollment_start_date"], r["enrollment_end_date"]) for r in spans] == [
        ("2026-01-01", "2026-03-15"),  # spans keep their own dates; only open ones end at --to
        ("2026-03-16", "2026-03-31"),
    ]
    # a window before any span: no eligibility at all
    early = run(tmp_path / "early", filters=Filters(date_from=D(2025, 1, 1), date_to=D(2025, 12, 31)))
    assert early.counts == dict.fromkeys(TABLES, 0)
    assert (tmp_path / "early" / "eligibility.csv").read_text().strip().split(",") == tuva.tables()[
        "eligibility"
    ].names


def test_payer_filter(golden: Any, tmp_path: Path) -> None:
    other = Payer.objects.create(name="Other Plan", code="OTH")
    product = Product.objects.create(payer=other, code="X", name="Other HMO", line_of_business="medicaid")
    stranger = member_create(
        actor=None,
        data={"payer": other, "payer_member_id": "OTH1", "first_name": "Olga", "last_name": "Other",
              "date_of_birth": D(1990, 1, 1), "sex": "F"},
    )  # fmt: skip
    eligibility_add(actor=None, member=stranger, product=product, valid_from=D(2026, 1, 1), valid_to=None)
    only_other = run(tmp_path / "oth", filters=Filters(payer_code="OTH", date_to=D(2026, 4, 30)))
    elig = read(tmp_path / "oth", "eligibility")
    assert elig["member_id"].to_list() == ["OTH1"]
    assert elig["payer_type"].to_list() == ["medicaid"]
    assert only_other.counts["medical_claim"] == only_other.counts["pharmacy_claim"] == 0
    assert only_other.counts["provider_attribution"] == 4  # Jan-Apr, no PCP assigned
    assert read(tmp_path / "oth", "provider_attribution")["payer_attributed_provider"].null_count() == 4
    sun = run(tmp_path / "sun", filters=Filters(payer_code="SUN", date_to=D(2026, 4, 30)))
    assert "OTH1" not in read(tmp_path / "sun", "eligibility")["member_id"].to_list()
    assert sun.counts["medical_claim"] == 5


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"filters": Filters(payer_code="NOPE")}, "payer", "no payer with code 'NOPE'"),
        ({"filters": Filters(date_from=D(2026, 5, 1), date_to=D(2026, 4, 1))}, "date_from", "is after"),
        ({"fmt": "xlsx"}, "format", "format must be one of csv, parquet"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(
    golden: Any, tmp_path: Path, kwargs: dict[str, Any], field: str, message: str
) -> None:
    out = tmp_path / "out"
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        export_tuva(None, out_dir=out, exported_by="t", **kwargs)
    assert message in caught.value.fields[field][0]
    assert not out.exists()
    assert AuditEvent.objects.count() == events


def test_unwritable_folder_is_refused(golden: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "sub"):
        with pytest.raises(ValidationFailed) as caught:
            run(out)
        assert "out" in caught.value.fields
    assert blocker.read_text() == "not a folder"


def test_a_failed_export_leaves_the_folder_as_it_was(golden: Any, tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "eligibility.csv").write_text("an older export\n")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(tuva, "pharmacy_claim", broken)
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["eligibility.csv"]
    assert (tmp_path / "eligibility.csv").read_text() == "an older export\n"


def test_export_is_one_audit_read_of_the_members(golden: Any, tmp_path: Path) -> None:
    before = AuditEvent.objects.count()
    result = run(tmp_path, actor=golden.ipa.users["ops"])
    events = list(AuditEvent.objects.order_by("-id")[: AuditEvent.objects.count() - before])
    assert len(events) == 1
    event = events[0]
    assert (event.kind, event.action, event.object_type, event.actor_username) == (
        "read",
        "export",
        "exports.tuva",
        "ops",
    )
    assert event.member_count == result.members == 3
    assert "medical_claim 5" in event.purpose
    assert "eligibility" in event.purpose


@pytest.mark.parametrize("who", ["alice", "messenger"])
def test_practice_users_and_roles_without_member_data_are_refused(
    golden: Any, tmp_path: Path, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        run(tmp_path / "out", actor=golden.ipa.users[who])
    assert not (tmp_path / "out").exists()


def test_command_line_json(golden: Any, tmp_path: Path) -> None:
    out = StringIO()
    call_command(
        "export-tuva",
        "--out",
        str(tmp_path),
        "--to",
        "2026-04-30",
        "--format",
        "parquet",
        "--json",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert printed["counts"] == {
        "eligibility": 4,
        "medical_claim": 5,
        "pharmacy_claim": 1,
        "provider_attribution": 13,
    }
    assert printed["skipped_claims_without_member"] == 1
    assert (tmp_path / "medical_claim.parquet").exists()
    text = StringIO()
    call_command("export-tuva", "--out", str(tmp_path / "t"), "--payer", "SUN", stdout=text)
    assert "medical_claim.csv" in text.getvalue()
    assert "manifest" in text.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payer", "NOPE"], "no payer with code 'NOPE'"),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "is after"),
        (["--from", "May 1"], "--from 'May 1' is not a date"),
    ],
)
def test_command_line_refusals(golden: Any, tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("export-tuva", "--out", str(tmp_path / "x"), *args, stdout=StringIO())
    assert not (tmp_path / "x").exists()
