"""The arithmetic of membership fees and health-improvement programs: pure, no Django, integer cents.

- `fee_for_month`: one practice's fee for a month under its term, with each line's arithmetic written out.
  A percent-of-revenue fee is computed ONCE on the sum of the revenue components and rounded half-up to the
  cent (`percent_of`); the components are shown as base lines that charge nothing. So the fee on the sum can
  differ from the sum of fees rounded per component by at most half a cent per component (tested).
- `apply_payment`: split an amount over open invoices, a named one first, then the oldest first.
- `aging`: a practice's open invoices in 0-30, 31-60, 61-90 and 90+ day buckets, by days since the invoice
  date (30 days old is still 0-30; 31 is 31-60).
- `statement`: opening balance, the transactions of a period with a running balance, closing balance.
- `rate`: a measure rate of a group of results (numerator / denominator), None without a denominator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from openipa.core.money import format_money, percent_of

FLAT_MONTHLY = "flat_monthly"
PERCENT_OF_REVENUE = "percent_of_revenue"


@dataclass(frozen=True, slots=True)
class Term:
    method: str
    amount_cents: int = 0
    percent: Decimal = Decimal(0)
    minimum_cents: int | None = None
    maximum_cents: int | None = None


@dataclass(frozen=True, slots=True)
class Revenue:
    """A practice's revenue through the IPA in a month, by source (cents; any may be negative: recoupments)."""

    capitation_cents: int = 0
    claims_cents: int = 0
    incentives_cents: int = 0

    @property
    def total_cents(self) -> int:
        return self.capitation_cents + self.claims_cents + self.incentives_cents

    def components(self) -> list[tuple[str, int]]:
        return [
            (
                "Capitation paid (PCP net, specialist and quality shares of approved runs)",
                self.capitation_cents,
            ),
            ("Claims paid (claims payment runs approved or paid, by payment date)", self.claims_cents),
            ("Incentives and shared savings (ledger 2650 credits)", self.incentives_cents),
        ]


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # "base" or "fee"
    description: str
    base_cents: int | None
    amount_cents: int
    arithmetic: str


@dataclass(frozen=True, slots=True)
class Fee:
    total_cents: int
    lines: tuple[Line, ...]


def check_term(term: Term) -> list[str]:
    """What is wrong with a term (empty when it is sound)."""
    problems: list[str] = []
    if term.method not in (FLAT_MONTHLY, PERCENT_OF_REVENUE):
        problems.append(f"unknown method {term.method!r}")
    if term.amount_cents < 0:
        problems.append("the flat amount is negative")
    if term.method == FLAT_MONTHLY and term.amount_cents == 0:
        problems.append("a flat monthly fee needs an amount")
    if not Decimal(0) <= term.percent <= Decimal(100):
        problems.append("the percent must be between 0 and 100")
    if term.method == PERCENT_OF_REVENUE and term.percent == 0:
        problems.append("a percent-of-revenue fee needs a percent")
    for name, value in (("minimum", term.minimum_cents), ("maximum", term.maximum_cents)):
        if value is not None and value < 0:
            problems.append(f"the {name} is negative")
    if (
        term.minimum_cents is not None
        and term.maximum_cents is not None
        and term.maximum_cents < term.minimum_cents
    ):
        problems.append("the maximum is below the minimum")
    return problems


def _percent_text(percent: Decimal) -> str:
    text = format(percent.normalize(), "f")
    return f"{text}%"


def fee_for_month(term: Term, revenue: Revenue) -> Fee:
    """The fee one practice owes for a month under `term` (ValueError for an unsound term).

    Flat: the amount (no minimum or maximum applies to it). Percent: `percent` of the revenue total (a
    negative total counts as zero), rounded once, then raised to the minimum and lowered to the maximum.
    """
    problems = check_term(term)
    if problems:
        raise ValueError("; ".join(problems))
    if term.method == FLAT_MONTHLY:
        line = Line("fee", "Membership fee (flat monthly)", None, term.amount_cents,
                    f"flat {format_money(term.amount_cents)} a month")  # fmt: skip
        return Fee(term.amount_cents, (line,))
    lines = [Line("base", label, cents, 0, "") for label, cents in revenue.components()]
    total = revenue.total_cents
    base = max(total, 0)
    raw = percent_of(base, term.percent)
    arithmetic = f"{_percent_text(term.percent)} of {format_money(base)} = {format_money(raw)}"
    if total < 0:
        arithmetic = f"revenue {format_money(total)} counts as $0.00; " + arithmetic
    fee = raw
    if term.minimum_cents is not None and fee < term.minimum_cents:
        fee = term.minimum_cents
        arithmetic += f"; below the minimum, so {format_money(fee)}"
    if term.maximum_cents is not None and fee > term.maximum_cents:
        fee = term.maximum_cents
        arithmetic += f"; above the maximum, so {format_money(fee)}"
    description = f"Membership fee ({_percent_text(term.percent)} of revenue through the IPA)"
    lines.append(Line("fee", description, base, fee, arithmetic))
    return Fee(fee, tuple(lines))


