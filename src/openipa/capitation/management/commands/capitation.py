"""Capitation batch verbs:

    openipa capitation reconcile --payer CODE --month YYYY-MM [--json]
    openipa capitation distribute --payer CODE --month YYYY-MM --user NAME [--json]
    openipa capitation approve RUN_ID --user NAME
    openipa capitation statements RUN_ID --out DIR [--user NAME]

Exit status 0 on success; 1 with a message on stderr when the verb is refused (unknown payer, bad month ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.capitation.models import DistributionRun
from openipa.capitation.services import reconcile as reconcile_service
from openipa.capitation.services import runs as run_service
from openipa.contracts.models import Payer
from openipa.core.errors import PermissionDenied
from openipa.core.money import format_money
from openipa.core.months import Month


def payer_by_code(code: str) -> Payer:
    try:
        return Payer.objects.get(code__iexact=code)
    except Payer.DoesNotExist:
        codes = ", ".join(Payer.objects.order_by("code").values_list("code", flat=True)) or "none"
        raise CommandError(f"no payer with code {code!r} (payers: {codes})") from None


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _user(name: str) -> User:
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


class Command(BaseCommand):
    help = "Capitation: reconcile a payer-month, prepare its distribution run, approve a run."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        rec = verbs.add_parser("reconcile", help="expected vs received capitation for one payer-month")
        rec.add_argument("--payer", required=True, help="payer code")
        rec.add_argument("--month", required=True, help="coverage month, YYYY-MM")
        rec.add_argument("--json", action="store_true", help="print the result as JSON")
        dist = verbs.add_parser("distribute", help="prepare a payer-month's distribution run (a draft)")
        dist.add_argument("--payer", required=True, help="payer code")
        dist.add_argument("--month", required=True, help="coverage month, YYYY-MM")
        dist.add_argument("--user", required=True, help="the finance user preparing the run")
        dist.add_argument("--json", action="store_true", help="print the result as JSON")
        app = verbs.add_parser("approve", help="approve a draft run (not by the user who prepared it)")
        app.add_argument("run_id", type=int)
        app.add_argument("--user", required=True, help="the approving finance user")
        app.add_argument("--json", action="store_true", help="print the result as JSON")
        stm = verbs.add_parser("statements", help="write each practice's statement of a run (PDF and CSV)")
        stm.add_argument("run_id", type=int)
        stm.add_argument(
            "--out", required=True, help="the folder to write <practice code>-<run>.pdf/.csv into"
        )
        stm.add_argument("--user", default="", help="who reads the statements (default: a finance user)")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        try:
            if verb == "reconcile":
                self._reconcile(options)
            elif verb == "distribute":
                user = _user(options["user"])
                run = run_service.distribute_month(
                    actor=user, payer=payer_by_code(options["payer"]), month=_month(options["month"])
                )
                self._show_run(run, options["json"])
            elif verb == "approve":
                user = _user(options["user"])
                try:
                    run = DistributionRun.objects.get(pk=options["run_id"])
                except DistributionRun.DoesNotExist:
                    raise CommandError(f"no run {options['run_id']}") from None
                self._show_run(run_service.approve_run(actor=user, run=run), options["json"])
            elif verb == "statements":
                self._statements(options)
        except (run_service.RunRefused, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None

    def _statements(self, options: dict[str, Any]) -> None:
        from openipa.capitation import statements

        reader = _user(options["user"]) if options["user"] else User.objects.filter(role="finance").first()
        if reader is None:
            raise CommandError("no finance user to read the statements as (give --user)")
        try:
            run = DistributionRun.objects.get(pk=options["run_id"])
        except DistributionRun.DoesNotExist:
            raise CommandError(f"no run {options['run_id']}") from None
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        written = 0
        for payment_id, code in run.payments.order_by("practice__code").values_list("pk", "practice__code"):
            statement = statements.statement_for(reader, payment_id)
            lines = statements.all_member_lines(reader, statement, purpose="statements written by the CLI")
            stem = out / f"{code}-run{run.pk}"
            stem.with_suffix(".pdf").write_bytes(statements.statement_pdf(statement, lines))
            stem.with_suffix(".csv").write_text(statements.statement_csv(lines))
            written += 1
        self.stdout.write(f"{written} statements (PDF and CSV) in {out}")

    def _show_run(self, run: DistributionRun, as_json: bool) -> None:
        result = run_service.result_json(run)
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"run {run.pk} ({run.get_kind_display().lower()}, {run.get_status_display().lower()}): "
            f"{run.payer.code} {run.month:%Y-%m}, pool {format_money(run.pool_cents)}"
        )
        for name, cents in result["components"].items():
            self.stdout.write(f"  {name:<12} {format_money(cents):>16}")
        self.stdout.write(f"  {len(result['practices'])} practice payments")

    def _reconcile(self, options: dict[str, Any]) -> None:
        payer = payer_by_code(options["payer"])
        month = _month(options["month"])
        record = reconcile_service.reconcile(actor=None, payer=payer, month=month, who="cli")
        result = reconcile_service.result_json(record)
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"{payer.code} {month}: expected {format_money(record.expected_cents)}, received "
            f"{format_money(record.received_cents)}, variance {format_money(record.variance_cents)}"
        )
        for category, numbers in result["by_category"].items():
            self.stdout.write(
                f"  {category:<22} {numbers['count']:>7,}  {format_money(numbers['cents']):>16}"
            )
