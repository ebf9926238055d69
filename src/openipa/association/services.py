"""Writes of the association app, each in one transaction with its audit record and ledger entry.

Membership fees: fee terms (finance), a month's invoice run (draft -> approved by a second finance user ->
issued: Dr 1300 practice receivable / Cr 4300 membership-fee revenue per invoice, with the practice's id),
credit notes (a run of one negative invoice naming the original, same workflow, the reverse entry), payments
received (Dr 1000 cash / Cr 1300, applied to a named invoice first, then the oldest open invoices; what is left
is the practice's credit, applied to the next invoices issued).

Programs: create and edit (EDIT_CLINICAL), participants joining and leaving.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from openipa.association import engine, selectors
from openipa.association.models import (
    FeePayment,
    FeeTerm,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    PaymentApplication,
    Program,
    ProgramParticipant,
)
from openipa.core import audit
from openipa.core.dating import OverlapError, check_no_overlaps, validate_range
from openipa.core.errors import ValidationFailed
from openipa.core.money import format_money, to_cents
from openipa.core.months import Month
from openipa.core.roles import Actor, Perm, require
from openipa.ledger import accounts
from openipa.ledger.services import Posting, post_entry
from openipa.network.models import ParticipationAgreement, Practice, Region
from openipa.quality.engine.definitions import DefinitionError, available_years, load_measures
from openipa.quality.models import QualityRun

Status = InvoiceRun.Status
Progress = Callable[[int, int], None]


class RunRefused(ValidationFailed):
    """A fee run that may not be prepared, approved or issued in its state, or by this user."""

    def __init__(self, message: str):
        super().__init__({"": [message]})


def _who(actor: Actor | None, who: str = "") -> str:
    return actor.username if actor is not None else (who or "system")


def _require_money(actor: Actor | None) -> None:
    if actor is not None:
        require(actor, Perm.EDIT_FINANCE)


# -- fee terms ------------------------------------------------------------------------------------------------


def _cents_field(
    data: Mapping[str, Any], name: str, errors: dict[str, list[str]], *, optional: bool
) -> int | None:
    raw = data.get(name)
    if raw is None or raw == "":
        if optional:
            return None
        errors[name] = ["Enter an amount."]
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        errors[name] = [f"{raw!r} is not an amount."]
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        errors[name] = ["Enter a non-negative amount in dollars with at most 2 decimals."]
        return None
    return to_cents(value)


def fee_term_create(*, actor: Actor | None, practice: Practice, data: Mapping[str, Any]) -> FeeTerm:
    """Set a practice's membership-fee term from `valid_from` (through `valid_to`, or open). It must lie within
    one participation agreement of the practice and overlap none of its other terms. Amounts in dollars."""
    _require_money(actor)
    errors: dict[str, list[str]] = {}
    method = data.get("method")
    if method not in FeeTerm.Method.values:
        errors["method"] = [f"Choose one of {', '.join(FeeTerm.Method.values)}."]
    valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
    if not isinstance(valid_from, dt.date):
        errors["valid_from"] = ["Enter the date the term starts."]
    elif valid_to is not None:
        try:
            validate_range(valid_from, valid_to)
        except ValueError as exc:
            errors["valid_to"] = [str(exc)]
    amount = _cents_field(data, "amount", errors, optional=method != FeeTerm.Method.FLAT_MONTHLY) or 0
    minimum = _cents_field(data, "minimum", errors, optional=True)
    maximum = _cents_field(data, "maximum", errors, optional=True)
    percent = Decimal(0)
    raw_percent = data.get("percent")
    if raw_percent not in (None, ""):
        try:
            percent = Decimal(str(raw_percent).strip())
            if not percent.is_finite() or percent != percent.quantize(Decimal("0.0001")):
                raise InvalidOperation
        except InvalidOperation:
            errors["percent"] = ["Enter a percent with at most 4 decimals."]
    payment_days = data.get("payment_days", 30)
    if not isinstance(payment_days, int) or isinstance(payment_days, bool) or not 0 <= payment_days <= 365:
        errors["payment_days"] = ["Enter 0 to 365 days."]
    if errors:
        raise ValidationFailed(errors)
    term_shape = engine.Term(str(method), amount, percent, minimum, maximum)
    problems = engine.check_term(term_shape)
    if problems:
        raise ValidationFailed.single("", "; ".join(problems).capitalize() + ".")
    assert isinstance(valid_from, dt.date)
    with transaction.atomic():
        practice = Practice.objects.select_for_update().get(pk=practice.pk)
        agreement = next(
            (
                a
                for a in ParticipationAgreement.objects.filter(practice=practice).order_by("valid_from")
                if a.valid_from <= valid_from
                and (a.valid_to is None or (valid_to is not None and valid_to <= a.valid_to))
            ),
            None,
        )
        if agreement is None:
            raise ValidationFailed.single(
                "valid_from", f"{practice.code} has no participation agreement covering the whole term."
            )
        term = FeeTerm(
            agreement=agreement, practice=practice, method=str(method), amount_cents=amount, percent=percent,
            minimum_cents=minimum, maximum_cents=maximum, payment_days=payment_days, valid_from=valid_from,
            valid_to=valid_to, created_by=_who(actor),
        )  # fmt: skip
        try:
            check_no_overlaps([*FeeTerm.objects.filter(practice=practice), term])
        except OverlapError as exc:
            raise ValidationFailed.single(
                "valid_from", f"Another fee term of {practice.code}: {exc}"
            ) from None
        term.save()
        audit.record_write(actor, "fees.term_create", term, after=audit.snapshot(term))
    return term


def fee_term_end(*, actor: Actor | None, term: FeeTerm, valid_to: dt.date) -> FeeTerm:
    """End a term on `valid_to` (e.g. before a new version starts).

    Refused (nothing changed): a day before the term began; the day it already ends; a day that would leave a
    month already invoiced by this term (an issued invoice, or one of an approved run) outside it: the message
    names the invoice and the earliest day the term can end; a later end over a month whose run is approved or
    issued (that month was invoiced without the term), into another term of the practice or past its
    participation agreement. A month is priced by the term in force on its last day
    or one that ended during it, so ending within an invoiced month keeps that month's invoice right. Drafts
    priced by the term are not refused: preparing the month again prices it by the terms as they are then."""
    _require_money(actor)
    if not isinstance(valid_to, dt.date):
        raise ValidationFailed.single("valid_to", "Enter the last day of the term.")
    with transaction.atomic():
        term = FeeTerm.objects.select_for_update().select_related("practice", "agreement").get(pk=term.pk)
        if valid_to < term.valid_from:
            raise ValidationFailed.single(
                "valid_to", f"The term began on {term.valid_from}: it cannot end before that day."
            )
        if valid_to == term.valid_to:
            raise ValidationFailed.single(
                "valid_to", f"The term already ends on {valid_to}: nothing changed."
            )
        invoiced = (
            Invoice.objects.filter(lines__term=term, credits__isnull=True, month__gt=valid_to,
                                   run__status__in=(Status.APPROVED, Status.ISSUED))
            .select_related("run").order_by("-month", "pk").first()
        )  # fmt: skip
        if invoiced is not None:
            last_day = Month.of(invoiced.month).last_day
            what = (
                f"invoice {invoiced.number}" if invoiced.run.status == Status.ISSUED
                else f"the invoice of {term.practice.code} in approved run {invoiced.run_id}"
            )  # fmt: skip
            raise ValidationFailed.single(
                "valid_to",
                f"{what} ({invoiced.month:%B %Y}) was priced by this term: it can end on {last_day} at the "
                "earliest. An issued invoice never changes; correct it with a credit note.",
            )
        if term.valid_to is not None and valid_to > term.valid_to:
            settled = (
                InvoiceRun.objects.filter(kind=InvoiceRun.Kind.MONTHLY, month__gt=term.valid_to, month__lte=valid_to,
                                          status__in=(Status.APPROVED, Status.ISSUED))
                .order_by("month", "pk").first()
            )  # fmt: skip
            if settled is not None:
                raise ValidationFailed.single(
                    "valid_to",
                    f"fee run {settled.pk} ({settled.month:%B %Y}, {settled.get_status_display().lower()}) was "
                    f"prepared without this term, which ended on {term.valid_to}: a term is not extended over a "
                    "month already invoiced. Add a new term from the first month not yet invoiced.",
                )
        agreement = term.agreement
        if agreement.valid_to is not None and valid_to > agreement.valid_to:
            raise ValidationFailed.single(
                "valid_to",
                f"The participation agreement of {term.practice.code} ends on {agreement.valid_to}.",
            )
        before = audit.snapshot(term)
        term.valid_to = valid_to
        others = FeeTerm.objects.filter(practice_id=term.practice_id).exclude(pk=term.pk)
        try:
            check_no_overlaps([*others, term])
        except OverlapError as exc:
            raise ValidationFailed.single(
                "valid_to", f"Another fee term of {term.practice.code}: {exc}"
            ) from None
        term.save(update_fields=["valid_to"])
        audit.record_write(actor, "fees.term_end", term, before=before, after=audit.snapshot(term))
    return term


# -- invoice runs ---------------------------------------------------------------------------------------------


def _number(month: Month, practice: Practice, *, credit: bool = False, seq: int = 0) -> str:
    base = f"{'CN' if credit else 'MF'}-{month.year}{month.month:02d}-{practice.code}"
    return f"{base}-{seq}" if seq else base


def prepare_invoices(
    *, actor: Actor | None, month: Month, who: str = "", progress: Progress | None = None
) -> InvoiceRun:
    """Prepare the month's invoices (a draft run) from the fee terms in force and each practice's revenue.

    Re-preparing replaces an earlier draft of the month; a month with an approved or issued run is refused
    (correct an issued invoice with a credit note)."""
    _require_money(actor)
    with transaction.atomic():
        existing = list(
            InvoiceRun.objects.select_for_update().filter(kind=InvoiceRun.Kind.MONTHLY, month=month.first_day)
        )
        settled = [r for r in existing if r.status != Status.DRAFT]
        if settled:
            raise RunRefused(
                f"{month} already has run {settled[0].pk} ({settled[0].get_status_display().lower()}): "
                "correct an issued invoice with a credit note"
            )
        for draft in existing:
            draft.delete()
        terms_by_practice: dict[int, list[FeeTerm]] = {}
        for t in FeeTerm.objects.filter(valid_from__lte=month.last_day).select_related("practice"):
            if t.valid_to is None or t.valid_to >= month.first_day:
                terms_by_practice.setdefault(t.practice_id, []).append(t)
        revenue = selectors.revenue_by_practice(month, list(terms_by_practice))
        run = InvoiceRun.objects.create(month=month.first_day, prepared_by=_who(actor, who))
        total = 0
        used: dict[str, int] = {}
        zero: list[str] = []
        practices = sorted(terms_by_practice, key=lambda pid: terms_by_practice[pid][0].practice.code)
        for index, pid in enumerate(practices):
            term = selectors.term_in_force(terms_by_practice[pid], month)
            if term is None:
                continue
            rev = revenue.get(pid, engine.Revenue())
            fee = engine.fee_for_month(
                engine.Term(
                    term.method, term.amount_cents, term.percent, term.minimum_cents, term.maximum_cents
                ),
                rev,
            )
            practice = term.practice
            if fee.total_cents == 0:
                zero.append(practice.code)
                continue
            invoice = Invoice.objects.create(
                run=run, practice=practice, number=f"draft-{run.pk}-{practice.code}", month=month.first_day,
                total_cents=fee.total_cents,
            )  # fmt: skip
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=invoice, position=i + 1, kind=line.kind, term=term, description=line.description,
                            base_cents=line.base_cents, amount_cents=line.amount_cents, arithmetic=line.arithmetic)
                for i, line in enumerate(fee.lines)
            )  # fmt: skip
            used[practice.code] = term.pk
            total += fee.total_cents
            if progress is not None:
                progress(index + 1, len(practices))
        run.total_cents = total
        run.inputs = {
            "month": str(month),
            "terms": used,
            "zero_fee": zero,
            "revenue_sources": selectors.revenue_sources(month),
            "prepared_on": str(timezone.localdate()),
        }  # fmt: skip
        run.save()
        audit.record_write(actor, "fees.prepare", run, after={"month": str(month), "total_cents": total,
                                                               "invoices": len(used)})  # fmt: skip
    return run


def approve_run(*, actor: Actor, run: InvoiceRun) -> InvoiceRun:
    """Approve a draft run: a finance user other than who prepared it."""
    require(actor, Perm.EDIT_FINANCE)
    with transaction.atomic():
        run = InvoiceRun.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.DRAFT:
            raise RunRefused(
                f"fee run {run.pk} is {run.get_status_display().lower()}: only a draft can be approved"
            )
        if actor.username == run.prepared_by:
            raise RunRefused(
                f"fee run {run.pk} was prepared by {run.prepared_by}: another finance user must approve it"
            )
        run.status = Status.APPROVED
        run.approved_by = actor.username
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record_write(
            actor, "fees.approve", run, after={"status": run.status, "total_cents": run.total_cents}
        )
    return run


def _post_invoice(actor: Actor | None, invoice: Invoice, on: dt.date) -> None:
    cents = abs(invoice.total_cents)
    receivable, revenue = (
        (Posting(accounts.PRACTICE_RECEIVABLE, debit_cents=cents, practice_id=invoice.practice_id),
         Posting(accounts.MEMBERSHIP_FEE_REVENUE, credit_cents=cents, practice_id=invoice.practice_id))
        if invoice.total_cents > 0
        else (Posting(accounts.PRACTICE_RECEIVABLE, credit_cents=cents, practice_id=invoice.practice_id),
              Posting(accounts.MEMBERSHIP_FEE_REVENUE, debit_cents=cents, practice_id=invoice.practice_id))
    )  # fmt: skip
    kind = "credit note" if invoice.total_cents < 0 else "invoice"
    post_entry(actor=actor, date=on, memo=f"Membership fee {kind} {invoice.number}", postings=[receivable, revenue],
               source_type="membership_fee_invoice", source_id=invoice.pk)  # fmt: skip


def _apply(
    practice_id: int, on: dt.date, *, amount: int, payment: FeePayment | None = None,
    credit_note: Invoice | None = None, first: int | None = None,
) -> int:  # fmt: skip
    """Apply `amount` from a payment or a credit note to the practice's open invoices; return what is left."""
    if amount <= 0:
        return amount
    items = selectors.open_items(practice_id)
    applied, left = engine.apply_payment(amount, items, first=first)
    PaymentApplication.objects.bulk_create(
        PaymentApplication(invoice_id=invoice_id, payment=payment, credit_note=credit_note, amount_cents=cents,
                           applied_on=on)
        for invoice_id, cents in applied
    )  # fmt: skip
    return left


