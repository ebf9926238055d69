"""Pharmacy claims (a CSV or NCPDP-style extract from a plan or PBM) read into typed claims, streamed.

One row is one prescription fill. The header names the columns of :data:`COLUMNS` (matched without regard
to case or surrounding spaces); the NCPDP field names of :data:`ALIASES` are read as the same columns
(``product_service_id`` is the NDC, ``date_of_service`` the fill date, ``transaction_code`` B1/B2 the
status...). The file is UTF-8 and comma-separated unless another delimiter is passed (``|`` for most
NCPDP-style extracts; :func:`read_pharmacy_claims` takes ``delimiter="|"``, or ``None`` to use ``|`` when
the header line has one and no comma).

Each row gives a :class:`PharmacyClaim`:

- ``ndc`` normalized to 11 digits from the hyphenated 10-digit forms 4-4-2, 5-3-2 and 5-4-1 (and 5-4-2 or
  11 digits as they are; 10 digits without hyphens are refused, since which part to pad is unknown);
- ``fill_date`` a real date (``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``YYYYMMDD``), not in the future;
- ``days_supply`` a whole number 1-366 and ``quantity`` an exact positive decimal;
- ``prescriber_npi`` and ``pharmacy_npi`` valid NPIs (the prescriber may be empty);
- ``paid_cents`` the paid amount in integer cents, read from its text (``12.34``, never through a float;
  more than two decimal places that are not zero are refused); a reversal may carry a negative amount;
- ``status`` ``paid`` or ``reversed`` (also read: P, PAID, B1 -> paid; R, REV, REVERSED, B2 -> reversed).

Error policy: **each row is an independent record.** A row that fails a check is reported as a
:class:`~openipa.edi.clinical.ClinicalIssue` of severity ``error`` (file, line, claim id, column) and the
next rows are still read. The whole file is refused with :class:`~openipa.edi.clinical.ClinicalFileError`
when it cannot be read as CSV (no header, a required column missing, an unknown or repeated column, text
that is not UTF-8, an unclosed quote).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from openipa.core.identifiers import IdentifierError, validate_npi
from openipa.edi.amounts import AmountError, parse_cents
from openipa.edi.clinical import (
    CHUNK_SIZE,
    ClinicalFileError,
    ClinicalIssue,
    Where,
    iter_lines,
    normalize_ndc,
    open_clinical,
    parse_decimal,
)
from openipa.edi.csvclinical import CsvRow, RowError, read_rows
from openipa.edi.x12.reader import Readable, Source

COLUMNS: dict[str, str] = {
    "claim_id": "the claim's id (its reversal carries the same id); required",
    "member_id": "the plan's member id; required",
    "ndc": "National Drug Code: 11 digits, or 10 with hyphens (4-4-2, 5-3-2, 5-4-1); required",
    "fill_date": "the date the prescription was filled; required",
    "days_supply": "days supply, 1-366; required",
    "quantity": "quantity dispensed; required",
    "prescriber_npi": "the prescriber's NPI",
    "pharmacy_npi": "the dispensing pharmacy's NPI; required",
    "paid_amount": "the amount paid in dollars and cents (12.34); required",
    "claim_status": "paid or reversed; required",
    "drug_name": "the drug's name as the pharmacy wrote it",
    "refill_number": "0 for a new prescription, then 1, 2...",
}
"""The columns of the layout, with what they hold."""

REQUIRED = (
    "claim_id",
    "member_id",
    "ndc",
    "fill_date",
    "days_supply",
    "quantity",
    "pharmacy_npi",
    "paid_amount",
    "claim_status",
)

ALIASES: dict[str, str] = {
    "prescription_reference_number": "claim_id",
    "rx_number": "claim_id",
    "cardholder_id": "member_id",
    "product_service_id": "ndc",
    "date_of_service": "fill_date",
    "date_filled": "fill_date",
    "quantity_dispensed": "quantity",
    "prescriber_id": "prescriber_npi",
    "service_provider_id": "pharmacy_npi",
    "total_amount_paid": "paid_amount",
    "transaction_code": "claim_status",
    "product_service_description": "drug_name",
    "fill_number": "refill_number",
}
"""NCPDP field names read as the layout's columns."""

STATUSES: dict[str, str] = {
    "paid": "paid",
    "p": "paid",
    "b1": "paid",
    "reversed": "reversed",
    "reversal": "reversed",
    "rev": "reversed",
    "r": "reversed",
    "b2": "reversed",
}
MAX_DAYS_SUPPLY = 366


@dataclass(frozen=True, slots=True)
class PharmacyClaim:
    """One pharmacy fill (or its reversal)."""

    claim_id: str
    member_id: str
    ndc: str
    fill_date: dt.date
    days_supply: int
    quantity: Decimal
    pharmacy_npi: str
    paid_cents: int
    status: str
    """``paid`` or ``reversed``."""
    prescriber_npi: str = ""
    drug_name: str = ""
    refill_number: int | None = None
    where: Where = field(default_factory=Where, compare=False)

    @property
    def paid(self) -> Decimal:
        """The paid amount in dollars, exact."""
        return Decimal(self.paid_cents).scaleb(-2)

    @property
    def last_day_covered(self) -> dt.date:
        """The last day the fill's supply covers (fill date + days supply - 1), for adherence measures."""
        return self.fill_date + dt.timedelta(days=self.days_supply - 1)


