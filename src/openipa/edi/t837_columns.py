"""837 claims read as columns (Polars): the bulk path of claims intake.

:func:`read_837` (``t837``) maps a file one segment at a time to one object per claim; it is the reference
reader, and the only one that reports problems. :func:`read_837_columns` reads the same files as two frames,
one row per claim and one per service line, with the columns intake writes, several times faster: the file is
split into segments and elements by Polars, and every loop, reference and check is a column expression.

It answers only for files it can read exactly as :func:`read_837` would with no problem at all: one
interchange, an envelope whose counts and control numbers agree, and claims with no content or structural
problem. For anything else (a bad date, an amount it does not take, a loop out of order, a second interchange,
line breaks as the segment terminator...) it returns None, and the caller reads the file with ``read_837``,
which says what is wrong. So a file read here gives the values ``read_837`` would give; the tests compare the
two on every sample and on mutated files.

Claim columns (:data:`CLAIM_SCHEMA`) and line columns (:data:`LINE_SCHEMA`) hold what intake stores and what
its 277CA needs; :attr:`Columns837.interchange` is the envelope as :class:`EnvelopeReader` records it, for the
999.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from openipa.edi.t837 import (
    DIAGNOSIS_QUALIFIERS,
    FREQUENCY_CODES,
    INSTITUTIONAL,
    POINTER_QUALIFIERS,
    PROFESSIONAL,
)
from openipa.edi.x12.delimiters import BOM, ISA_LENGTH, Delimiters
from openipa.edi.x12.envelope import Group, Interchange, TransactionResult
from openipa.edi.x12.errors import X12Error
from openipa.edi.x12.reader import Segment

ELEMENTS = 13
"""Elements kept per segment (HI carries up to 12 diagnoses); a longer HI sends the file to ``read_837``."""

CLAIM_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "claim": pl.Int64,  # 0-based, in file order
    "segment": pl.Int64,  # the CLM segment's number
    "kind": pl.String,
    "claim_id": pl.String,
    "total_charge_cents": pl.Int64,
    "frequency_code": pl.String,
    "place_of_service": pl.String,
    "facility_type": pl.String,
    "payer_claim_control_number": pl.String,
    "prior_authorization": pl.String,
    "referral_number": pl.String,
    "statement_from": pl.Date,
    "statement_to": pl.Date,
    "member_id": pl.String,  # the subscriber's (NM1*IL NM109)
    "patient_member_id": pl.String,  # the person treated: the 2000C patient's, else the subscriber's
    "patient_last_name": pl.String,
    "patient_first_name": pl.String,
    "patient_birth_date": pl.Date,
    "billing_entity_type": pl.String,
    "billing_name": pl.String,
    "billing_first_name": pl.String,
    "billing_middle_name": pl.String,
    "billing_id_qualifier": pl.String,
    "billing_identifier": pl.String,
    "billing_tin": pl.String,
    "billing_taxonomy": pl.String,
    "billing_address": pl.Boolean,
    "billing_line1": pl.String,
    "billing_line2": pl.String,
    "billing_city": pl.String,
    "billing_state": pl.String,
    "billing_zip": pl.String,
    "rendering_npi": pl.String,  # the claim's rendering provider's NPI, else (no 2310 rendering) the attending's
    "referring_npi": pl.String,
    "facility_npi": pl.String,
    "diagnoses": pl.String,  # JSON: [[qualifier, code], ...] in HI order
    "lines": pl.Int64,
    "first_line_day": pl.Date,  # the earliest and latest service-line dates (DTP*472)
    "last_line_day": pl.Date,
}
LINE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "claim": pl.Int64,
    "segment": pl.Int64,  # the SV1/SV2 segment's number
    "number": pl.Int64,
    "procedure_qualifier": pl.String,
    "procedure_code": pl.String,
    "modifiers": pl.String,  # joined with commas
    "revenue_code": pl.String,
    "charge_cents": pl.Int64,
    "unit_basis": pl.String,
    "units": pl.String,  # as sent: digits, at most three decimals
    "place_of_service": pl.String,  # SV105 as sent
    "diagnosis_codes": pl.String,  # the pointed-to codes, joined with commas
    "service_date": pl.Date,
    "service_date_end": pl.Date,
    "control_number": pl.String,
    "rendering_npi": pl.String,  # the line's own NM1*82 NPI; empty when it has none
}


@dataclass(frozen=True)
class Columns837:
    claims: pl.DataFrame
    lines: pl.DataFrame
    interchange: Interchange
    """The envelope, as :class:`EnvelopeReader` records it (no errors), for the 999."""
    controls: dict[str, int]
    """Each transaction set's control number -> its ST segment number."""
    submitter_name: str
    submitter_id: str
    originator_reference: str
    """Of the first transaction set: NM1*41 NM103 and NM109, BHT03 (the 277CA answers to them)."""


class _NotHere(Exception):
    """The file is not one this reader answers for: read it with read_837."""


def read_837_columns(source: Path | bytes, *, filename: str | None = None) -> Columns837 | None:
    """The claims and lines of an 837 file as frames, or None when the file must be read with ``read_837``
    (anything unusual or wrong in it: ``read_837`` says what)."""
    try:
        # the file's bytes and the segments' texts are let go once the segments are split by id
        parts, envelope, comp = _tokens(source if isinstance(source, bytes) else Path(source).read_bytes())
        return _claims(parts, envelope, comp)
    except _NotHere:
        return None


# -- tokenizing ---------------------------------------------------------------------------------------