def _apply_credits(practice_id: int, on: dt.date) -> None:
    """Apply the practice's unapplied payments and credit notes, oldest first, to its open invoices."""
    for credit in selectors.unapplied_credits(practice_id):
        payment = FeePayment.objects.get(pk=credit.payment_id) if credit.payment_id else None
        note = Invoice.objects.get(pk=credit.credit_note_id) if credit.credit_note_id else None
        if _apply(practice_id, on, amount=credit.cents, payment=payment, credit_note=note) == credit.cents:
            break  # nothing open any more


def issue_run(*, actor: Actor | None, run: InvoiceRun, issue_date: dt.date | None = None) -> InvoiceRun:
    """Issue an approved run: number and date its invoices, post each to the ledger, apply credits."""
    _require_money(actor)
    on = issue_date or timezone.localdate()
    with transaction.atomic():
        run = InvoiceRun.objects.select_for_update().get(pk=run.pk)
        if run.status != Status.APPROVED:
            raise RunRefused(
                f"fee run {run.pk} is {run.get_status_display().lower()}: only an approved run is issued"
            )
        month = Month.of(run.month)
        invoices = list(run.invoices.select_related("practice", "credits").prefetch_related("lines__term"))
        for note in (i for i in invoices if i.credits is not None):
            assert note.credits is not None
            credited = -sum(
                n.total_cents
                for n in Invoice.objects.filter(credits=note.credits, run__status=Status.ISSUED).exclude(
                    pk=note.pk
                )
            )
            if -note.total_cents > note.credits.total_cents - credited:
                raise RunRefused(
                    f"{note.credits.number} has only {format_money(note.credits.total_cents - credited)} left to "
                    "credit: another credit note was issued since this one was prepared"
                )
        for invoice in invoices:
            term = next((ln.term for ln in invoice.lines.all() if ln.term is not None), None)
            days = term.payment_days if term is not None else 30
            if invoice.credits_id is not None:
                seq = Invoice.objects.filter(credits_id=invoice.credits_id).exclude(pk=invoice.pk).count() + 1
                invoice.number = (
                    _number(month, invoice.practice, credit=True, seq=seq) + f"-{invoice.credits_id}"
                )
            else:
                invoice.number = _number(month, invoice.practice)
            invoice.issue_date = on
            invoice.due_date = on + dt.timedelta(days=days)
            invoice.save(update_fields=["number", "issue_date", "due_date"])
            _post_invoice(actor, invoice, on)
        run.status = Status.ISSUED
        run.issued_by = _who(actor)
        run.issued_at = timezone.now()
        run.issue_date = on
        run.save(update_fields=["status", "issued_by", "issued_at", "issue_date"])
        for invoice in invoices:
            if invoice.credits_id is not None:
                # a credit note goes to the invoice it corrects first, the rest to the oldest open
                _apply(invoice.practice_id, on, amount=-invoice.total_cents, credit_note=invoice,
                       first=invoice.credits_id)  # fmt: skip
        for practice_id in sorted({i.practice_id for i in invoices}):
            _apply_credits(practice_id, on)
        audit.record_write(actor, "fees.issue", run, after={"status": run.status, "issue_date": str(on),
                                                             "invoices": len(invoices)})  # fmt: skip
    return run


