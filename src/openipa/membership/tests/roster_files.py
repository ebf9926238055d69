"""Roster files for the ingestion tests, written in X12 with the project's writer (counts are right unless a
test breaks them on purpose)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from openipa.edi.x12.writer import X12Writer

NPI_A = "1234567893"  # small_ipa's PCP at practice A
NPI_B = "1245319599"  # PCP at practice B
NPI_SPECIALIST = "1003000126"


@dataclass
class M:
    """One member loop."""

    member_id: str
    maintenance: str = "021"
    reason: str = "28"
    last: str = "DOE"
    first: str = "JANE"
    dob: str | None = "19500304"
    sex: str = "F"
    plan: str = "MAHMO"
    line: str = "HLT"
    begin: str | None = "20260101"
    end: str | None = None
    pcp_npi: str | None = None
    pcp_begin: str | None = None
    member_dates: dict[str, str] = field(default_factory=dict)
    """Member-level DTP: {"357": "20260430"}."""
    extra: Sequence[tuple[str, ...]] = ()
    """Segments appended after DMG (for hostile tests)."""
    city: str = "PASADENA"


def roster_834(
    members: Sequence[M],
    *,
    action: str = "2",
    effective: str | None = "20260601",
    created: str = "20260525",
    control: str = "0001",
) -> bytes:
    out = io.BytesIO()
    w = X12Writer(out)
    w.start_interchange("ZZ", "SUNRISE", "ZZ", "OPENIPA", control_number=7)
    w.start_group("BE", "SUNRISE", "OPENIPA", control_number=7, version="005010X220A1")
    w.start_transaction("834", control, "005010X220A1")
    w.segment("BGN", "00", "REF1", created, "1200", "", "", "", action)
    if effective:
        w.segment("DTP", "007", "D8", effective)
    w.segment("N1", "P5", "SUNRISE GROUP", "FI", "123456789")
    w.segment("N1", "IN", "SUNRISE HEALTH PLAN", "FI", "987654321")
    for m in members:
        w.segment("INS", "Y", "18", m.maintenance, m.reason, "A", "", "", "FT")
        w.segment("REF", "0F", m.member_id)
        for qualifier, day in m.member_dates.items():
            w.segment("DTP", qualifier, "D8", day)
        w.segment("NM1", "IL", "1", m.last, m.first, "", "", "", "34", m.member_id)
        w.segment("N3", "1 MAIN ST")
        w.segment("N4", m.city, "CA", "91101")
        if m.dob is not None:
            w.segment("DMG", "D8", m.dob, m.sex)
        for seg in m.extra:
            w.segment(*seg)
        if m.begin is not None or m.end is not None:
            w.segment("HD", m.maintenance, "", m.line, m.plan, "IND")
            if m.begin is not None:
                w.segment("DTP", "348", "D8", m.begin)
            if m.end is not None:
                w.segment("DTP", "349", "D8", m.end)
            if m.pcp_npi:
                w.segment("LX", "1")
                w.segment("NM1", "P3", "1", "PCP", "DOC", "", "", "", "XX", m.pcp_npi)
                if m.pcp_begin:
                    w.segment("DTP", "348", "D8", m.pcp_begin)
    w.end_transaction()
    w.end_group()
    w.end_interchange()
    return out.getvalue()
