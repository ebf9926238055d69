"""277CA Health Care Claim Acknowledgment (005010X214): which claims of a received 837 were accepted.

The answer to an 837 file, claim by claim::

    ST*277*0001*005010X214~
    BHT*0085*08*ACK0001*20240105*1200*TH~
    HL*1**20*1~                                      2000A information source (the IPA, or its clearinghouse)
    NM1*PR*2*SUNRISE IPA*****PI*IPA01~
    TRN*1*ACK0001~
    DTP*050*D8*20240105~                             received
    DTP*009*D8*20240105~                             processed
    HL*2*1*21*1~                                     2000B information receiver (the 837's submitter)
    NM1*41*2*CLEARING HOUSE*****46*SUB01~
    TRN*2*BATCH1~                                    the 837's BHT03
    STC*A1:19*20240105*WQ*450~                       the batch: received
    QTY*90*2~ QTY*AA*1~ AMT*YU*300~ AMT*YY*150~      accepted / rejected claims and amounts
    HL*3*2*19*1~                                     2000C billing provider, with its own totals
    NM1*85*2*GOOD CLINIC*****XX*1912301953~
    TRN*1*1912301953~
    STC*A1:19**WQ*450~
    QTY*QA*2~ QTY*QC*1~ AMT*YU*300~ AMT*YY*150~
    HL*4*3*PT~                                       2000D one per claim
    NM1*QC*1*DOE*JANE****MI*M000000001~
    TRN*2*C1~                                        CLM01
    STC*A2:20*20240105*WQ*150~                       accepted into adjudication (A3:21 + a message: rejected)
    REF*1K*PAYER-0001~                               the payer claim control number given to it
    DTP*472*RD8*20240102-20240103~                   service period
    SE*...~

:func:`acknowledge` turns what :func:`openipa.edi.t837.read_837` yielded into :class:`ClaimAck` records (a
:class:`ClaimProblem` is a rejection carrying its message); :func:`write_277ca` writes them, grouped by
billing provider, with the totals of accepted and rejected claims per provider and for the whole batch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import polars as pl

from openipa.edi.amounts import format_cents
from openipa.edi.t837 import Claim837, ClaimProblem, Provider
from openipa.edi.x12.delimiters import Delimiters
from openipa.edi.x12.writer import X12Writer

VERSION = "005010X214"
ACCEPTED = ("A2", "20")
"""STC01 for an accepted claim: A2 acknowledgement/acceptance into the adjudication system, 20 accepted
for processing."""
REJECTED = ("A3", "21")
"""STC01 for a rejected claim: A3 returned as unprocessable, 21 missing or invalid information."""
RECEIVED = ("A1", "19")
"""STC01 of the batch and of each billing provider: A1 acknowledgement/receipt, 19 entity acknowledges
receipt of claim/encounter."""
MESSAGE_LENGTH = 264
"""STC12 free-form message text: at most 264 characters."""


@dataclass(frozen=True, slots=True)
class ClaimAck:
    """One claim's acknowledgment."""

    claim_id: str
    """CLM01, the patient control number (TRN02 of loop 2200D)."""
    total_charge_cents: int
    accepted: bool
    billing_provider: Provider
    patient_last_name: str
    patient_first_name: str
    member_id: str
    service_from: dt.date
    service_to: dt.date
    category: str
    """STC01-1 health care claim status category code (A2 accepted, A3/A7 rejected...)."""
    status: str
    """STC01-2 claim status code (20 accepted for processing, 21 missing or invalid information...)."""
    message: str = ""
    """STC12: why a claim was rejected."""
    payer_claim_number: str = ""
    """REF*1K: the number the receiver gave an accepted claim."""
    type_of_bill: str = ""
    """REF*BLT (837I)."""


