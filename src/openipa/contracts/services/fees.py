"""Loading fee schedules: CMS's Medicare RVU and GPCI files, the conversion factor, and contracts' code rates.

Every schedule is effective-dated data. Loading a file "from" a date ends the version in force before it (its
``valid_to`` becomes the day before) and adds the new rows, in one transaction; a file that cannot be read is
refused with the file, line and column at fault, and nothing changes. The file is kept as loaded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Model, Q

from openipa.contracts.engine.rbrvs import ScheduleFileError, read_gpci_file, read_rvu_file
from openipa.contracts.models import (
    CodeRate,
    Contract,
    ConversionFactor,
    FeeScheduleFile,
    GpciEntry,
    RvuEntry,
)
from openipa.core import audit
from openipa.core.bulk import insert_rows
from openipa.core.errors import ValidationFailed
from openipa.core.intake import printable, relative_to_var, store_file
from openipa.core.roles import Actor, Perm, require

RVU_COLUMNS = ("source_id", "code", "modifier", "status", "work_rvu_centi", "pe_nonfacility_rvu_centi",
               "pe_facility_rvu_centi", "mp_rvu_centi", "pctc", "global_days", "mult_proc", "bilat_surg",
               "valid_from", "valid_to")  # fmt: skip
GPCI_COLUMNS = ("source_id", "locality_id", "state", "name", "pw_gpci_milli", "pe_gpci_milli", "mp_gpci_milli",
                "valid_from", "valid_to")  # fmt: skip


def _who(actor: Actor | None, who: str) -> str:
    return (who or (getattr(actor, "username", "") if actor is not None else "") or "system")[:150]


def _end_previous(model: type[Model], valid_from: dt.date, scope: Q | None = None) -> int:
    """End the open versions of ``model`` that began before ``valid_from`` the day before it; refuse when a
    version already begins on or after it (load files in date order, or correct the later one first)."""
    rows = model.objects.filter(scope or Q())  # type: ignore[attr-defined]
    later = rows.filter(valid_from__gte=valid_from)
    if later.exists():
        first = later.order_by("valid_from").values_list("valid_from", flat=True).first()
        raise ValidationFailed.single(
            "valid_from", f"a version in force from {first} already exists: load schedules in date order"
        )
    return int(
        rows.filter(valid_from__lt=valid_from)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from))
        .update(valid_to=valid_from - dt.timedelta(days=1))
    )


def _read(reader: Any, path: Path, valid_from: dt.date) -> pl.DataFrame:
    try:
        frame: pl.DataFrame = reader(path, valid_from=valid_from)
    except ScheduleFileError as exc:
        raise ValidationFailed.single("file", printable(str(exc))) from None
    return frame


def load_rvu_file(
    *, actor: Actor | None, path: Path, valid_from: dt.date, file_name: str | None = None, who: str = ""
) -> FeeScheduleFile:
    """Load a CMS PPRRVU file in force from ``valid_from`` (and the conversion factor it carries, if any)."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
    frame = _read(read_rvu_file, path, valid_from)
    name = file_name or path.name
    sha, _size, stored = store_file(path, name, "fee-schedules")
    rows = frame.select(
        "code", "modifier", "status", "work_rvu_centi", "pe_nonfacility_rvu_centi", "pe_facility_rvu_centi",
        "mp_rvu_centi", pl.col("pctc").fill_null(0), pl.col("global_days").fill_null(""),
        pl.col("mult_proc").fill_null(0), pl.col("bilat_surg").fill_null(0),
    ).rows()  # fmt: skip
    factors = frame["conversion_factor_e4"].drop_nulls().unique().to_list()
    with transaction.atomic():
        _end_previous(RvuEntry, valid_from)
        record = FeeScheduleFile.objects.create(
            kind=FeeScheduleFile.Kind.RVU, file_name=printable(name)[:255], sha256=sha,
            stored_path=relative_to_var(stored), rows=len(rows), valid_from=valid_from, loaded_by=_who(actor, who),
        )  # fmt: skip
        insert_rows(RvuEntry, RVU_COLUMNS, ((record.pk, *r, valid_from, None) for r in rows))
        if len(factors) == 1:
            _set_factor(Decimal(int(factors[0])) / 10_000, valid_from, f"from {name}")
        audit.record_write(
            actor, "fees.load_rvu", record, after={"rows": len(rows), "valid_from": valid_from.isoformat()}
        )
    return record


