"""Posting to the ledger: balanced journal entries and their reversals. The only writer of entries and lines.

Callers (a capitation run, an import, a payment) describe an entry as `Posting`s in integer cents and call
`post_entry` inside their own transaction: the entry commits or rolls back with the run that caused it.
Every posting is checked before anything is written, so a refused entry leaves no trace, not even a used
entry number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max, Model
from django.utils import timezone

from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.money import to_decimal
from openipa.core.roles import Actor, Perm, require
from openipa.ledger.accounts import CHART
from openipa.ledger.models import AMOUNT_DIGITS, Account, EntryCounter, JournalEntry, JournalLine
from openipa.network.models import Practice

MAX_CENTS = 10**AMOUNT_DIGITS - 1
"""The largest amount one line holds, in cents (the column has 14 digits, 2 after the point)."""
MAX_PROBLEMS = 20
"""A refusal lists at most this many problems (a run of thousands of lines could have thousands)."""
SOURCE_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
SOURCE_ID_MAX = 64
MEMO_MAX = 500
LINE_MEMO_MAX = 200
BULK_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of an entry to post: an account code and one side's amount in integer cents."""

    account: str
    debit_cents: int = 0
    credit_cents: int = 0
    practice_id: int | None = None
    payer_id: int | None = None
    memo: str = ""