def acknowledge(
    items: Iterable[Claim837 | ClaimProblem],
    *,
    received: dt.date,
    check: Callable[[Claim837], str | None] | None = None,
    payer_claim_number: Callable[[Claim837], str] | None = None,
) -> Iterator[ClaimAck]:
    """A :class:`ClaimAck` per claim read: accepted, or rejected with the problem's text.

    ``check`` may reject a claim that read cleanly (return the reason, or None to accept it), e.g. a
    member not on the roster. ``payer_claim_number`` gives an accepted claim its REF*1K. A rejected claim
    whose service dates were not read is dated ``received``; one whose charge was not read, 0.
    """
    for item in items:
        if isinstance(item, ClaimProblem):
            if item.billing_provider is None:
                raise ValueError(f"claim {item.claim_id!r}: no billing provider to acknowledge it under")
            person = item.patient
            yield ClaimAck(
                claim_id=item.claim_id,
                total_charge_cents=item.total_charge_cents or 0,
                accepted=False,
                billing_provider=item.billing_provider,
                patient_last_name=person.last_name if person is not None else "UNKNOWN",
                patient_first_name=person.first_name if person is not None else "",
                member_id=item.member_id or "UNKNOWN",
                service_from=item.service_from or received,
                service_to=item.service_to or item.service_from or received,
                category=REJECTED[0],
                status=REJECTED[1],
                message=str(item),
            )
            continue
        reason = check(item) if check is not None else None
        days = [d for ln in item.lines for d in (ln.service_date, ln.service_date_end) if d is not None]
        if item.statement_from is not None:
            days += [item.statement_from, item.statement_to or item.statement_from]
        person = item.patient_person
        accepted = reason is None
        yield ClaimAck(
            claim_id=item.claim_id,
            total_charge_cents=item.total_charge_cents,
            accepted=accepted,
            billing_provider=item.billing_provider,
            patient_last_name=person.last_name,
            patient_first_name=person.first_name,
            member_id=item.subscriber.person.member_id or "UNKNOWN",
            service_from=min(days) if days else received,
            service_to=max(days) if days else received,
            category=ACCEPTED[0] if accepted else REJECTED[0],
            status=ACCEPTED[1] if accepted else REJECTED[1],
            message="" if accepted else f"claim {item.claim_id!r}: {reason}",
            payer_claim_number=payer_claim_number(item) if accepted and payer_claim_number else "",
            type_of_bill=item.type_of_bill,
        )


@dataclass(frozen=True, slots=True)
class Totals:
    accepted: int
    rejected: int
    accepted_cents: int
    rejected_cents: int


def _totals(acks: list[ClaimAck]) -> Totals:
    ok = [a.total_charge_cents for a in acks if a.accepted]
    bad = [a.total_charge_cents for a in acks if not a.accepted]
    return Totals(len(ok), len(bad), sum(ok), sum(bad))


