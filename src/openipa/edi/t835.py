"""835 Health Care Claim Payment/Advice (005010X221A1): the payment and its provider-level adjustments.

Some plans pay capitation through an 835 with no claims at all: the capitation is a provider level
adjustment (PLB) with reason code CT. In an 835 a PLB amount is *subtracted* from the payment, so
capitation paid to the provider appears negative::

    BPR*I*12500*C*ACH*CCP*01*011000015*DA*123456*1512345678**01*021000021*DA*98765*20240105~
    TRN*1*CAP202401*1512345678~
    ...
    PLB*1234567893*20241231*CT:202401*-12500~          12,500.00 of January capitation paid

:func:`read_835_payments` yields one :class:`Payment835` per transaction set. An 835 may be large because
of its claims, so it is streamed and the claims are not kept: they are counted and their CLP04 (claim
payment amount) summed. :func:`balance_problem` checks the 835 balancing rule, BPR02 = sum(CLP04) -
sum(PLB amounts). :func:`write_835_capitation` writes an 835 with no claims and PLB segments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from openipa.core.money import format_money
from openipa.edi.amounts import element_cents, format_cents
from openipa.edi.nacha import reassociation_addenda
from openipa.edi.t820 import EftAccounts, bpr_elements, d8, open_target
from openipa.edi.x12.dates import element_date, parse_d8
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.envelope import EnvelopeReader
from openipa.edi.x12.reader import CHUNK_SIZE, Segment, Source
from openipa.edi.x12.writer import X12Writer

VERSION = "005010X221A1"

PLB_REASONS: dict[str, str] = {
    "50": "late charge",
    "51": "interest penalty charge",
    "72": "authorized return",
    "90": "early payment allowance",
    "AH": "origination fee",
    "AM": "applied to borrower's account",
    "AP": "acceleration of benefits",
    "B2": "rebate",
    "B3": "recovery allowance",
    "BD": "bad debt adjustment",
    "BN": "bonus",
    "C5": "temporary allowance",
    "CR": "capitation interest",
    "CS": "adjustment",
    "CT": "capitation payment",
    "CV": "capital passthru",
    "CW": "certified registered nurse anesthetist passthru",
    "DM": "direct medical education passthru",
    "E3": "withholding",
    "FB": "forwarding balance",
    "FC": "fund allocation",
    "GO": "graduate medical education passthru",
    "HM": "hemophilia clotting factor supplement",
    "IP": "incentive premium payment",
    "IR": "internal revenue service withholding",
    "IS": "interim settlement",
    "J1": "nonreimbursable",
    "L3": "penalty",
    "L6": "interest owed",
    "LE": "levy",
    "LS": "lump sum",
    "OA": "organ acquisition passthru",
    "OB": "offset for affiliated providers",
    "PI": "periodic interim payment",
    "PL": "payment final",
    "RA": "retro-activity adjustment",
    "RE": "return on equity",
    "SL": "student loan repayment",
    "TL": "third party liability",
    "WO": "overpayment recovery",
    "WU": "unspecified recovery",
}
"""PLB03-1 provider adjustment reason codes of 005010X221A1 (an unlisted code is kept as read)."""

CAPITATION = "CT"
CAPITATION_INTEREST = "CR"

HANDLING_CODES = frozenset({"C", "D", "H", "I", "P", "U", "X"})
"""BPR01 in 005010X221A1 (H: notification only, no payment)."""
PAYMENT_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})
"""BPR04 in 005010X221A1."""
PAYEE_ID_QUALIFIERS = frozenset({"FI", "XV", "XX"})
"""N103 of N1*PE: FI tax id, XV CMS plan id, XX NPI."""

PAIRS_PER_PLB = 6
"""A PLB holds at most six adjustments (PLB03/04 to PLB13/14)."""


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One adjustment of a PLB: PLB01, PLB02 and one identifier/amount pair."""

    provider_id: str
    """PLB01: the provider's id (usually the NPI, or the TIN)."""
    fiscal_period_end: dt.date
    """PLB02: the last day of the provider's fiscal period (often 12/31 of the year)."""
    reason_code: str
    """The first component of the adjustment identifier (see :data:`PLB_REASONS`: CT capitation...)."""
    reference: str
    """The second component (e.g. the capitation month or a claim number), or ""."""
    amount_cents: int
    """As in the file: subtracted from the payment, so money paid to the provider is negative."""
    segment_number: int = field(default=0, compare=False)
    """The PLB segment."""
    pair: int = field(default=1, compare=False)
    """Which pair of the PLB (1 for PLB03/04 ... 6 for PLB13/14)."""

    @property
    def reason(self) -> str:
        return PLB_REASONS.get(self.reason_code, "")


@dataclass(frozen=True, slots=True)
class Payment835:
    """One 835 transaction set: the payment, its parties, the claims' count and total, the PLB adjustments."""

    control_number: str
    """ST02."""
    total_cents: int
    """BPR02: the total actual provider payment (not negative; BPR03 says credit or debit)."""
    credit_debit: str
    """BPR03: C credit, D debit."""
    payment_method: str
    """BPR04: ACH, CHK, NON..."""
    payment_date: dt.date | None
    """BPR16: check issue or EFT effective date."""
    trace_number: str
    """TRN02: the check or EFT trace number."""
    originator_id: str
    """TRN03: the payer's id (``1`` + EIN)."""
    payer_name: str
    """N1*PR N102."""
    payer_id: str
    """REF*2U in loop 1000A, else N1*PR N104, else ""."""
    payee_name: str
    """N1*PE N102."""
    payee_id_qualifier: str
    """N1*PE N103: XX NPI, FI tax id, XV plan id."""
    payee_id: str
    """N1*PE N104."""
    payee_tin: str
    """REF*TJ in loop 1000B, or ""."""
    production_date: dt.date | None
    """DTM*405."""
    claim_count: int
    """CLP segments."""
    claim_paid_cents: int
    """The sum of CLP04."""
    adjustments: tuple[ProviderAdjustment, ...]
    segment_number: int = field(compare=False)
    """The ST segment."""
    handling_code: str = "I"
    """BPR01."""
    version: str = VERSION
    """ST03, else GS08."""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """What was read leniently: a BPR16 that is not a date (payment_date is then None)."""

    @property
    def adjustment_cents(self) -> int:
        return sum(a.amount_cents for a in self.adjustments)

    @property
    def signed_total_cents(self) -> int:
        """BPR02 with its sign: negative when BPR03 is D (the provider owes the payer)."""
        return -self.total_cents if self.credit_debit == "D" else self.total_cents


def balance_problem(payment: Payment835) -> str | None:
    """The 835 balancing rule, BPR02 = sum(CLP04) - sum(PLB amounts) (BPR02 negative for a debit), as a
    message when it does not hold; None when it does."""
    expected = payment.claim_paid_cents - payment.adjustment_cents
    if payment.signed_total_cents == expected:
        return None
    return (
        f"835 {payment.control_number} (trace {payment.trace_number}): BPR02 {format_money(payment.signed_total_cents)}"
        f" is not the claims paid {format_money(payment.claim_paid_cents)} ({payment.claim_count} CLP04) minus the"
        f" provider adjustments {format_money(payment.adjustment_cents)} = {format_money(expected)}"
    )


# -- reading ----------------------------------------------------------------------------------------


