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
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from openipa.core.money import format_money
from openipa.edi.amounts import element_cents, format_cents
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
        count = 0
        for group in _plb_groups(adjustments):
            first = group[0]
            pairs: list[str | list[str]] = []
            for a in group:
                pairs.append([a.reason_code, a.reference] if a.reference else a.reason_code)
                pairs.append(format_cents(a.amount_cents))
            w.segment("PLB", first.provider_id, d8(first.fiscal_period_end), *pairs)
            count += 1
        w.end_transaction()
        w.end_group()
        w.end_interchange()
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
    for index, a in enumerate(adjustments, 1):
        if a.reason_code not in PLB_REASONS:
            raise ValueError(f"adjustment {index}: reason code {a.reason_code!r} is not a PLB03-1 code")
        if not a.provider_id:
            raise ValueError(f"adjustment {index}: no provider id (PLB01)")
    balanced = -sum(a.amount_cents for a in adjustments)
    if h.signed_total_cents != balanced:
        raise ValueError(
            f"BPR02 {format_money(h.signed_total_cents)} does not balance: with no claims it must be minus "
            f"the sum of the provider adjustments, {format_money(balanced)}"
        )
