"""Incentive settlements on the command line:

    openipa incentives settle --kind quality|withhold|risk-pool --contract NUMBER --period 2026|2026Q3
                              --user NAME [--quality-run ID] [--pool-cents N] [--json]
    openipa incentives approve RUN_ID --user NAME [--json]
    openipa incentives pay RUN_ID --out FILE [--user NAME] [--effective YYYY-MM-DD] [--json]
    openipa incentives formula --contract NUMBER --kind KIND --name NAME --from YYYY-MM-DD [--to YYYY-MM-DD]
                               --params FILE.json --user NAME [--end-previous] [--json]

Exit status 0 on success; 1 with a message on stderr when refused (unknown contract, no formula in force,
approval by the preparer ...).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.contracts.models import Contract
from openipa.core.errors import PermissionDenied, ValidationFailed
from openipa.core.money import format_money
from openipa.incentives import services
from openipa.incentives.models import SettlementRun

KINDS = {"quality": "quality", "withhold": "withhold", "risk-pool": "risk_pool", "risk_pool": "risk_pool"}


def _user(name: str) -> User:
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


def _run(pk: int) -> SettlementRun:
    try:
        return SettlementRun.objects.select_related("contract", "payer").get(pk=pk)
    except SettlementRun.DoesNotExist:
        raise CommandError(f"no settlement run {pk}") from None


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _contract(number: str) -> Contract:
    try:
        return Contract.objects.select_related("payer").get(number=number)
    except Contract.DoesNotExist:
        numbers = ", ".join(Contract.objects.order_by("number").values_list("number", flat=True)) or "none"
        raise CommandError(f"no contract {number!r} (contracts: {numbers})") from None


class Command(BaseCommand):
    help = (
        "Incentive settlements: prepare (settle), approve and pay quality-pool, withhold and risk-pool runs."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        settle = verbs.add_parser("settle", help="prepare a settlement (a draft, or a correction)")
        settle.add_argument("--kind", required=True, choices=sorted(KINDS))
        settle.add_argument("--contract", required=True, help="the contract's number")
        settle.add_argument("--period", required=True, help="a year (2026) or a quarter (2026Q3)")
        settle.add_argument("--user", required=True, help="the finance user preparing it")
        settle.add_argument(
            "--quality-run", type=int, help="the quality run to score (default: the year's latest)"
        )
        settle.add_argument("--pool-cents", type=int, help="a quality pool entered by hand, in cents")
        settle.add_argument("--json", action="store_true", help="print the result as JSON")
        approve = verbs.add_parser("approve", help="approve a draft (not by the user who prepared it)")
        approve.add_argument("run_id", type=int)
        approve.add_argument("--user", required=True, help="the approving finance user")
        approve.add_argument("--json", action="store_true")
        pay = verbs.add_parser("pay", help="write the NACHA file of an approved run and mark it paid")
        pay.add_argument("run_id", type=int)
        pay.add_argument("--out", required=True, help="the NACHA file to write")
        pay.add_argument("--user", default="", help="the finance user paying (default: the system)")
        pay.add_argument("--effective", help="the effective entry date (default: tomorrow)")
        pay.add_argument("--json", action="store_true")
        formula = verbs.add_parser(
            "formula", help="add a version of a contract's formula (docs/incentives.md)"
        )
        formula.add_argument("--contract", required=True, help="the contract's number")
        formula.add_argument("--kind", required=True, choices=sorted(KINDS))
        formula.add_argument("--name", required=True)
        formula.add_argument(
            "--from", dest="valid_from", required=True, help="first day in force, YYYY-MM-DD"
        )
        formula.add_argument("--to", dest="valid_to", help="last day in force (default: open-ended)")
        formula.add_argument("--params", required=True, help="a JSON file with the formula's fields")
        formula.add_argument(
            "--end-previous", action="store_true",
            help="end the version in force on --from the day before (refused when a settled run used it then)",
        )  # fmt: skip
        formula.add_argument("--user", required=True, help="the finance user adding it")
        formula.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        try:
            if verb == "settle":
                run = services.prepare_settlement(
                    actor=_user(options["user"]), contract=_contract(options["contract"]),
                    kind=KINDS[options["kind"]], period=options["period"],
                    quality_run_id=options.get("quality_run"), pool_cents=options.get("pool_cents"),
                )  # fmt: skip
                self._show(run, options["json"])
            elif verb == "approve":
                run = services.approve_settlement(actor=_user(options["user"]), run=_run(options["run_id"]))
                self._show(run, options["json"])
            elif verb == "formula":
                self._formula(options)
            else:
                self._pay(options)
        except (services.SettlementRefused, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        except ValidationFailed as exc:
            raise CommandError(str(exc)) from None

    def _formula(self, options: dict[str, Any]) -> None:
        try:
            params = json.loads(Path(options["params"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"--params: {exc}") from None
        formula = services.save_formula(
            actor=_user(options["user"]), contract=_contract(options["contract"]), kind=KINDS[options["kind"]],
            name=options["name"], params=params, valid_from=_date(options["valid_from"], "--from"),
            valid_to=_date(options["valid_to"], "--to") if options.get("valid_to") else None,
            end_previous=bool(options.get("end_previous")),
        )  # fmt: skip
        if options["json"]:
            self.stdout.write(json.dumps({"formula_id": formula.pk, "kind": formula.kind,
                                          "valid_from": str(formula.valid_from),
                                          "valid_to": str(formula.valid_to) if formula.valid_to else None}))  # fmt: skip
            return
        self.stdout.write(f"formula {formula.pk}: {formula}")

    def _pay(self, options: dict[str, Any]) -> None:
        effective = None
        if options.get("effective"):
            try:
                effective = dt.date.fromisoformat(options["effective"])
            except ValueError:
                raise CommandError(
                    f"--effective: {options['effective']!r} is not a date (YYYY-MM-DD)"
                ) from None
        actor = _user(options["user"]) if options["user"] else None
        record = services.pay_settlement(actor=actor, run=_run(options["run_id"]), out=Path(options["out"]),
                                         effective=effective, who="" if actor else "cli")  # fmt: skip
        held = record.run.lines.filter(pay_status="held").count()
        if options["json"]:
            self.stdout.write(json.dumps({"run_id": record.run_id, "file": str(options["out"]),
                                          "entries": record.entries, "total_cents": record.total_cents,
                                          "held": held, "sha256": record.sha256}))  # fmt: skip
            return
        self.stdout.write(f"settlement {record.run_id} paid: {record.entries} credits, "
                          f"{format_money(record.total_cents)} in {options['out']}; {held} held (no bank details)")  # fmt: skip

    def _show(self, run: SettlementRun, as_json: bool) -> None:
        result = services.result_json(run)
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"settlement {run.pk} ({run.get_kind_display().lower()}, {run.get_status_display().lower()}): "
            f"{run.contract.number} {run.period}"
            + (f", corrects {run.corrects_id}" if run.corrects_id else "")
        )
        self.stdout.write(f"  released {format_money(run.release_cents)}, owed to practices "
                          f"{format_money(run.paid_cents)}, charged {format_money(run.charged_cents)}, kept "
                          f"{format_money(run.kept_cents)}")  # fmt: skip
        for note in result["notes"]:
            self.stdout.write(f"  note: {note}")
        for p in result["practices"]:
            self.stdout.write(f"  {p['practice']:<12} {p['member_months']:>7} mm  score {p['score'] or '-':>8}  "
                              f"{p['tier']:<18} {format_money(p['amount_cents']):>14}")  # fmt: skip