def _d8(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _clean(text: str, forbidden: set[str]) -> str:
    """Free text made safe for an element: delimiters become spaces, cut to the STC12 length."""
    return "".join(" " if ch in forbidden else ch for ch in text)[:MESSAGE_LENGTH].strip()


def write_277ca(
    target: BinaryIO | str | os.PathLike[str],
    acks: Iterable[ClaimAck],
    *,
    source_name: str,
    source_id: str,
    receiver_name: str,
    receiver_id: str,
    batch_reference: str,
    received: dt.date,
    sender: str,
    receiver: str,
    source_qualifier: str = "PI",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
    reference: str = "",
    interchange_control_number: int = 1,
    group_control_number: int = 1,
    when: dt.datetime | None = None,
    delimiters: Delimiters | None = None,
    newline: bool = False,
    usage: str = "P",
) -> Totals:
    """Write one 277CA interchange acknowledging ``acks``; return the batch totals.

    ``source_name``/``source_id`` (NM1*PR, qualified by ``source_qualifier``: PI payer id, 46 ETIN, FI tax
    id, XV) is who acknowledges; ``receiver_name``/``receiver_id`` (NM1*41, ETIN) the 837's submitter;
    ``batch_reference`` the 837's BHT03 (TRN02 of loop 2200B); ``received`` the date the 837 arrived.
    ``reference`` is BHT03 and the 2200A trace (default: ``ACK`` + the batch reference). Claims are grouped
    by billing provider in order of first appearance (so the acks are held in memory: they are small).
    """
    when = when or dt.datetime.combine(received, dt.time())
    reference = reference or f"ACK{batch_reference}"[:50]
    by_provider: dict[Provider, list[ClaimAck]] = {}
    everything: list[ClaimAck] = []
    for ack in acks:
        by_provider.setdefault(ack.billing_provider, []).append(ack)
        everything.append(ack)
    if not everything:
        raise ValueError("no claims to acknowledge")
    total = _totals(everything)
    with contextlib.ExitStack() as stack:
        stream = (
            stack.enter_context(open(target, "wb"))  # closed by the exit stack
            if isinstance(target, (str, os.PathLike))
            else target
        )
        w = X12Writer(stream, delimiters, newline=newline)
        forbidden = {w.delimiters.element, w.delimiters.component, w.delimiters.segment}
        if w.delimiters.repetition:
            forbidden.add(w.delimiters.repetition)
        segment = w.segment
        # every claim's loop 2000D rendered at once (HL numbers: each provider's, then its claims'); one pass
        # over the file, not one per billing provider (a file of small groups spent its time in the set-up)
        ordered: list[ClaimAck] = []
        numbers: list[int] = []
        parents: list[int] = []
        hl = 2
        for group in by_provider.values():
            hl += 1
            parents += [hl] * len(group)
            numbers += range(hl + 1, hl + 1 + len(group))
            ordered += group
            hl += len(group)
        today = _d8(when.date())
        texts, counts = _claim_loops(ordered, numbers, parents, today, w.delimiters, w.terminator, forbidden)
        w.start_interchange(
            sender_qualifier, sender, receiver_qualifier, receiver,
            control_number=interchange_control_number, when=when, usage=usage,
        )  # fmt: skip
        w.start_group("HN", sender, receiver, control_number=group_control_number, version=VERSION, when=when)
        w.start_transaction("277", "0001", VERSION)
        segment("BHT", "0085", "08", reference, today, when.strftime("%H%M"), "TH")
        segment("HL", "1", "", "20", "1")
        segment("NM1", "PR", "2", source_name, "", "", "", "", source_qualifier, source_id)
        segment("TRN", "1", reference)
        segment("DTP", "050", "D8", _d8(received))
        segment("DTP", "009", "D8", today)
        segment("HL", "2", "1", "21", "1")
        segment("NM1", "41", "2", receiver_name, "", "", "", "", "46", receiver_id)
        segment("TRN", "2", batch_reference)
        segment("STC", RECEIVED, today, "WQ", format_cents(total.accepted_cents + total.rejected_cents))
        _summary(w, total, "90", "AA")
        position = 0
        for provider, group in by_provider.items():
            segment("HL", str(parents[position]), "2", "19", "1")  # the provider's HL, numbered above
            qualifier = provider.id_qualifier if provider.id_qualifier in ("XX", "FI", "SV") else "FI"
            ident = provider.identifier if qualifier == provider.id_qualifier else provider.tin
            if not ident:
                raise ValueError(f"billing provider {provider.name!r} has neither an NPI nor a tax id")
            segment("NM1", "85", provider.entity_type or "2", provider.name, provider.first_name,
                    provider.middle_name, "", "", qualifier, ident)  # fmt: skip
            segment("TRN", "1", ident)
            sums = _totals(group)
            segment("STC", RECEIVED, "", "WQ", format_cents(sums.accepted_cents + sums.rejected_cents))
            _summary(w, sums, "QA", "QC")
            end = position + len(group)
            w.block("".join(texts[position:end]), sum(counts[position:end]))
            position = end
        w.end_transaction()
        w.end_group()
        w.end_interchange()
    return total


def _claim_loops(
    acks: list[ClaimAck],
    numbers: list[int],
    parents: list[int],
    today: str,
    d: Delimiters,
    terminator: str,
    forbidden: set[str],
) -> tuple[list[str], list[int]]:
    """Loop 2000D of each claim (HL ``numbers`` under HL ``parents``, NM1*QC, TRN, STC, REF*1K, REF*BLT,
    DTP*472) as text, rendered as columns (a file of 100,000 claims writes in a second), and its number of
    segments, one of each per claim. As :meth:`X12Writer.segment`: trailing empty elements are dropped, and an
    element holding a delimiter is a ValueError."""
    sep, comp = d.element, d.component
    frame = pl.DataFrame(
        {
            "hl": numbers,
            "parent": parents,
            "last": [a.patient_last_name for a in acks],
            "first": [a.patient_first_name for a in acks],
            "member": [a.member_id for a in acks],
            "claim": [a.claim_id for a in acks],
            "category": [a.category for a in acks],
            "status": [a.status for a in acks],
            "cents": [a.total_charge_cents for a in acks],
            "message": [_clean(a.message, forbidden) for a in acks],
            "number": [a.payer_claim_number for a in acks],
            "bill": [a.type_of_bill[1:] if len(a.type_of_bill) == 4 else a.type_of_bill for a in acks],
            "start": [a.service_from for a in acks],
            "end": [a.service_to for a in acks],
        },
        schema_overrides={
            "hl": pl.Int64,
            "parent": pl.Int64,
            "cents": pl.Int64,
            "start": pl.Date,
            "end": pl.Date,
        },
    )
    texts = ["last", "first", "member", "claim", "category", "status", "number", "bill"]
    pattern = "[" + "".join("\\" + c for c in sorted(forbidden)) + "]"
    bad = frame.filter(pl.any_horizontal(pl.col(c).str.contains(pattern) for c in texts))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(f"claim {row['claim']!r}: an element contains a delimiter")
    if frame.get_column("cents").abs().max() >= 10**18:  # type: ignore[operator]
        raise ValueError("an amount has more than 18 digits")

    def segment(*elements: pl.Expr | str) -> pl.Expr:
        parts = [e if isinstance(e, pl.Expr) else pl.lit(e) for e in elements]
        return pl.concat_str(parts, separator=sep).str.strip_chars_end(sep) + pl.lit(terminator)

    cents = pl.col("cents")
    dollars, rest = cents.abs() // 100, cents.abs() % 100
    amount = (
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        + dollars.cast(pl.String)
        + pl.when(rest == 0).then(pl.lit(""))
        .otherwise(pl.lit(".") + rest.cast(pl.String).str.pad_start(2, "0").str.strip_chars_end("0"))
    )  # fmt: skip
    start, end = pl.col("start").dt.strftime("%Y%m%d"), pl.col("end").dt.strftime("%Y%m%d")
    optional = [
        (pl.col("number") != "", segment("REF", "1K", pl.col("number"))),
        (pl.col("bill") != "", segment("REF", "BLT", pl.col("bill"))),
    ]
    rendered = frame.select(
        text=pl.concat_str(
            [
                segment("HL", pl.col("hl").cast(pl.String), pl.col("parent").cast(pl.String), "PT"),
                segment("NM1", "QC", "1", pl.col("last"), pl.col("first"), "", "", "", "MI", pl.col("member")),
                segment("TRN", "2", pl.col("claim")),
                segment("STC", pl.col("category") + pl.lit(comp) + pl.col("status"), today, "WQ", amount,
                        "", "", "", "", "", "", "", pl.col("message")),
                *[pl.when(present).then(text).otherwise(pl.lit("")) for present, text in optional],
                pl.when(start == end).then(segment("DTP", "472", "D8", start))
                .otherwise(segment("DTP", "472", "RD8", start + pl.lit("-") + end)),
            ]
        ),
        count=5 + sum((present.cast(pl.Int64) for present, _text in optional), pl.lit(0, dtype=pl.Int64)),
    )  # fmt: skip
    return rendered.get_column("text").to_list(), rendered.get_column("count").to_list()


def _summary(w: X12Writer, t: Totals, accepted_qty: str, rejected_qty: str) -> None:
    if t.accepted:
        w.segment("QTY", accepted_qty, str(t.accepted))
    if t.rejected:
        w.segment("QTY", rejected_qty, str(t.rejected))
    if t.accepted:
        w.segment("AMT", "YU", format_cents(t.accepted_cents))
    if t.rejected:
        w.segment("AMT", "YY", format_cents(t.rejected_cents))