class LedgerError(ValueError):
    """An entry that may not be posted (or reversed). The message lists what is wrong; `problems` each
    problem on its own."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        super().__init__("; ".join(shown) + (f"; and {more} more problems" if more > 0 else ""))


def _amount_problem(where: str, side: str, value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{where}: {side} is a {type(value).__name__} ({value!r}); amounts are integer cents"
    if value < 0:
        return f"{where}: {side} is negative ({value}); post the other side instead"
    if value > MAX_CENTS:
        return f"{where}: {side} {value} is more than a line holds ({MAX_CENTS} cents)"
    return None


def _id_problem(where: str, field: str, value: object) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return None
    return f"{where}: {field} must be a positive integer id or None, not {value!r}"


def _posting_problems(index: int, posting: Posting) -> list[str]:
    where = f"posting {index + 1}" + (
        f" (account {posting.account})" if isinstance(posting.account, str) else ""
    )
    problems: list[str] = []
    if not isinstance(posting.account, str) or not posting.account:
        problems.append(f"{where}: account must be an account code (str), not {posting.account!r}")
    amount_problems = [
        p
        for p in (
            _amount_problem(where, "debit_cents", posting.debit_cents),
            _amount_problem(where, "credit_cents", posting.credit_cents),
        )
        if p
    ]
    problems += amount_problems
    if not amount_problems:
        if posting.debit_cents and posting.credit_cents:
            problems.append(
                f"{where}: both debit_cents ({posting.debit_cents}) and credit_cents ({posting.credit_cents}) "
                "are set; a line has one side"
            )
        elif not posting.debit_cents and not posting.credit_cents:
            problems.append(f"{where}: debit_cents and credit_cents are both zero; leave the line out")
    problems += [
        p
        for p in (
            _id_problem(where, "practice_id", posting.practice_id),
            _id_problem(where, "payer_id", posting.payer_id),
        )
        if p
    ]
    if not isinstance(posting.memo, str) or len(posting.memo) > LINE_MEMO_MAX:
        problems.append(f"{where}: memo must be text of at most {LINE_MEMO_MAX} characters")
    return problems


def _header_problems(date: object, memo: object, source_type: object, source_id: object) -> list[str]:
    problems: list[str] = []
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        problems.append(f"date must be a date (not a datetime), not {date!r}")
    if not isinstance(memo, str) or not memo.strip():
        problems.append("memo is empty; say what the entry records")
    elif len(memo) > MEMO_MAX:
        problems.append(f"memo has {len(memo)} characters; at most {MEMO_MAX}")
    if not isinstance(source_type, str) or not SOURCE_TYPE.fullmatch(source_type):
        problems.append(
            f"source_type {source_type!r} must be lower-case letters, digits and underscores "
            "(e.g. capitation_run), at most 40"
        )
    if isinstance(source_id, bool) or not isinstance(source_id, (str, int)) or not str(source_id).strip():
        problems.append(f"source_id must be a non-empty str or int, not {source_id!r}")
    elif len(str(source_id)) > SOURCE_ID_MAX:
        problems.append(f"source_id has {len(str(source_id))} characters; at most {SOURCE_ID_MAX}")
    return problems


def accounting_date(
    on: dt.date | None, *, not_before: dt.date | None = None, what: str = "the entry"
) -> dt.date:
    """The date an entry is posted on: ``on`` (finance closing a month a few days after it ended dates the
    run's entry within that month) or today. Refused (LedgerError) in the future, or before ``not_before``."""
    today = timezone.localdate()
    day = today if on is None else on
    if day > today:
        raise LedgerError([f"{what} cannot be dated {day}: that is in the future (today is {today})"])
    if not_before is not None and day < not_before:
        raise LedgerError([f"{what} cannot be dated {day}: before {not_before}"])
    return day


def _missing_ids(model: type[Model], ids: set[int]) -> list[int]:
    found = set(model._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
    return sorted(ids - found)


def _reference_problems(postings: Sequence[Posting]) -> tuple[list[str], dict[str, int]]:
    """Accounts that are unknown or inactive, practices and payers that do not exist; and the account ids
    by code. Checked here rather than left to the foreign keys, which SQLite checks only at commit."""
    codes = {p.account for p in postings}
    accounts = {a.code: a for a in Account.objects.filter(code__in=codes)}
    problems: list[str] = []
    for index, posting in enumerate(postings):
        account = accounts.get(posting.account)
        if account is None:
            problems.append(f"posting {index + 1}: unknown account {posting.account!r}")
        elif not account.active:
            problems.append(f"posting {index + 1}: account {account} is inactive and takes no new postings")
    practice_ids = {p.practice_id for p in postings if p.practice_id is not None}
    payer_ids = {p.payer_id for p in postings if p.payer_id is not None}
    for label, model, ids in (("practice", Practice, practice_ids), ("payer", Payer, payer_ids)):
        missing = _missing_ids(model, ids) if ids else []
        if missing:
            shown = ", ".join(str(i) for i in missing[:10])
            problems.append(f"unknown {label} id{'s' if len(missing) > 1 else ''} {shown}")
    return problems, {code: a.pk for code, a in accounts.items()}


def validate_postings(
    *, date: object, memo: object, postings: Sequence[Posting], source_type: object, source_id: object
) -> dict[str, int]:
    """Check an entry without writing anything; return the account ids by code. Raise LedgerError listing
    every problem. `post_entry` calls it; callers may call it first to refuse a run before it starts."""
    problems = _header_problems(date, memo, source_type, source_id)
    if isinstance(postings, (str, bytes)) or not isinstance(postings, Sequence) or not postings:
        raise LedgerError([*problems, "an entry needs postings; none were given"])
    line_problems: list[str] = []
    for index, posting in enumerate(postings):
        if not isinstance(posting, Posting):
            line_problems.append(f"posting {index + 1} is a {type(posting).__name__}, not a Posting")
        else:
            line_problems += _posting_problems(index, posting)
    if line_problems:
        raise LedgerError(problems + line_problems)
    debits = sum(p.debit_cents for p in postings)
    credits = sum(p.credit_cents for p in postings)
    if debits != credits:
        heavier = "debits" if debits > credits else "credits"
        problems.append(
            f"unbalanced by {abs(debits - credits)} cents: debits {debits}, credits {credits} "
            f"({heavier} are larger)"
        )
    reference_problems, account_ids = _reference_problems(postings)
    problems += reference_problems
    if problems:
        raise LedgerError(problems)
    return account_ids


def _next_number() -> int:
    """The next entry number, holding the counter's row lock until the caller's transaction ends. A missing
    counter row (a new or flushed database) starts after the highest number already posted."""
    counter = EntryCounter.objects.select_for_update().filter(pk=1).first()
    if counter is None:
        last = JournalEntry.objects.aggregate(last=Max("number"))["last"] or 0
        counter, _ = EntryCounter.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_number": last}
        )
    number = counter.last_number + 1
    EntryCounter.objects.filter(pk=1).update(last_number=number)
    return number


def _actor_fields(actor: Actor | None) -> dict[str, Any]:
    if actor is None:
        return {"posted_by": "system", "posted_by_user_id": None}
    pk = actor.pk
    return {"posted_by": actor.username, "posted_by_user_id": pk if isinstance(pk, int) else None}


def _write(
    actor: Actor | None,
    *,
    date: dt.date,
    memo: str,
    source_type: str,
    source_id: str,
    lines: list[JournalLine],
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    entry = JournalEntry.objects.create(
        number=_next_number(),
        date=date,
        memo=memo.strip(),
        source_type=source_type,
        source_id=source_id,
        posted_at=timezone.now(),
        reverses=reverses,
        **_actor_fields(actor),
    )
    for line in lines:
        line.entry = entry
    JournalLine.objects.bulk_create(lines, batch_size=BULK_BATCH)
    total = sum(line.debit for line in lines)
    audit.record_write(
        actor,
        "ledger.reverse" if reverses is not None else "ledger.post",
        entry,
        after={
            **audit.snapshot(entry, ["number", "date", "memo", "source_type", "source_id", "reverses"]),
            "lines": len(lines),
            "total": str(total),
        },
    )
    return entry


def post_entry(
    *,
    actor: Actor | None,
    date: dt.date,
    memo: str,
    postings: Sequence[Posting],
    source_type: str,
    source_id: str | int,
) -> JournalEntry:
    """Post one balanced entry and return it, numbered.

    `actor` needs EDIT_FINANCE; None is the system itself (the demo, a scheduled job). Runs in
    `transaction.atomic()`, so inside a caller's transaction it commits or rolls back with it. Raise
    LedgerError, having written nothing, when the postings do not balance or name an unknown or inactive
    account, an amount is not integer cents, or a line has both sides or neither.
    """
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        account_ids = validate_postings(
            date=date, memo=memo, postings=postings, source_type=source_type, source_id=source_id
        )
        lines = [
            JournalLine(
                account_id=account_ids[p.account],
                debit=to_decimal(p.debit_cents),
                credit=to_decimal(p.credit_cents),
                practice_id=p.practice_id,
                payer_id=p.payer_id,
                memo=p.memo,
            )
            for p in postings
        ]
        return _write(
            actor, date=date, memo=memo, source_type=source_type, source_id=str(source_id), lines=lines
        )


def reverse_entry(*, actor: Actor | None, entry: JournalEntry, date: dt.date, memo: str) -> JournalEntry:
    """Post the mirror of `entry` (each debit a credit and each credit a debit, on the same accounts,
    practices and payers), linked to it, so the two net to zero. The reversal keeps the entry's source, so
    `entries_for` a run lists both.

    Raise LedgerError when the entry was already reversed, is itself a reversal (post a new entry instead),
    or the date is before the entry's. Inactive accounts take the reversal: closing an account must not
    trap a mistake in it.
    """
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        # The lock makes a second, concurrent reversal wait and then see the first.
        original = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        problems = _header_problems(date, memo, original.source_type, original.source_id)
        if original.reverses_id is not None:
            problems.append(
                f"entry {original.number} is itself the reversal of another entry; post a new entry instead"
            )
        reversal = JournalEntry.objects.filter(reverses=original).first()
        if reversal is not None:
            problems.append(f"entry {original.number} was already reversed by entry {reversal.number}")
        if isinstance(date, dt.date) and not isinstance(date, dt.datetime) and date < original.date:
            problems.append(
                f"the reversal's date {date.isoformat()} is before the entry's date {original.date.isoformat()}"
            )
        if problems:
            raise LedgerError(problems)
        lines = [
            JournalLine(
                account_id=line.account_id,
                debit=line.credit,
                credit=line.debit,
                practice_id=line.practice_id,
                payer_id=line.payer_id,
                memo=line.memo,
            )
            for line in original.lines.order_by("id")
        ]
        return _write(
            actor,
            date=date,
            memo=memo,
            source_type=original.source_type,
            source_id=original.source_id,
            lines=lines,
            reverses=original,
        )


def entries_for(source_type: str, source_id: str | int) -> list[JournalEntry]:
    """The entries a source posted (a capitation run, an import), reversals included, in posting order.

    No actor: services call it to link their own records to the ledger; pages read entries through the
    selectors, which check VIEW_FINANCE.
    """
    return list(
        JournalEntry.objects.filter(source_type=source_type, source_id=str(source_id))
        .select_related("reverses")
        .order_by("number")
    )


def seed_chart(*, using: str = "default", account_model: type[Account] | None = None) -> list[str]:
    """Create the accounts of `accounts.CHART` that are missing; return their codes.

    Accounts that exist are left alone: their names may have been refined and an inactive one stays
    inactive. The data migration seeds a new database; this also runs after every `migrate` and after a
    test database is flushed (the app's post_migrate hook), which would otherwise leave later tests with no
    chart to post to.
    """
    model = account_model or Account
    manager = model._default_manager.db_manager(using)
    existing = set(manager.values_list("code", flat=True))
    missing = [a for a in CHART if a.code not in existing]
    manager.bulk_create(
        [model(code=a.code, name=a.name, kind=a.kind.value, description=a.description) for a in missing]
    )
    return [a.code for a in missing]