def load_gpci_file(
    *, actor: Actor | None, path: Path, valid_from: dt.date, file_name: str | None = None, who: str = ""
) -> FeeScheduleFile:
    """Load a CMS GPCI (locality) file in force from ``valid_from``."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
    frame = _read(read_gpci_file, path, valid_from)
    name = file_name or path.name
    sha, _size, stored = store_file(path, name, "fee-schedules")
    rows = frame.select(
        "locality_id", pl.col("state").fill_null(""), pl.col("locality_name").fill_null("").str.slice(0, 100),
        "pw_gpci_milli", "pe_gpci_milli", "mp_gpci_milli",
    ).rows()  # fmt: skip
    with transaction.atomic():
        _end_previous(GpciEntry, valid_from)
        record = FeeScheduleFile.objects.create(
            kind=FeeScheduleFile.Kind.GPCI, file_name=printable(name)[:255], sha256=sha,
            stored_path=relative_to_var(stored), rows=len(rows), valid_from=valid_from, loaded_by=_who(actor, who),
        )  # fmt: skip
        insert_rows(GpciEntry, GPCI_COLUMNS, ((record.pk, *r, valid_from, None) for r in rows))
        audit.record_write(
            actor, "fees.load_gpci", record, after={"rows": len(rows), "valid_from": valid_from.isoformat()}
        )
    return record


def _set_factor(amount: Decimal, valid_from: dt.date, note: str) -> ConversionFactor:
    if amount <= 0:
        raise ValidationFailed.single("amount", f"a conversion factor must be positive, not {amount}")
    _end_previous(ConversionFactor, valid_from)
    return ConversionFactor.objects.create(amount=amount, valid_from=valid_from, note=note[:200])


def set_conversion_factor(
    *, actor: Actor | None, amount: Decimal, valid_from: dt.date, note: str = ""
) -> ConversionFactor:
    """The Medicare conversion factor in force from ``valid_from`` (dollars per RVU, four places)."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
    if amount != amount.quantize(Decimal("0.0001")):
        raise ValidationFailed.single("amount", f"{amount} has more than four decimal places")
    with transaction.atomic():
        factor = _set_factor(amount, valid_from, note)
        audit.record_write(actor, "fees.conversion_factor", factor, after={"amount": str(amount)})
    return factor


def load_code_rates(
    *, actor: Actor | None, contract: Contract, path: Path, valid_from: dt.date, who: str = ""
) -> FeeScheduleFile:
    """A contract's flat code rates from a CSV with the columns ``code,modifier,rate`` (rate in dollars)."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
    rows: list[tuple[str, str, Decimal]] = []
    seen: set[tuple[str, str]] = set()
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    missing = {"code", "rate"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed.single("file", f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
    for number, row in enumerate(reader, start=2):
        code, modifier = (row.get("code") or "").strip().upper(), (row.get("modifier") or "").strip().upper()
        try:
            rate = Decimal((row.get("rate") or "").strip())
        except InvalidOperation:
            raise ValidationFailed.single("file", f"{path.name}: line {number}, column rate: "
                                          f"{printable(row.get('rate') or '')!r} is not an amount") from None  # fmt: skip
        if not code or len(code) > 5:
            raise ValidationFailed.single(
                "file", f"{path.name}: line {number}, column code: {code!r} is not a code"
            )
        if rate < 0 or rate != rate.quantize(Decimal("0.01")):
            raise ValidationFailed.single("file", f"{path.name}: line {number}, column rate: {rate} is not a "
                                          "non-negative amount in cents")  # fmt: skip
        if (code, modifier) in seen:
            raise ValidationFailed.single(
                "file", f"{path.name}: line {number}: {code} {modifier} is repeated"
            )
        seen.add((code, modifier))
        rows.append((code, modifier, rate))
    sha, _size, stored = store_file(path, path.name, "fee-schedules")
    with transaction.atomic():
        _end_previous(CodeRate, valid_from, Q(contract=contract))
        record = FeeScheduleFile.objects.create(
            kind=FeeScheduleFile.Kind.CODE_RATES, file_name=printable(path.name)[:255], sha256=sha,
            stored_path=relative_to_var(stored), rows=len(rows), valid_from=valid_from, loaded_by=_who(actor, who),
        )  # fmt: skip
        CodeRate.objects.bulk_create(
            CodeRate(contract=contract, code=c, modifier=m, rate=r, valid_from=valid_from) for c, m, r in rows
        )
        audit.record_write(
            actor, "fees.code_rates", record, after={"contract": contract.number, "rows": len(rows)}
        )
    return record