def read_835_payments(
    source: Source,
    *,
    filename: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    envelope: EnvelopeReader | None = None,
) -> Iterator[Payment835]:
    """One :class:`Payment835` per 835 transaction set, streamed (claim detail is counted, not kept).

    Other transaction sets are skipped. Raises :class:`X12Error` at the segment and element at fault for: a
    header whose first segment is not BPR, no TRN or an empty TRN02, an amount that is not exact cents
    (BPR02, CLP04, PLB amounts), a date that is not a real CCYYMMDD (DTM*405, PLB02), a PLB without PLB01,
    an adjustment identifier without its amount or the other way round, more than six pairs in a PLB. A
    BPR16 that is not a date is the one lenient element: payment_date is None and the reason is in
    ``warnings`` (the public sample lfh_managed-care.835 carries 20002316 there).
    """
    reader = envelope or EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    return _map_835(reader)


@dataclass(slots=True)
class _Payment:
    st: Segment
    control_number: str
    version: str
    component: str
    bpr: Segment | None = None
    total_cents: int = 0
    payment_date: dt.date | None = None
    trn: Segment | None = None
    production_date: dt.date | None = None
    loop: str = "header"
    payer: Segment | None = None
    payer_ref: str = ""
    payee: Segment | None = None
    payee_tin: str = ""
    claim_count: int = 0
    claim_paid_cents: int = 0
    adjustments: list[ProviderAdjustment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def segment(self, seg: Segment, filename: str | None) -> None:
        sid = seg.id
        if self.bpr is None:
            if sid != "BPR":
                raise seg.error(f"the 835 header must start with BPR, found {sid}", None, filename)
            self.bpr = seg
            self.total_cents = element_cents(seg, 2, filename)
            self._payment_date(seg, filename)
        elif sid == "BPR":
            raise seg.error("second BPR in the 835", None, filename)
        elif sid == "CLP":
            self.loop = "detail"
            self.claim_count += 1
            self.claim_paid_cents += element_cents(seg, 4, filename)
        elif sid == "PLB":
            self.loop = "footer"
            self.adjustments.extend(_plb(seg, self.component, filename))
        elif sid == "LX":
            self.loop = "detail"
        elif self.loop == "detail":
            return
        elif sid in ("TRN", "N1") and self.loop == "footer":
            raise seg.error(f"{sid} after the PLB segments: header segments come first", None, filename)
        elif sid == "TRN":
            if self.trn is not None:
                raise seg.error("second TRN in the 835 header", None, filename)
            if not seg.get(2):
                raise seg.error("TRN02 (check or EFT trace number) is missing", 2, filename)
            self.trn = seg
        elif sid == "DTM" and seg.get(1) == "405" and self.loop == "header":
            self.production_date = element_date(seg, 2, filename)
        elif sid == "N1":
            qualifier = seg.get(1)
            self.loop = qualifier
            if qualifier == "PR":
                self.payer = seg
            elif qualifier == "PE":
                self.payee = seg
        elif sid == "REF":
            if self.loop == "PR" and seg.get(1) == "2U":
                self.payer_ref = seg.get(2)
            elif self.loop == "PE" and seg.get(1) == "TJ":
                self.payee_tin = seg.get(2)

    def _payment_date(self, bpr: Segment, filename: str | None) -> None:
        text = bpr.get(16)
        if not text:
            return
        self.payment_date = parse_d8(text)
        if self.payment_date is None:
            error = bpr.error(f"{text!r} is not a CCYYMMDD date: payment date left empty", 16, filename)
            self.warnings.append(str(error))

    def build(self, se: Segment, filename: str | None) -> Payment835:
        bpr, trn = self.bpr, self.trn
        if bpr is None:
            raise se.error("no BPR segment in the 835", None, filename)
        if trn is None:
            raise se.error("no TRN (reassociation trace number) in the 835 header", None, filename)
        payer = self.payer.elements if self.payer is not None else []
        payee = self.payee.elements if self.payee is not None else []
        return Payment835(
            control_number=self.control_number,
            total_cents=self.total_cents,
            credit_debit=bpr.get(3),
            payment_method=bpr.get(4),
            payment_date=self.payment_date,
            trace_number=trn.get(2),
            originator_id=trn.get(3),
            payer_name=_at(payer, 2),
            payer_id=self.payer_ref or _at(payer, 4),
            payee_name=_at(payee, 2),
            payee_id_qualifier=_at(payee, 3),
            payee_id=_at(payee, 4),
            payee_tin=self.payee_tin,
            production_date=self.production_date,
            claim_count=self.claim_count,
            claim_paid_cents=self.claim_paid_cents,
            adjustments=tuple(self.adjustments),
            segment_number=self.st.number,
            handling_code=bpr.get(1),
            version=self.version,
            warnings=tuple(self.warnings),
        )


def _at(elements: list[str], position: int) -> str:
    return elements[position] if position < len(elements) else ""


def _plb(seg: Segment, component: str, filename: str | None) -> Iterator[ProviderAdjustment]:
    provider = seg.get(1)
    if not provider:
        raise seg.error("PLB01 (provider identifier) is missing", 1, filename)
    period_end = element_date(seg, 2, filename)
    if len(seg.elements) > 3 + 2 * PAIRS_PER_PLB:
        raise seg.error(f"a PLB holds at most {PAIRS_PER_PLB} adjustments (PLB03 to PLB14)",
                        3 + 2 * PAIRS_PER_PLB, filename)  # fmt: skip
    found = 0
    for pair in range(1, PAIRS_PER_PLB + 1):
        position = 1 + 2 * pair
        identifier, amount = seg.get(position), seg.get(position + 1)
        if not identifier and not amount:
            continue
        if not identifier:
            raise seg.error(
                f"PLB{position + 1:02d} amount without its adjustment identifier", position, filename
            )
        if not amount:
            raise seg.error(
                f"PLB{position:02d} adjustment identifier without its amount", position + 1, filename
            )
        reason, _, reference = identifier.partition(component)
        if not reason:
            raise seg.error(f"PLB{position:02d} has no adjustment reason code", position, filename)
        found += 1
        yield ProviderAdjustment(
            provider_id=provider,
            fiscal_period_end=period_end,
            reason_code=reason,
            reference=reference.split(component, 1)[0],
            amount_cents=element_cents(seg, position + 1, filename),
            segment_number=seg.number,
            pair=pair,
        )
    if not found:
        raise seg.error("PLB without an adjustment (PLB03 and PLB04)", 3, filename)


def _map_835(reader: EnvelopeReader) -> Iterator[Payment835]:
    payment: _Payment | None = None
    for th, seg in reader.segments():
        if th.set_id != "835":
            continue
        sid = seg.id
        if sid == "ST":
            component = th.group.interchange.delimiters.component
            payment = _Payment(seg, th.control_number, th.version, component)
        elif payment is None:
            continue
        elif sid == "SE":
            yield payment.build(seg, reader.filename)
            payment = None
        else:
            payment.segment(seg, reader.filename)


# -- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    """N3/N4: one or two street lines, city, state, ZIP."""

    lines: tuple[str, ...]
    city: str
    state: str = ""
    zip: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """PER*BL, the payer's technical contact (required by 005010X221A1): a name and a phone, email or web
    address (at least one of the four). No value may hold a delimiter: a URL with ``https:`` needs a
    component separator other than ``:``."""

    name: str = ""
    phone: str = ""
    email: str = ""
    url: str = ""


def write_835_capitation(
    target: BinaryIO | str | os.PathLike[str],
    header: Payment835,
    adjustments: Sequence[ProviderAdjustment],
    *,
    sender_id: str,
    receiver_id: str,
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None = None,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None = None,
    usage: str = "P",
    eft: EftAccounts | None = None,
) -> int:
    """Write an 835 with no claims whose payment is ``adjustments`` (PLB), and return the PLBs written.

    ``header`` gives the payment and its parties (its ``adjustments``, ``segment_number`` and
    ``warnings`` are not used); it must have no claims, and its signed total must balance: BPR02 = -sum
    of the amounts (capitation paid is a negative PLB amount). Adjustments in a row for the same provider
    and fiscal period share a PLB, six at most. Written in 005010X221A1 order: BPR (BPR10 and TRN03 are
    ``header.originator_id``; an ACH, BOP or FWT payment needs ``eft``), TRN*1, DTM*405, N1*PR, N3, N4,
    REF*2U (``payer_id``), PER*BL, N1*PE, N3, N4 (``payee_address``), REF*TJ (``payee_tin``), PLB...
    :func:`read_835_payments` reads the file back to an equal :class:`Payment835`.

    ValueError for: claims in ``header``, a total that does not balance, codes outside the guide (BPR01,
    BPR03, BPR04, N1*PE N103, PLB reason), no trace number, originator id, payment date, payer or payee
    name or payee id, an address without a line or city, more than two address lines, a contact with
    nothing to reach, an element holding a delimiter.
    """
    _check(header, adjustments, payer_address, payer_contact, payee_address)
    payment_date = header.payment_date
    assert payment_date is not None  # checked above
    if when is None:
        when = dt.datetime.combine(header.production_date or payment_date, dt.time())
    version = header.version or VERSION
    with contextlib.ExitStack() as stack:
        w = X12Writer(open_target(stack, target), delimiters, newline=newline)
        w.start_interchange(sender_qualifier, sender_id, receiver_qualifier, receiver_id,
                            control_number=control_number, when=when, usage=usage)  # fmt: skip
        w.start_group("HP", sender_id, receiver_id, control_number=control_number, version=version, when=when)
        w.start_transaction("835", header.control_number)  # ST03 is not used in 005010X221A1: GS08 says it
        _write_header(w, header, payer_address, payer_contact, payee_address, eft)
        count = _write_plbs(w, adjustments)
        w.end_transaction()
        w.end_group()
        w.end_interchange()
    return count


def _write_header(
    w: X12Writer,
    header: Payment835,
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None,
    eft: EftAccounts | None,
) -> None:
    """BPR, TRN*1, DTM*405, loop 1000A (N1*PR, N3, N4, REF*2U, PER*BL), loop 1000B (N1*PE, N3, N4, REF*TJ)."""
    payment_date = header.payment_date
    assert payment_date is not None  # checked by the caller
    w.segment("BPR", *bpr_elements(header.handling_code, header.total_cents, header.credit_debit,
                                   header.payment_method, header.originator_id, payment_date, eft))  # fmt: skip
    w.segment("TRN", "1", header.trace_number, header.originator_id)
    if header.production_date is not None:
        w.segment("DTM", "405", d8(header.production_date))
    w.segment("N1", "PR", header.payer_name)
    _address(w, payer_address)
    if header.payer_id:
        w.segment("REF", "2U", header.payer_id)
    c = payer_contact
    numbers = [(q, v) for q, v in (("TE", c.phone), ("EM", c.email), ("UR", c.url)) if v]
    w.segment("PER", "BL", c.name, *(x for pair in numbers for x in pair))
    w.segment("N1", "PE", header.payee_name, header.payee_id_qualifier, header.payee_id)
    if payee_address is not None:
        _address(w, payee_address)
    if header.payee_tin:
        w.segment("REF", "TJ", header.payee_tin)


def _write_plbs(w: X12Writer, adjustments: Sequence[ProviderAdjustment]) -> int:
    count = 0
    for group in _plb_groups(adjustments):
        first = group[0]
        pairs: list[str | list[str]] = []
        for a in group:
            pairs.append([a.reason_code, a.reference] if a.reference else a.reason_code)
            pairs.append(format_cents(a.amount_cents))
        w.segment("PLB", first.provider_id, d8(first.fiscal_period_end), *pairs)
        count += 1
    return count


def _plb_groups(adjustments: Sequence[ProviderAdjustment]) -> Iterator[list[ProviderAdjustment]]:
    group: list[ProviderAdjustment] = []
    for a in adjustments:
        if group and (
            len(group) == PAIRS_PER_PLB
            or (a.provider_id, a.fiscal_period_end) != (group[0].provider_id, group[0].fiscal_period_end)
        ):
            yield group
            group = []
        group.append(a)
    if group:
        yield group


def _address(w: X12Writer, address: Address) -> None:
    w.segment("N3", *address.lines)
    w.segment("N4", address.city, address.state, address.zip)


def _check(
    h: Payment835,
    adjustments: Sequence[ProviderAdjustment],
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None,
) -> None:
    if h.claim_count or h.claim_paid_cents:
        raise ValueError("a capitation 835 has no claims (claim_count and claim_paid_cents must be 0)")
    _check_header(h, payer_address, payer_contact, payee_address)
    _check_adjustments(adjustments)
    balanced = -sum(a.amount_cents for a in adjustments)
    if h.signed_total_cents != balanced:
        raise ValueError(
            f"BPR02 {format_money(h.signed_total_cents)} does not balance: with no claims it must be minus "
            f"the sum of the provider adjustments, {format_money(balanced)}"
        )


def _check_header(
    h: Payment835, payer_address: Address, payer_contact: Contact, payee_address: Address | None
) -> None:
    for value, allowed, what in (
        (h.handling_code, HANDLING_CODES, "BPR01 handling code"),
        (h.credit_debit, frozenset({"C", "D"}), "BPR03 credit/debit flag"),
        (h.payment_method, PAYMENT_METHODS, "BPR04 payment method"),
        (h.payee_id_qualifier, PAYEE_ID_QUALIFIERS, "N1*PE N103"),
    ):
        if value not in allowed:
            raise ValueError(f"{what} {value!r} is not one of {', '.join(sorted(allowed))}")
    if h.total_cents < 0:
        raise ValueError("BPR02 cannot be negative: a payment owed by the provider is a debit (BPR03 D)")
    for value, what in (
        (h.trace_number, "trace number (TRN02)"),
        (h.originator_id, "originator id (TRN03)"),
        (h.payer_name, "payer name (N1*PR)"),
        (h.payee_name, "payee name (N1*PE)"),
        (h.payee_id, "payee id (N1*PE N104)"),
    ):
        if not value:
            raise ValueError(f"no {what}")
    if h.payment_date is None:
        raise ValueError("no payment date (BPR16 is required)")
    for address in (payer_address, payee_address):
        if address is not None and (
            not 1 <= len(address.lines) <= 2 or not all(address.lines) or not address.city
        ):
            raise ValueError(f"address {address!r} needs one or two street lines and a city")
    c = payer_contact
    if not (c.name or c.phone or c.email or c.url):
        raise ValueError("the payer's technical contact (PER*BL) needs a name, phone, email or web address")


def _check_adjustments(adjustments: Sequence[ProviderAdjustment]) -> None:
    for index, a in enumerate(adjustments, 1):
        if a.reason_code not in PLB_REASONS:
            raise ValueError(f"adjustment {index}: reason code {a.reason_code!r} is not a PLB03-1 code")
        if not a.provider_id:
            raise ValueError(f"adjustment {index}: no provider id (PLB01)")


# -- claim payments ---------------------------------------------------------------------------------

CLAIM_STATUSES: dict[str, str] = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}
"""CLP02 in 005010X221A1."""
REVERSAL = "22"
DENIED = "4"
CLAIM_FILING_INDICATORS = frozenset(
    {
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "AM",
        "CH",
        "DS",
        "HM",
        "LM",
        "MA",
        "MB",
        "MC",
        "OF",
        "TV",
        "VA",
        "WC",
        "ZZ",
    }
)
"""CLP06 in 005010X221A1 (HM: health maintenance organization)."""
ADJUSTMENT_GROUPS: dict[str, str] = {
    "CO": "contractual obligation",
    "OA": "other adjustment",
    "PI": "payer initiated reduction",
    "PR": "patient responsibility",
}
"""CAS01 claim adjustment group codes."""
SERVICE_QUALIFIERS = frozenset({"AD", "ER", "HC", "HP", "IV", "N4", "N6", "NU", "UI", "WK"})
"""SVC01-1 (HC: HCPCS/CPT)."""
PATIENT_ID_QUALIFIERS = frozenset({"34", "HN", "II", "MI", "MR"})
"""NM108 of NM1*QC (MI: member id)."""
TRIPLETS_PER_CAS = 6
"""A CAS holds at most six reason/amount/quantity triplets (CAS02-04 to CAS17-19)."""
SERVICE_MODIFIERS = 4
"""SVC01-3 to SVC01-6."""