def read_pharmacy_claims(
    source: Source, *, filename: str | None = None, delimiter: str | None = ",", chunk_size: int = CHUNK_SIZE
) -> Iterator[PharmacyClaim | ClinicalIssue]:
    """Claims and issues of a pharmacy claims file, a row at a time (see the module's error policy)."""
    stream, name, close = open_clinical(source, filename)
    try:
        rows_from: Readable = stream
        if delimiter is None:
            rows_from, delimiter = _sniff(stream, name, chunk_size)
        for row in read_rows(
            rows_from, name, COLUMNS, REQUIRED, delimiter=delimiter, aliases=ALIASES, chunk_size=chunk_size
        ):
            claim_id = row.get("claim_id") or None
            try:
                if "\x00width" in row.cells:
                    raise RowError(row.cells["\x00width"])
                yield _claim(row)
            except RowError as exc:
                yield ClinicalIssue("error", exc.message, Where(name, row.line, claim_id), exc.column)
    except OSError as exc:
        raise ClinicalFileError(f"the file cannot be read: {exc}", filename=name) from None
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


class _Replay:
    """A stream that gives back ``head`` before the rest of ``stream``."""

    def __init__(self, head: bytes, stream: object) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1, /) -> bytes:
        if self.head:
            data, self.head = self.head, b""
            return data
        return self.stream.read(size)  # type: ignore[attr-defined, no-any-return]


def _sniff(stream: object, name: str | None, chunk_size: int) -> tuple[_Replay, str]:
    head = b""
    while b"\n" not in head:
        data = stream.read(chunk_size)  # type: ignore[attr-defined]
        if not data:
            break
        head += data
        if len(head) > (1 << 20):
            break
    first = next(iter_lines(_Replay(head, _Empty()), name), b"")
    delimiter = "|" if b"|" in first and b"," not in first else ","
    return _Replay(head, stream), delimiter


class _Empty:
    def read(self, size: int = -1, /) -> bytes:
        return b""


def _claim(row: CsvRow) -> PharmacyClaim:
    claim_id = row.required("claim_id")
    member_id = row.required("member_id")
    try:
        ndc = normalize_ndc(row.required("ndc"))
    except ValueError as exc:
        raise RowError(str(exc), "ndc") from None
    fill_date = row.date("fill_date")
    if fill_date is None:
        raise RowError("fill_date is empty", "fill_date")
    days_text = row.required("days_supply")
    if not (days_text.isascii() and days_text.isdigit()) or not 1 <= int(days_text) <= MAX_DAYS_SUPPLY:
        raise RowError(
            f"{days_text!r} is not a whole number of days from 1 to {MAX_DAYS_SUPPLY}", "days_supply"
        )
    try:
        quantity = parse_decimal(row.required("quantity"))
    except ValueError as exc:
        raise RowError(str(exc), "quantity") from None
    if quantity <= 0:
        raise RowError(f"quantity {quantity} is not more than zero", "quantity")
    pharmacy_npi = _npi(row, "pharmacy_npi", required=True)
    prescriber_npi = _npi(row, "prescriber_npi", required=False)
    amount = row.required("paid_amount")
    try:
        paid_cents = parse_cents(amount.removeprefix("$"))
    except AmountError as exc:
        raise RowError(str(exc), "paid_amount") from None
    status_text = row.required("claim_status")
    status = STATUSES.get(status_text.casefold())
    if status is None:
        raise RowError(f"{status_text!r} is not paid or reversed (nor P, R, B1, B2)", "claim_status")
    if status == "paid" and paid_cents < 0:
        raise RowError(f"a paid claim has a negative amount {amount}", "paid_amount")
    refill_text = row.get("refill_number")
    if refill_text and not (refill_text.isascii() and refill_text.isdigit()):
        raise RowError(f"{refill_text!r} is not a whole number", "refill_number")
    return PharmacyClaim(
        claim_id=claim_id,
        member_id=member_id,
        ndc=ndc,
        fill_date=fill_date,
        days_supply=int(days_text),
        quantity=quantity,
        pharmacy_npi=pharmacy_npi,
        paid_cents=paid_cents,
        status=status,
        prescriber_npi=prescriber_npi,
        drug_name=row.get("drug_name"),
        refill_number=int(refill_text) if refill_text else None,
        where=row.where(claim_id),
    )


def _npi(row: CsvRow, column: str, *, required: bool) -> str:
    value = row.required(column) if required else row.get(column)
    if not value:
        return ""
    try:
        return validate_npi(value)
    except IdentifierError as exc:
        raise RowError(str(exc), column) from None