def credit_note(
    *, actor: Actor, invoice: Invoice, amount: Decimal | str | None = None, reason: str
) -> InvoiceRun:
    """Prepare a credit note (a draft run of one negative invoice) against an issued invoice: the whole
    invoice, or `amount` dollars of it. What earlier credit notes took off cannot be credited again."""
    require(actor, Perm.EDIT_FINANCE)
    if not reason.strip():
        raise ValidationFailed.single("reason", "Say why the invoice is credited.")
    with transaction.atomic():
        invoice = Invoice.objects.select_related("run", "practice").get(pk=invoice.pk)
        if invoice.run.status != Status.ISSUED or invoice.credits_id is not None:
            raise ValidationFailed.single(
                "", f"{invoice.number} is not an issued invoice: only those are credited."
            )
        credited = -sum(
            n.total_cents for n in Invoice.objects.filter(credits=invoice).exclude(run__status=Status.DRAFT)
        )
        room = invoice.total_cents - credited
        cents: int | None = room
        if amount not in (None, ""):
            errs: dict[str, list[str]] = {}
            cents = _cents_field({"amount": amount}, "amount", errs, optional=False)
            if errs:
                raise ValidationFailed(errs)
        assert cents is not None
        if cents <= 0 or cents > room:
            raise ValidationFailed.single(
                "amount",
                f"Credit between $0.01 and {format_money(room)} (the invoice less earlier credit notes).",
            )
        run = InvoiceRun.objects.create(
            kind=InvoiceRun.Kind.CREDIT_NOTE, month=invoice.month, prepared_by=actor.username, total_cents=-cents,
            reason=reason.strip()[:300], inputs={"credits_invoice": invoice.pk, "credits_number": invoice.number},
        )  # fmt: skip
        note = Invoice.objects.create(
            run=run, practice=invoice.practice, number=f"draft-{run.pk}-{invoice.practice.code}", month=invoice.month,
            credits=invoice, total_cents=-cents,
        )  # fmt: skip
        InvoiceLine.objects.create(
            invoice=note, position=1, kind=InvoiceLine.Kind.CREDIT,
            description=f"Credit against {invoice.number}: {reason.strip()}"[:300], base_cents=invoice.total_cents,
            amount_cents=-cents, arithmetic=f"-{format_money(cents)} of {format_money(invoice.total_cents)}",
        )  # fmt: skip
        audit.record_write(actor, "fees.credit_note", run, after={"invoice": invoice.number, "cents": -cents})
    return run