_AMOUNT = r"^(\d{1,15})(?:\.(\d{0,2}))?$|^()\.(\d{1,2})$"
"""Amounts taken here: digits with at most two decimals (parse_cents takes more forms; those go to read_837)."""
_UNITS = r"^\d{1,7}(?:\.\d{1,3})?$"
_D8 = r"^\d{8}$"
_ID = r"^[A-Z0-9]{2,3}$"


def _tokens(data: bytes) -> tuple[_Parts, _Envelope, str]:
    base = 0
    if data.startswith(BOM):
        data, base = data[len(BOM) :], len(BOM)
    stripped = data.lstrip(b" \t\r\n")
    base += len(data) - len(stripped)
    data = stripped
    if len(data) < ISA_LENGTH or not data.startswith(b"ISA"):
        raise _NotHere
    try:
        delimiters = Delimiters.from_isa(data[:ISA_LENGTH])
    except X12Error:
        raise _NotHere from None
    term, sep, comp = delimiters.segment, delimiters.element, delimiters.component
    if term in "\r\n" or term == " ":
        raise _NotHere
    raw = _segments(data, term)
    if raw.null_count():
        raise _NotHere  # an empty segment
    # byte offsets (only the envelope's are used: a segment's raw text keeps the line breaks before it)
    sizes = raw.str.len_bytes().cast(pl.Int64)
    offsets = (sizes + 1).cum_sum().shift(1, fill_value=0) + base
    if b"\n" in data or b"\r" in data:
        seg = raw.str.strip_chars_start("\r\n")
        offsets = offsets + sizes - seg.str.len_bytes()
    else:
        seg = raw
    del raw, sizes
    # each segment's id and the rest, in pieces split side by side (a string kernel runs on one core)
    step = -(-seg.len() // _PIECES)
    pieces = [
        pl.LazyFrame({"seg": seg.slice(start, step)}).select(
            pl.col("seg").str.splitn(sep, 2).struct.rename_fields(["id", "rest"]).struct.unnest()
        )
        for start in range(0, seg.len(), step)
    ]
    head = pl.concat(pl.collect_all(pieces), rechunk=False)
    frame = head.with_columns(n=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
    ids = frame.get_column("id").unique()
    if not ids.str.contains(_ID).all() or not ids.str.contains("[A-Z]").all():
        raise _NotHere
    envelope = _envelope(frame.select("n", "id", seg=seg), offsets, delimiters, base, sep)
    state = _state(frame.select("n", "id"))
    # nothing but the envelope between transaction sets
    outside = frame.get_column("id").filter(~state.get_column("in_set")).unique()
    if not outside.is_in(["ISA", "GS", "SE", "GE", "IEA"]).all():
        raise _NotHere
    parts = _Parts(pl.concat([frame.select("id", "rest"), state], how="horizontal"), sep)
    return parts, envelope, comp


_PIECES = 4
"""Pieces the segments are cut into for splitting off their ids, each on a core of its own."""

_ELEMENTS_READ = {"LX": 1, "REF": 2, "DTP": 3, "N3": 2, "N4": 3, "DMG": 3, "PRV": 3, "HL": 3, "SV1": 7, "SV2": 5,
                  "CLM": 5, "NM1": 9, "BHT": 4, "PAT": 1, "SBR": 1, "HI": ELEMENTS, "CL1": 1, "SVD": 1, "ST": 3,
                  "SE": 2}  # fmt: skip
"""Elements split out per segment id (the mapping reads no further ones); ELEMENTS for any other id."""


def _segments(data: bytes, term: str, *, fast: bool = True) -> pl.Series:
    """Each segment's text up to its terminator (line breaks before it included; null for an empty one). An
    ASCII file without carriage returns (nearly all) is split by Polars' CSV reader, on every core; any other is
    decoded as latin-1, as read_837 decodes it, and split as one text."""
    end = data.rfind(term.encode("latin-1"))
    if end < 0 or data[end + 1 :].strip(b" \t\r\n"):
        raise _NotHere  # a truncated last segment
    # (the CSV reader also drops a carriage return before the terminator, which read_837 keeps in the element)
    if fast and data.isascii() and b"\x01" not in data and b"\r" not in data:
        read = pl.read_csv(
            data[: end + 1], has_header=False, separator="\x01", eol_char=term, quote_char=None,
            infer_schema=False, new_columns=["raw"],
        )  # fmt: skip
        return read.get_column("raw")
    text = data[:end].decode("latin-1")
    return pl.Series("raw", [text]).str.split(term).explode().replace("", None)


class _Parts:
    """The segments by id, each with the state columns of :func:`_state` and its elements (split in parallel)."""

    def __init__(self, frame: pl.DataFrame, sep: str) -> None:
        by_id = {
            key[0]: part for key, part in frame.partition_by("id", as_dict=True, include_key=False).items()
        }
        names = sorted(by_id)
        split = pl.collect_all([self._split(by_id[name].lazy(), name, sep) for name in names])
        self._by_id = dict(zip(names, split, strict=True))
        self._empty = {
            name: self._split(frame.clear().drop("id").lazy(), name, sep).collect() for name in _ELEMENTS_READ
        }

    @staticmethod
    def _split(part: pl.LazyFrame, sid: str, sep: str) -> pl.LazyFrame:
        count = _ELEMENTS_READ.get(sid, ELEMENTS)
        names = [*[f"e{i}" for i in range(1, count + 1)], "more"]
        if count == 1:  # one element read: the rest is it (a further element fails the id's own check)
            return part.rename({"rest": "e1"}).with_columns(more=pl.lit(None, dtype=pl.String))
        if sid != "HI":  # further elements are not read: split only as far as needed
            return (
                part.with_columns(
                    pl.col("rest")
                    .str.split_exact(sep, count - 1)
                    .struct.rename_fields(names[:-1])
                    .alias("elements")
                )
                .drop("rest")
                .unnest("elements")
                .with_columns(more=pl.lit(None, dtype=pl.String))
            )
        return (
            part.with_columns(
                pl.col("rest").str.splitn(sep, count + 1).struct.rename_fields(names).alias("elements")
            )
            .drop("rest")
            .unnest("elements")
        )

    def ids(self) -> set[str]:
        return set(self._by_id)

    def __call__(self, sid: str) -> pl.DataFrame:
        """The ``sid`` segments with their elements e1, e2 ... (null where absent; as many as _ELEMENTS_READ
        says) and ``more`` (the text of any further ones)."""
        found = self._by_id.get(sid)
        if found is None:
            found = self._empty.get(sid)
            if found is None:
                raise KeyError(sid)
        return found


def _state(frame: pl.DataFrame) -> pl.DataFrame:
    """Per segment, where it is: its transaction set (``ts``, from 1), whether it is inside one (``in_set``) and
    inside an HL loop (``in_hl``); the HL, CLM and LX it belongs to (``hl``, ``claim_n``, ``line_n``: their
    segment numbers, null outside one); its claim loop (``loop``: 2300, 2310, 2320, 2400, 2420 or 2430 as
    read_837 counts them, 0 outside a claim); the NM1 whose N3/N4/REF/PRV/DMG it would be (``ent_n``)."""
    n, sid = pl.col("n"), pl.col("id")

    def last(cond: pl.Expr) -> pl.Expr:
        return pl.when(cond).then(n).otherwise(None).forward_fill().fill_null(0)

    return (
        frame.lazy()
        .with_columns(
            ts=(sid == "ST").cum_sum().cast(pl.Int32),
            last_st=last(sid == "ST"),
            last_se=last(sid == "SE"),
            last_hl=last(sid == "HL"),
            boundary=last(sid.is_in(["HL", "SE", "ST"])),
            last_clm=last(sid == "CLM"),
            last_lx=last(sid == "LX"),
            last_nm1=last(sid == "NM1"),
        )
        .with_columns(
            in_set=pl.col("last_st") > pl.col("last_se"),
            claim_n=pl.when(pl.col("last_clm") > pl.col("boundary")).then(pl.col("last_clm")),
        )
        .with_columns(
            in_hl=pl.col("in_set") & (pl.col("last_hl") > pl.col("last_st")),
            line_n=pl.when(pl.col("claim_n").is_not_null() & (pl.col("last_lx") > pl.col("claim_n"))).then(
                pl.col("last_lx")
            ),
            marker=pl.when(pl.col("claim_n").is_null()).then(None).when(sid == "CLM").then(1)
            .when(sid == "LX").then(2).when(sid == "SBR").then(3).when(sid == "SVD").then(4),
        )
        .with_columns(
            hl=pl.when(pl.col("in_hl")).then(pl.col("last_hl")),
            major=pl.col("marker").forward_fill(),
            last_major=last(pl.col("marker").is_not_null()),
            reset=last(sid.is_in(["HL", "LX", "SVD", "SE", "ST", "CLM"]) | (pl.col("marker") == 3)),
        )
        .with_columns(
            loop=pl.when(pl.col("claim_n").is_null()).then(0)
            .when(pl.col("major") == 1).then(pl.when(pl.col("last_nm1") > pl.col("last_major")).then(2310).otherwise(2300))
            .when(pl.col("major") == 2).then(pl.when(pl.col("last_nm1") > pl.col("last_major")).then(2420).otherwise(2400))
            .when(pl.col("major") == 3).then(2320)
            .otherwise(2430).cast(pl.Int32),
            ent_n=pl.when(pl.col("last_nm1") > pl.col("reset")).then(pl.col("last_nm1")),
        )
        .select("n", "ts", "in_set", "in_hl", "hl", "claim_n", "line_n", "loop", "ent_n")
        .collect()
    )  # fmt: skip


# -- the envelope ---------------------------------------------------------------------------------------


@dataclass
class _Envelope:
    interchange: Interchange
    controls: dict[str, int]
    professional: dict[int, bool]
    """Per transaction set (numbered from 1 in file order): 837P (True) or 837I."""


def _envelope(s: pl.DataFrame, offsets: pl.Series, delimiters: Delimiters, base: int, sep: str) -> _Envelope:
    ids = s.get_column("id")
    if ids[0] != "ISA" or ids[-1] != "IEA" or (ids == "ISA").sum() != 1 or (ids == "IEA").sum() != 1:
        raise _NotHere
    mask = ids.is_in(["ISA", "GS", "ST", "SE", "GE", "IEA"])
    rows = s.filter(mask).with_columns(offset=offsets.filter(mask))
    interchange: Interchange | None = None
    group: Group | None = None
    opened: tuple[int, str, str] | None = None  # the open ST: its number, control number, version
    controls: dict[str, int] = {}
    professional: dict[int, bool] = {}
    sets = 0
    for number, whole, offset in rows.select("n", "seg", "offset").iter_rows():
        e = whole.split(sep)
        sid = e[0]
        seg = Segment(sid, e, number, offset)
        get = seg.get
        if sid == "ISA":
            if len(e) != 17 or not (e[13].isascii() and e[13].isdigit() and len(e[13]) == 9):
                raise _NotHere
            interchange = Interchange(e[5], e[6].rstrip(), e[7], e[8].rstrip(), e[9], e[10], e[12], e[13], e[14],
                                      e[15], delimiters, seg)  # fmt: skip
        elif sid == "GS":
            if interchange is None or (group is not None and not group.closed) or not get(6):
                raise _NotHere
            group = Group(get(1), get(2), get(3), get(4), get(5), get(6), get(8), interchange, seg)
            interchange.groups.append(group)
        elif sid == "ST":
            if group is None or group.closed or opened is not None or get(1) != "837" or not get(2):
                raise _NotHere
            version = get(3) or group.version
            if version.startswith("005010X222"):
                kind = True
            elif version.startswith("005010X223"):
                kind = False
            else:
                raise _NotHere
            sets += 1
            professional[sets] = kind
            opened = (number, get(2), version)
            controls.setdefault(get(2), number)
            group.transactions.append(TransactionResult("837", get(2), version))
        elif sid == "SE":
            if opened is None or group is None:
                raise _NotHere
            count = number - opened[0] + 1
            if get(1) != str(count) or get(2) != opened[1]:
                raise _NotHere
            group.transactions[-1].segment_count = count
            opened = None
        elif sid == "GE":
            if group is None or group.closed or opened is not None:
                raise _NotHere
            if get(1) != str(len(group.transactions)) or get(2) != group.control_number:
                raise _NotHere
            group.declared_count = get(1)
            group.closed = True
        else:  # IEA, the last segment
            if interchange is None or opened is not None or (group is not None and not group.closed):
                raise _NotHere
            if get(1) != str(len(interchange.groups)) or get(2) != interchange.control_number:
                raise _NotHere
            interchange.closed = True
    if interchange is None or not interchange.closed or not sets:
        raise _NotHere
    return _Envelope(interchange, controls, professional)


# -- loops, claims and lines ----------------------------------------------------------------------------


def _last(frame: pl.DataFrame, key: str, columns: Sequence[str]) -> pl.DataFrame:
    """The last row of each ``key`` (file order), with ``columns``."""
    return frame.group_by(key).agg(pl.col(c).last() for c in columns)


def _cents(column: str) -> pl.Expr:
    """An amount already checked against _AMOUNT (digits, at most two decimals) as integer cents."""
    parts = pl.col(column).str.split_exact(".", 1)
    whole = parts.struct.field("field_0").replace("", "0").cast(pl.Int64)
    fraction = parts.struct.field("field_1").fill_null("").str.pad_end(2, "0").replace("", "0").cast(pl.Int64)
    return whole * 100 + fraction


def _date(column: pl.Expr) -> pl.Expr:
    return column.str.to_date("%Y%m%d", strict=False)


def _check(frame: pl.DataFrame, bad: pl.Expr) -> None:
    """Hand the file to read_837 when any row of ``frame`` is ``bad`` (or null: a value missing)."""
    if frame.height and frame.select(bad.fill_null(True).any()).item():
        raise _NotHere


_ENVELOPE = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})
_CLAIM_ONLY = ("LX", "SV1", "SV2", "HI", "CL1", "SVD")