# ClaimAdjustment, ServicePayment835 and ClaimPayment835 are not frozen: a run's 835s make a million of them,
# and a frozen dataclass costs several times as much to make. Treat them as values all the same.
@dataclass(slots=True)
class ClaimAdjustment:
    """One CAS triplet: a group (CO, PR, OA, PI), a CARC reason code and its amount.

    A positive amount reduces the payment (CO-45: charge above the allowed amount; PR-1 deductible,
    PR-2 coinsurance, PR-3 copay; CO-97 bundled); a negative one increases it.
    """

    group: str
    reason_code: str
    amount_cents: int


@dataclass(slots=True)
class ServicePayment835:
    """Loop 2110: one service line (SVC) with its date, adjustments, control number, allowed amount, remarks."""

    procedure_code: str
    """SVC01-2 (a CPT/HCPCS code with the default qualifier HC)."""
    charge_cents: int
    """SVC02."""
    paid_cents: int
    """SVC03."""
    modifiers: tuple[str, ...] = ()
    """SVC01-3 to SVC01-6."""
    units: int | None = None
    """SVC05, units of service paid (None: not written, meaning one)."""
    service_date: dt.date | None = None
    """DTM*472."""
    adjustments: tuple[ClaimAdjustment, ...] = ()
    """The line's CAS, grouped by group code when written."""
    line_control_number: str = ""
    """REF*6R: the line item control number the provider sent on the 837 (REF*6R of loop 2400)."""
    allowed_cents: int | None = None
    """AMT*B6."""
    remark_codes: tuple[str, ...] = ()
    """LQ*HE: RARC remark codes (N130, M15...)."""
    qualifier: str = "HC"
    """SVC01-1."""

    @property
    def adjustment_cents(self) -> int:
        return sum(a.amount_cents for a in self.adjustments)


