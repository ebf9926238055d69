"""Loading fee schedules: versions end where the next begins; a bad file changes nothing; code rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openipa.contracts.models import CodeRate, ConversionFactor, FeeScheduleFile, RvuEntry
from openipa.contracts.services.fees import load_code_rates, load_rvu_file, set_conversion_factor
from openipa.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parents[2] / "claims" / "engine" / "tests" / "data"
JAN, JUL = dt.date(2026, 1, 1), dt.date(2026, 7, 1)


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = str(tmp_path / "var")


def test_a_later_file_ends_the_earlier_version_and_carries_its_conversion_factor(small_ipa: Any) -> None:
    fin = small_ipa.users["fin"]
    first = load_rvu_file(actor=fin, path=DATA / "PPRRVU_TEST.csv", valid_from=JAN)
    assert first.rows == RvuEntry.objects.filter(source=first).count() > 0
    assert RvuEntry.objects.filter(code="99213", modifier="").get().work_rvu_centi == 130
    load_rvu_file(actor=fin, path=DATA / "PPRRVU_TEST.csv", valid_from=JUL)
    assert set(RvuEntry.objects.filter(source=first).values_list("valid_to", flat=True)) == {
        dt.date(2026, 6, 30)
    }
    factors = list(
        ConversionFactor.objects.order_by("valid_from").values_list("amount", "valid_from", "valid_to")
    )
    assert factors == [(Decimal("33.4009"), JAN, dt.date(2026, 6, 30)), (Decimal("33.4009"), JUL, None)]
    with pytest.raises(ValidationFailed, match="date order"):
        load_rvu_file(actor=fin, path=DATA / "PPRRVU_TEST.csv", valid_from=JAN)


def test_a_bad_file_is_refused_with_its_line_and_nothing_changes(small_ipa: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        (DATA / "PPRRVU_TEST.csv").read_text().replace("99213,,Office visit test,A,,1.30", "99213,,x,A,,1.3x")
    )
    with pytest.raises(ValidationFailed) as error:
        load_rvu_file(actor=small_ipa.users["fin"], path=bad, valid_from=JAN)
    assert "bad.csv" in str(error.value.fields)
    assert "WORK RVU" in str(error.value.fields)
    assert (RvuEntry.objects.count(), FeeScheduleFile.objects.count(), ConversionFactor.objects.count()) == (
        0,
        0,
        0,
    )


def test_code_rates_and_the_conversion_factor(small_ipa: Any, tmp_path: Path) -> None:
    fin = small_ipa.users["fin"]
    rates = tmp_path / "rates.csv"
    rates.write_text("code,modifier,rate\n99213,,88.50\n93000,26,12.00\n")
    load_code_rates(actor=fin, contract=small_ipa.term.contract, path=rates, valid_from=JAN)
    assert sorted(CodeRate.objects.values_list("code", "modifier", "rate")) == [
        ("93000", "26", Decimal("12.00")), ("99213", "", Decimal("88.50"))]  # fmt: skip
    rates.write_text("code,modifier,rate\n99213,,88.505\n")
    with pytest.raises(ValidationFailed, match="line 2, column rate"):
        load_code_rates(actor=fin, contract=small_ipa.term.contract, path=rates, valid_from=JUL)
    assert CodeRate.objects.count() == 2
    factor = set_conversion_factor(actor=fin, amount=Decimal("33.5675"), valid_from=JUL)
    assert factor.valid_to is None
    with pytest.raises(PermissionDenied):
        set_conversion_factor(
            actor=small_ipa.users["alice"], amount=Decimal("1"), valid_from=dt.date(2027, 1, 1)
        )


def test_the_cli_loads_schedules_and_edits(small_ipa: Any, tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from openipa.claims.models import ProcedurePairEdit, UnitLimit
    from openipa.contracts.models import GpciEntry

    out = StringIO()
    call_command("fee-schedules", "rvu", str(DATA / "PPRRVU_TEST.csv"), "--from", "2026-01-01", stdout=out)
    call_command("fee-schedules", "gpci", str(DATA / "GPCI_TEST.csv"), "--from", "2026-01-01", stdout=out)
    call_command("fee-schedules", "edits", "--ptp", str(DATA / "ptp_test.csv"), "--mue", str(DATA / "mue_test.csv"),
                 stdout=out)  # fmt: skip
    assert RvuEntry.objects.exists()
    assert GpciEntry.objects.exists()
    pairs, limits = ProcedurePairEdit.objects.count(), UnitLimit.objects.count()
    assert pairs > 0
    assert limits > 0
    bad = tmp_path / "mue.csv"
    bad.write_text("code,max_units,mai,valid_from,valid_to\n99213,x,1,2026-01-01,\n")
    with pytest.raises(CommandError, match="max_units"):
        call_command("fee-schedules", "edits", "--mue", str(bad), stdout=StringIO())
    assert UnitLimit.objects.count() == limits  # the old table stays
    with pytest.raises(CommandError, match="no contract"):
        call_command("fee-schedules", "code-rates", str(bad), "--contract", "NOPE", "--from", "2026-01-01")
