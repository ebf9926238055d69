"""Membership fees on the command line:

    openipa fees invoice --month YYYY-MM [--user NAME] [--json]     prepare the month's invoices (a draft run)
    openipa fees approve RUN_ID --user NAME [--json]                 approve (not by whoever prepared it)
    openipa fees issue RUN_ID [--date YYYY-MM-DD] [--user NAME] [--json]   issue: number, date, post to the ledger
    openipa fees payment --practice CODE --amount 123.45 --date YYYY-MM-DD --reference R
                         [--method check|ach|wire|card] [--invoice NUMBER] [--user NAME] [--json]
    openipa fees balances [--as-of YYYY-MM-DD] [--user NAME] [--json]  balances and aging per practice

Without --user the system acts (recorded as ``cli:<login>``); approving needs a named finance user. Exit status 1
with a message when refused; nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openipa.accounts.models import User
from openipa.association import selectors, services
from openipa.association.models import Invoice, InvoiceRun
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.intake import cli_user
from openipa.core.money import decimal_text, format_money
from openipa.core.months import Month


def _user(name: str | None) -> User | None:
    if not name:
        return None
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


def _reader(name: str | None) -> User:
    user = _user(name) or User.objects.filter(role="finance", is_active=True).order_by("pk").first()
    if user is None:
        raise CommandError("no finance user to read as (give --user)")
    return user


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _run(run_id: int) -> InvoiceRun:
    try:
        return InvoiceRun.objects.get(pk=run_id)
    except InvoiceRun.DoesNotExist:
        raise CommandError(f"no fee run {run_id}") from None


def run_json(run: InvoiceRun) -> dict[str, Any]:
    invoices = run.invoices.select_related("practice").order_by("practice__code")
    return {
        "run_id": run.pk, "kind": run.kind, "month": f"{run.month:%Y-%m}", "status": run.status,
        "total": decimal_text(run.total_cents), "prepared_by": run.prepared_by, "approved_by": run.approved_by,
        "issue_date": run.issue_date.isoformat() if run.issue_date else None,
        "invoices": [{"practice": i.practice.code, "number": i.number, "total": decimal_text(i.total_cents)}
                     for i in invoices],
        "zero_fee": run.inputs.get("zero_fee", []),
    }  # fmt: skip


class Command(BaseCommand):
    help = (
        "Membership fees: prepare, approve and issue a month's invoices; record payments; balances and aging."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        inv = verbs.add_parser("invoice", help="prepare a month's membership-fee invoices (a draft run)")
        inv.add_argument("--month", required=True, help="the month invoiced, YYYY-MM")
        inv.add_argument("--user", help="the finance user preparing the run (default: the system)")
        inv.add_argument("--json", action="store_true")
        app = verbs.add_parser("approve", help="approve a draft run (not by whoever prepared it)")
        app.add_argument("run_id", type=int)
        app.add_argument("--user", required=True, help="the approving finance user")
        app.add_argument("--json", action="store_true")
        iss = verbs.add_parser("issue", help="issue an approved run: number, date and post its invoices")
        iss.add_argument("run_id", type=int)
        iss.add_argument("--date", help="the invoice date (default: today)")
        iss.add_argument("--user", help="the finance user issuing (default: the system)")
        iss.add_argument("--json", action="store_true")
        pay = verbs.add_parser("payment", help="record a payment received from a practice")
        pay.add_argument("--practice", required=True, help="the practice's code")
        pay.add_argument("--amount", required=True, help="dollars and cents, e.g. 123.45")
        pay.add_argument("--date", required=True, help="the day it was received, YYYY-MM-DD")
        pay.add_argument("--reference", required=True, help="check number, trace number ...")
        pay.add_argument("--method", default="check", help="check, ach, wire or card (default: check)")
        pay.add_argument("--invoice", help="apply to this invoice number first")
        pay.add_argument("--user", help="the finance user recording it (default: the system)")
        pay.add_argument("--json", action="store_true")
        bal = verbs.add_parser("balances", help="each practice's balance and aging")
        bal.add_argument("--as-of", help="age invoices on this day (default: today)")
        bal.add_argument("--user", help="read as this user (default: a finance user)")
        bal.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        try:
            if verb == "invoice":
                self._invoice(options)
            elif verb == "approve":
                user = _user(options["user"])
                assert user is not None
                self._show(services.approve_run(actor=user, run=_run(options["run_id"])), options["json"])
            elif verb == "issue":
                run = services.issue_run(actor=_user(options["user"]), run=_run(options["run_id"]),
                                         issue_date=_date(options["date"], "--date"))  # fmt: skip
                self._show(run, options["json"])
            elif verb == "payment":
                self._payment(options)
            else:
                self._balances(options)
        except (ValidationFailed, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None

    def _invoice(self, options: dict[str, Any]) -> None:
        try:
            month = Month.parse(options["month"])
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from None
        user = _user(options["user"])
        console = Console(stderr=True)
        with Progress(TextColumn("invoices"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, disable=options["json"]) as bar:  # fmt: skip
            task = bar.add_task("invoices", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = services.prepare_invoices(actor=user, month=month, who=cli_user(), progress=progress)
        self._show(run, options["json"])

    def _payment(self, options: dict[str, Any]) -> None:
        practice = selectors.practice_by_code(options["practice"])
        invoice = None
        if options["invoice"]:
            invoice = Invoice.objects.filter(number=options["invoice"]).first()
            if invoice is None:
                raise CommandError(f"no invoice {options['invoice']!r}")
        payment = services.record_payment(
            actor=_user(options["user"]), practice=practice, amount=options["amount"],
            received_on=_date(options["date"], "--date"), method=options["method"],
            reference=options["reference"], invoice=invoice, who=cli_user(),
        )  # fmt: skip
        applied = [(a.invoice.number, a.amount_cents) for a in payment.applications.select_related("invoice")]
        left = payment.amount_cents - sum(c for _n, c in applied)
        if options["json"]:
            self.stdout.write(json.dumps({
                "payment_id": payment.pk, "practice": payment.practice.code, "amount": decimal_text(payment.amount_cents),
                "applied": [{"invoice": n, "amount": decimal_text(c)} for n, c in applied],
                "credit": decimal_text(left)}))  # fmt: skip
            return
        parts = ", ".join(f"{format_money(c)} to {n}" for n, c in applied) or "nothing open"
        self.stdout.write(f"payment {payment.pk} from {payment.practice.code}: {format_money(payment.amount_cents)}; "
                          f"applied {parts}; credit {format_money(left)}")  # fmt: skip

    def _balances(self, options: dict[str, Any]) -> None:
        as_of = _date(options["as_of"], "--as-of") or timezone.localdate()
        rows = selectors.balances(_reader(options["user"]), as_of=as_of)
        if options["json"]:
            self.stdout.write(json.dumps({"as_of": as_of.isoformat(), "practices": [
                {"practice": b.practice.code, "balance": decimal_text(b.aging.balance_cents),
                 "credit": decimal_text(b.aging.credit_cents),
                 "aging": {k: decimal_text(v) for k, v in b.aging.buckets.items()}} for b in rows]}))  # fmt: skip
            return
        self.stdout.write(
            f"{'practice':<12}{'0-30':>14}{'31-60':>14}{'61-90':>14}{'90+':>14}{'credit':>14}{'balance':>14}"
        )
        for b in rows:
            cells = "".join(f"{format_money(v):>14}" for v in b.aging.buckets.values())
            self.stdout.write(f"{b.practice.code:<12}{cells}{format_money(b.aging.credit_cents):>14}"
                              f"{format_money(b.aging.balance_cents):>14}")  # fmt: skip

    def _show(self, run: InvoiceRun, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(run_json(run)))
            return
        count = run.invoices.count()
        self.stdout.write(f"fee run {run.pk} {run.month:%Y-%m} ({run.get_status_display().lower()}): {count} "
                          f"invoices, {format_money(run.total_cents)}")  # fmt: skip
