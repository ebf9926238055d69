"""`openipa payments nacha RUN_ID --out FILE [--effective YYYY-MM-DD] [--json]`: pay an approved capitation run
with a NACHA (ACH CCD+) file. Exit status 1 with a message when the run cannot be paid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.capitation.models import DistributionRun
from openipa.capitation.services.payments import pay_run
from openipa.capitation.services.runs import RunRefused
from openipa.core.intake import cli_user
from openipa.core.money import format_money


class Command(BaseCommand):
    help = "Payments: write the NACHA file that pays an approved capitation run."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        nacha = verbs.add_parser("nacha", help="write the run's NACHA file and mark its payments sent")
        nacha.add_argument("run_id", type=int)
        nacha.add_argument("--out", required=True, help="where to write the NACHA file")
        nacha.add_argument("--effective", help="effective entry date, YYYY-MM-DD (default: tomorrow)")
        nacha.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = DistributionRun.objects.get(pk=options["run_id"])
        except DistributionRun.DoesNotExist:
            raise CommandError(f"no run {options['run_id']}") from None
        effective = None
        if options["effective"]:
            try:
                effective = dt.date.fromisoformat(options["effective"])
            except ValueError:
                raise CommandError(f"--effective {options['effective']!r} is not YYYY-MM-DD") from None
        try:
            record = pay_run(
                actor=None, run=run, out=Path(options["out"]), effective=effective, who=cli_user()
            )
        except RunRefused as exc:
            raise CommandError(str(exc)) from None
        result = {
            "run_id": run.pk,
            "file": str(options["out"]),
            "entries": record.entries,
            "total_cents": record.total_cents,
            "entry_hash": record.entry_hash,
            "held": run.payments.filter(status="held").count(),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.stdout.write(
                f"{options['out']}: {record.entries} payments, {format_money(record.total_cents)}, entry hash "
                f"{record.entry_hash}; {result['held']} held for missing bank details"
            )