# -- applying payments ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An invoice with something still owed on it."""

    invoice_id: int
    issue_date: dt.date
    open_cents: int


def apply_payment(
    amount_cents: int, items: Sequence[OpenItem], *, first: int | None = None
) -> tuple[list[tuple[int, int]], int]:
    """Split `amount_cents` (> 0) over `items`: the invoice `first` (when given) first, then the oldest by
    issue date (then id). Return [(invoice id, cents applied)] and what is left over (a credit)."""
    if amount_cents <= 0:
        raise ValueError("a payment applies a positive amount")
    ordered = sorted(items, key=lambda i: (i.invoice_id != first, i.issue_date, i.invoice_id))
    left = amount_cents
    applied: list[tuple[int, int]] = []
    for item in ordered:
        if left == 0:
            break
        if item.open_cents <= 0:
            continue
        part = min(left, item.open_cents)
        applied.append((item.invoice_id, part))
        left -= part
    return applied, left


# -- aging ----------------------------------------------------------------------------------------------------

BUCKETS = ("0-30", "31-60", "61-90", "90+")


def bucket_of(issue_date: dt.date, as_of: dt.date) -> str:
    """The aging bucket of an invoice dated `issue_date`, seen on `as_of` (an invoice dated later: 0-30)."""
    days = (as_of - issue_date).days
    if days <= 30:
        return BUCKETS[0]
    if days <= 60:
        return BUCKETS[1]
    if days <= 90:
        return BUCKETS[2]
    return BUCKETS[3]


@dataclass(frozen=True, slots=True)
class Aging:
    buckets: dict[str, int]
    credit_cents: int
    """Money received (or credited) and not applied to any invoice: what the IPA owes back or will apply."""

    @property
    def open_cents(self) -> int:
        return sum(self.buckets.values())

    @property
    def balance_cents(self) -> int:
        """What the practice owes; negative when it is in credit."""
        return self.open_cents - self.credit_cents


def aging(items: Sequence[OpenItem], credit_cents: int, as_of: dt.date) -> Aging:
    buckets = dict.fromkeys(BUCKETS, 0)
    for item in items:
        if item.open_cents > 0:
            buckets[bucket_of(item.issue_date, as_of)] += item.open_cents
    return Aging(buckets, credit_cents)


# -- statement of account -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Txn:
    """One transaction on the account: an invoice (+), a credit note (-) or a payment (-)."""

    on: dt.date
    order: int
    kind: str
    reference: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class StatementRow:
    txn: Txn
    balance_cents: int


@dataclass(frozen=True, slots=True)
class Statement:
    start: dt.date
    end: dt.date
    opening_cents: int
    rows: tuple[StatementRow, ...]
    closing_cents: int

    @property
    def invoiced_cents(self) -> int:
        return sum(r.txn.amount_cents for r in self.rows if r.txn.amount_cents > 0)

    @property
    def credited_cents(self) -> int:
        return sum(r.txn.amount_cents for r in self.rows if r.txn.amount_cents < 0)


def statement(txns: Sequence[Txn], start: dt.date, end: dt.date) -> Statement:
    """The account from `start` to `end` inclusive: what was owed before, each transaction, what is owed
    after (negative: in credit). Transactions after `end` are left out."""
    if end < start:
        raise ValueError(f"the statement ends ({end}) before it starts ({start})")
    ordered = sorted(txns, key=lambda t: (t.on, t.order))
    opening = sum(t.amount_cents for t in ordered if t.on < start)
    balance = opening
    rows: list[StatementRow] = []
    for t in ordered:
        if start <= t.on <= end:
            balance += t.amount_cents
            rows.append(StatementRow(t, balance))
    return Statement(start, end, opening, tuple(rows), balance)


# -- program rates ---------------------------------------------------------------------------------------------


def rate(numerator: int, denominator: int) -> Fraction | None:
    """numerator / denominator exactly, None when nobody is in the denominator."""
    if denominator < 0 or numerator < 0:
        raise ValueError("counts are not negative")
    return Fraction(numerator, denominator) if denominator else None


def percent_text(value: Fraction | None) -> str:
    """A rate for people, to one decimal place of a percent: Fraction(2, 3) -> "66.7%"; None -> "n/a"."""
    if value is None:
        return "n/a"
    tenths = value * 1000
    rounded = (2 * tenths.numerator + tenths.denominator) // (2 * tenths.denominator)
    return f"{rounded // 10}.{rounded % 10}%"