@dataclass(slots=True)
class ClaimPayment835:
    """Loop 2100: one claim (CLP), its claim-level adjustments, patient, rendering provider, dates, lines."""

    patient_control_number: str
    """CLP01: the provider's claim id (CLM01 of the 837)."""
    status: str
    """CLP02 (see :data:`CLAIM_STATUSES`: 1 primary, 4 denied, 22 reversal)."""
    charge_cents: int
    """CLP03 (negative in a reversal)."""
    paid_cents: int
    """CLP04."""
    payer_claim_number: str
    """CLP07: the payer's (the IPA's) claim control number."""
    patient_last_name: str
    """NM1*QC NM103."""
    patient_first_name: str = ""
    patient_id: str = ""
    """NM1*QC NM109 (qualifier ``patient_id_qualifier``, MI member id by default)."""
    patient_responsibility_cents: int = 0
    """CLP05: must equal the claim's PR adjustments (0 is not written)."""
    filing_indicator: str = "HM"
    """CLP06."""
    facility_code: str = ""
    """CLP08: place of service (11 office) for professional claims."""
    frequency_code: str = ""
    """CLP09: 1 original, 7 replacement, 8 void."""
    adjustments: tuple[ClaimAdjustment, ...] = ()
    """Claim-level CAS (e.g. a denial of the whole claim with no lines)."""
    rendering_npi: str = ""
    """NM1*82 NM109 (XX), written when it differs from the payee's id."""
    rendering_last_name: str = ""
    rendering_first_name: str = ""
    """Empty for an organization (NM102 2)."""
    statement_from: dt.date | None = None
    """DTM*232."""
    statement_to: dt.date | None = None
    """DTM*233."""
    received: dt.date | None = None
    """DTM*050."""
    services: tuple[ServicePayment835, ...] = ()
    patient_id_qualifier: str = "MI"

    @property
    def adjustment_cents(self) -> int:
        """Every CAS amount of the claim, claim level and line level."""
        return sum(a.amount_cents for a in self.adjustments) + sum(s.adjustment_cents for s in self.services)

    def balance_problems(self) -> list[str]:
        """The 835 balancing rules of one claim, as messages naming the claim and line; [] when it balances."""
        name = f"claim {self.patient_control_number!r} (CLP07 {self.payer_claim_number!r})"
        found: list[str] = []
        for number, s in enumerate(self.services, 1):
            if s.charge_cents - s.adjustment_cents != s.paid_cents:
                found.append(
                    f"{name} line {number} (SVC {s.procedure_code}): charge SVC02 {format_money(s.charge_cents)}"
                    f" minus its adjustments {format_money(s.adjustment_cents)} is"
                    f" {format_money(s.charge_cents - s.adjustment_cents)}, not the paid SVC03"
                    f" {format_money(s.paid_cents)}"
                )
        if self.charge_cents - self.adjustment_cents != self.paid_cents:
            found.append(
                f"{name}: charge CLP03 {format_money(self.charge_cents)} minus all its adjustments"
                f" {format_money(self.adjustment_cents)} is {format_money(self.charge_cents - self.adjustment_cents)},"
                f" not the paid CLP04 {format_money(self.paid_cents)}"
            )
        if self.services:
            lines = sum(s.paid_cents for s in self.services)
            if lines != self.paid_cents:
                found.append(
                    f"{name}: paid CLP04 {format_money(self.paid_cents)} is not the sum of the lines' SVC03"
                    f" {format_money(lines)}"
                )
        responsibility = sum(a.amount_cents for a in self.adjustments if a.group == "PR") + sum(
            a.amount_cents for s in self.services for a in s.adjustments if a.group == "PR"
        )
        if responsibility != self.patient_responsibility_cents:
            found.append(
                f"{name}: patient responsibility CLP05 {format_money(self.patient_responsibility_cents)} is not"
                f" the sum of its PR adjustments {format_money(responsibility)}"
            )
        return found


