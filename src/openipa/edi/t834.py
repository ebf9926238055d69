"""834 Benefit Enrollment and Maintenance (005010X220A1) mapped to typed records, streamed.

:func:`read_834` yields, per transaction set, one :class:`Enrollment834` (the header: BGN, DTP*007,
N1*P5 sponsor, N1*IN payer) and then one :class:`MemberRecord` per INS loop. A member is yielded when the
next INS or the SE is read, so memory holds one member at a time whatever the size of the file.

Content errors raise :class:`X12Error` with the segment number, segment id and element position.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from openipa.core.identifiers import is_valid_npi
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, Source

MAINTENANCE_TYPES: dict[str, str] = {
    "001": "change",
    "021": "addition",
    "024": "cancellation or termination",
    "025": "reinstatement",
    "030": "audit or compare",
}
"""INS03 (and HD01) maintenance type codes allowed by 005010X220A1."""

MAINTENANCE_REASONS: dict[str, str] = {
    "01": "divorce",
    "02": "birth",
    "03": "death",
    "04": "retirement",
    "05": "adoption",
    "06": "strike",
    "07": "termination of benefits",
    "08": "termination of employment",
    "09": "COBRA",
    "10": "COBRA premium paid",
    "11": "surviving spouse",
    "14": "voluntary withdrawal",
    "15": "primary care provider (PCP) change",
    "16": "quit",
    "17": "fired",
    "18": "suspended",
    "20": "active",
    "21": "disability",
    "22": "plan change",
    "25": "change in identifying data elements",
    "26": "declined coverage",
    "27": "pre-enrollment",
    "28": "initial enrollment",
    "29": "benefit selection",
    "31": "legal separation",
    "32": "marriage",
    "33": "personnel data",
    "37": "leave of absence with benefits",
    "38": "leave of absence without benefits",
    "39": "lay off with benefits",
    "40": "lay off without benefits",
    "41": "re-enrollment",
    "43": "change of location",
    "59": "non payment",
    "AI": "no reason given",
    "EC": "member benefit selection",
    "XN": "notification only",
    "XT": "transfer",
}
"""INS04 maintenance reason codes (the common ones; an unlisted code is kept, its meaning is "")."""

RELATIONSHIPS: dict[str, str] = {
    "01": "spouse",
    "03": "father or mother",
    "04": "grandfather or grandmother",
    "05": "grandson or granddaughter",
    "06": "uncle or aunt",
    "07": "nephew or niece",
    "08": "cousin",
    "09": "adopted child",
    "10": "foster child",
    "11": "son-in-law or daughter-in-law",
    "12": "brother-in-law or sister-in-law",
    "13": "mother-in-law or father-in-law",
    "14": "brother or sister",
    "15": "ward",
    "16": "stepparent",
    "17": "stepson or stepdaughter",
    "18": "self",
    "19": "child",
    "23": "sponsored dependent",
    "24": "dependent of a minor dependent",
    "25": "ex-spouse",
    "26": "guardian",
    "31": "court appointed guardian",
    "38": "collateral dependent",
    "53": "life partner",
    "60": "annuitant",
    "D2": "trustee",
    "G8": "other relationship",
    "G9": "other relative",
}
"""INS02 individual relationship codes."""

ACTION_CODES: dict[str, str] = {"2": "change (update)", "4": "verify (full file)", "RX": "replace"}
"""BGN08."""

SEXES = frozenset({"F", "M", "U"})

_DATE = re.compile(r"[0-9]{8}")


@dataclass(frozen=True, slots=True)
class Party:
    """A header N1 loop: N102 name, N103 id qualifier (FI, XV, 94...), N104 id."""

    name: str
    id_qualifier: str
    id: str


@dataclass(frozen=True, slots=True)
class Enrollment834:
    control_number: str
    """ST02."""
    version: str
    purpose_code: str
    """BGN01 (00 original, 15 re-submission, 22 information copy)."""
    reference: str
    """BGN02."""
    created: dt.date | None
    """BGN03."""
    action_code: str
    """BGN08: 2 change, 4 verify (full file), RX replace."""
    file_effective_date: dt.date | None
    """Header DTP*007 (the start of a range)."""
    sponsor: Party | None
    payer: Party | None
    segment_number: int
    """The ST segment."""

    @property
    def action(self) -> str:
        return ACTION_CODES.get(self.action_code, "")


@dataclass(frozen=True, slots=True)
class Coverage:
    """Loop 2300: HD03 insurance line code (HLT, DEN, VIS...), HD04 plan description, DTP*348/349."""

    insurance_line: str
    plan_description: str
    begin: dt.date | None
    end: dt.date | None
    maintenance_type_code: str = ""
    """HD01."""
    coverage_level: str = ""
    """HD05 (IND, FAM, EMP...)."""
    segment_number: int = field(default=0, compare=False)
    """The HD segment."""


@dataclass(frozen=True, slots=True)
class PcpChoice:
    """Loop 2310 NM1*P3: the NPI (NM108 = XX), the name, and its DTP*348 effective date if present."""

    npi: str
    name: str
    begin: dt.date | None
    insurance_line: str = ""
    """HD03 of the coverage the PCP belongs to."""
    id_qualifier: str = ""
    identifier: str = ""
    """NM109 as sent (the NPI when NM108 is XX)."""
    segment_number: int = field(default=0, compare=False)
    """The NM1*P3 segment."""


@dataclass(frozen=True, slots=True)
class ReportingCategory:
    """Loop 2750: N1*75 N102 name with one REF (qualifier ZZ, 17...) value, e.g. a rate cell or aid code."""

    name: str
    qualifier: str
    value: str


@dataclass(frozen=True, slots=True)
class MemberRecord:
    maintenance_type_code: str
    reason_code: str
    subscriber: bool
    relationship_code: str
    subscriber_id: str
    """REF*0F."""
    member_id: str
    """NM1*IL NM109."""
    client_id: str
    """REF*23."""
    last_name: str
    first_name: str
    middle_name: str
    address_lines: tuple[str, ...]
    city: str
    state: str
    zip: str
    birth_date: dt.date | None
    sex: str
    coverage: tuple[Coverage, ...]
    pcp: tuple[PcpChoice, ...]
    reporting_categories: tuple[ReportingCategory, ...]
    segment_number: int
    """The INS segment."""
    control_number: str = ""
    """ST02 of the transaction set."""
    benefit_status: str = ""
    """INS05 (A active, C COBRA, S surviving insured, T tax equity)."""
    employment_status: str = ""
    """INS08 (FT, PT, RT, TE...)."""
    eligibility_begin: dt.date | None = None
    """Member-level DTP*356 (loop 2000)."""
    eligibility_end: dt.date | None = None
    """Member-level DTP*357 (loop 2000)."""
    maintenance_effective: dt.date | None = None
    """Member-level DTP*303 (loop 2000): when this maintenance takes effect."""

    @property
    def maintenance_type(self) -> str:
        return MAINTENANCE_TYPES[self.maintenance_type_code]

    @property
    def reason(self) -> str:
        return MAINTENANCE_REASONS.get(self.reason_code, "")

    @property
    def relationship(self) -> str:
        return RELATIONSHIPS.get(self.relationship_code, "")


# -- parsing helpers ----------------------------------------------------------------------------------


def _date(seg: Segment, element: int, filename: str | None) -> dt.date:
    text = seg.get(element)
    if _DATE.fullmatch(text):
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    raise seg.error(f"{text!r} is not a CCYYMMDD date", element, filename)


def _dtp(seg: Segment, filename: str | None) -> tuple[dt.date, dt.date | None]:
    """DTP02 D8 or RD8 and DTP03: (start, end of the range or None)."""
    fmt = seg.get(2)
    text = seg.get(3)
    if fmt == "D8":
        return _date(seg, 3, filename), None
    if fmt == "RD8":
        start, sep, end = text.partition("-")
        dates: list[dt.date] = []
        for part in (start, end):
            if sep and _DATE.fullmatch(part):
                try:
                    dates.append(dt.date(int(part[:4]), int(part[4:6]), int(part[6:])))
                    continue
                except ValueError:
                    pass
            raise seg.error(f"{text!r} is not a CCYYMMDD-CCYYMMDD date range", 3, filename)
        if dates[1] < dates[0]:
            raise seg.error(f"date range {text!r} ends before it starts", 3, filename)
        return dates[0], dates[1]
    raise seg.error(f"date format qualifier {fmt!r} is not D8 or RD8", 2, filename)


@dataclass(slots=True)
class _Member:
    ins: Segment
    subscriber_id: str = ""
    client_id: str = ""
    name: Segment | None = None
    address: list[str] = field(default_factory=list)
    city: str = ""
    state: str = ""
    zip: str = ""
    birth_date: dt.date | None = None
    sex: str = ""
    coverage: list[Coverage] = field(default_factory=list)
    pcp: list[PcpChoice] = field(default_factory=list)
    categories: list[ReportingCategory] = field(default_factory=list)
    # the open HD (loop 2300), PCP (2310) and reporting category (2750)
    hd: Segment | None = None
    hd_begin: dt.date | None = None
    hd_end: dt.date | None = None
    pcp_nm1: Segment | None = None
    pcp_begin: dt.date | None = None
    category: str | None = None
    eligibility_begin: dt.date | None = None
    eligibility_end: dt.date | None = None
    maintenance_effective: dt.date | None = None

    def close_pcp(self) -> None:
        nm1 = self.pcp_nm1
        if nm1 is not None:
            qualifier, ident = nm1.get(8), nm1.get(9)
            name = (
                " ".join(p for p in (nm1.get(4), nm1.get(5), nm1.get(3)) if p)
                if nm1.get(2) == "1"
                else nm1.get(3)
            )
            line = self.hd.get(3) if self.hd is not None else ""
            npi = ident if qualifier == "XX" else ""
            self.pcp.append(PcpChoice(npi, name, self.pcp_begin, line, qualifier, ident, nm1.number))
        self.pcp_nm1 = None
        self.pcp_begin = None

    def close_hd(self) -> None:
        self.close_pcp()
        hd = self.hd
        if hd is not None:
            self.coverage.append(
                Coverage(hd.get(3), hd.get(4), self.hd_begin, self.hd_end, hd.get(1), hd.get(5), hd.number)
            )
        self.hd = None
        self.hd_begin = self.hd_end = None

    def finish(self, control_number: str, end: Segment, filename: str | None) -> MemberRecord:
        self.close_hd()
        ins = self.ins
        if self.name is None:
            raise ins.error(
                f"member has no NM1*IL (loop 2100A) before segment {end.number} ({end.id})", None, filename
            )
        if not self.subscriber_id:
            raise ins.error(
                f"member has no REF*0F subscriber identifier before segment {end.number} ({end.id})",
                None,
                filename,
            )
        nm1 = self.name
        return MemberRecord(
            maintenance_type_code=ins.get(3),
            reason_code=ins.get(4),
            subscriber=ins.get(1) == "Y",
            relationship_code=ins.get(2),
            subscriber_id=self.subscriber_id,
            member_id=nm1.get(9),
            client_id=self.client_id,
            last_name=nm1.get(3),
            first_name=nm1.get(4),
            middle_name=nm1.get(5),
            address_lines=tuple(self.address),
            city=self.city,
            state=self.state,
            zip=self.zip,
            birth_date=self.birth_date,
            sex=self.sex,
            coverage=tuple(self.coverage),
            pcp=tuple(self.pcp),
            reporting_categories=tuple(self.categories),
            segment_number=ins.number,
            control_number=control_number,
            benefit_status=ins.get(5),
            employment_status=ins.get(8),
            eligibility_begin=self.eligibility_begin,
            eligibility_end=self.eligibility_end,
            maintenance_effective=self.maintenance_effective,
        )


@dataclass(slots=True)
class _Header:
    st: Segment
    control_number: str
    version: str
    bgn: Segment | None = None
    created: dt.date | None = None
    effective: dt.date | None = None
    sponsor: Party | None = None
    payer: Party | None = None
    done: bool = False

    def build(self, at: Segment, filename: str | None) -> Enrollment834:
        bgn = self.bgn
        if bgn is None:
            raise at.error("no BGN segment before this segment", None, filename)
        self.done = True
        return Enrollment834(
            control_number=self.control_number,
            version=self.version,
            purpose_code=bgn.get(1),
            reference=bgn.get(2),
            created=self.created,
            action_code=bgn.get(8),
            file_effective_date=self.effective,
            sponsor=self.sponsor,
            payer=self.payer,
            segment_number=self.st.number,
        )


def _ins(seg: Segment, filename: str | None) -> None:
    if seg.get(1) not in ("Y", "N"):
        raise seg.error(f"subscriber indicator {seg.get(1)!r} is not Y or N", 1, filename)
    if seg.get(3) not in MAINTENANCE_TYPES:
        raise seg.error(
            f"maintenance type code {seg.get(3)!r} is not one of {', '.join(MAINTENANCE_TYPES)}", 3, filename
        )


def read_834(
    source: Source, *, filename: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Enrollment834 | MemberRecord]:
    """Per 834 transaction set: its :class:`Enrollment834`, then its members one at a time.

    Other transaction sets in the file are skipped. Envelope and content errors raise :class:`X12Error`.
    """
    reader = EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    header: _Header | None = None
    member: _Member | None = None
    loop = ""
    name = filename
    for th, seg in reader:
        sid = seg.id
        if sid == "ST":
            name = reader.filename
            header = _Header(seg, th.control_number, th.version) if th.set_id == "834" else None
            member = None
            loop = "header"
            continue
        if header is None:
            continue
        if sid == "INS":
            if member is not None:
                yield member.finish(header.control_number, seg, name)
            elif not header.done:
                yield header.build(seg, name)
            _ins(seg, name)
            member = _Member(seg)
            loop = "2000"
            continue
        if sid == "SE":
            if member is not None:
                yield member.finish(header.control_number, seg, name)
            elif not header.done:
                yield header.build(seg, name)
            header = None
            member = None
            continue
        if member is None:
            _header_segment(header, seg, name)
            continue
        e1 = seg.get(1)
        if sid == "REF":
            if loop == "2000":
                if e1 == "0F":
                    member.subscriber_id = seg.get(2)
                elif e1 == "23":
                    member.client_id = seg.get(2)
            elif loop == "2750" and member.category is not None:
                member.categories.append(ReportingCategory(member.category, e1, seg.get(2)))
        elif sid == "DTP":
            start, end = _dtp(seg, name)
            if loop == "2300" and member.hd is not None:
                if e1 == "348":
                    member.hd_begin = start
                    if end is not None:
                        member.hd_end = end
                elif e1 == "349":
                    member.hd_end = end or start
            elif loop == "2310" and e1 == "348":
                member.pcp_begin = start
            elif loop == "2000":
                if e1 == "356":
                    member.eligibility_begin = start
                elif e1 == "357":
                    member.eligibility_end = end or start
                elif e1 == "303":
                    member.maintenance_effective = start
        elif sid == "NM1":
            if loop in ("2000", "2100A", "2100"):
                if e1 == "IL":
                    member.name = seg
                    loop = "2100A"
                else:
                    loop = "2100"
            elif loop == "2310" and e1 == "P3":
                member.close_pcp()
                if seg.get(8) == "XX" and not is_valid_npi(seg.get(9)):
                    raise seg.error(f"{seg.get(9)!r} is not a valid NPI (check digit)", 9, name)
                member.pcp_nm1 = seg
        elif sid == "N3" and loop == "2100A":
            member.address = [p for p in (e1, seg.get(2)) if p]
        elif sid == "N4" and loop == "2100A":
            member.city, member.state, member.zip = e1, seg.get(2), seg.get(3)
        elif sid == "DMG":
            if e1 != "D8":
                raise seg.error(f"date format qualifier {e1!r} is not D8", 1, name)
            birth = _date(seg, 2, name)
            sex = seg.get(3)
            if sex not in SEXES:
                raise seg.error(f"sex {sex!r} is not F, M or U", 3, name)
            if loop == "2100A":
                member.birth_date, member.sex = birth, sex
        elif sid == "HD":
            member.close_hd()
            member.hd = seg
            loop = "2300"
        elif sid == "LX":
            if loop in ("2300", "2310"):
                member.close_pcp()
                loop = "2310"
            elif loop in ("2700", "2750"):
                loop = "2710"
        elif sid == "COB":
            member.close_pcp()
            loop = "2320"
        elif sid == "LS":
            member.close_hd()
            loop = "2700"
        elif sid == "LE":
            loop = "end"
        elif sid == "N1" and loop in ("2710", "2750") and e1 == "75":
            member.category = seg.get(2)
            loop = "2750"


def _header_segment(header: _Header, seg: Segment, filename: str | None) -> None:
    sid = seg.id
    if sid == "BGN":
        header.bgn = seg
        header.created = _date(seg, 3, filename)
    elif sid == "DTP":
        start, _end = _dtp(seg, filename)
        if seg.get(1) == "007":
            header.effective = start
    elif sid == "N1":
        party = Party(seg.get(2), seg.get(3), seg.get(4))
        if seg.get(1) == "P5":
            header.sponsor = party
        elif seg.get(1) == "IN":
            header.payer = party
