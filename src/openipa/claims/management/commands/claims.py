"""Claims from the command line.

- `openipa claims adjudicate [--as-of YYYY-MM-DD] [--json]`: decide every line waiting; prints the counts by
  outcome (paid, denied, pended) and the auto-adjudication rate (the share decided without a person).
- `openipa claims pay --through YYYY-MM-DD --user NAME [--payment-date YYYY-MM-DD] [--json]`: prepare the
  payment run of everything decided through the date (a draft); prints its `run_id`.
- `openipa claims approve RUN_ID --user NAME`: approve a draft (a finance user other than its preparer).
- `openipa claims remit RUN_ID --out DIR`: write the run's 835s, one per payee.
- `openipa claims nacha RUN_ID --out FILE`: write the NACHA file paying an approved run.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.claims.models import ClaimPaymentRun
from openipa.claims.services import adjudication, payments
from openipa.core.errors import PermissionDenied
from openipa.core.money import format_money


def _user(name: str) -> User:
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


def _run(pk: int) -> ClaimPaymentRun:
    try:
        return ClaimPaymentRun.objects.get(pk=pk)
    except ClaimPaymentRun.DoesNotExist:
        raise CommandError(f"no claims payment run {pk}") from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a YYYY-MM-DD date") from None


class Command(BaseCommand):
    help = "Claims: adjudicate the lines waiting."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        adj = verbs.add_parser("adjudicate", help="decide every claim line not decided yet")
        adj.add_argument("--as-of", help="the day the run counts as (default: today)")
        adj.add_argument("--json", action="store_true", help="print the result as JSON")
        pay = verbs.add_parser("pay", help="prepare the payment run of the lines decided through a date")
        pay.add_argument("--through", required=True, help="YYYY-MM-DD")
        pay.add_argument("--user", required=True, help="the finance user preparing the run")
        pay.add_argument("--payment-date", help="when the money arrives (default: tomorrow)")
        pay.add_argument("--json", action="store_true", help="print the result as JSON")
        approve = verbs.add_parser("approve", help="approve a draft payment run")
        approve.add_argument("run_id", type=int)
        approve.add_argument("--user", required=True, help="a finance user other than the preparer")
        approve.add_argument("--json", action="store_true")
        remit = verbs.add_parser("remit", help="write the 835s of an approved run, one per payee")
        remit.add_argument("run_id", type=int)
        remit.add_argument("--out", required=True, help="folder for the 835 files")
        nacha = verbs.add_parser("nacha", help="write the NACHA file paying an approved run")
        nacha.add_argument("run_id", type=int)
        nacha.add_argument("--out", required=True, help="the NACHA file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except (payments.RunRefused, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, options: dict[str, Any]) -> None:
        verb = options["verb"]
        if verb == "pay":
            run = payments.prepare_run(
                actor=_user(options["user"]), through=_date(options["through"]),
                payment_date=_date(options["payment_date"]) if options["payment_date"] else None,
            )  # fmt: skip
            self._show(run, options["json"])
        elif verb == "approve":
            run = payments.approve_run(actor=_user(options["user"]), run=_run(options["run_id"]))
            self._show(run, options["json"])
        elif verb == "remit":
            files = payments.remit_run(actor=None, run=_run(options["run_id"]), out=Path(options["out"]))
            self.stdout.write(f"{len(files)} 835 file(s) in {options['out']}")
        elif verb == "nacha":
            written = payments.pay_run(actor=None, run=_run(options["run_id"]), out=Path(options["out"]))
            self.stdout.write(
                f"{options['out']}: {written.entries} credit(s), {format_money(written.total_cents)}, entry hash "
                f"{written.entry_hash}"
            )
        elif verb == "adjudicate":
            today = _date(options["as_of"]) if options["as_of"] else None
            decided = adjudication.adjudicate_waiting(actor=None, who="cli", today=today)
            result = adjudication.result_json(decided)
            if options["json"]:
                self.stdout.write(json.dumps(result))
                return
            self.stdout.write(
                f"adjudication {decided.pk}: {decided.lines:,} lines: {decided.paid:,} paid "
                f"({format_money(decided.paid_cents)}), {decided.denied:,} denied, {decided.pended:,} pended; "
                f"{decided.reversed:,} reversed; auto-adjudication rate {decided.auto_adjudication_rate:.1%}"
            )

    def _show(self, run: ClaimPaymentRun, as_json: bool) -> None:
        result = payments.result_json(run)
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"claims payment run {run.pk} ({run.get_status_display().lower()}): {run.lines:,} lines, "
            f"{len(result['payees'])} payees, net {format_money(run.net_cents)} (interest "
            f"{format_money(run.interest_cents)}, reversals {format_money(run.reversal_cents)})"
        )
