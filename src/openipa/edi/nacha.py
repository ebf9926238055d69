"""NACHA ACH files of CCD+ credits (a corporate credit with one addenda record), written and read by the
published record layout.

The IPA pays its practices by ACH. A file is 94-character records, padded with records of 94 ``9``s to a
multiple of 10 (blocking factor 10)::

    1  file header      immediate destination (the ODFI's routing) and origin, creation date and time
    5  batch header     service class 220 (credits only), company name and id, SEC CCD, description
    6  entry detail     transaction code 22 (checking credit) or 32 (savings credit), receiving routing,
                        account, amount in cents, receiver id and name, trace number (ODFI + sequence)
    7  addenda 05       80 characters of payment related information: the CCD+ reassociation trace,
                        ``TRN*1*<trace>*<originator id>\\`` (the HIPAA health care EFT convention)
    8  batch control    entry and addenda count, entry hash, total debits and credits
    9  file control     batch count, block count, entry and addenda count, entry hash, totals

The entry hash is the sum of the receiving DFI ids (the routing numbers without their check digit), last
10 digits. :func:`write_nacha` refuses bad input with a ValueError naming the entry and field, so a file
it writes always balances; :func:`read_nacha` parses a file by the same positions (:class:`NachaError`
for a record it cannot read) and :meth:`NachaFile.problems` checks its counts, hashes and totals.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import string
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, TextIO, cast

RECORD_SIZE = 94
BLOCKING_FACTOR = 10
FILLER = "9" * RECORD_SIZE
"""A padding record: the file is filled with these to a multiple of :data:`BLOCKING_FACTOR` records."""

CREDITS_ONLY = "220"
"""Batch service class code of a batch holding credits only."""
CCD = "CCD"
"""Standard entry class code: corporate credit or debit (CCD+ when it carries an addenda)."""
ADDENDA_TYPE = "05"

TRANSACTION_CODES: dict[str, str] = {"checking": "22", "savings": "32"}
"""Account type -> transaction code of a credit (22 checking, 32 savings)."""
ACCOUNT_TYPES: dict[str, str] = {code: kind for kind, code in TRANSACTION_CODES.items()}

MAX_ENTRY_CENTS = 10**10 - 1
"""An entry's amount field holds 10 digits: $99,999,999.99."""
_MAX_TOTAL_CENTS = 10**12 - 1
_HASH_MODULUS = 10**10

ALLOWED = frozenset(string.ascii_uppercase + string.digits + " " + "!\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~")
"""Characters written in alphanumeric fields: upper-case letters, digits, space and common punctuation."""
_ACCOUNT_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + "-")
_UPPER_ALNUM = frozenset(string.ascii_uppercase + string.digits)

_Write = Callable[[str], object]


def routing_check_digit(first8: str) -> str:
    """The ABA check digit of an 8-digit routing prefix: weights 3, 7, 1 repeated, to a multiple of ten."""
    if len(first8) != 8 or not (first8.isascii() and first8.isdigit()):
        raise ValueError(f"{first8!r} is not 8 digits")
    total = sum(int(d) * w for d, w in zip(first8, (3, 7, 1, 3, 7, 1, 3, 7), strict=True))
    return str(-total % 10)


def is_valid_routing(routing: str) -> bool:
    """A 9-digit ABA routing number whose check digit is right (and which is not all zeros)."""
    return (
        isinstance(routing, str)
        and len(routing) == 9
        and routing.isascii()
        and routing.isdigit()
        and routing != "000000000"
        and routing_check_digit(routing[:8]) == routing[8]
    )


def nacha_text(value: str, size: int) -> str:
    """``value`` made fit for an alphanumeric field of ``size``: accents dropped, upper case, characters
    outside :data:`ALLOWED` removed, spaces collapsed, cut to ``size``. For names typed by people."""
    text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    text = " ".join("".join(ch for ch in text if ch in ALLOWED).split())
    return text[:size].rstrip()


def reassociation_addenda(trace_number: str, originator_id: str) -> str:
    """The CCD+ addenda text that ties an ACH credit to its remittance: ``TRN*1*<trace>*<originator id>\\``
    (the X12 TRN segment, as the HIPAA health care EFT standard puts it in the addenda)."""
    return f"TRN*1*{trace_number}*{originator_id}\\"


@dataclass(frozen=True, slots=True)
class NachaFileHeader:
    immediate_destination: str
    """The routing number (9 digits) of the bank the file goes to (positions 4-13, after a space)."""
    immediate_origin: str
    """The sender: 9 digits (a routing number, written after a space) or 10 characters (``1`` + EIN)."""
    destination_name: str
    """Up to 23 characters: the bank's name."""
    origin_name: str
    """Up to 23 characters: the company's name."""
    created: dt.datetime
    """File creation date and time (YYMMDD HHMM)."""
    file_id_modifier: str = "A"
    """A-Z or 0-9: tells apart files created on the same day."""
    reference_code: str = ""
    """Up to 8 characters, free."""


