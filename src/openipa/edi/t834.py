"""834 Benefit Enrollment and Maintenance (005010X220A1) mapped to typed records, streamed.

:func:`read_834` yields, per transaction set, one :class:`Enrollment834` (the header: BGN, DTP*007,
N1*P5 sponsor, N1*IN payer) and then one :class:`MemberRecord` per INS loop. A member is yielded when the
next INS or the SE is read, so memory holds one member at a time whatever the size of the file.

Content errors raise :class:`X12Error` with the segment number, segment id and element position.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from openipa.core.identifiers import is_valid_npi
from openipa.edi.x12.dates import dtp_range, element_date, parse_d8
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, SegmentBatch, Source
from openipa.edi.x12.records import builder
from openipa.edi.x12.writer import X12Writer

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
    segment_number: int = field(compare=False)
    """The ST segment (where the header was read: not part of its value, so not compared)."""

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
    """Loop 2310 NM1*P3: the NPI (NM108 = XX), the name, and its effective date if present.

    The effective date is PLA03 (005010X220A1 has no DTP in loop 2310); a DTP*348 after the NM1*P3, which
    some senders use, is read as well. ``name`` is "FIRST MIDDLE LAST" for a person, NM103 for an
    organization.
    """

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
    segment_number: int = field(compare=False)
    """The INS segment (where the member was read: not part of its value, so not compared)."""
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


_MemberBuilder = builder(MemberRecord)
_CoverageBuilder = builder(Coverage)
_PcpBuilder = builder(PcpChoice)
_CategoryBuilder = builder(ReportingCategory)

_CACHE_LIMIT = 50_000
"""Entries in the per-file caches of parsed dates and checked NPIs (cleared when full: bounded memory)."""


def read_834(
    source: Source,
    *,
    filename: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    envelope: EnvelopeReader | None = None,
) -> Iterator[Enrollment834 | MemberRecord]:
    """Per 834 transaction set: its :class:`Enrollment834`, then its members one at a time.

    Other transaction sets in the file are skipped. Envelope and content errors raise :class:`X12Error`.
    Pass ``envelope`` (an :class:`EnvelopeReader` over ``source``) to look at the interchanges afterwards,
    e.g. to acknowledge them with a 999 without reading the file again.
    """
    reader = envelope or EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    return _map_834(reader, filename)


def _map_834(reader: EnvelopeReader, filename: str | None) -> Iterator[Enrollment834 | MemberRecord]:
    # One loop over runs of already split segments, with the member being read held in local variables:
    # this is the hot path of every roster import, written for speed (see bench/eligibility).
    name = filename
    dates: dict[str, dt.date] = {}
    npis: set[str] = set()
    new_object = object.__new__
    categories: dict[str, ReportingCategory] = {}
    maintenance_types = MAINTENANCE_TYPES
    sexes = SEXES
    header: _Header | None = None
    control = ""
    # the member being read (``ins`` is None between members); a coverage or PCP is a builder (see
    # _builder) filled in while its loop is open, and given its frozen class when the member is complete
    ins: list[str] | None = None
    ins_batch: SegmentBatch | None = None
    ins_index = 0
    loop = 0
    subscriber_id = client_id = ""
    name_e: list[str] | None = None
    address: tuple[str, ...] = ()
    city = state = zip_code = sex = ""
    birth: dt.date | None = None
    eligibility_begin: dt.date | None = None
    eligibility_end: dt.date | None = None
    maintenance_effective: dt.date | None = None
    covs: list[Any] = []  # Coverage builders (the open one is ``cov``)
    cov: Any = None
    pcps: list[Any] = []  # PcpChoice builders (the open one is ``pcp``)
    pcp: Any = None
    cats: list[ReportingCategory] = []
    category: str | None = None
    for th, batch, start, stop in reader.batches():
        if th.set_id != "834":
            continue
        elements = batch.elements
        if ins is None:
            # the header: ST, BGN, DTP*007, N1 loops (and SE, when the set has no member)
            while start < stop:
                e = elements[start]
                sid = e[0]
                if sid == "INS":
                    break
                seg = batch.segment(start)
                if sid == "ST":
                    name = reader.filename
                    control = th.control_number
                    header = _Header(seg, control, th.version)
                elif header is None:
                    pass
                elif sid == "SE":
                    if not header.done:
                        yield header.build(seg, name)
                    header = None
                else:
                    _header_segment(header, seg, name)
                start += 1
            if header is None:
                continue
        for i, e in enumerate(elements[start:stop], start):
            sid = e[0]
            if sid == "REF":
                try:
                    qualifier = e[1]
                    value = e[2]
                except IndexError:
                    qualifier, value = (e[1] if len(e) > 1 else ""), ""
                if loop == 2000:
                    if qualifier == "0F":
                        subscriber_id = value
                    elif qualifier == "23":
                        client_id = value
                elif loop == 2750 and category is not None:
                    # few distinct categories (rate cells, aid codes): share the frozen records
                    rc = categories.get(value)
                    if rc is None or rc.name != category or rc.qualifier != qualifier:
                        rc = _CategoryBuilder(category, qualifier, value)
                        rc.__class__ = ReportingCategory
                        if len(categories) >= _CACHE_LIMIT:
                            categories.clear()
                        categories[value] = rc
                    cats.append(rc)
            elif sid == "DTP":
                begin = dates.get(e[3]) if len(e) == 4 and e[2] == "D8" else None
                if begin is None:
                    begin, end = _dtp_slow(batch, i, name, dates)
                else:
                    end = None
                qualifier = e[1]
                if loop == 2300:
                    if qualifier == "348":
                        cov.begin = begin
                        if end is not None:
                            cov.end = end
                    elif qualifier == "349":
                        cov.end = end or begin
                elif loop == 2310:
                    if qualifier == "348" and pcp is not None:
                        pcp.begin = begin
                elif loop == 2000:
                    if qualifier == "356":
                        eligibility_begin = begin
                    elif qualifier == "357":
                        eligibility_end = end or begin
                    elif qualifier == "303":
                        maintenance_effective = begin
            elif sid == "NM1":
                try:
                    qualifier = e[1]
                except IndexError:
                    qualifier = ""
                if loop == 2000 or loop == 2100 or loop == 2101:
                    if qualifier == "IL":
                        name_e = e if len(e) > 9 else e + [""] * (10 - len(e))
                        loop = 2100
                    else:
                        loop = 2101
                elif loop == 2310 and qualifier == "P3":
                    pcp = _pcp(e, cov, batch, i, name, npis)
                    pcps.append(pcp)
            elif sid == "LX":
                if loop == 2300 or loop == 2310:
                    pcp = None
                    loop = 2310
                elif loop == 2700 or loop == 2750:
                    loop = 2710
            elif sid == "N3":
                if loop == 2100:
                    size = len(e)
                    if size == 2 and e[1]:
                        address = (e[1],)
                    elif size == 3 and e[1] and e[2]:
                        address = (e[1], e[2])
                    else:
                        address = tuple(filter(None, e[1:3]))
            elif sid == "N4":
                if loop == 2100:
                    if len(e) < 4:
                        e = [*e, "", "", ""]
                    city, state, zip_code = e[1], e[2], e[3]
            elif sid == "HD":
                if len(e) < 6:
                    e = e + [""] * (6 - len(e))
                cov = new_object(_CoverageBuilder)
                cov.insurance_line = e[3]
                cov.plan_description = e[4]
                cov.begin = cov.end = None
                cov.maintenance_type_code = e[1]
                cov.coverage_level = e[5]
                cov.segment_number = batch.number + i
                covs.append(cov)
                pcp = None
                loop = 2300
            elif sid == "LS":
                cov = pcp = None
                loop = 2700
            elif sid == "N1":
                if (loop == 2710 or loop == 2750) and len(e) > 1 and e[1] == "75":
                    category = e[2] if len(e) > 2 else ""
                    loop = 2750
            elif sid == "LE":
                loop = 9999
            elif sid == "DMG":
                born = dates.get(e[2]) if len(e) > 3 and e[1] == "D8" and e[3] in sexes else None
                if born is None:
                    born = _dmg_slow(batch, i, name, dates)
                if loop == 2100:
                    birth, sex = born, e[3]
            elif sid == "INS" or sid == "SE":
                assert header is not None
                if ins is not None:
                    # the member is complete
                    assert ins_batch is not None
                    if name_e is None:
                        raise ins_batch.error(
                            ins_index,
                            f"member has no NM1*IL (loop 2100A) before segment {batch.number + i} ({sid})",
                            None,
                            name,
                        )
                    if not subscriber_id:
                        raise ins_batch.error(
                            ins_index,
                            "member has no REF*0F subscriber identifier before segment "
                            f"{batch.number + i} ({sid})",
                            None,
                            name,
                        )
                    for built in covs:
                        built.__class__ = Coverage
                    for built in pcps:
                        built.__class__ = PcpChoice
                    record = new_object(_MemberBuilder)
                    record.maintenance_type_code = ins[3]
                    record.reason_code = ins[4]
                    record.subscriber = ins[1] == "Y"
                    record.relationship_code = ins[2]
                    record.subscriber_id = subscriber_id
                    record.member_id = name_e[9]
                    record.client_id = client_id
                    record.last_name = name_e[3]
                    record.first_name = name_e[4]
                    record.middle_name = name_e[5]
                    record.address_lines = address
                    record.city = city
                    record.state = state
                    record.zip = zip_code
                    record.birth_date = birth
                    record.sex = sex
                    record.coverage = tuple(covs)
                    record.pcp = tuple(pcps)
                    record.reporting_categories = tuple(cats)
                    record.segment_number = ins_batch.number + ins_index
                    record.control_number = control
                    record.benefit_status = ins[5]
                    record.employment_status = ins[8]
                    record.eligibility_begin = eligibility_begin
                    record.eligibility_end = eligibility_end
                    record.maintenance_effective = maintenance_effective
                    record.__class__ = MemberRecord
                    yield record
                elif not header.done:
                    yield header.build(batch.segment(i), name)
                if sid == "SE":
                    header = None
                    ins = ins_batch = None
                    break  # an SE ends the run
                if len(e) < 9:
                    e = e + [""] * (9 - len(e))
                if e[1] != "Y" and e[1] != "N":
                    raise batch.error(i, f"subscriber indicator {e[1]!r} is not Y or N", 1, name)
                if e[3] not in maintenance_types:
                    raise batch.error(
                        i,
                        f"maintenance type code {e[3]!r} is not one of {', '.join(MAINTENANCE_TYPES)}",
                        3,
                        name,
                    )
                ins, ins_batch, ins_index = e, batch, i
                loop = 2000
                subscriber_id = client_id = city = state = zip_code = sex = ""
                name_e = birth = None
                address = ()
                eligibility_begin = eligibility_end = maintenance_effective = None
                covs, pcps, cats = [], [], []
                cov = pcp = category = None
            elif sid == "PLA":
                if loop == 2310 and pcp is not None:
                    # provider change reason: PLA03 is the PCP's effective date
                    text = e[3] if len(e) > 3 else ""
                    effective = dates.get(text) or _cached_date(text, dates)
                    if effective is None:
                        raise batch.error(i, f"{text!r} is not a CCYYMMDD date", 3, name)
                    pcp.begin = effective
            elif sid == "COB":
                pcp = None
                loop = 2320


def _cached_date(text: str, dates: dict[str, dt.date]) -> dt.date | None:
    """``text`` (CCYYMMDD) as a date, remembered in ``dates``; None when it is not a date."""
    day = parse_d8(text)
    if day is not None:
        if len(dates) >= _CACHE_LIMIT:
            dates.clear()
        dates[text] = day
    return day


def _dtp_slow(
    batch: SegmentBatch, i: int, filename: str | None, dates: dict[str, dt.date]
) -> tuple[dt.date, dt.date | None]:
    """A DTP off the fast path (a D8 not seen yet, an RD8 range, or an error)."""
    e = batch.elements[i]
    if len(e) > 3 and e[2] == "D8":
        day = _cached_date(e[3], dates)
        if day is not None:
            return day, None
    return dtp_range(batch.segment(i), filename)


def _dmg_slow(batch: SegmentBatch, i: int, filename: str | None, dates: dict[str, dt.date]) -> dt.date:
    """The birth date of a DMG off the fast path (a date not seen yet, or an error)."""
    e = batch.elements[i]
    e = [*e, "", "", ""] if len(e) < 4 else e
    if e[1] != "D8":
        raise batch.error(i, f"date format qualifier {e[1]!r} is not D8", 1, filename)
    born = dates.get(e[2]) or _cached_date(e[2], dates)
    if born is None:
        raise batch.error(i, f"{e[2]!r} is not a CCYYMMDD date", 2, filename)
    if e[3] not in SEXES:
        raise batch.error(i, f"sex {e[3]!r} is not F, M or U", 3, filename)
    return born


def _pcp(e: list[str], cov: Any, batch: SegmentBatch, i: int, filename: str | None, npis: set[str]) -> Any:
    """A PcpChoice builder for an NM1*P3 (its NPI checked once per file)."""
    if len(e) < 10:
        e = e + [""] * (10 - len(e))
    id_qualifier, ident = e[8], e[9]
    npi = ""
    if id_qualifier == "XX":
        if ident not in npis:
            if not is_valid_npi(ident):
                raise batch.error(i, f"{ident!r} is not a valid NPI (check digit)", 9, filename)
            if len(npis) >= _CACHE_LIMIT:
                npis.clear()
            npis.add(ident)
        npi = ident
    first, middle, last = e[4], e[5], e[3]
    if e[2] != "1":
        name = last  # an organization
    elif first and last:
        name = f"{first} {middle} {last}" if middle else f"{first} {last}"
    else:
        name = " ".join(filter(None, (first, middle, last)))
    pcp = object.__new__(_PcpBuilder)
    pcp.npi = npi
    pcp.name = name
    pcp.begin = None
    pcp.insurance_line = cov.insurance_line if cov is not None else ""
    pcp.id_qualifier = id_qualifier
    pcp.identifier = ident
    pcp.segment_number = batch.number + i
    return pcp


def _header_segment(header: _Header, seg: Segment, filename: str | None) -> None:
    sid = seg.id
    if sid == "BGN":
        header.bgn = seg
        header.created = element_date(seg, 3, filename)
    elif sid == "DTP":
        start, _end = dtp_range(seg, filename)
        if seg.get(1) == "007":
            header.effective = start
    elif sid == "N1":
        party = Party(seg.get(2), seg.get(3), seg.get(4))
        if seg.get(1) == "P5":
            header.sponsor = party
        elif seg.get(1) == "IN":
            header.payer = party


# -- writing ------------------------------------------------------------------------------------------

VERSION = "005010X220A1"
PCP_RELATIONSHIP = "72"
"""NM110 of the PCP (loop 2310): 25 established patient, 26 not established, 72 unknown."""


def write_834(
    target: BinaryIO | str | os.PathLike[str],
    header: Enrollment834,
    members: Iterable[MemberRecord],
    *,
    sender_id: str,
    receiver_id: str,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    interchange_control_number: int = 1,
    group_control_number: int = 1,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None = None,
    usage: str = "P",
    pcp_change_reason: str = "AG",
) -> int:
    """Write one 834 interchange (ISA, GS, ST ... SE, GE, IEA) and return the number of members written.

    ``target`` is a binary stream or a path. ``members`` is consumed one record at a time, so a file of
    any size is written in constant memory. ST02 is ``header.control_number`` (each member's own
    ``control_number`` is not used); ISA13 and GS06 are the control numbers given. ``when`` dates the
    ISA and GS and is the BGN04 time (default: ``header.created`` at midnight); BGN03 is ``header.created``
    (default: the date of ``when``).

    Per member, in 005010X220A1 order: INS, REF*0F, REF*23, DTP*356/357/303, NM1*IL (NM108 34 when the
    member id is nine digits, else ZZ), N3, N4, DMG, then per coverage HD, DTP*348, DTP*349 and the
    coverage's PCPs (loop 2310: LX, NM1*P3 with NM110 72, and PLA*2*1P*date**``pcp_change_reason`` when
    the PCP has an effective date), then the reporting categories (LS*2700, per category LX, N1*75,
    REF, then LE*2700). A PCP goes under the first coverage of its insurance line, so PCPs read back
    grouped by coverage. :func:`read_834` reads the file back to equal records.

    Raises ValueError for a record the guide cannot carry: a missing sponsor or payer, an unknown
    maintenance type, no relationship, benefit status, subscriber id or last name, a coverage with no
    insurance line or begin date, a sex without a birth date (or one not F, M or U), more than two
    address lines, a PCP whose insurance line has no coverage, an NPI with a bad check digit, or an
    element holding a delimiter.
    """
    sponsor, payer = header.sponsor, header.payer
    if sponsor is None or payer is None:
        raise ValueError("an 834 needs a sponsor (N1*P5) and a payer (N1*IN)")
    if when is None:
        when = dt.datetime.combine(header.created, dt.time()) if header.created else dt.datetime(2000, 1, 1)
    version = header.version or VERSION
    with contextlib.ExitStack() as stack:
        stream = (
            stack.enter_context(open(target, "wb"))  # closed by the exit stack
            if isinstance(target, (str, os.PathLike))
            else target
        )
        w = X12Writer(stream, delimiters, newline=newline)
        w.start_interchange(
            sender_qualifier,
            sender_id,
            receiver_qualifier,
            receiver_id,
            control_number=interchange_control_number,
            when=when,
            usage=usage,
        )
        w.start_group(
            "BE", sender_id, receiver_id, control_number=group_control_number, version=version, when=when
        )
        w.start_transaction("834", header.control_number, version)
        created = header.created or when.date()
        w.segment("BGN", header.purpose_code, header.reference, _ccyymmdd(created), when.strftime("%H%M"),
                  "", "", "", header.action_code)  # fmt: skip
        if header.file_effective_date is not None:
            w.segment("DTP", "007", "D8", _ccyymmdd(header.file_effective_date))
        w.segment("N1", "P5", sponsor.name, sponsor.id_qualifier, sponsor.id)
        w.segment("N1", "IN", payer.name, payer.id_qualifier, payer.id)
        count = 0
        for member in members:
            try:
                _write_member(w, member, pcp_change_reason)
            except ValueError as exc:
                raise ValueError(f"member {count + 1} (subscriber {member.subscriber_id!r}): {exc}") from None
            count += 1
        w.end_transaction()
        w.end_group()
        w.end_interchange()
    return count


def _ccyymmdd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _write_member(w: X12Writer, m: MemberRecord, pcp_change_reason: str) -> None:
    if m.maintenance_type_code not in MAINTENANCE_TYPES:
        raise ValueError(
            f"maintenance type code {m.maintenance_type_code!r} is not one of {', '.join(MAINTENANCE_TYPES)}"
        )
    for value, what in (
        (m.relationship_code, "relationship code (INS02)"),
        (m.benefit_status, "benefit status (INS05)"),
        (m.subscriber_id, "subscriber id (REF*0F)"),
        (m.last_name, "last name (NM103)"),
    ):
        if not value:
            raise ValueError(f"no {what}")
    segment = w.segment
    segment("INS", "Y" if m.subscriber else "N", m.relationship_code, m.maintenance_type_code, m.reason_code,
            m.benefit_status, "", "", m.employment_status)  # fmt: skip
    segment("REF", "0F", m.subscriber_id)
    if m.client_id:
        segment("REF", "23", m.client_id)
    for qualifier, day in (
        ("356", m.eligibility_begin),
        ("357", m.eligibility_end),
        ("303", m.maintenance_effective),
    ):
        if day is not None:
            segment("DTP", qualifier, "D8", _ccyymmdd(day))
    member_id = m.member_id
    id_qualifier = (
        ("34" if len(member_id) == 9 and member_id.isascii() and member_id.isdigit() else "ZZ")
        if member_id
        else ""
    )
    segment("NM1", "IL", "1", m.last_name, m.first_name, m.middle_name, "", "", id_qualifier, member_id)
    lines = m.address_lines
    if len(lines) > 2:
        raise ValueError(f"{len(lines)} address lines: N3 holds two")
    if lines:
        segment("N3", *lines)
    if m.city or m.state or m.zip:
        segment("N4", m.city, m.state, m.zip)
    if m.birth_date is not None:
        if m.sex not in SEXES:
            raise ValueError(f"sex {m.sex!r} is not F, M or U")
        segment("DMG", "D8", _ccyymmdd(m.birth_date), m.sex)
    elif m.sex:
        raise ValueError(f"sex {m.sex!r} without a birth date (DMG needs both)")
    lines_of = [c.insurance_line for c in m.coverage]
    pcps_of: list[list[PcpChoice]] = [[] for _ in m.coverage]
    for pcp in m.pcp:
        if pcp.insurance_line not in lines_of:
            raise ValueError(f"PCP {pcp.name!r} is for insurance line {pcp.insurance_line!r}, not covered")
        pcps_of[lines_of.index(pcp.insurance_line)].append(pcp)
    for coverage, pcps in zip(m.coverage, pcps_of, strict=True):
        if not coverage.insurance_line:
            raise ValueError("a coverage has no insurance line (HD03)")
        if coverage.begin is None:
            raise ValueError(f"coverage {coverage.insurance_line} has no begin date (DTP*348)")
        segment("HD", coverage.maintenance_type_code or m.maintenance_type_code, "", coverage.insurance_line,
                coverage.plan_description, coverage.coverage_level)  # fmt: skip
        segment("DTP", "348", "D8", _ccyymmdd(coverage.begin))
        if coverage.end is not None:
            segment("DTP", "349", "D8", _ccyymmdd(coverage.end))
        for number, pcp in enumerate(pcps, 1):
            qualifier = pcp.id_qualifier or ("XX" if pcp.npi else "")
            ident = pcp.identifier or pcp.npi
            if qualifier == "XX" and not is_valid_npi(ident):
                raise ValueError(f"{ident!r} is not a valid NPI (check digit)")
            first, _, last = pcp.name.rpartition(" ")
            segment("LX", str(number))
            segment("NM1", "P3", "1", last, first, "", "", "", qualifier, ident, PCP_RELATIONSHIP)
            if pcp.begin is not None:
                segment("PLA", "2", "1P", _ccyymmdd(pcp.begin), "", pcp_change_reason)
    if m.reporting_categories:
        segment("LS", "2700")
        for number, category in enumerate(m.reporting_categories, 1):
            segment("LX", str(number))
            segment("N1", "75", category.name)
            segment("REF", category.qualifier, category.value)
        segment("LE", "2700")
