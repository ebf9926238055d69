"""The bulk path of claims intake (837 read as columns, written from frames) stores what the reference path
(read_837, a row per claim) stores: the same claims, lines, counts, warnings and acknowledgments."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from openipa.claims.models import Claim, ClaimImport, ClaimLine
from openipa.claims.services import intake
from openipa.claims.services.intake import import_claims
from openipa.claims.tests.conftest import claim_file
from openipa.claims.tests.test_intake import EXAMPLE1, INSTITUTIONAL, SAMPLES
from openipa.edi.t837_columns import read_837_columns

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_files_as_columns_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files here are small: read as columns whatever their size, to compare the two paths."""
    monkeypatch.setattr(intake, "COLUMNS_FROM_BYTES", 0)


def _stored(record: ClaimImport) -> dict[str, Any]:
    claims: list[dict[str, Any]] = [
        dict(c) for c in Claim.objects.filter(source=record).order_by("pk").values()
    ]
    number = {c["id"]: index for index, c in enumerate(claims)}
    for c in claims:
        del c["id"], c["source_id"]
    lines = [
        {**{k: v for k, v in line.items() if k not in ("id", "claim_id")}, "claim": number[line["claim_id"]]}
        for line in ClaimLine.objects.filter(claim__source=record).order_by("pk").values()
    ]
    # the 277CA's REF*1K carries each claim's number: compare their order, not their values
    ack_277ca = re.sub(r"REF\*1K\*(\d+)~", lambda m: f"REF*1K*{number[int(m.group(1))]}~", record.ack_277ca)
    ack_999 = re.sub(r"\*\d{6}\*\d{4}\*", "*DATE*TIME*", record.ack_999, count=1)  # the 999's own ISA date
    return {
        "record": {f: getattr(record, f) for f in ("status", "claims", "lines", "charge_cents", "unknown_members",
                                                    "warnings", "warning_count", "errors")},
        "claims": claims, "lines": lines, "ack_277ca": ack_277ca, "ack_999": ack_999[:60] + ack_999[106:],
    }  # fmt: skip


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, path: Path, **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    used: list[bool] = []
    real = read_837_columns

    def spy(*args: Any, **kw: Any) -> Any:
        found = real(*args, **kw)
        used.append(found is not None)
        return found

    with transaction.atomic():
        monkeypatch.setattr(intake, "read_837_columns", lambda *_a, **_k: None)
        reference = _stored(import_claims(actor=None, path=path, **kwargs))
        transaction.set_rollback(True)
    monkeypatch.setattr(intake, "read_837_columns", spy)
    bulk = _stored(import_claims(actor=None, path=path, **kwargs))
    assert used == [True], "the bulk path did not read this file"
    return reference, bulk


def _replacement(tmp_path: Path, name: str, original: str) -> Path:
    """The test claim as a replacement (frequency 7) of claim ``original`` (REF*F8: one segment more)."""
    path = claim_file(tmp_path, name, clm=f"CLM*26463774*100.00***11:B:7*Y*A*Y*I~REF*F8*{original}")
    path.write_text(re.sub(r"SE\*(\d+)\*", lambda m: f"SE*{int(m.group(1)) + 1}*", path.read_text()))
    return path


@pytest.mark.parametrize(
    "name",
    ["lfh_demo.example1.837", "lfh_demo.example2.837", "lfh_demo.cob.example4.837", INSTITUTIONAL.name],
)
def test_samples_are_stored_alike(small_ipa: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    reference, bulk = _both_ways(monkeypatch, SAMPLES / name, received_on=dt.date(2026, 5, 2))
    assert bulk == reference


def test_a_known_member_and_practice_and_a_replacement(
    claims_ipa: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = import_claims(
        actor=None, path=claim_file(tmp_path, "first.837"), received_on=dt.date(2026, 11, 2)
    )
    original = Claim.objects.get(source=first)
    replacement = _replacement(tmp_path, "second.837", str(original.pk))
    reference, bulk = _both_ways(monkeypatch, replacement, received_on=dt.date(2026, 11, 9))
    assert bulk == reference
    assert bulk["claims"][0]["original_id"] == original.pk
    assert bulk["claims"][0]["member_id"] is not None
    assert bulk["claims"][0]["billing_practice_id"] == claims_ipa.practice_b.pk


def test_a_replacement_naming_no_claim_is_rejected_by_the_reference_path(
    claims_ipa: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _replacement(tmp_path, "claims.837", "999999")
    reference, bulk = _both_ways(monkeypatch, path)
    assert bulk == reference
    assert bulk["record"]["status"] == ClaimImport.Status.REJECTED
    assert "REF*F8 999999 is not a claim on file" in bulk["record"]["errors"][0]["message"]


def test_example1_through_the_bulk_path(small_ipa: Any) -> None:
    record = import_claims(actor=None, path=EXAMPLE1)
    assert (record.status, record.claims, record.lines, record.charge_cents) == ("applied", 1, 4, 10000)


def test_a_file_below_the_size_is_read_by_rows_and_from_it_as_columns(
    small_ipa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below intake.COLUMNS_FROM_BYTES the columnar reader's fixed cost is more than reading claim by claim."""
    calls: list[str] = []
    real = read_837_columns

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("columns")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "read_837_columns", spy)
    size = EXAMPLE1.stat().st_size
    for threshold, expected in ((size + 1, []), (size, ["columns"])):
        calls.clear()
        monkeypatch.setattr(intake, "COLUMNS_FROM_BYTES", threshold)
        with transaction.atomic():
            record = import_claims(actor=None, path=EXAMPLE1, received_on=dt.date(2026, 5, 2))
            assert record.status == ClaimImport.Status.APPLIED
            transaction.set_rollback(True)
        assert calls == expected, threshold