@dataclass(frozen=True, slots=True)
class NachaBatchHeader:
    company_name: str
    """Up to 16 characters: the name the receivers see."""
    company_id: str
    """Up to 10 characters, usually ``1`` + the EIN."""
    company_entry_description: str
    """Up to 10 characters shown on the receivers' statements, e.g. ``CAPITATION``."""
    effective_entry_date: dt.date
    """The day the originator wants the credits settled (YYMMDD)."""
    originating_dfi: str
    """The first 8 digits of the originating bank's routing number; the trace numbers start with them."""
    batch_number: int
    """1-9999999, ascending in the file."""
    company_descriptive_date: str = ""
    """Up to 6 characters shown to the receivers (e.g. ``JAN 24``); free."""
    discretionary_data: str = ""
    """Up to 20 characters, free."""


@dataclass(frozen=True, slots=True)
class NachaEntry:
    routing_number: str
    """The receiver's bank: 9 digits with a valid ABA check digit."""
    account_number: str
    """Up to 17 characters (upper-case letters, digits, hyphens)."""
    account_type: str
    """``checking`` (transaction code 22) or ``savings`` (32)."""
    amount_cents: int
    """More than 0, at most :data:`MAX_ENTRY_CENTS`."""
    individual_id: str
    """Up to 15 characters: the receiver's id at the originator (a practice id, a TIN)."""
    name: str
    """Up to 22 characters: the receiving company's name."""
    addenda: str = ""
    """Up to 80 characters of payment related information (addenda 05); "" writes no addenda record."""
    discretionary_data: str = ""
    """Up to 2 characters, free."""
    trace_sequence: int | None = None
    """The last 7 digits of the entry's trace number (the first 8 are the ODFI's), when the originator has
    already quoted the trace elsewhere (an 835's TRN, the addenda): ascending within the file. None: the
    writer numbers the entries 1, 2, ... (every entry of a file alike, numbered or not)."""


@dataclass(frozen=True, slots=True)
class NachaSummary:
    """What :func:`write_nacha` wrote: the figures of the file control record, and the trace numbers."""

    records: int
    """Records written, padding excluded."""
    blocks: int
    """Blocks of 10 records (padding included): the file has ``blocks * 10`` lines."""
    batch_count: int
    entry_count: int
    """Entry detail and addenda records."""
    entry_hash: int
    total_credit_cents: int
    total_debit_cents: int
    trace_numbers: tuple[str, ...]
    """Each entry's trace number (ODFI + 7-digit sequence), in the order of the entries given."""


# -- writing ----------------------------------------------------------------------------------------