def _claims(seg: _Parts, envelope: _Envelope, comp: str) -> Columns837:
    pl.col("id")
    in_claim = pl.col("claim_n").is_not_null()
    for name in _CLAIM_ONLY:
        _check(seg(name), ~in_claim)  # loops 2300/2400 only inside a claim
    for name in ("PAT", "BHT"):
        _check(seg(name), in_claim)
    for name in ("SBR", "PAT", "CLM"):
        _check(seg(name), ~pl.col("in_hl"))
    # every transaction set: BHT right after ST with a CCYYMMDD date in BHT04, once
    starts, bht = seg("ST").get_column("n"), seg("BHT")
    if bht.height != starts.len() or not (bht.get_column("n") == starts + 1).all():
        raise _NotHere
    _check(bht, ~pl.col("e4").str.contains(_D8) | _date(pl.col("e4")).is_null())
    hls = seg("HL").select("n", "ts", "e2", level=pl.col("e3"))
    _check(
        hls,
        ~pl.col("level").is_in(["20", "22", "23"])
        | ((pl.col("level") == "20") & (pl.col("e2").fill_null("") != "")),
    )
    levels = hls.select(hl=pl.col("n"), level=pl.col("level"))
    roles = seg("NM1").select(ent_n=pl.col("n"), role=pl.col("e1"))
    # DMG wherever it is: D8, a date, F/M/U (read_837 checks those under an NM1 loop)
    _check(seg("DMG"), (pl.col("e1") != "D8") | ~pl.col("e2").str.contains(_D8)
           | _date(pl.col("e2")).is_null() | ~pl.col("e3").is_in(["F", "M", "U"]))  # fmt: skip
    # 1000A: the submitter (NM1*41) of the first set, and its BHT03
    submitter = seg("NM1").filter((pl.col("ts") == 1) & ~pl.col("in_hl") & (pl.col("e1") == "41")).tail(1)
    submitter_name = (submitter.get_column("e3").fill_null("").to_list() or [""])[0]
    submitter_id = (submitter.get_column("e9").fill_null("").to_list() or [""])[0]
    reference = bht.get_column("e3").fill_null("").to_list()[0]

    def block(name: str) -> pl.DataFrame:
        """The ``name`` segments of HL loops 2000A/B/C (outside claims), with their HL level and NM1 role."""
        rows = seg(name).filter(pl.col("in_hl") & ~in_claim).join(levels, on="hl", how="left")
        return (
            rows.join(roles, on="ent_n", how="left")
            if name != "NM1"
            else rows.with_columns(role=pl.col("e1"))
        )

    blocks = _blocks(block, hls)
    clm = seg("CLM").join(levels, on="hl", how="left")
    _check(clm, ~pl.col("level").is_in(["22", "23"]))
    diagnoses = _diagnoses(seg("HI"), comp)
    loop = pl.col("loop")
    dates = _dates(seg("DTP").filter(loop.is_in([2300, 2400])))  # every date read_837 checks
    claims = _claim_rows(seg, clm, blocks, diagnoses, dates, envelope, comp)
    lines = _line_rows(seg, claims, diagnoses, dates, comp)
    totals = lines.group_by("claim").agg(
        pl.col("charge_cents").sum().alias("sum"),
        pl.len().alias("lines"),
        pl.col("service_date").min().alias("first_line_day"),
        pl.max_horizontal("service_date", "service_date_end").max().alias("last_line_day"),
    )
    claims = claims.join(totals, on="claim", how="left")
    _check(claims, pl.col("lines").is_null() | (pl.col("sum") != pl.col("total_charge_cents")))
    return Columns837(
        claims.select(list(CLAIM_SCHEMA)).cast(CLAIM_SCHEMA).sort("claim"),  # type: ignore[arg-type]
        lines.select(list(LINE_SCHEMA)).cast(LINE_SCHEMA).sort("segment"),  # type: ignore[arg-type]
        envelope.interchange,
        envelope.controls,
        submitter_name,
        submitter_id,
        reference,
    )


