"""Reads of the ledger for people: the trial balance, an account's activity, the journal. Each needs
VIEW_FINANCE.

Sums are taken in SQL as integer cents (`_cents`): SQLite keeps a decimal column as a binary float, so a
sum of its values could be off by a fraction of a cent, while a sum of the values rounded to whole cents
is exact on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Cast, Coalesce, Round, TruncMonth

from openipa.core import audit
from openipa.core.errors import NotFound, ValidationFailed
from openipa.core.money import to_decimal
from openipa.core.months import Month
from openipa.core.pagination import Page, paginate
from openipa.core.roles import Actor, Perm, is_practice_scoped, require, scoped_practice_id
from openipa.ledger import accounts
from openipa.ledger.accounts import Kind
from openipa.ledger.models import Account, JournalEntry, JournalLine


def _cents(field: str) -> Cast:
    return Cast(Round(ExpressionWrapper(F(field) * 100, output_field=BigIntegerField())), BigIntegerField())


def _signed_cents(debit_normal: bool) -> Expression:
    """A line's amount in cents as it moves an account of that normal balance: + increases it."""
    if debit_normal:
        return _cents("debit") - _cents("credit")
    return _cents("credit") - _cents("debit")


def _check_dates(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ValidationFailed.single("date_to", "The end date is before the start date.")


# ------------------------------------------------------------------------------------------ accounts


def account_list(actor: Actor) -> QuerySet[Account]:
    require(actor, Perm.VIEW_FINANCE)
    return Account.objects.order_by("code")


def account_get(actor: Actor, code: str) -> Account:
    require(actor, Perm.VIEW_FINANCE)
    try:
        return Account.objects.get(code=code)
    except Account.DoesNotExist:
        raise NotFound(f"account {code}") from None


# ------------------------------------------------------------------------------------ trial balance


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """One account's balance: in the debit column when its debits exceed its credits, else in the credit
    column; `balance_cents` is the same balance signed by the account's normal side (+ is normal)."""

    code: str
    name: str
    kind: Kind
    active: bool
    debit_cents: int
    credit_cents: int
    balance_cents: int

    @property
    def kind_label(self) -> str:
        return self.kind.label


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: Kind
    debit_cents: int
    credit_cents: int
    balance_cents: int


@dataclass(frozen=True, slots=True)
class TrialBalance:
    as_of: dt.date | None
    rows: tuple[TrialBalanceRow, ...]
    total_debit_cents: int
    total_credit_cents: int

    @property
    def balanced(self) -> bool:
        return self.total_debit_cents == self.total_credit_cents

    def by_kind(self) -> list[KindTotal]:
        """The columns summed per kind of account, every kind listed (zero when it has no balance)."""
        totals = []
        for kind in Kind:
            rows = [r for r in self.rows if r.kind == kind]
            totals.append(
                KindTotal(
                    kind,
                    sum(r.debit_cents for r in rows),
                    sum(r.credit_cents for r in rows),
                    sum(r.balance_cents for r in rows),
                )
            )
        return totals


def _account_sums(as_of: dt.date | None) -> dict[int, tuple[int, int]]:
    lines = JournalLine.objects.all()
    if as_of is not None:
        lines = lines.filter(entry__date__lte=as_of)
    sums = (
        lines.values("account_id")
        .order_by("account_id")
        .annotate(debits=Sum(_cents("debit")), credits=Sum(_cents("credit")))
    )
    return {s["account_id"]: (int(s["debits"] or 0), int(s["credits"] or 0)) for s in sums}


def trial_balance(actor: Actor, *, as_of: dt.date | None = None) -> TrialBalance:
    """Every account's balance at the end of `as_of` (all entries when None), in account code order.

    Accounts with no balance are listed too, except inactive ones, which appear only while they hold a
    balance. The debit and credit totals are equal whenever every entry balances, which the posting
    service guarantees.
    """
    require(actor, Perm.VIEW_FINANCE)
    sums = _account_sums(as_of)
    rows = []
    for account in Account.objects.order_by("code"):
        debits, credits = sums.get(account.pk, (0, 0))
        net_debit = debits - credits
        if not account.active and net_debit == 0:
            continue
        kind = Kind(account.kind)
        rows.append(
            TrialBalanceRow(
                code=account.code,
                name=account.name,
                kind=kind,
                active=account.active,
                debit_cents=max(net_debit, 0),
                credit_cents=max(-net_debit, 0),
                balance_cents=net_debit if kind.debit_normal else -net_debit,
            )
        )
    return TrialBalance(
        as_of=as_of,
        rows=tuple(rows),
        total_debit_cents=sum(r.debit_cents for r in rows),
        total_credit_cents=sum(r.credit_cents for r in rows),
    )


TRIAL_BALANCE_COLUMNS = ("code", "name", "kind", "debit", "credit", "balance", "normal_balance")


def trial_balance_export_rows(actor: Actor, *, as_of: dt.date | None = None) -> Iterator[tuple[object, ...]]:
    """The trial balance as CSV rows (amounts in dollars with two places), then a totals row. The export
    is recorded in the audit log with its date."""
    report = trial_balance(actor, as_of=as_of)
    audit.record_access(
        actor,
        object_type="ledger.trial_balance",
        action="export",
        purpose="trial balance CSV",
        details={"as_of": as_of.isoformat() if as_of else "all entries"},
    )

    def dollars(cents: int) -> str:
        return str(to_decimal(cents))

    for r in report.rows:
        yield (
            r.code,
            r.name,
            r.kind.value,
            dollars(r.debit_cents),
            dollars(r.credit_cents),
            dollars(r.balance_cents),
            "debit" if r.kind.debit_normal else "credit",
        )
    yield ("", "Total", "", dollars(report.total_debit_cents), dollars(report.total_credit_cents), "", "")


# ---------------------------------------------------------------------------------- account activity


@dataclass(frozen=True)
class AccountActivity:
    """An account's lines in a date range, newest first, each annotated with `debit_cents`,
    `credit_cents`, `amount_cents` (signed by the normal balance) and `running_cents`: the balance after
    that line, counting everything before the range (`opening_cents`). With a practice or payer filter,
    the balances are that practice's or payer's share of the account."""

    account: Account
    lines: QuerySet[JournalLine]
    opening_cents: int
    closing_cents: int
    debit_cents: int
    credit_cents: int
    date_from: dt.date | None
    date_to: dt.date | None


def account_activity(
    actor: Actor,
    code: str,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    practice_id: int | None = None,
    payer_id: int | None = None,
) -> AccountActivity:
    require(actor, Perm.VIEW_FINANCE)
    _check_dates(date_from, date_to)
    account = account_get(actor, code)
    debit_normal = Kind(account.kind).debit_normal
    scope = Q(account=account)
    if practice_id is not None:
        scope &= Q(practice_id=practice_id)
    if payer_id is not None:
        scope &= Q(payer_id=payer_id)
    opening = 0
    if date_from is not None:
        opening = int(
            JournalLine.objects.filter(scope & Q(entry__date__lt=date_from)).aggregate(
                total=Coalesce(Sum(_signed_cents(debit_normal)), 0)
            )["total"]
        )
    in_range = scope
    if date_from is not None:
        in_range &= Q(entry__date__gte=date_from)
    if date_to is not None:
        in_range &= Q(entry__date__lte=date_to)
    lines = (
        JournalLine.objects.filter(in_range)
        .select_related("entry", "practice", "payer")
        .annotate(
            debit_cents=_cents("debit"),
            credit_cents=_cents("credit"),
            amount_cents=_signed_cents(debit_normal),
            running_cents=Window(
                Sum(_signed_cents(debit_normal)),
                order_by=[F("entry__date").asc(), F("entry__number").asc(), F("id").asc()],
            )
            + Value(opening),
        )
        .order_by("-entry__date", "-entry__number", "-id")
    )
    totals = JournalLine.objects.filter(in_range).aggregate(
        debits=Coalesce(Sum(_cents("debit")), 0), credits=Coalesce(Sum(_cents("credit")), 0)
    )
    debits, credits = int(totals["debits"]), int(totals["credits"])
    change = debits - credits if debit_normal else credits - debits
    return AccountActivity(
        account=account,
        lines=lines,
        opening_cents=opening,
        closing_cents=opening + change,
        debit_cents=debits,
        credit_cents=credits,
        date_from=date_from,
        date_to=date_to,
    )


# ------------------------------------------------------------------------------------------- journal


@dataclass(frozen=True, slots=True)
class JournalRow:
    """An entry in the journal list, with its size: `total_cents` is its debits (equal to its credits)."""

    entry: JournalEntry
    line_count: int
    total_cents: int


def journal(
    actor: Actor,
    *,
    source_type: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[JournalEntry]:
    """Entries newest first (by date, then number), with the entry each reverses and its reversal."""
    require(actor, Perm.VIEW_FINANCE)
    _check_dates(date_from, date_to)
    qs = JournalEntry.objects.all()
    if source_type:
        qs = qs.filter(source_type=source_type)
    if date_from is not None:
        qs = qs.filter(date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(date__lte=date_to)
    return qs.select_related("reverses", "reversed_by").order_by("-date", "-number")


def journal_page(
    actor: Actor, *, page: int | str | None = 1, per_page: int | str | None = None, **filters: Any
) -> Page[JournalRow]:
    """One page of `journal`, each entry with its line count and total. The sums are taken for the page's
    entries only: a run's entry may have thousands of lines, and summing the whole journal to show 25
    entries would read every line ever posted."""
    entries = paginate(journal(actor, **filters), page, per_page)
    sums = {
        s["entry_id"]: s
        for s in JournalLine.objects.filter(entry_id__in=[e.pk for e in entries.items])
        .values("entry_id")
        .order_by("entry_id")
        .annotate(line_count=Count("id"), total=Sum(_cents("debit")))
    }
    rows = [
        JournalRow(
            entry=e,
            line_count=int(sums[e.pk]["line_count"]) if e.pk in sums else 0,
            total_cents=int(sums[e.pk]["total"] or 0) if e.pk in sums else 0,
        )
        for e in entries.items
    ]
    return Page(items=rows, number=entries.number, per_page=entries.per_page, total=entries.total)


def source_types(actor: Actor) -> list[str]:
    """The kinds of source that have posted entries, for the journal's filter."""
    require(actor, Perm.VIEW_FINANCE)
    return list(JournalEntry.objects.order_by("source_type").values_list("source_type", flat=True).distinct())


def entry_get(actor: Actor, number: int) -> JournalEntry:
    """One entry by its number, with the entry it reverses and its reversal."""
    require(actor, Perm.VIEW_FINANCE)
    try:
        return JournalEntry.objects.select_related("reverses", "reversed_by").get(number=number)
    except JournalEntry.DoesNotExist:
        raise NotFound(f"journal entry {number}") from None


@dataclass(frozen=True)
class EntryLines:
    """An entry's lines in posting order, each with `debit_cents` and `credit_cents`, and its total."""

    lines: QuerySet[JournalLine]
    count: int
    total_cents: int


def entry_lines(actor: Actor, entry: JournalEntry) -> EntryLines:
    require(actor, Perm.VIEW_FINANCE)
    lines = (
        JournalLine.objects.filter(entry=entry)
        .select_related("account", "practice", "payer")
        .annotate(debit_cents=_cents("debit"), credit_cents=_cents("credit"))
        .order_by("id")
    )
    totals = JournalLine.objects.filter(entry=entry).aggregate(
        count=Count("id"), total=Coalesce(Sum(_cents("debit")), 0)
    )
    return EntryLines(lines=lines, count=int(totals["count"]), total_cents=int(totals["total"]))


# ---------------------------------------------------------------------------- a practice's flows by month


@dataclass(frozen=True, slots=True)
class PracticeFlow:
    """One practice's lines on one account in one month (of the entries' dates), summed in cents.

    `cash` splits the lines by their entry: True for lines of entries that also have a CASH line (a payment
    sent to the practice, or received from it), False for the rest (what was earned, charged or invoiced).
    `net_cents` is debits minus credits."""

    month: Month
    account: str
    cash: bool
    debit_cents: int
    credit_cents: int

    @property
    def net_cents(self) -> int:
        return self.debit_cents - self.credit_cents


def practice_monthly_flows(actor: Actor, practice_id: int, first: Month, last: Month) -> list[PracticeFlow]:
    """The ledger lines that name practice `practice_id`, summed by month of the entry's date, account and
    whether the entry moved cash, from `first` through `last`; ordered by month, account, cash last.

    A practice user reads its own practice's only (another practice: NotFound, as if it did not exist); staff
    need VIEW_FINANCE. Amounts and account codes only: no member, no other practice."""
    if is_practice_scoped(actor):
        if practice_id != scoped_practice_id(actor):
            raise NotFound(f"practice {practice_id}")
    else:
        require(actor, Perm.VIEW_FINANCE)
    if last < first:
        raise ValidationFailed.single("last", "The last month is before the first month.")
    cash_lines = JournalLine.objects.filter(entry_id=OuterRef("entry_id"), account__code=accounts.CASH)
    rows = (
        JournalLine.objects.filter(
            practice_id=practice_id, entry__date__gte=first.first_day, entry__date__lte=last.last_day
        )
        .annotate(month=TruncMonth("entry__date", output_field=DateField()), cash=Exists(cash_lines))
        .values("month", "account__code", "cash")
        .order_by("month", "account__code", "cash")
        .annotate(debits=Sum(_cents("debit")), credits=Sum(_cents("credit")))
    )
    return [
        PracticeFlow(
            month=Month.of(_as_date(r["month"])),
            account=r["account__code"],
            cash=bool(r["cash"]),
            debit_cents=int(r["debits"] or 0),
            credit_cents=int(r["credits"] or 0),
        )
        for r in rows
    ]


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):  # SQLite hands back the truncated date as text on some versions
        return dt.date.fromisoformat(value[:10])
    return value