# -- payments received ----------------------------------------------------------------------------------------


def record_payment(
    *, actor: Actor | None, practice: Practice | None, amount: Decimal | str | int, received_on: Any,
    method: str, reference: str, invoice: Invoice | None = None, today: dt.date | None = None, who: str = "",
) -> FeePayment:  # fmt: skip
    """Record money received from a practice and apply it (a named invoice first, then the oldest open ones);
    anything left is the practice's credit. Refused, with nothing written, for an amount that is not a positive
    number of dollars and cents, an unknown practice, a date in the future, an unknown method, no reference,
    or an invoice that is not the practice's issued invoice."""
    _require_money(actor)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    if practice is None:
        errors["practice"] = ["Unknown practice."]
    cents: int | None = None
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
        if isinstance(amount, (bool, float)) or not value.is_finite():
            raise InvalidOperation
        if value <= 0:
            errors["amount"] = ["The amount must be more than zero."]
        elif value != value.quantize(Decimal("0.01")):
            errors["amount"] = ["Use at most 2 decimals (dollars and cents)."]
        else:
            cents = to_cents(value)
    except InvalidOperation:
        errors["amount"] = [f"{amount!r} is not an amount."]
    if not isinstance(received_on, dt.date) or isinstance(received_on, dt.datetime):
        errors["received_on"] = ["Enter the date the money was received."]
    elif received_on > today:
        errors["received_on"] = [f"{received_on} is in the future."]
    if method not in FeePayment.Method.values:
        errors["method"] = [f"Choose one of {', '.join(FeePayment.Method.values)}."]
    if not reference or not reference.strip() or len(reference) > 80:
        errors["reference"] = ["Enter the payment's reference (check number, trace), at most 80 characters."]
    if invoice is not None and practice is not None and (
        invoice.practice_id != practice.pk or invoice.credits_id is not None
        or not InvoiceRun.objects.filter(pk=invoice.run_id, status=Status.ISSUED).exists()
    ):  # fmt: skip
        errors["invoice"] = [f"{invoice.number} is not an issued invoice of {practice.code}."]
    if errors:
        raise ValidationFailed(errors)
    assert practice is not None
    assert cents is not None
    assert isinstance(received_on, dt.date)
    with transaction.atomic():
        Practice.objects.select_for_update().get(pk=practice.pk)
        payment = FeePayment.objects.create(
            practice=practice, received_on=received_on, amount_cents=cents, method=method,
            reference=reference.strip(), recorded_by=_who(actor, who),
        )  # fmt: skip
        entry = post_entry(
            actor=actor, date=received_on, memo=f"Membership fee payment from {practice.code} ({reference.strip()})"[:500],
            postings=[Posting(accounts.CASH, debit_cents=cents, practice_id=practice.pk),
                      Posting(accounts.PRACTICE_RECEIVABLE, credit_cents=cents, practice_id=practice.pk)],
            source_type="membership_fee_payment", source_id=payment.pk,
        )  # fmt: skip
        payment.entry_id = entry.pk
        payment.save(update_fields=["entry_id"])
        _apply(practice.pk, received_on, amount=cents, payment=payment, first=invoice.pk if invoice else None)
        audit.record_write(actor, "fees.payment", payment, after=audit.snapshot(payment))
    return payment


