"""`openipa claims adjudicate [--as-of YYYY-MM-DD] [--json]`: decide every claim line waiting.

Prints the counts by outcome (paid, denied, pended) and the auto-adjudication rate (the share of lines decided
without a person).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.claims.services import adjudication
from openipa.core.money import format_money


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a YYYY-MM-DD date") from None


class Command(BaseCommand):
    help = "Claims: adjudicate the lines waiting."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        adj = verbs.add_parser("adjudicate", help="decide every claim line not decided yet")
        adj.add_argument("--as-of", help="the day the run counts as (default: today)")
        adj.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "adjudicate":
            today = _date(options["as_of"]) if options["as_of"] else None
            run = adjudication.adjudicate_waiting(actor=None, who="cli", today=today)
            result = adjudication.result_json(run)
            if options["json"]:
                self.stdout.write(json.dumps(result))
                return
            self.stdout.write(
                f"adjudication {run.pk}: {run.lines:,} lines: {run.paid:,} paid ({format_money(run.paid_cents)}), "
                f"{run.denied:,} denied, {run.pended:,} pended; {run.reversed:,} reversed; auto-adjudication "
                f"rate {run.auto_adjudication_rate:.1%}"
            )