def reversal_of(claim: ClaimPayment835) -> ClaimPayment835:
    """The CLP02 22 claim that takes back ``claim``'s payment: every amount negated (charge, paid, patient
    responsibility, each adjustment, each line's charge, paid and allowed), everything else kept."""

    def negate(adjustments: tuple[ClaimAdjustment, ...]) -> tuple[ClaimAdjustment, ...]:
        return tuple(ClaimAdjustment(a.group, a.reason_code, -a.amount_cents) for a in adjustments)

    services = tuple(
        ServicePayment835(
            procedure_code=s.procedure_code,
            charge_cents=-s.charge_cents,
            paid_cents=-s.paid_cents,
            modifiers=s.modifiers,
            units=s.units,
            service_date=s.service_date,
            adjustments=negate(s.adjustments),
            line_control_number=s.line_control_number,
            allowed_cents=None if s.allowed_cents is None else -s.allowed_cents,
            remark_codes=s.remark_codes,
            qualifier=s.qualifier,
        )
        for s in claim.services
    )
    return dataclasses.replace(
        claim,
        status=REVERSAL,
        charge_cents=-claim.charge_cents,
        paid_cents=-claim.paid_cents,
        patient_responsibility_cents=-claim.patient_responsibility_cents,
        adjustments=negate(claim.adjustments),
        services=services,
    )


def interest(
    provider_id: str, fiscal_period_end: dt.date, cents: int, reference: str = ""
) -> ProviderAdjustment:
    """PLB L6: ``cents`` of interest paid to the provider (late claims), written as a negative PLB amount
    because a PLB amount is subtracted from the payment."""
    return ProviderAdjustment(provider_id, fiscal_period_end, "L6", reference, -cents)


def overpayment_recovery(
    provider_id: str, fiscal_period_end: dt.date, cents: int, reference: str = ""
) -> ProviderAdjustment:
    """PLB WO: ``cents`` taken back from this payment for an earlier overpayment (a positive PLB amount);
    ``reference`` is usually the payer claim number of the overpaid claim."""
    return ProviderAdjustment(provider_id, fiscal_period_end, "WO", reference, cents)


@dataclass(frozen=True, slots=True)
class ClaimsText:
    """Claims already made as 835 text, for :func:`write_835_claims_text`: the loop 2100/2110 segments of every
    claim with their LX, each segment ended by the default segment terminator (``~``), in the default
    delimiters, checked and balanced by whoever made them."""

    text: str
    segments: int
    """Segments in ``text``."""
    claims: int
    """CLP segments."""
    services: int
    """SVC segments."""
    paid_cents: int
    """The sum of CLP04."""


def claims_payment(
    header: Payment835,
    claims: Sequence[ClaimPayment835] | ClaimsText,
    adjustments: Sequence[ProviderAdjustment] = (),
) -> Payment835:
    """``header`` with its totals made from ``claims`` (records, or :class:`ClaimsText`) and ``adjustments``:
    claim_count, claim_paid_cents, the PLB ``adjustments``, BPR02 = sum(CLP04) - sum(PLB) with BPR03 D when
    that is negative, and a zero payment made a notification with no payment (BPR01 H, BPR04 NON)."""
    if isinstance(claims, ClaimsText):
        paid, count = claims.paid_cents, claims.claims
    else:
        paid, count = sum(c.paid_cents for c in claims), len(claims)
    total = paid - sum(a.amount_cents for a in adjustments)
    changes: dict[str, object] = {}
    if total == 0:
        changes = {"handling_code": "H", "payment_method": "NON"}
    return dataclasses.replace(
        header,
        claim_count=count,
        claim_paid_cents=paid,
        adjustments=tuple(adjustments),
        total_cents=abs(total),
        credit_debit="D" if total < 0 else "C",
        **changes,  # type: ignore[arg-type]
    )


@dataclass(frozen=True, slots=True)
class Remittance835:
    """One 835 read back in full: the payment (as :func:`read_835_payments` gives it) and its claims."""

    payment: Payment835
    claims: tuple[ClaimPayment835, ...]


@dataclass(frozen=True, slots=True)
class Written835:
    """What :func:`write_835_claims` wrote."""

    claims: int
    """CLP segments."""
    services: int
    """SVC segments."""
    plbs: int
    """PLB segments."""
    segments: int
    """SE01: the transaction set's segments, ST and SE included."""
    addenda: str
    """The NACHA CCD+ addenda text for this payment's EFT (``TRN*1*<trace>*<originator>\\``), "" unless ACH."""


def check_claims(payment: Payment835, claims: Sequence[ClaimPayment835]) -> None:
    """ValueError naming the claim, line and element when ``claims`` or ``payment`` cannot be written as an
    835 that balances (see :func:`write_835_claims`)."""
    for number, claim in enumerate(claims, 1):
        _check_claim(number, claim)
        problems = claim.balance_problems()
        if problems:
            raise ValueError("; ".join(problems))
    paid = sum(c.paid_cents for c in claims)
    if (payment.claim_count, payment.claim_paid_cents) != (len(claims), paid):
        raise ValueError(
            f"the payment says {payment.claim_count} claims paying {format_money(payment.claim_paid_cents)},"
            f" the claims are {len(claims)} paying {format_money(paid)} (claims_payment() fills these in)"
        )
    problem = balance_problem(payment)
    if problem is not None:
        raise ValueError(problem)
    if payment.total_cents == 0 and payment.payment_method != "NON":
        raise ValueError(f"BPR02 is 0: BPR04 must be NON (no payment), not {payment.payment_method}")


def _check_claim(number: int, c: ClaimPayment835) -> None:
    name = f"claim {number} ({c.patient_control_number!r})"
    for value, what in (
        (c.patient_control_number, "patient control number (CLP01)"),
        (c.payer_claim_number, "payer claim control number (CLP07)"),
        (c.patient_last_name, "patient last name (NM1*QC NM103)"),
    ):
        if not value:
            raise ValueError(f"{name}: no {what}")
    for value, allowed, what in (
        (c.status, frozenset(CLAIM_STATUSES), "CLP02 claim status"),
        (c.filing_indicator, CLAIM_FILING_INDICATORS, "CLP06 claim filing indicator"),
        (c.patient_id_qualifier, PATIENT_ID_QUALIFIERS, "NM1*QC NM108"),
    ):
        if value not in allowed:
            raise ValueError(f"{name}: {what} {value!r} is not one of {', '.join(sorted(allowed))}")
    if c.status == REVERSAL and (c.charge_cents > 0 or c.paid_cents > 0):
        raise ValueError(
            f"{name}: a reversal (CLP02 22) has negated amounts, CLP03 and CLP04 cannot be positive"
        )
    if c.status != REVERSAL and c.charge_cents < 0:
        raise ValueError(f"{name}: CLP03 is negative but CLP02 is {c.status}, not 22 (reversal)")
    if c.status == DENIED and c.paid_cents != 0:
        raise ValueError(f"{name}: a denied claim (CLP02 4) pays 0, not CLP04 {format_money(c.paid_cents)}")
    if c.statement_to is not None and c.statement_from is not None and c.statement_to < c.statement_from:
        raise ValueError(
            f"{name}: statement to date DTM*233 {c.statement_to} is before DTM*232 {c.statement_from}"
        )
    _check_cas(name, c.adjustments)
    for line, s in enumerate(c.services, 1):
        where = f"{name} line {line} ({s.procedure_code!r})"
        if not s.procedure_code:
            raise ValueError(f"{name} line {line}: no procedure code (SVC01-2)")
        if s.qualifier not in SERVICE_QUALIFIERS:
            raise ValueError(
                f"{where}: SVC01-1 {s.qualifier!r} is not one of {', '.join(sorted(SERVICE_QUALIFIERS))}"
            )
        if len(s.modifiers) > SERVICE_MODIFIERS or not all(s.modifiers):
            raise ValueError(f"{where}: SVC01 holds one to four non-empty modifiers, not {s.modifiers!r}")
        if s.units is not None and s.units == 0:
            raise ValueError(f"{where}: SVC05 units of service cannot be 0 (None leaves it out)")
        if not all(s.remark_codes):
            raise ValueError(f"{where}: empty remark code (LQ02)")
        _check_cas(where, s.adjustments)