def write_nacha(
    target: BinaryIO | TextIO | str | os.PathLike[str],
    header: NachaFileHeader,
    batches: Sequence[tuple[NachaBatchHeader, Sequence[NachaEntry]]],
    *,
    line_ending: str = "\n",
) -> NachaSummary:
    """Write a NACHA file of CCD+ credit batches to ``target`` (a binary or text stream, or a path).

    Everything is checked before the first record is written, so bad input (ValueError naming the batch,
    the entry and the field) leaves ``target`` untouched: a routing number with a wrong check digit, an
    amount not above 0 or over 10 digits, a field too long or empty where it is required, characters
    outside :data:`ALLOWED` (lower-case letters included: NACHA fields are upper case; see
    :func:`nacha_text`), batch numbers that do not ascend, totals over 12 digits. Trace numbers are the
    batch's originating DFI followed by a sequence counted through the file from 1. Values are written
    left-justified and space-filled, so a value ending in spaces reads back without them.
    """
    if line_ending not in ("\n", "\r\n", ""):
        raise ValueError(f"line_ending {line_ending!r} is not '\\n', '\\r\\n' or ''")
    _check_file_header(header)
    sequence = 0
    records = 2
    entry_total = 0
    last_batch = 0
    for number, (batch, entries) in enumerate(batches, 1):
        _check_batch(batch, number, last_batch)
        last_batch = batch.batch_number
        for index, entry in enumerate(entries, 1):
            _check_entry(entry, f"batch {batch.batch_number}, entry {index} ({entry.name!r})")
        credit = sum(e.amount_cents for e in entries)
        if credit > _MAX_TOTAL_CENTS:
            raise ValueError(f"batch {batch.batch_number}: total credit {credit} cents is over 12 digits")
        entry_total += credit
        count = len(entries) + sum(1 for e in entries if e.addenda)
        if count > 999_999:
            raise ValueError(f"batch {batch.batch_number}: {count} entry and addenda records (6 digits)")
        records += 2 + count
        sequence += len(entries)
    if sequence > 9_999_999:
        raise ValueError(f"{sequence} entries: the trace sequence holds 7 digits")
    _check_sequences([e for _b, entries in batches for e in entries])
    if entry_total > _MAX_TOTAL_CENTS:
        raise ValueError(f"file total credit {entry_total} cents is over 12 digits")
    blocks = -(-records // BLOCKING_FACTOR)
    if len(batches) > 999_999 or records - 2 * len(batches) - 2 > 99_999_999 or blocks > 999_999:
        raise ValueError("too many batches, entries or blocks for the file control record")
    if isinstance(target, (str, os.PathLike)):
        with Path(target).open("wb") as stream:
            return _write_records(_writer(stream, line_ending), header, batches, records, blocks)
    return _write_records(_writer(target, line_ending), header, batches, records, blocks)


def _check_sequences(entries: Sequence[NachaEntry]) -> None:
    given = [e.trace_sequence for e in entries]
    if all(g is None for g in given):
        return
    if any(g is None for g in given):
        raise ValueError("give every entry a trace_sequence, or none")
    numbers = [int(g) for g in given if g is not None]
    for before, after in itertools.pairwise(numbers):
        if after <= before:
            raise ValueError(f"trace sequence {after} does not ascend (after {before})")
    if numbers[0] < 1 or numbers[-1] > 9_999_999:
        raise ValueError("a trace sequence is 1 to 9999999 (7 digits)")


def _writer(target: BinaryIO | TextIO, line_ending: str) -> _Write:
    if isinstance(target, io.TextIOBase):
        text = target
        return lambda record: text.write(record + line_ending)
    binary = cast(BinaryIO, target)
    return lambda record: binary.write((record + line_ending).encode("ascii"))


def _write_records(
    write: _Write,
    header: NachaFileHeader,
    batches: Sequence[tuple[NachaBatchHeader, Sequence[NachaEntry]]],
    records: int,
    blocks: int,
) -> NachaSummary:
    write(_file_header_record(header))
    traces: list[str] = []
    file_hash = file_credit = file_count = 0
    for batch, entries in batches:
        write(_batch_header_record(batch))
        batch_hash = batch_credit = batch_count = 0
        for entry in entries:
            number = entry.trace_sequence if entry.trace_sequence is not None else len(traces) + 1
            trace = f"{batch.originating_dfi}{number:07d}"
            traces.append(trace)
            write(_entry_record(entry, trace))
            batch_count += 1
            if entry.addenda:
                write(f"7{ADDENDA_TYPE}{entry.addenda:<80}0001{trace[-7:]}")
                batch_count += 1
            batch_hash += int(entry.routing_number[:8])
            batch_credit += entry.amount_cents
        batch_hash %= _HASH_MODULUS
        write(
            f"8{CREDITS_ONLY}{batch_count:06d}{batch_hash:010d}{0:012d}{batch_credit:012d}"
            f"{batch.company_id:<10}{'':19}{'':6}{batch.originating_dfi}{batch.batch_number:07d}"
        )
        file_hash += batch_hash
        file_credit += batch_credit
        file_count += batch_count
    file_hash %= _HASH_MODULUS
    write(f"9{len(batches):06d}{blocks:06d}{file_count:08d}{file_hash:010d}{0:012d}{file_credit:012d}{'':39}")
    for _ in range(blocks * BLOCKING_FACTOR - records):
        write(FILLER)
    return NachaSummary(
        records=records,
        blocks=blocks,
        batch_count=len(batches),
        entry_count=file_count,
        entry_hash=file_hash,
        total_credit_cents=file_credit,
        total_debit_cents=0,
        trace_numbers=tuple(traces),
    )


def _file_header_record(h: NachaFileHeader) -> str:
    origin = f" {h.immediate_origin}" if len(h.immediate_origin) == 9 else h.immediate_origin
    return (
        f"101 {h.immediate_destination}{origin}{h.created:%y%m%d%H%M}{h.file_id_modifier}"
        f"{RECORD_SIZE:03d}{BLOCKING_FACTOR:02d}1{h.destination_name:<23}{h.origin_name:<23}"
        f"{h.reference_code:<8}"
    )


def _batch_header_record(b: NachaBatchHeader) -> str:
    return (
        f"5{CREDITS_ONLY}{b.company_name:<16}{b.discretionary_data:<20}{b.company_id:<10}{CCD}"
        f"{b.company_entry_description:<10}{b.company_descriptive_date:<6}{b.effective_entry_date:%y%m%d}"
        f"{'':3}1{b.originating_dfi}{b.batch_number:07d}"
    )


def _entry_record(e: NachaEntry, trace: str) -> str:
    return (
        f"6{TRANSACTION_CODES[e.account_type]}{e.routing_number}{e.account_number:<17}{e.amount_cents:010d}"
        f"{e.individual_id:<15}{e.name:<22}{e.discretionary_data:<2}{1 if e.addenda else 0}{trace}"
    )


def _text(value: str, size: int, what: str, *, required: bool = False) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{what} is empty")
    if len(value) > size:
        raise ValueError(f"{what} {value!r} is {len(value)} characters, at most {size}")
    bad = sorted(set(value) - ALLOWED)
    if bad:
        lower = any(ch.islower() for ch in bad)
        hint = " (NACHA fields are upper case)" if lower else ""
        raise ValueError(f"{what} {value!r} has characters NACHA does not allow: {''.join(bad)!r}{hint}")


def _digits(value: str, size: int, what: str) -> None:
    if not (isinstance(value, str) and len(value) == size and value.isascii() and value.isdigit()):
        raise ValueError(f"{what} {value!r} is not {size} digits")


def _check_file_header(h: NachaFileHeader) -> None:
    if not is_valid_routing(h.immediate_destination):
        raise ValueError(
            f"file header immediate destination {h.immediate_destination!r} is not a 9-digit routing "
            "number with a valid check digit"
        )
    origin = h.immediate_origin
    if not (
        isinstance(origin, str)
        and (
            (len(origin) == 9 and origin.isascii() and origin.isdigit())
            or (len(origin) == 10 and set(origin) <= _UPPER_ALNUM)
        )
    ):
        raise ValueError(
            f"file header immediate origin {origin!r} is neither 9 digits nor 10 upper-case letters or digits"
        )
    _text(h.destination_name, 23, "file header destination name")
    _text(h.origin_name, 23, "file header origin name")
    _text(h.reference_code, 8, "file header reference code")
    modifier = h.file_id_modifier
    if not (len(modifier) == 1 and (modifier in string.ascii_uppercase or modifier in string.digits)):
        raise ValueError(f"file header file id modifier {modifier!r} is not one of A-Z, 0-9")
    if not 2000 <= h.created.year <= 2099:
        raise ValueError(f"file header creation date {h.created:%Y-%m-%d} is not in 2000-2099 (YYMMDD)")


def _check_batch(b: NachaBatchHeader, number: int, last: int) -> None:
    what = f"batch {number}"
    _text(b.company_name, 16, f"{what} company name", required=True)
    _text(b.company_id, 10, f"{what} company id", required=True)
    _text(b.company_entry_description, 10, f"{what} company entry description", required=True)
    _text(b.company_descriptive_date, 6, f"{what} company descriptive date")
    _text(b.discretionary_data, 20, f"{what} discretionary data")
    _digits(b.originating_dfi, 8, f"{what} originating DFI")
    if isinstance(b.batch_number, bool) or not isinstance(b.batch_number, int):
        raise ValueError(f"{what} batch number must be an int")
    if not 1 <= b.batch_number <= 9_999_999:
        raise ValueError(f"{what} batch number {b.batch_number} is not 1-9999999")
    if b.batch_number <= last:
        raise ValueError(f"{what} batch number {b.batch_number} does not ascend (after {last})")
    if not 2000 <= b.effective_entry_date.year <= 2099:
        raise ValueError(f"{what} effective entry date {b.effective_entry_date} is not in 2000-2099 (YYMMDD)")


def _check_entry(e: NachaEntry, what: str) -> None:
    if not is_valid_routing(e.routing_number):
        raise ValueError(
            f"{what} routing number {e.routing_number!r} is not 9 digits with a valid ABA check digit"
        )
    account = e.account_number
    if not account or len(account) > 17 or not set(account) <= _ACCOUNT_CHARACTERS:
        raise ValueError(
            f"{what} account number {account!r} must be 1-17 upper-case letters, digits or hyphens"
        )
    if e.account_type not in TRANSACTION_CODES:
        raise ValueError(f"{what} account type {e.account_type!r} is not checking or savings")
    amount = e.amount_cents
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"{what} amount must be int cents, not {type(amount).__name__}")
    if not 0 < amount <= MAX_ENTRY_CENTS:
        raise ValueError(f"{what} amount {amount} cents is not above 0 and at most {MAX_ENTRY_CENTS}")
    _text(e.individual_id, 15, f"{what} individual id")
    _text(e.name, 22, f"{what} name", required=True)
    _text(e.addenda, 80, f"{what} addenda")
    _text(e.discretionary_data, 2, f"{what} discretionary data")


