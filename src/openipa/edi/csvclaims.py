"""Claims in a CSV file, one row per service line, read into the same records as the 837 reader.

Some senders (a small lab, a practice's billing export, a clearinghouse report) cannot send an 837. The CSV
layout, with a header row naming the columns in any order:

| column | required | meaning |
|---|---|---|
| claim_id | yes | the sender's claim number (CLM01); rows of one claim are consecutive |
| line | yes | line number in the claim (1, 2, ...) |
| member_id | yes | the member's id at the payer (NM109) |
| last_name, first_name, birth_date | no | the patient (YYYY-MM-DD) |
| billing_npi | yes | the billing provider's NPI |
| billing_tin | no | its tax id (9 digits) |
| billing_name | no | |
| rendering_npi | no | the rendering provider (the billing one when empty) |
| place_of_service | yes for professional | two digits |
| type_of_bill | no | an institutional claim's 4-digit type of bill (its lines then use revenue codes) |
| frequency | no | 1 original (default), 7 replacement, 8 void |
| original_claim | with 7 or 8 | our claim number of the claim replaced or voided |
| service_from, service_to | yes / no | the line's dates (YYYY-MM-DD) |
| code, modifiers | code or revenue_code | CPT/HCPCS; modifiers separated by ``:`` or spaces |
| revenue_code | | 4 digits |
| units | yes | a positive number |
| charge | yes | dollars, e.g. 125.00 |
| diagnoses | yes on line 1 | ICD-10 codes separated by ``:`` (the first is the principal); later lines may repeat or leave it empty |
| prior_authorization | no | |

Each bad claim gives a :class:`~openipa.edi.t837.ClaimProblem` naming the file's line and column, and
reading goes on with the next claim, as for the 837.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openipa.edi.amounts import AmountError, parse_cents
from openipa.edi.t837 import (
    Claim837,
    ClaimProblem,
    Diagnosis,
    Header837,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)

REQUIRED = ("claim_id", "line", "member_id", "billing_npi", "service_from", "units", "charge")


class CsvClaimsError(ValueError):
    """The file cannot be read as claims at all (no header, missing columns); the message says where."""


class _Bad(Exception):
    def __init__(self, line: int, column: str, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def _date(row: dict[str, str], column: str, line: int, required: bool) -> dt.date | None:
    text = (row.get(column) or "").strip()
    if not text:
        if required:
            raise _Bad(line, column, f"{column} is empty")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _Bad(line, column, f"{text!r} is not a YYYY-MM-DD date") from None


def _claim(rows: list[tuple[int, dict[str, str]]], header: Header837) -> Claim837:
    first_line, first = rows[0]
    kind_institutional = bool((first.get("type_of_bill") or "").strip())
    diagnosis_codes = [
        c.strip().upper().replace(".", "")
        for c in (first.get("diagnoses") or "").replace(" ", ":").split(":")
        if c.strip()
    ]
    if not diagnosis_codes:
        raise _Bad(first_line, "diagnoses", "the claim's first line has no diagnosis")
    diagnoses = tuple(
        Diagnosis("ABK" if i == 0 else "ABF", code, i + 1) for i, code in enumerate(diagnosis_codes)
    )
    billing = Provider("2", (first.get("billing_name") or "").strip() or first["billing_npi"].strip(),
                       id_qualifier="XX", identifier=first["billing_npi"].strip(),
                       tin=(first.get("billing_tin") or "").strip())  # fmt: skip
    lines: list[ServiceLine] = []
    seen: set[int] = set()
    for line_no, row in rows:
        try:
            number = int((row.get("line") or "").strip())
        except ValueError:
            raise _Bad(line_no, "line", f"{row.get('line')!r} is not a line number") from None
        if number in seen or number < 1:
            raise _Bad(line_no, "line", f"line number {number} is repeated or below 1")
        seen.add(number)
        code = (row.get("code") or "").strip().upper()
        revenue = (row.get("revenue_code") or "").strip()
        if not code and not revenue:
            raise _Bad(line_no, "code", "the line has neither a procedure code nor a revenue code")
        try:
            units = Decimal((row.get("units") or "").strip())
        except InvalidOperation:
            raise _Bad(line_no, "units", f"{row.get('units')!r} is not a number of units") from None
        if units <= 0:
            raise _Bad(line_no, "units", f"units must be above zero, not {units}")
        try:
            charge = parse_cents((row.get("charge") or "").strip())
        except AmountError as exc:
            raise _Bad(line_no, "charge", str(exc)) from None
        if charge < 0:
            raise _Bad(line_no, "charge", "a charge cannot be negative")
        start = _date(row, "service_from", line_no, True)
        end = _date(row, "service_to", line_no, False)
        if start is not None and end is not None and end < start:
            raise _Bad(line_no, "service_to", f"service_to {end} is before service_from {start}")
        rendering_npi = (row.get("rendering_npi") or "").strip()
        modifiers = tuple(m for m in (row.get("modifiers") or "").replace(" ", ":").upper().split(":") if m)[
            :4
        ]
        lines.append(ServiceLine(
            number=number, procedure_qualifier="HC" if code else "", procedure_code=code, modifiers=modifiers,
            revenue_code=revenue, charge_cents=charge, unit_basis="UN", units=units,
            place_of_service=(row.get("place_of_service") or "").strip(), diagnosis_pointers=(1,),
            diagnoses=diagnoses[:1], service_date=start, service_date_end=end, control_number="",
            rendering=Provider("1", "", id_qualifier="XX", identifier=rendering_npi) if rendering_npi else None,
            segment_number=line_no,
        ))  # fmt: skip
    frequency = (first.get("frequency") or "1").strip() or "1"
    if frequency not in ("1", "7", "8"):
        raise _Bad(first_line, "frequency", f"frequency {frequency!r} is not 1, 7 or 8")
    original = (first.get("original_claim") or "").strip()
    if frequency in ("7", "8") and not original:
        raise _Bad(first_line, "original_claim", "a replacement or void names the original claim")
    type_of_bill = (first.get("type_of_bill") or "").strip()
    pos = (first.get("place_of_service") or "").strip()
    if not kind_institutional and not pos:
        raise _Bad(first_line, "place_of_service", "a professional claim needs a place of service")
    person = Person((first.get("last_name") or "").strip(), (first.get("first_name") or "").strip(),
                    id_qualifier="MI", member_id=first["member_id"].strip(),
                    birth_date=_date(first, "birth_date", first_line, False))  # fmt: skip
    transaction = dataclasses.replace(header, kind="institutional") if kind_institutional else header
    return Claim837(
        transaction=transaction, billing_provider=billing, pay_to=None,
        subscriber=Subscriber("P", "18", "", "", "", person), patient=None, payer=Payer("", "", ""),
        claim_id=first["claim_id"].strip(), total_charge_cents=sum(x.charge_cents for x in lines),
        place_of_service="" if kind_institutional else pos,
        facility_type=type_of_bill[1:3] if kind_institutional else "", frequency_code=frequency,
        payer_claim_control_number=original, prior_authorization=(first.get("prior_authorization") or "").strip(),
        referral_number="", onset_date=None, statement_from=None, statement_to=None, admission_date=None,
        diagnoses=diagnoses, rendering=None, attending=None, operating=None, referring=None, service_facility=None,
        lines=tuple(sorted(lines, key=lambda x: x.number)), segment_number=first_line,
    )  # fmt: skip


def read_claims_csv(path: Path, *, filename: str | None = None) -> Iterator[Claim837 | ClaimProblem]:
    """The claims of a CSV file (see the module docstring); CsvClaimsError when it cannot be read at all."""
    name = filename or path.name
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvClaimsError(f"{name}: line 1: missing column(s) {', '.join(missing)}")
    header = Header837(control_number="CSV", version="CSV", kind="professional", originator_reference=name[:30],
                       created=None, submitter_name="", submitter_id="", receiver_name="", receiver_id="")  # fmt: skip
    group: list[tuple[int, dict[str, str]]] = []
    current = None
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "") for k, v in raw.items()}
        claim_id = row.get("claim_id", "").strip()
        if current is not None and claim_id != current:
            yield _one(group, header)
            group = []
        current = claim_id
        group.append((number, row))
    if group:
        yield _one(group, header)


def _one(rows: list[tuple[int, dict[str, str]]], header: Header837) -> Claim837 | ClaimProblem:
    claim_id = rows[0][1].get("claim_id", "").strip()
    try:
        for line_no, row in rows:
            for column in REQUIRED:
                if column not in ("service_from", "units", "charge") and not (row.get(column) or "").strip():
                    raise _Bad(line_no, column, f"{column} is empty")
        return _claim(rows, header)
    except _Bad as bad:
        return ClaimProblem(bad.line, bad.column, None, bad.message, claim_id)