# -- programs -------------------------------------------------------------------------------------------------


def _check_measure(measure: str, rate: str, year: int) -> str | None:
    years = [y for y in available_years() if y <= year] or available_years()
    try:
        definitions = load_measures(max(years))
    except DefinitionError as exc:
        return str(exc)
    for m in definitions.measures:
        if m.id == measure:
            if any(r.id == rate for r in m.rates):
                return None
            return f"{measure} has no rate {rate!r} (rates: {', '.join(r.id for r in m.rates)})."
    return f"No measure {measure!r} in the {definitions.year} definitions."


PROGRAM_FIELDS = ("name", "initiative", "region", "group_name", "measure", "rate", "baseline_run", "target_rate",
                  "start", "end", "status")  # fmt: skip


def _clean_program(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {k: data.get(k) for k in PROGRAM_FIELDS}
    for k in ("name", "initiative", "measure", "rate"):
        values[k] = str(values[k] or "").strip()
        if not values[k]:
            errors[k] = ["Required."]
    values["group_name"] = str(values["group_name"] or "").strip()
    region = values["region"]
    if region is not None and not isinstance(region, Region):
        errors["region"] = ["Choose a region."]
    if region is None and not values["group_name"]:
        errors["region"] = ["Choose a region or name the group of practices."]
    if not isinstance(values["baseline_run"], QualityRun):
        errors["baseline_run"] = ["Choose the quality run that gives the baseline."]
    try:
        target = Decimal(str(values["target_rate"]).strip())
        if not target.is_finite() or not 0 <= target <= 1 or target != target.quantize(Decimal("0.0001")):
            raise InvalidOperation
        values["target_rate"] = target
    except InvalidOperation:
        errors["target_rate"] = [
            "Enter the target as a fraction between 0 and 1 (0.75 = 75%), at most 4 decimals."
        ]
    start, end = values["start"], values["end"]
    if not isinstance(start, dt.date):
        errors["start"] = ["Enter the start date."]
    if not isinstance(end, dt.date):
        errors["end"] = ["Enter the end date."]
    elif isinstance(start, dt.date) and end < start:
        errors["end"] = ["The program ends before it starts."]
    values["status"] = values["status"] or Program.Status.PLANNED
    if values["status"] not in Program.Status.values:
        errors["status"] = [f"Choose one of {', '.join(Program.Status.values)}."]
    if not errors.get("measure") and not errors.get("rate") and isinstance(start, dt.date):
        problem = _check_measure(str(values["measure"]), str(values["rate"]), start.year)
        if problem:
            errors["rate" if "has no rate" in problem else "measure"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    return values


def _participants_default(program: Program, practices: list[Practice] | None) -> list[Practice]:
    if practices is not None:
        return practices
    if program.region_id is not None:
        return list(Practice.objects.filter(region_id=program.region_id, status=Practice.Status.ACTIVE))
    return []


def _set_baseline(program: Program) -> None:
    counts = selectors.counts_by_practice(program.baseline_run_id, program.measure, program.rate)
    members = selectors.participants_on(program, program.start)
    rate = selectors.group_rate(counts, members)
    program.baseline_numerator, program.baseline_denominator = rate.numerator, rate.denominator


def program_create(
    *, actor: Actor | None, data: Mapping[str, Any], practices: list[Practice] | None = None, who: str = ""
) -> Program:
    """Create a program. Its participants: `practices` (joining on the start date), or by default every active
    practice of its region. The baseline is the named run's rate for those practices."""
    if actor is not None:
        require(actor, Perm.EDIT_CLINICAL)
    values = _clean_program(data)
    with transaction.atomic():
        program = Program.objects.create(**values, created_by=_who(actor, who))
        for practice in _participants_default(program, practices):
            ProgramParticipant.objects.create(program=program, practice=practice, joined_on=program.start)
        _set_baseline(program)
        program.save(update_fields=["baseline_numerator", "baseline_denominator"])
        audit.record_write(actor, "programs.create", program, after=audit.snapshot(program))
    return program


def program_update(*, actor: Actor, program: Program, data: Mapping[str, Any]) -> Program:
    """Change a program (its baseline is computed again from the named run)."""
    require(actor, Perm.EDIT_CLINICAL)
    values = _clean_program(data)
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk)
        before = audit.snapshot(program)
        for k, v in values.items():
            setattr(program, k, v)
        _set_baseline(program)
        program.save()
        audit.record_write(actor, "programs.update", program, before=before, after=audit.snapshot(program))
    return program


def participant_join(
    *, actor: Actor, program: Program, practice: Practice, joined_on: dt.date
) -> ProgramParticipant:
    require(actor, Perm.EDIT_CLINICAL)
    with transaction.atomic():
        current = ProgramParticipant.objects.filter(program=program, practice=practice, left_on__isnull=True)
        if current.exists():
            raise ValidationFailed.single("practice", f"{practice.code} is already in the program.")
        if not program.start <= joined_on <= program.end:
            raise ValidationFailed.single("joined_on", "Join within the program's dates.")
        participant = ProgramParticipant.objects.create(
            program=program, practice=practice, joined_on=joined_on
        )
        audit.record_write(actor, "programs.join", participant, after=audit.snapshot(participant))
    return participant


def participant_leave(
    *, actor: Actor, participant: ProgramParticipant, left_on: dt.date
) -> ProgramParticipant:
    require(actor, Perm.EDIT_CLINICAL)
    with transaction.atomic():
        participant = ProgramParticipant.objects.select_for_update().get(pk=participant.pk)
        if participant.left_on is not None:
            raise ValidationFailed.single("left_on", "The practice has already left.")
        if left_on < participant.joined_on:
            raise ValidationFailed.single("left_on", "A practice leaves on or after the day it joined.")
        participant.left_on = left_on
        participant.save(update_fields=["left_on"])
        audit.record_write(actor, "programs.leave", participant, after=audit.snapshot(participant))
    return participant