# -- reading ----------------------------------------------------------------------------------------

_RECORD_NAMES = {
    "1": "file header",
    "5": "batch header",
    "6": "entry detail",
    "7": "addenda",
    "8": "batch control",
    "9": "file control",
}


class NachaError(ValueError):
    """A record :func:`read_nacha` cannot read: ``line`` (1-based), the ``field`` at fault and a message."""

    def __init__(self, message: str, *, line: int, field: str = "", filename: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field
        self.filename = filename

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.field:
            where += f", {self.field}"
        if self.filename:
            where = f"{self.filename}: {where}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class NachaBatchControl:
    service_class_code: str
    entry_count: int
    entry_hash: int
    total_debit_cents: int
    total_credit_cents: int
    company_id: str
    originating_dfi: str
    batch_number: int
    line: int


@dataclass(frozen=True, slots=True)
class NachaFileControl:
    batch_count: int
    block_count: int
    entry_count: int
    entry_hash: int
    total_debit_cents: int
    total_credit_cents: int
    line: int


@dataclass(frozen=True, slots=True)
class ReadEntry:
    """An entry detail record as read, with its trace number and its addenda record's numbers."""

    entry: NachaEntry
    trace_number: str
    line: int
    addenda_sequence: int | None = None
    """Positions 84-87 of the addenda (1 for the only addenda of a CCD+)."""
    addenda_entry_sequence: str | None = None
    """Positions 88-94 of the addenda: the last 7 digits of the entry's trace number."""


@dataclass(frozen=True, slots=True)
class NachaBatch:
    header: NachaBatchHeader
    service_class_code: str
    sec_code: str
    originator_status: str
    entries: tuple[ReadEntry, ...]
    control: NachaBatchControl
    line: int


@dataclass(frozen=True, slots=True)
class NachaFile:
    header: NachaFileHeader
    record_size: str
    blocking_factor: str
    format_code: str
    batches: tuple[NachaBatch, ...]
    control: NachaFileControl
    lines: int
    """Every record in the file, padding included."""
    filename: str | None = field(default=None, compare=False)

    def entries(self) -> Iterator[NachaEntry]:
        for batch in self.batches:
            for read in batch.entries:
                yield read.entry

    def problems(self) -> list[str]:
        """Every inconsistency of the file, each naming its line and field; [] for a sound file.

        Checked: record size 094, blocking factor 10, format code 1; per batch service class 220 and SEC
        CCD, batch numbers ascending, the batch control's service class, company id, originating DFI and
        batch number against the header's, its entry and addenda count, entry hash and totals; per entry
        the routing check digit, trace numbers ascending and starting with the originating DFI, the
        addenda's sequence number 0001 and entry sequence; the file control's batch count, block count,
        entry and addenda count, entry hash and totals; and the padding to a multiple of 10 records.
        """
        found: list[str] = []
        if self.record_size != f"{RECORD_SIZE:03d}":
            found.append(f"line 1, record size (35-37): {self.record_size!r} is not '094'")
        if self.blocking_factor != f"{BLOCKING_FACTOR:02d}":
            found.append(f"line 1, blocking factor (38-39): {self.blocking_factor!r} is not '10'")
        if self.format_code != "1":
            found.append(f"line 1, format code (40): {self.format_code!r} is not '1'")
        last_batch = 0
        file_hash = file_credit = file_debit = file_count = 0
        for batch in self.batches:
            found.extend(_batch_problems(batch, last_batch))
            last_batch = batch.header.batch_number
            file_hash += sum(int(r.entry.routing_number[:8]) for r in batch.entries)
            file_credit += sum(r.entry.amount_cents for r in batch.entries)
            file_count += _record_count(batch)
            file_debit += batch.control.total_debit_cents
        c = self.control
        at = f"line {c.line} (file control)"
        blocks, rest = divmod(self.lines, BLOCKING_FACTOR)
        for what, declared, actual in (
            ("batch count (2-7)", c.batch_count, len(self.batches)),
            ("block count (8-13)", c.block_count, blocks if not rest else blocks + 1),
            ("entry/addenda count (14-21)", c.entry_count, file_count),
            ("entry hash (22-31)", c.entry_hash, file_hash % _HASH_MODULUS),
            ("total debit (32-43)", c.total_debit_cents, file_debit),
            ("total credit (44-55)", c.total_credit_cents, file_credit),
        ):
            if declared != actual:
                found.append(f"{at}, {what}: {declared} but the file has {actual}")
        if rest:
            found.append(f"the file has {self.lines} records, not a multiple of {BLOCKING_FACTOR} (padding)")
        return found


def _record_count(batch: NachaBatch) -> int:
    return len(batch.entries) + sum(1 for r in batch.entries if r.addenda_sequence is not None)


def _batch_problems(batch: NachaBatch, last_batch: int) -> Iterator[str]:
    h, c = batch.header, batch.control
    at = f"line {batch.line} (batch header)"
    if batch.service_class_code != CREDITS_ONLY:
        yield f"{at}, service class (2-4): {batch.service_class_code!r} is not {CREDITS_ONLY} (credits only)"
    if batch.sec_code != CCD:
        yield f"{at}, standard entry class (51-53): {batch.sec_code!r} is not {CCD}"
    if batch.originator_status != "1":
        yield f"{at}, originator status code (79): {batch.originator_status!r} is not '1'"
    if h.batch_number <= last_batch:
        yield f"{at}, batch number (88-94): {h.batch_number} does not ascend (after {last_batch})"
    last_trace = ""
    for read in batch.entries:
        e = read.entry
        where = f"line {read.line} (entry detail)"
        if not is_valid_routing(e.routing_number):
            yield f"{where}, receiving DFI (4-12): {e.routing_number!r} has a wrong check digit"
        if read.trace_number <= last_trace:
            yield f"{where}, trace number (80-94): {read.trace_number} does not ascend (after {last_trace})"
        if not read.trace_number.startswith(h.originating_dfi):
            yield f"{where}, trace number (80-94): {read.trace_number} does not start with the ODFI {h.originating_dfi}"
        last_trace = read.trace_number
        if read.addenda_sequence is not None:
            addenda = f"line {read.line + 1} (addenda)"
            if read.addenda_sequence != 1:
                yield f"{addenda}, addenda sequence number (84-87): {read.addenda_sequence} is not 1"
            if read.addenda_entry_sequence != read.trace_number[-7:]:
                yield (
                    f"{addenda}, entry detail sequence number (88-94): {read.addenda_entry_sequence} is not "
                    f"the entry's trace sequence {read.trace_number[-7:]}"
                )
    at = f"line {c.line} (batch control)"
    entry_hash = sum(int(r.entry.routing_number[:8]) for r in batch.entries) % _HASH_MODULUS
    credit = sum(r.entry.amount_cents for r in batch.entries)
    for what, declared, actual in (
        ("service class (2-4)", c.service_class_code, batch.service_class_code),
        ("entry/addenda count (5-10)", c.entry_count, _record_count(batch)),
        ("entry hash (11-20)", c.entry_hash, entry_hash),
        ("total debit (21-32)", c.total_debit_cents, 0),
        ("total credit (33-44)", c.total_credit_cents, credit),
        ("company id (45-54)", c.company_id, h.company_id),
        ("originating DFI (80-87)", c.originating_dfi, h.originating_dfi),
        ("batch number (88-94)", c.batch_number, h.batch_number),
    ):
        if declared != actual:
            yield f"{at}, {what}: {declared!r} but the batch has {actual!r}"


NachaSource = str | os.PathLike[str] | bytes | BinaryIO | TextIO


def read_nacha(source: NachaSource, *, filename: str | None = None) -> NachaFile:
    """Parse a NACHA file of CCD credit batches by the published record positions.

    ``source`` is a path, bytes, or a binary or text stream. Records are separated by LF or CR LF, or
    follow each other without separators. Raises :class:`NachaError` (line and field) for a record that
    is not 94 characters or not ASCII, an unknown record type, records out of order (an entry outside a
    batch, an addenda without its entry's indicator, a file ending inside a batch, anything but padding
    after the file control), a numeric field that is not digits, a date that does not exist, a
    transaction code other than 22/32 (checking and savings credits), an addenda type other than 05 or
    more than one addenda per entry. Consistency (counts, hashes, totals) is for :meth:`NachaFile.problems`.
    """
    text, name = _source_text(source)
    name = filename or name
    return _Parser(name).parse(_split_records(text, name))


def _source_text(source: NachaSource) -> tuple[str, str | None]:
    if isinstance(source, bytes):
        return source.decode("latin-1"), None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.read_bytes().decode("latin-1"), path.name
    data = source.read()
    name = getattr(source, "name", None)
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return text, name if isinstance(name, str) else None


def _split_records(text: str, filename: str | None) -> list[str]:
    if "\n" not in text and "\r" not in text:
        if len(text) % RECORD_SIZE:
            raise NachaError(
                f"{len(text)} characters without line breaks is not a whole number of 94-character records",
                line=len(text) // RECORD_SIZE + 1,
                field="record length",
                filename=filename,
            )
        return [text[i : i + RECORD_SIZE] for i in range(0, len(text), RECORD_SIZE)]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


class _Parser:
    def __init__(self, filename: str | None) -> None:
        self.filename = filename
        self.line = 0
        self.record = ""

    def fail(self, message: str, where: str = "") -> NachaError:
        kind = _RECORD_NAMES.get(self.record[:1], "record")
        return NachaError(message, line=self.line, field=f"{kind} {where}".strip(), filename=self.filename)

    def text(self, start: int, end: int) -> str:
        """Positions ``start``-``end`` (1-based, inclusive, as the layout publishes them), right-trimmed."""
        return self.record[start - 1 : end].rstrip(" ")

    def number(self, start: int, end: int, what: str) -> int:
        value = self.record[start - 1 : end]
        if not (value.isascii() and value.isdigit()):
            raise self.fail(f"{value!r} is not {end - start + 1} digits", f"{what} ({start}-{end})")
        return int(value)

    def digits(self, start: int, end: int, what: str) -> str:
        self.number(start, end, what)
        return self.record[start - 1 : end]

    def date(self, start: int, what: str) -> dt.date:
        value = self.record[start - 1 : start + 5]
        try:
            if not (value.isascii() and value.isdigit()):
                raise ValueError
            return dt.date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
        except ValueError:
            raise self.fail(f"{value!r} is not a YYMMDD date", f"{what} ({start}-{start + 5})") from None

    def parse(self, records: list[str]) -> NachaFile:
        lines = iter(enumerate(records, 1))
        header: NachaFileHeader | None = None
        head: tuple[str, str, str] = ("", "", "")
        batches: list[NachaBatch] = []
        control: NachaFileControl | None = None
        batch: _OpenBatch | None = None
        pending: _PendingEntry | None = None
        for self.line, self.record in lines:
            record = self.record
            if len(record) != RECORD_SIZE:
                raise self.fail(f"record is {len(record)} characters, not {RECORD_SIZE}", "record length")
            if not record.isascii():
                raise self.fail("record holds characters that are not ASCII")
            kind = record[0]
            if control is not None:
                if record != FILLER:
                    raise self.fail("only padding records (94 nines) may follow the file control record")
                continue
            if pending is not None and kind != "7":
                if pending.wants_addenda:
                    raise self.fail(f"the entry at line {pending.line} announces an addenda record (position 79)"
                                    " but none follows")  # fmt: skip
                assert batch is not None
                batch.entries.append(pending.done())
                pending = None
            if header is None:
                if kind != "1":
                    raise self.fail("a file starts with its file header record (type 1)", "record type (1)")
                header, head = self.file_header()
            elif kind == "5":
                if batch is not None:
                    raise self.fail(
                        f"batch header before the control record of the batch at line {batch.line}"
                    )
                batch = self.batch_header()
            elif kind == "6":
                if batch is None:
                    raise self.fail("entry detail record outside a batch")
                pending = self.entry()
            elif kind == "7":
                if pending is None or not pending.wants_addenda or pending.addenda_line:
                    raise self.fail(
                        "addenda record without an entry announcing it (position 79 of the entry)"
                    )
                self.addenda(pending)
                assert batch is not None
                batch.entries.append(pending.done())
                pending = None
            elif kind == "8":
                if batch is None:
                    raise self.fail("batch control record without a batch header")
                batches.append(batch.close(self.batch_control()))
                batch = None
            elif kind == "9":
                if batch is not None:
                    raise self.fail(f"file control record inside the batch at line {batch.line}")
                if record == FILLER:
                    raise self.fail("padding record before the file control record")
                control = self.file_control()
            elif kind == "1":
                raise self.fail("second file header record")
            else:
                raise self.fail(f"unknown record type {kind!r}", "record type (1)")
        if header is None:
            raise NachaError("the file is empty", line=1, filename=self.filename)
        if control is None:
            raise NachaError("the file ends without a file control record (type 9)",
                             line=len(records), filename=self.filename)  # fmt: skip
        return NachaFile(header, *head, tuple(batches), control, len(records), self.filename)

    def file_header(self) -> tuple[NachaFileHeader, tuple[str, str, str]]:
        if self.record[1:3] != "01":
            raise self.fail(f"{self.record[1:3]!r} is not 01", "priority code (2-3)")
        destination = self.record[3:13]
        if destination[0] != " " or not (destination[1:].isascii() and destination[1:].isdigit()):
            raise self.fail(f"{destination!r} is not a space and a 9-digit routing number",
                            "immediate destination (4-13)")  # fmt: skip
        day = self.date(24, "file creation date")
        clock = self.record[29:33]
        if not (clock.isascii() and clock.isdigit() and int(clock[:2]) < 24 and int(clock[2:]) < 60):
            raise self.fail(f"{clock!r} is not an HHMM time", "file creation time (30-33)")
        header = NachaFileHeader(
            immediate_destination=destination[1:],
            immediate_origin=self.record[13:23].strip(" "),
            destination_name=self.text(41, 63),
            origin_name=self.text(64, 86),
            created=dt.datetime(day.year, day.month, day.day, int(clock[:2]), int(clock[2:])),
            file_id_modifier=self.record[33],
            reference_code=self.text(87, 94),
        )
        return header, (self.record[34:37], self.record[37:39], self.record[39])

    def batch_header(self) -> _OpenBatch:
        header = NachaBatchHeader(
            company_name=self.text(5, 20),
            company_id=self.text(41, 50),
            company_entry_description=self.text(54, 63),
            effective_entry_date=self.date(70, "effective entry date"),
            originating_dfi=self.digits(80, 87, "originating DFI"),
            batch_number=self.number(88, 94, "batch number"),
            company_descriptive_date=self.text(64, 69),
            discretionary_data=self.text(21, 40),
        )
        return _OpenBatch(self.line, header, self.record[1:4], self.record[50:53], self.record[78])

    def entry(self) -> _PendingEntry:
        code = self.record[1:3]
        if code not in ACCOUNT_TYPES:
            raise self.fail(
                f"{code!r} is not 22 or 32 (a checking or savings credit)", "transaction code (2-3)"
            )
        routing = self.digits(4, 12, "receiving DFI and check digit")
        indicator = self.record[78]
        if indicator not in "01":
            raise self.fail(f"{indicator!r} is not 0 or 1", "addenda record indicator (79)")
        entry = NachaEntry(
            routing_number=routing,
            account_number=self.text(13, 29),
            account_type=ACCOUNT_TYPES[code],
            amount_cents=self.number(30, 39, "amount"),
            individual_id=self.text(40, 54),
            name=self.text(55, 76),
            discretionary_data=self.text(77, 78),
        )
        return _PendingEntry(self.line, entry, self.digits(80, 94, "trace number"), indicator == "1")

    def addenda(self, pending: _PendingEntry) -> None:
        if self.record[1:3] != ADDENDA_TYPE:
            raise self.fail(f"{self.record[1:3]!r} is not 05 (CCD+ addenda)", "addenda type code (2-3)")
        pending.text = self.text(4, 83)
        pending.sequence = self.number(84, 87, "addenda sequence number")
        pending.entry_sequence = self.digits(88, 94, "entry detail sequence number")
        pending.addenda_line = self.line

    def batch_control(self) -> NachaBatchControl:
        return NachaBatchControl(
            service_class_code=self.record[1:4],
            entry_count=self.number(5, 10, "entry/addenda count"),
            entry_hash=self.number(11, 20, "entry hash"),
            total_debit_cents=self.number(21, 32, "total debit"),
            total_credit_cents=self.number(33, 44, "total credit"),
            company_id=self.text(45, 54),
            originating_dfi=self.digits(80, 87, "originating DFI"),
            batch_number=self.number(88, 94, "batch number"),
            line=self.line,
        )

    def file_control(self) -> NachaFileControl:
        return NachaFileControl(
            batch_count=self.number(2, 7, "batch count"),
            block_count=self.number(8, 13, "block count"),
            entry_count=self.number(14, 21, "entry/addenda count"),
            entry_hash=self.number(22, 31, "entry hash"),
            total_debit_cents=self.number(32, 43, "total debit"),
            total_credit_cents=self.number(44, 55, "total credit"),
            line=self.line,
        )


@dataclass(slots=True)
class _PendingEntry:
    """An entry detail record read, waiting for the addenda record it announces."""

    line: int
    entry: NachaEntry
    trace: str
    wants_addenda: bool
    text: str = ""
    sequence: int | None = None
    entry_sequence: str | None = None
    addenda_line: int = 0

    def done(self) -> ReadEntry:
        entry = replace(self.entry, addenda=self.text) if self.text else self.entry
        return ReadEntry(entry, self.trace, self.line, self.sequence, self.entry_sequence)


@dataclass(slots=True)
class _OpenBatch:
    """A batch whose control record has not been read yet."""

    line: int
    header: NachaBatchHeader
    service_class: str
    sec_code: str
    status: str
    entries: list[ReadEntry] = field(default_factory=list)

    def close(self, control: NachaBatchControl) -> NachaBatch:
        return NachaBatch(self.header, self.service_class, self.sec_code, self.status,
                          tuple(self.entries), control, self.line)  # fmt: skip