def _blocks(block: Callable[[str], pl.DataFrame], hls: pl.DataFrame) -> pl.DataFrame:
    """One row per HL 22 (subscriber) or 23 (patient) loop with its billing provider, subscriber and patient."""
    n, level = pl.col("n"), pl.col("level")
    # 2000A: exactly one NM1*85 (an NM1*87 pay-to after it) and at most one PRV before it
    nm1 = block("NM1")
    billing_nm1 = nm1.filter(level == "20")
    _check(billing_nm1, ~pl.col("e1").is_in(["85", "87"]))
    _check(block("SBR"), level != "22")
    at85 = (
        billing_nm1.filter(pl.col("e1") == "85")
        .group_by("hl")
        .agg(n.min().alias("at85"), pl.len().alias("k"))
    )
    at87 = billing_nm1.filter(pl.col("e1") == "87").group_by("hl").agg(n.min().alias("at87"))
    billing = (
        hls.filter(level == "20").select(hl=n).join(at85, on="hl", how="left").join(at87, on="hl", how="left")
    )
    _check(billing, (pl.col("k") != 1) | (pl.col("at87").fill_null(pl.col("at85")) < pl.col("at85")))
    mine = (level == "20") & (pl.col("role") == "85")
    names = _last(billing_nm1.filter(pl.col("e1") == "85"), "hl", ["e2", "e3", "e4", "e5", "e8", "e9"])
    tin = _last(block("REF").filter(mine & pl.col("e1").is_in(["EI", "SY"])), "hl", ["e2"]).rename(
        {"e2": "tin"}
    )
    n3 = _last(block("N3").filter(mine), "hl", ["e1", "e2"]).rename({"e1": "line1", "e2": "line2"})
    n4 = _last(block("N4").filter(mine), "hl", ["e1", "e2", "e3"]).rename(
        {"e1": "city", "e2": "state", "e3": "zip"}
    )
    prv = (
        block("PRV")
        .filter(level == "20")
        .join(at85, on="hl", how="left")
        .with_columns(before=n < pl.col("at85"))
    )
    _check(prv.filter(pl.col("before")).group_by("hl").len(), pl.col("len") > 1)
    taxonomy = _last(prv.filter(pl.col("before") | (pl.col("role") == "85")), "hl", ["e3"]).rename(
        {"e3": "taxonomy"}
    )
    billing = (
        billing.join(names, on="hl", how="left").join(tin, on="hl", how="left").join(n3, on="hl", how="left")
        .join(n4, on="hl", how="left").join(taxonomy, on="hl", how="left")
        .select(
            pl.col("hl").alias("b20"),
            billing_entity_type=pl.col("e2"), billing_name=pl.col("e3"), billing_first_name=pl.col("e4"),
            billing_middle_name=pl.col("e5"), billing_id_qualifier=pl.col("e8"), billing_identifier=pl.col("e9"),
            billing_tin=pl.col("tin"), billing_taxonomy=pl.col("taxonomy"),
            billing_address=pl.col("line1").is_not_null() | pl.col("city").is_not_null(),
            billing_line1=pl.col("line1"), billing_line2=pl.col("line2"), billing_city=pl.col("city"),
            billing_state=pl.col("state"), billing_zip=pl.col("zip"),
        )
    )  # fmt: skip
    # 2000B: one SBR, then one NM1*IL (with its DMG) and one NM1*PR; 2000C: one PAT, then one NM1*QC
    people_nm1 = nm1.filter(level.is_in(["22", "23"]))

    def first(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by("hl").agg(pl.len().alias(name), n.min().alias(f"at_{name}"))

    counts = hls.filter(level.is_in(["22", "23"])).select(hl=n, lv=level)
    for name, frame in (
        ("sbr", block("SBR")), ("pat", block("PAT")), ("il", people_nm1.filter(pl.col("e1") == "IL")),
        ("pr", people_nm1.filter(pl.col("e1") == "PR")), ("qc", people_nm1.filter(pl.col("e1") == "QC")),
    ):  # fmt: skip
        counts = counts.join(first(frame, name), on="hl", how="left").with_columns(pl.col(name).fill_null(0))
    _check(counts.filter(pl.col("lv") == "22"), (pl.col("sbr") != 1) | (pl.col("il") != 1) | (pl.col("pr") != 1)
           | (pl.col("at_il") < pl.col("at_sbr")) | (pl.col("pat") > 0) | (pl.col("qc") > 0))  # fmt: skip
    _check(counts.filter(pl.col("lv") == "23"), (pl.col("sbr") > 0) | (pl.col("il") > 0) | (pl.col("pr") > 0)
           | (pl.col("pat") != 1) | (pl.col("qc") != 1) | (pl.col("at_qc") < pl.col("at_pat")))  # fmt: skip
    dmg = block("DMG")

    def person(role: str, prefix: str) -> pl.DataFrame:
        names = _last(people_nm1.filter(pl.col("e1") == role), "hl", ["e3", "e4", "e9"])
        born = _last(dmg.filter(pl.col("role") == role), "hl", ["e2"]).select("hl", born=_date(pl.col("e2")))
        return names.join(born, on="hl", how="left").select(
            pl.col("hl"), *[pl.col(a).alias(f"{prefix}_{b}") for a, b in
                            (("e3", "last"), ("e4", "first"), ("e9", "member"), ("born", "born"))]
        )  # fmt: skip

    # each HL's billing loop (the last HL 20 before it) and subscriber loop (the last HL 22 before it, or it)
    chain = hls.select(
        hl=n, lv=level, ts=pl.col("ts"),
        b20=pl.when(level == "20").then(n).forward_fill(),
        b22=pl.when(level == "22").then(n).when(level == "20").then(0).forward_fill(),
        prev=level.shift(1), same_set=pl.col("ts") == pl.col("ts").shift(1),
    )  # fmt: skip
    chain = chain.join(hls.select(b20=n, ts20=pl.col("ts")), on="b20", how="left").filter(
        pl.col("lv") != "20"
    )
    _check(chain, pl.col("ts20") != pl.col("ts"))
    _check(
        chain.filter(pl.col("lv") == "23"),
        ~pl.col("prev").is_in(["22", "23"]) | ~pl.col("same_set") | (pl.col("b22") == 0),
    )
    return (
        chain.join(billing, on="b20", how="left")
        .join(person("IL", "s").rename({"hl": "b22"}), on="b22", how="left")
        .join(person("QC", "p"), on="hl", how="left")
    )


def _claim_rows(
    seg: _Parts,
    clm: pl.DataFrame,
    blocks: pl.DataFrame,
    diagnoses: pl.DataFrame,
    dates: pl.DataFrame,
    envelope: _Envelope,
    comp: str,
) -> pl.DataFrame:
    loop = pl.col("loop")
    kinds = pl.DataFrame(
        {"ts": list(envelope.professional), "professional": list(envelope.professional.values())},
        schema={"ts": pl.Int32, "professional": pl.Boolean},
    )
    clm = clm.join(kinds, on="ts", how="left").with_columns(claim=pl.int_range(0, pl.len(), dtype=pl.Int64))
    facility = pl.col("e5").fill_null("").str.split(comp)
    clm = clm.with_columns(
        facility_code=facility.list.get(0, null_on_oob=True),
        frequency_code=facility.list.get(2, null_on_oob=True),
        parts=facility.list.len(),
    )
    codes_p, codes_i = list(FREQUENCY_CODES[PROFESSIONAL]), list(FREQUENCY_CODES[INSTITUTIONAL])
    _check(clm, (pl.col("e1").fill_null("") == "") | ~pl.col("e2").str.contains(_AMOUNT) | (pl.col("parts") < 3)
           | (pl.col("facility_code") == "")
           | pl.when(pl.col("professional")).then(~pl.col("frequency_code").is_in(codes_p))
           .otherwise(~pl.col("frequency_code").is_in(codes_i)))  # fmt: skip
    clm = clm.with_columns(
        total_charge_cents=_cents("e2"),
        kind=pl.when(pl.col("professional")).then(pl.lit(PROFESSIONAL)).otherwise(pl.lit(INSTITUTIONAL)),
        place_of_service=pl.when(pl.col("professional")).then(pl.col("facility_code")).otherwise(pl.lit("")),
        facility_type=pl.when(pl.col("professional")).then(pl.lit("")).otherwise(pl.col("facility_code")),
    )
    # HI and CL1 only in 2300 itself (before the claim's NM1 loops)
    for name in ("HI", "CL1"):
        _check(seg(name), loop != 2300)
    refs = seg("REF").filter(loop == 2300)
    claim_refs = [
        _last(refs.filter(pl.col("e1") == q), "claim_n", ["e2"]).rename({"e2": name})
        for name, q in (("payer_claim_control_number", "F8"), ("prior_authorization", "G1"), ("referral_number", "9F"))
    ]  # fmt: skip
    statement = _last(
        dates.filter((pl.col("loop") == 2300) & (pl.col("e1") == "434")), "claim_n", ["begin", "end"]
    )
    statement = statement.select(
        "claim_n", statement_from=pl.col("begin"), statement_to=pl.coalesce("end", "begin")
    )
    providers = (
        seg("NM1")
        .filter(loop == 2310)
        .with_columns(
            npi=pl.when(pl.col("e8") == "XX").then(pl.col("e9").fill_null("")).otherwise(pl.lit(""))
        )
    )
    by_role = [
        _last(providers.filter(pl.col("e1") == role), "claim_n", ["npi"]).rename({"npi": f"npi_{role}"})
        for role in ("82", "71", "DN", "77")
    ]
    out = clm.select(
        "claim", "ts", "professional", "claim_n", "hl", segment=pl.col("n").cast(pl.Int64), claim_id=pl.col("e1"),
        total_charge_cents=pl.col("total_charge_cents"), frequency_code=pl.col("frequency_code"),
        place_of_service=pl.col("place_of_service"), facility_type=pl.col("facility_type"), kind=pl.col("kind"),
    )  # fmt: skip
    for part in [*claim_refs, statement, *by_role]:
        out = out.join(part, on="claim_n", how="left")
    listed = diagnoses.group_by("claim_n", maintain_order=True).agg(
        pl.col("pair").str.join(", ").alias("diagnoses")
    )
    out = out.join(listed, on="claim_n", how="left").join(blocks, on="hl", how="left")
    patient = pl.col("lv") == "23"
    return out.with_columns(
        *[pl.col(c).fill_null("") for c in ("payer_claim_control_number", "prior_authorization", "referral_number")],
        diagnoses=pl.lit("[") + pl.col("diagnoses").fill_null("") + pl.lit("]"),
        rendering_npi=pl.when(pl.col("npi_82").is_not_null()).then(pl.col("npi_82")).otherwise(pl.col("npi_71")).fill_null(""),
        referring_npi=pl.col("npi_DN").fill_null(""),
        facility_npi=pl.col("npi_77").fill_null(""),
        member_id=pl.col("s_member").fill_null(""),
        patient_member_id=pl.when(patient).then(pl.col("p_member")).otherwise(pl.col("s_member")).fill_null(""),
        patient_last_name=pl.when(patient).then(pl.col("p_last")).otherwise(pl.col("s_last")).fill_null(""),
        patient_first_name=pl.when(patient).then(pl.col("p_first")).otherwise(pl.col("s_first")).fill_null(""),
        patient_birth_date=pl.when(patient).then(pl.col("p_born")).otherwise(pl.col("s_born")),
        **{c: pl.col(c).fill_null("") for c in ("billing_entity_type", "billing_name", "billing_first_name",
           "billing_middle_name", "billing_id_qualifier", "billing_identifier", "billing_tin", "billing_taxonomy",
           "billing_line1", "billing_line2", "billing_city", "billing_state", "billing_zip")},
    )  # fmt: skip


def _dates(dtp: pl.DataFrame) -> pl.DataFrame:
    """DTP in 2300/2400: D8 or RD8 with real dates (anything else goes to read_837)."""
    _check(dtp, ~pl.col("e2").is_in(["D8", "RD8"]))
    text = pl.col("e3").fill_null("")
    halves = text.str.split_exact("-", 1)
    out = dtp.with_columns(
        first=pl.when(pl.col("e2") == "D8").then(text).otherwise(halves.struct.field("field_0")),
        second=pl.when(pl.col("e2") == "RD8").then(halves.struct.field("field_1")),
        dashes=text.str.count_matches("-"),
    ).with_columns(begin=_date(pl.col("first")), end=_date(pl.col("second")))
    _check(out, ~pl.col("first").str.contains(_D8) | pl.col("begin").is_null()
           | ((pl.col("e2") == "RD8") & ((pl.col("dashes") != 1) | ~pl.col("second").str.contains(_D8)
                                          | pl.col("end").is_null() | (pl.col("end") < pl.col("begin"))))
           | ((pl.col("e2") == "D8") & (pl.col("dashes") != 0)))  # fmt: skip
    return out


def _diagnoses(hi: pl.DataFrame, comp: str) -> pl.DataFrame:
    """The claims' diagnoses in HI order: claim_n, qualifier, code, pointable, pair (its JSON)."""
    _check(hi, pl.col("more").is_not_null())
    long = (
        hi.select("claim_n", "n", *[pl.col(f"e{i}") for i in range(1, ELEMENTS + 1)])
        .unpivot(index=["claim_n", "n"], variable_name="position", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(position=pl.col("position").str.slice(1).cast(pl.Int32))
        .sort("n", "position")
        .with_columns(parts=pl.col("value").str.split(comp))
        .with_columns(
            qualifier=pl.col("parts").list.get(0),
            code=pl.col("parts").list.get(1, null_on_oob=True).fill_null(""),
        )
        .filter(pl.col("qualifier").is_in(list(DIAGNOSIS_QUALIFIERS)))
    )
    # a code JSON carries as it is (other characters go to read_837, which stores them all the same)
    _check(long, ~pl.col("code").str.contains(r"^[A-Za-z0-9.\-]+$"))
    return long.select(
        "claim_n", "qualifier", "code",
        pointable=pl.col("qualifier").is_in(list(POINTER_QUALIFIERS)),
        pair=pl.lit('["') + pl.col("qualifier") + pl.lit('", "') + pl.col("code") + pl.lit('"]'),
    )  # fmt: skip


def _line_rows(
    seg: _Parts, claims: pl.DataFrame, diagnoses: pl.DataFrame, dates: pl.DataFrame, comp: str
) -> pl.DataFrame:
    loop = pl.col("loop")
    lx = seg("LX")
    _check(lx, ~pl.col("e1").fill_null("").str.contains(r"^\d{1,6}$"))
    kinds = claims.select("claim_n", "claim", "professional")
    services = pl.concat([seg(name).with_columns(id=pl.lit(name)) for name in ("SV1", "SV2")], how="diagonal")
    if seg("SV1").height and seg("SV2").height:
        services = services.sort("n")
    # claims are in CLM order: a line's claim is found by its CLM's segment number
    at = kinds.get_column("claim_n").search_sorted(services.get_column("claim_n"))
    services = services.with_columns(
        kinds.get_column("claim").gather(at), kinds.get_column("professional").gather(at)
    )
    # one SV1/SV2 per line, in 2400 itself (before the line's NM1 loops), of the set's kind
    _check(
        services,
        pl.col("line_n").is_null() | (loop != 2400) | (pl.col("professional") != (pl.col("id") == "SV1")),
    )
    if services.height != lx.height or services.get_column("line_n").n_unique() != lx.height:
        raise _NotHere
    p = pl.col("professional")
    sv = services.with_columns(
        proc=pl.when(p).then(pl.col("e1")).otherwise(pl.col("e2")).fill_null(""),
        charge=pl.when(p).then(pl.col("e2")).otherwise(pl.col("e3")).fill_null(""),
        unit_basis=pl.when(p).then(pl.col("e3")).otherwise(pl.col("e4")).fill_null(""),
        units=pl.when(p).then(pl.col("e4")).otherwise(pl.col("e5")).fill_null(""),
        revenue_code=pl.when(p).then(pl.lit("")).otherwise(pl.col("e1").fill_null("")),
        place_of_service=pl.when(p).then(pl.col("e5").fill_null("")).otherwise(pl.lit("")),
        pointers=pl.when(p).then(pl.col("e7").fill_null("")).otherwise(pl.lit("")),
    ).with_columns(parts=pl.col("proc").str.split(comp))
    blank = pl.col("proc") == ""
    sv = sv.with_columns(
        procedure_qualifier=pl.when(blank).then(pl.lit("")).otherwise(pl.col("parts").list.get(0)),
        procedure_code=pl.when(blank).then(pl.lit("")).otherwise(pl.col("parts").list.get(1, null_on_oob=True)),
        modifiers=pl.col("parts").list.slice(2, 4).list.eval(pl.element().filter(pl.element() != "")).list.join(","),
    )  # fmt: skip
    _check(sv, (p & blank) | (~p & (pl.col("revenue_code") == ""))
           | (~blank & (pl.col("procedure_code").fill_null("") == ""))
           | ~pl.col("charge").str.contains(_AMOUNT) | ~pl.col("units").str.contains(_UNITS)
           | (pl.col("units").str.replace_all(r"[0.]", "") == ""))  # fmt: skip
    sv = sv.with_columns(charge_cents=_cents("charge"))
    # diagnosis pointers: 1-based into the claim's ABK/ABF diagnoses, at most two digits, none 0
    pointable = diagnoses.filter(pl.col("pointable")).group_by("claim_n").agg(pl.col("code").alias("codes"))
    pointed = (
        sv.filter(pl.col("pointers") != "")
        .select("line_n", "claim_n", pointer=pl.col("pointers").str.split(comp))
        .join(pointable, on="claim_n", how="left")
    )
    _check(pointed, ~pl.col("pointer").list.eval(pl.element().str.contains(r"^\d{1,2}$")).list.all()
           | (pl.col("pointer").list.eval(pl.element().cast(pl.Int64, strict=False)).list.min() < 1)
           | (pl.col("pointer").list.eval(pl.element().cast(pl.Int64, strict=False)).list.max()
              > pl.col("codes").list.len()))  # fmt: skip
    codes = pointed.select(
        "line_n",
        diagnosis_codes=pl.col("codes")
        .list.gather(pl.col("pointer").list.eval(pl.element().cast(pl.Int64) - 1))
        .list.join(","),
    )
    served = dates.filter((loop == 2400) & (pl.col("e1") == "472"))
    control = seg("REF").filter((loop == 2400) & (pl.col("e1") == "6R"))
    npi = pl.when(pl.col("e8") == "XX").then(pl.col("e9").fill_null("")).otherwise(pl.lit(""))
    rendering = seg("NM1").filter((loop == 2420) & (pl.col("e1") == "82")).with_columns(rendering_npi=npi)
    # one SV per LX, both in file order: the i-th service is the i-th line
    lines = sv.select(
        "claim", "procedure_qualifier", "procedure_code", "modifiers", "revenue_code", "charge_cents",
        "unit_basis", "units", "place_of_service", segment=pl.col("n").cast(pl.Int64),
        number=lx.get_column("e1").cast(pl.Int64),
    )  # fmt: skip
    starts = lx.get_column("n")

    def per_line(frame: pl.DataFrame, column: str, name: str, fill: Any) -> pl.Series:
        """``column`` of the last row of each line in ``frame`` (rows in file order), placed on its line."""
        last = frame.filter(pl.col("line_n") != pl.col("line_n").shift(-1).fill_null(-1))
        out = pl.repeat(fill, lines.height, dtype=frame.schema[column], eager=True).alias(name)
        if last.height:
            out = out.scatter(starts.search_sorted(last.get_column("line_n")), last.get_column(column))
        return out

    return lines.with_columns(
        per_line(codes, "diagnosis_codes", "diagnosis_codes", ""),
        per_line(served, "begin", "service_date", None),
        per_line(served, "end", "service_date_end", None),
        per_line(control, "e2", "control_number", ""),
        per_line(rendering, "rendering_npi", "rendering_npi", ""),
    )