def _check_cas(where: str, adjustments: tuple[ClaimAdjustment, ...]) -> None:
    for a in adjustments:
        if a.group not in ADJUSTMENT_GROUPS:
            raise ValueError(f"{where}: CAS01 group {a.group!r} is not one of {', '.join(ADJUSTMENT_GROUPS)}")
        if not a.reason_code or not a.reason_code.isalnum() or len(a.reason_code) > 5:
            raise ValueError(
                f"{where}: CAS reason code {a.reason_code!r} is not a CARC (1-5 letters or digits)"
            )


def write_835_claims(
    target: BinaryIO | str | os.PathLike[str],
    payment: Payment835,
    claims: Sequence[ClaimPayment835],
    *,
    sender_id: str,
    receiver_id: str,
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None = None,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    control_number: int = 1,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None = None,
    usage: str = "P",
    eft: EftAccounts | None = None,
) -> Written835:
    """Write an 835 paying ``claims`` to one payee, with ``payment.adjustments`` as PLB segments.

    ``payment`` is the payment and its parties as :func:`read_835_payments` reads them: the IPA is the
    payer (N1*PR), the practice the payee (N1*PE, its NPI with XX and REF*TJ its TIN). Its claim_count,
    claim_paid_cents, total and credit/debit flag must agree with ``claims`` and the PLBs;
    :func:`claims_payment` fills them in. Everything is checked before a byte is written (ValueError naming
    the claim, line and element): each line balances (SVC02 - its CAS = SVC03), each claim balances
    (CLP03 - every CAS of the claim and its lines = CLP04, CLP04 = sum of SVC03 when there are lines,
    CLP05 = its PR adjustments), BPR02 = sum(CLP04) - sum(PLB), codes are the guide's (CLP02, CLP06, CAS01,
    SVC01-1, NM108), a reversal (22) has no positive amount and a denial (4) pays nothing, a zero payment
    is NON; then the header checks of :func:`write_835_capitation`.

    Written in 005010X221A1 order: the header as :func:`write_835_capitation` writes it; then one LX per
    run of claims with the same CLP08; per claim CLP, CAS (one per group, six triplets at most), NM1*QC,
    NM1*82 (when ``rendering_npi`` is not the payee's id), DTM*232/233, DTM*050; per line SVC, DTM*472,
    CAS, REF*6R, AMT*B6, LQ*HE; then PLB. :func:`read_835_claims` reads the file back to equal records.
    """
    check_claims(payment, claims)

    def write_claims(w: X12Writer) -> tuple[int, int]:
        services = lx = 0
        facility: str | None = None
        for claim in claims:
            if facility != claim.facility_code or lx == 0:
                lx += 1
                facility = claim.facility_code
                w.segment("LX", str(lx))
            services += _write_claim(w, claim, payment.payee_id)
        return len(claims), services

    return _write_835(
        target, payment, write_claims, sender_id=sender_id, receiver_id=receiver_id, payer_address=payer_address,
        payer_contact=payer_contact, payee_address=payee_address, sender_qualifier=sender_qualifier,
        receiver_qualifier=receiver_qualifier, control_number=control_number, delimiters=delimiters,
        newline=newline, when=when, usage=usage, eft=eft,
    )  # fmt: skip


def write_835_claims_text(
    target: BinaryIO | str | os.PathLike[str],
    payment: Payment835,
    claims: ClaimsText,
    *,
    sender_id: str,
    receiver_id: str,
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None = None,
    control_number: int = 1,
    when: dt.datetime | None = None,
    usage: str = "P",
    eft: EftAccounts | None = None,
) -> Written835:
    """:func:`write_835_claims` for claims made as text (a run's million lines, made in frames): the same
    envelope, header, PLBs and trailer around ``claims.text``, with the default delimiters and no newline.
    ``payment``'s claim count and paid total must be ``claims``' (ValueError otherwise), and the payment must
    balance; the header is checked as :func:`write_835_claims` checks it. The claims' own checks are the
    caller's."""
    if (payment.claim_count, payment.claim_paid_cents) != (claims.claims, claims.paid_cents):
        raise ValueError(
            f"the payment says {payment.claim_count} claims paying {format_money(payment.claim_paid_cents)},"
            f" the claims are {claims.claims} paying {format_money(claims.paid_cents)}"
        )
    problem = balance_problem(payment)
    if problem is not None:
        raise ValueError(problem)
    if payment.total_cents == 0 and payment.payment_method != "NON":
        raise ValueError(f"BPR02 is 0: BPR04 must be NON (no payment), not {payment.payment_method}")

    def write_claims(w: X12Writer) -> tuple[int, int]:
        w.block(claims.text, claims.segments)
        return claims.claims, claims.services

    return _write_835(
        target, payment, write_claims, sender_id=sender_id, receiver_id=receiver_id, payer_address=payer_address,
        payer_contact=payer_contact, payee_address=payee_address, control_number=control_number, when=when,
        usage=usage, eft=eft,
    )  # fmt: skip


def _write_835(
    target: BinaryIO | str | os.PathLike[str],
    payment: Payment835,
    write_claims: Callable[[X12Writer], tuple[int, int]],
    *,
    sender_id: str,
    receiver_id: str,
    payer_address: Address,
    payer_contact: Contact,
    payee_address: Address | None,
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    control_number: int,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    when: dt.datetime | None,
    usage: str,
    eft: EftAccounts | None,
) -> Written835:
    """The claims 835 around what ``write_claims`` writes (returning its claim and service counts): the header
    checked, the envelope, the header, the claims, the PLBs and the trailer, made in memory (a value holding a
    delimiter leaves no partial file) and then written to ``target``."""
    _check_header(payment, payer_address, payer_contact, payee_address)
    _check_adjustments(payment.adjustments)
    payment_date = payment.payment_date
    assert payment_date is not None  # checked above
    if when is None:
        when = dt.datetime.combine(payment.production_date or payment_date, dt.time())
    version = payment.version or VERSION
    buffer = io.BytesIO()
    w = X12Writer(buffer, delimiters or Delimiters(), newline=newline)
    w.start_interchange(sender_qualifier, sender_id, receiver_qualifier, receiver_id,
                        control_number=control_number, when=when, usage=usage)  # fmt: skip
    w.start_group("HP", sender_id, receiver_id, control_number=control_number, version=version, when=when)
    w.start_transaction("835", payment.control_number)
    start = w.segments_written
    _write_header(w, payment, payer_address, payer_contact, payee_address, eft)
    claim_count, services = write_claims(w)
    plbs = _write_plbs(w, payment.adjustments)
    w.end_transaction()
    segments = w.segments_written - start + 1
    w.end_group()
    w.end_interchange()
    with contextlib.ExitStack() as stack:
        open_target(stack, target).write(buffer.getvalue())
    addenda = ""
    if payment.payment_method == "ACH":
        addenda = reassociation_addenda(payment.trace_number, payment.originator_id)
    return Written835(claim_count, services, plbs, segments, addenda)


