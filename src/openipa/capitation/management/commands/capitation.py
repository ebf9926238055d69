"""`openipa capitation reconcile --payer CODE --month YYYY-MM [--json]`: capitation batch verbs.

Exit status 0 on success; 1 with a message on stderr when the verb is refused (unknown payer, bad month ...).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.capitation.services import reconcile as reconcile_service
from openipa.contracts.models import Payer
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


class Command(BaseCommand):
    help = "Capitation: reconcile a payer-month (expected against received)."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        rec = verbs.add_parser("reconcile", help="expected vs received capitation for one payer-month")
        rec.add_argument("--payer", required=True, help="payer code")
        rec.add_argument("--month", required=True, help="coverage month, YYYY-MM")
        rec.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "reconcile":
            self._reconcile(options)

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
