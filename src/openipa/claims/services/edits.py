"""Loading the code-edit tables: procedure-to-procedure pairs and medically unlikely units (CSV files read by
`claims.engine.edits`). A load replaces the whole table in one transaction (the files are published whole,
with their own effective and deletion dates); a file that cannot be read changes nothing."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from openipa.claims.engine.edits import read_mue_csv, read_ptp_csv
from openipa.claims.models import ProcedurePairEdit, UnitLimit
from openipa.contracts.engine.rbrvs import ScheduleFileError
from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.intake import printable
from openipa.core.roles import Actor, Perm, require


def load_edits(*, actor: Actor | None, ptp: Path | None = None, mue: Path | None = None) -> dict[str, int]:
    """Replace the pair edits with ``ptp`` and/or the unit limits with ``mue``; return the rows loaded."""
    if actor is not None:
        require(actor, Perm.EDIT_CONTRACTS)
    try:
        pairs = read_ptp_csv(ptp) if ptp is not None else None
        limits = read_mue_csv(mue) if mue is not None else None
    except ScheduleFileError as exc:
        raise ValidationFailed.single("file", printable(str(exc))) from None
    loaded: dict[str, int] = {}
    with transaction.atomic():
        if pairs is not None:
            ProcedurePairEdit.objects.all().delete()
            ProcedurePairEdit.objects.bulk_create(
                ProcedurePairEdit(column1=r["column1"], column2=r["column2"], valid_from=r["valid_from"],
                                  valid_to=r["valid_to"], modifier_indicator=r["modifier_indicator"])
                for r in pairs.iter_rows(named=True)
            )  # fmt: skip
            loaded["pairs"] = pairs.height
        if limits is not None:
            UnitLimit.objects.all().delete()
            UnitLimit.objects.bulk_create(
                UnitLimit(code=r["code"], max_units=r["max_units"], mai=r["mai"], valid_from=r["valid_from"],
                          valid_to=r["valid_to"])
                for r in limits.iter_rows(named=True)
            )  # fmt: skip
            loaded["unit_limits"] = limits.height
        audit.record_write(actor, "claims.load_edits", None, object_type="claims.edits", after=loaded)
    return loaded