def _write_claim(w: X12Writer, c: ClaimPayment835, payee_id: str) -> int:
    """The claim's segments (loop 2100 and its 2110 lines) made as text in one go, then written as one block:
    a run's 835s hold millions of segments, and the writer's per-segment work was most of their cost. The
    text is what :func:`_write_claim_checked` writes, byte for byte; when any value of the claim holds a
    delimiter, that one writes it (and refuses it, naming the element)."""
    d = w.delimiters
    e = d.element
    texts: list[str] = [c.patient_control_number, c.status, c.filing_indicator, c.payer_claim_number,
                        c.facility_code, c.frequency_code, c.patient_last_name, c.patient_first_name,
                        c.patient_id_qualifier, c.patient_id]  # fmt: skip
    segments = [
        e.join((
            "CLP", c.patient_control_number, c.status, _cents(c.charge_cents), _cents(c.paid_cents),
            _cents(c.patient_responsibility_cents) if c.patient_responsibility_cents else "",
            c.filing_indicator, c.payer_claim_number, c.facility_code, c.frequency_code,
        )).rstrip(e)
    ]  # fmt: skip
    if c.adjustments:
        _cas_texts(e, c.adjustments, segments, texts)
    segments.append(e.join(("NM1", "QC", "1", c.patient_last_name, c.patient_first_name, "", "", "",
                            c.patient_id_qualifier if c.patient_id else "", c.patient_id)).rstrip(e))  # fmt: skip
    if c.rendering_npi and c.rendering_npi != payee_id:
        kind = "1" if c.rendering_first_name else "2"
        texts += (c.rendering_last_name, c.rendering_first_name, c.rendering_npi)
        segments.append(e.join(("NM1", "82", kind, c.rendering_last_name, c.rendering_first_name, "", "", "",
                                "XX", c.rendering_npi)).rstrip(e))  # fmt: skip
    for qualifier, day in (("232", c.statement_from), ("233", c.statement_to), ("050", c.received)):
        if day is not None:
            segments.append(f"DTM{e}{qualifier}{e}{_d8(day)}")
    component = d.component
    for s in c.services:
        texts += (s.qualifier, s.procedure_code, *s.modifiers, s.line_control_number, *s.remark_codes)
        segments.append(e.join((
            "SVC", component.join((s.qualifier, s.procedure_code, *s.modifiers)), _cents(s.charge_cents),
            _cents(s.paid_cents), "", "" if s.units is None else str(s.units),
        )).rstrip(e))  # fmt: skip
        if s.service_date is not None:
            segments.append(f"DTM{e}472{e}{_d8(s.service_date)}")
        if s.adjustments:
            _cas_texts(e, s.adjustments, segments, texts)
        if s.line_control_number:
            segments.append(f"REF{e}6R{e}{s.line_control_number}")
        if s.allowed_cents is not None:
            segments.append(f"AMT{e}B6{e}{_cents(s.allowed_cents)}")
        for code in s.remark_codes:
            segments.append(f"LQ{e}HE{e}{code}")
    # one look at every value for a delimiter (the element separator too: the segments were joined with it)
    if not w._forbidden.isdisjoint("".join(texts)):
        return _write_claim_checked(w, c, payee_id)
    terminator = w.terminator
    w.stream.write((terminator.join(segments) + terminator).encode("latin-1"))
    w.segments_written += len(segments)
    w._segments += len(segments)
    return len(c.services)


