"""Build capitation remittance files for tests: 820s written by our writer (pyx12-valid), CSVs by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openipa.edi.t820 import Adjustment, MemberRemittance, Remittance820, RemittanceLine, write_820

MAY = dt.date(2026, 5, 1)
MAY_END = dt.date(2026, 5, 31)

Line = tuple[int, dt.date | None, dt.date | None]
"""(cents, coverage start, coverage end); None dates: the header's period."""


def member(
    key: str,
    lines: list[Line],
    adjustments: tuple[tuple[int, str], ...] = (),
    ent: int = 1,
) -> MemberRemittance:
    return MemberRemittance(
        control_number="0001",
        ent_number=ent,
        member_id=key,
        last_name="DOE",
        first_name="JO",
        subscriber_id="",
        lines=tuple(
            RemittanceLine("IK", f"CAP{i}", cents, None, start, end)
            for i, (cents, start, end) in enumerate(lines)
        ),
        adjustments=tuple(
            Adjustment(cents, reason, line_index=0 if lines else None) for cents, reason in adjustments
        ),
        segment_number=0,
    )


def write_820_file(
    path: Path, members: list[MemberRemittance], *, total: int | None = None, trace: str = "TRACE1"
) -> Path:
    paid = sum(m.paid_cents for m in members)
    header = Remittance820(
        control_number="0001", version="005010X218", handling_code="C", total_cents=paid if total is None else total,
        credit_debit="C", payment_method="CHK", payment_date=dt.date(2026, 5, 10), trace_number=trace,
        originator_id="1999999999", payer_name="SUNRISE HEALTH PLAN", payer_id="SUN01", payee_name="OPEN IPA",
        payee_id_qualifier="FI", payee_id="123456789", period_start=MAY, period_end=MAY_END,
        created=dt.date(2026, 5, 5), segment_number=0, payer_id_qualifier="PI",
    )  # fmt: skip
    write_820(path, header, members, sender_id="SUN01", receiver_id="OPENIPA", strict=False)
    return path