def _cas_texts(
    e: str, adjustments: tuple[ClaimAdjustment, ...], segments: list[str], texts: list[str]
) -> None:
    """The CAS segments of ``adjustments`` as :func:`_write_cas` writes them, added to ``segments``; their
    codes added to ``texts`` (to be checked for delimiters)."""
    if len(adjustments) == 1:  # the common line: one CO-45, or a denial's one CARC
        a = adjustments[0]
        texts += (a.group, a.reason_code)
        segments.append(f"CAS{e}{a.group}{e}{a.reason_code}{e}{_cents(a.amount_cents)}")
        return
    groups: dict[str, list[ClaimAdjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group, []).append(a)
    for group, found in groups.items():
        texts.append(group)
        for start in range(0, len(found), TRIPLETS_PER_CAS):
            triplets: list[str] = ["CAS", group]
            for a in found[start : start + TRIPLETS_PER_CAS]:
                texts.append(a.reason_code)
                triplets += (a.reason_code, _cents(a.amount_cents), "")
            segments.append(e.join(triplets).rstrip(e))


_CENTS: dict[int, str] = {}


def _cents(cents: int) -> str:
    """:func:`format_cents`, remembered here: one dict look-up for the amounts a run repeats."""
    text = _CENTS.get(cents) if type(cents) is int else None  # a float or bool is refused by format_cents
    if text is None:
        if len(_CENTS) >= 50_000:
            _CENTS.clear()
        text = _CENTS[cents] = format_cents(cents)
    return text


_D8: dict[dt.date, str] = {}


def _d8(day: dt.date) -> str:
    """:func:`d8`, remembered: a run's lines share a few hundred service dates."""
    text = _D8.get(day)
    if text is None:
        if len(_D8) >= 10_000:
            _D8.clear()
        text = _D8[day] = d8(day)
    return text


def _write_claim_checked(w: X12Writer, c: ClaimPayment835, payee_id: str) -> int:
    """The claim through the writer's per-element checks: what :func:`_write_claim` falls back to, so that
    an element holding a delimiter is refused with the writer's own message."""
    w.segment(
        "CLP", c.patient_control_number, c.status, format_cents(c.charge_cents), format_cents(c.paid_cents),
        format_cents(c.patient_responsibility_cents) if c.patient_responsibility_cents else "",
        c.filing_indicator, c.payer_claim_number, c.facility_code, c.frequency_code,
    )  # fmt: skip
    _write_cas(w, c.adjustments)
    w.segment("NM1", "QC", "1", c.patient_last_name, c.patient_first_name, "", "", "",
              c.patient_id_qualifier if c.patient_id else "", c.patient_id)  # fmt: skip
    if c.rendering_npi and c.rendering_npi != payee_id:
        kind = "1" if c.rendering_first_name else "2"
        w.segment("NM1", "82", kind, c.rendering_last_name, c.rendering_first_name, "", "", "", "XX",
                  c.rendering_npi)  # fmt: skip
    for qualifier, day in (("232", c.statement_from), ("233", c.statement_to), ("050", c.received)):
        if day is not None:
            w.segment("DTM", qualifier, d8(day))
    for s in c.services:
        w.segment(
            "SVC", [s.qualifier, s.procedure_code, *s.modifiers], format_cents(s.charge_cents),
            format_cents(s.paid_cents), "", "" if s.units is None else str(s.units),
        )  # fmt: skip
        if s.service_date is not None:
            w.segment("DTM", "472", d8(s.service_date))
        _write_cas(w, s.adjustments)
        if s.line_control_number:
            w.segment("REF", "6R", s.line_control_number)
        if s.allowed_cents is not None:
            w.segment("AMT", "B6", format_cents(s.allowed_cents))
        for code in s.remark_codes:
            w.segment("LQ", "HE", code)
    return len(c.services)


def _write_cas(w: X12Writer, adjustments: tuple[ClaimAdjustment, ...]) -> None:
    groups: dict[str, list[ClaimAdjustment]] = {}
    for a in adjustments:
        groups.setdefault(a.group, []).append(a)
    for group, found in groups.items():
        for start in range(0, len(found), TRIPLETS_PER_CAS):
            triplets: list[str] = []
            for a in found[start : start + TRIPLETS_PER_CAS]:
                triplets += [a.reason_code, format_cents(a.amount_cents), ""]
            w.segment("CAS", group, *triplets)


# -- reading claims back ----------------------------------------------------------------------------


def read_835_claims(
    source: Source,
    *,
    filename: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    envelope: EnvelopeReader | None = None,
) -> Iterator[Remittance835]:
    """One :class:`Remittance835` per 835 transaction set: the payment and every claim, kept in memory.

    Reads what :func:`write_835_claims` writes (CLP, CAS, NM1*QC/82, DTM*232/233/050, SVC, DTM*472,
    REF*6R, AMT*B6, LQ*HE; other segments of loops 2100 and 2110 are skipped) and raises
    :class:`X12Error` at the segment and element at fault as :func:`read_835_payments` does, and for a CAS
    or SVC before any CLP, a CAS amount without its reason code, an SVC01 without a procedure code.
    """
    reader = envelope or EnvelopeReader(source, chunk_size=chunk_size, filename=filename)
    payment: _Payment | None = None
    claims: _Claims | None = None
    for th, seg in reader.segments():
        if th.set_id != "835":
            continue
        if seg.id == "ST":
            component = th.group.interchange.delimiters.component
            payment = _Payment(seg, th.control_number, th.version, component)
            claims = _Claims(component, reader.filename)
        elif payment is None or claims is None:
            continue
        elif seg.id == "SE":
            yield Remittance835(payment.build(seg, reader.filename), claims.finish())
            payment = claims = None
        else:
            payment.segment(seg, reader.filename)
            claims.segment(seg)


@dataclass(slots=True)
class _Claims:
    component: str
    filename: str | None
    done: list[ClaimPayment835] = field(default_factory=list)
    claim: dict[str, object] | None = None
    claim_cas: list[ClaimAdjustment] = field(default_factory=list)
    services: list[ServicePayment835] = field(default_factory=list)
    service: dict[str, object] | None = None
    service_cas: list[ClaimAdjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)

    def segment(self, seg: Segment) -> None:
        sid, f = seg.id, self.filename
        if sid == "CLP":
            self._end_claim()
            self.claim = {
                "patient_control_number": seg.get(1),
                "status": seg.get(2),
                "charge_cents": element_cents(seg, 3, f),
                "paid_cents": element_cents(seg, 4, f),
                "patient_responsibility_cents": element_cents(seg, 5, f) if seg.get(5) else 0,
                "filing_indicator": seg.get(6),
                "payer_claim_number": seg.get(7),
                "facility_code": seg.get(8),
                "frequency_code": seg.get(9),
            }
        elif sid in ("LX", "PLB"):
            self._end_claim()
        elif self.claim is None:
            if sid in ("CAS", "SVC"):
                raise seg.error(f"{sid} before any CLP", None, f)
        elif sid == "CAS":
            (self.service_cas if self.service is not None else self.claim_cas).extend(self._cas(seg))
        elif sid == "SVC":
            self._end_service()
            code = seg.get(1).split(self.component)
            if len(code) < 2 or not code[1]:
                raise seg.error("SVC01 has no procedure code (SVC01-2)", 1, f)
            units = seg.get(5)
            if units and not units.lstrip("-").isdigit():
                raise seg.error(f"SVC05 {units!r} is not a whole number of units", 5, f)
            self.service = {
                "qualifier": code[0],
                "procedure_code": code[1],
                "modifiers": tuple(code[2:]),
                "charge_cents": element_cents(seg, 2, f),
                "paid_cents": element_cents(seg, 3, f),
                "units": int(units) if units else None,
            }
        elif self.service is not None:
            if sid == "DTM" and seg.get(1) == "472":
                self.service["service_date"] = element_date(seg, 2, f)
            elif sid == "REF" and seg.get(1) == "6R":
                self.service["line_control_number"] = seg.get(2)
            elif sid == "AMT" and seg.get(1) == "B6":
                self.service["allowed_cents"] = element_cents(seg, 2, f)
            elif sid == "LQ" and seg.get(1) == "HE":
                self.remarks.append(seg.get(2))
        elif sid == "NM1" and seg.get(1) == "QC":
            self.claim.update(patient_last_name=seg.get(3), patient_first_name=seg.get(4),
                              patient_id=seg.get(9), patient_id_qualifier=seg.get(8) or "MI")  # fmt: skip
        elif sid == "NM1" and seg.get(1) == "82":
            self.claim.update(rendering_last_name=seg.get(3), rendering_first_name=seg.get(4),
                              rendering_npi=seg.get(9))  # fmt: skip
        elif sid == "DTM" and seg.get(1) in ("232", "233", "050"):
            key = {"232": "statement_from", "233": "statement_to", "050": "received"}[seg.get(1)]
            self.claim[key] = element_date(seg, 2, f)

    def _cas(self, seg: Segment) -> Iterator[ClaimAdjustment]:
        group = seg.get(1)
        if group not in ADJUSTMENT_GROUPS:
            raise seg.error(f"CAS01 {group!r} is not one of {', '.join(ADJUSTMENT_GROUPS)}", 1, self.filename)
        for triplet in range(TRIPLETS_PER_CAS):
            position = 2 + 3 * triplet
            reason, amount = seg.get(position), seg.get(position + 1)
            if not reason and not amount:
                continue
            if not reason:
                raise seg.error(
                    f"CAS{position + 1:02d} amount without its reason code", position, self.filename
                )
            yield ClaimAdjustment(group, reason, element_cents(seg, position + 1, self.filename))

    def _end_service(self) -> None:
        if self.service is not None:
            service = ServicePayment835(
                **self.service,  # type: ignore[arg-type]
                adjustments=tuple(self.service_cas),
                remark_codes=tuple(self.remarks),
            )
            self.services.append(service)
        self.service = None
        self.service_cas = []
        self.remarks = []

    def _end_claim(self) -> None:
        self._end_service()
        if self.claim is not None:
            self.claim.setdefault("patient_last_name", "")
            claim = ClaimPayment835(
                **self.claim,  # type: ignore[arg-type]
                adjustments=tuple(self.claim_cas),
                services=tuple(self.services),
            )
            self.done.append(claim)
        self.claim = None
        self.claim_cas = []
        self.services = []

    def finish(self) -> tuple[ClaimPayment835, ...]:
        self._end_claim()
        return tuple(self.done)
