"""Shared savings on the command line:

    openipa savings settle --contract NUMBER --year 2026 --cutoff 2027-03-31 [--formula NAME] [--quality-run ID]
                           [--risk-run ID] [--user NAME] [--json]
    openipa savings settle --contract NUMBER --from 2025-11 --to 2026-10 --cutoff ... (a period that is not a year)
    openipa savings approve RUN_ID --user NAME [--json]
    openipa savings pay RUN_ID --user NAME --out FILE [--effective YYYY-MM-DD] [--json]
    openipa savings forecast --contract NUMBER --year 2026 --as-of 2026-09-30 [--samples 1000] [--seed 1]
                             [--quality-run ID] [--risk-run ID] [--user NAME] [--json]
    openipa savings add-terms --contract NUMBER --file TERMS.json [--user NAME] [--end-previous]
                              (the next version of the terms)
    openipa savings add-formula --file FORMULA.json [--user NAME] [--end-previous]  (the next version of a formula)

A terms file is one JSON object of SavingsTerm fields (docs/shared-savings.md), dates as YYYY-MM-DD and
amounts and percents as strings; a formula file has name, reserve_percent, admin_fee_percent, pools and
valid_from. ``--end-previous`` ends the version in force on the new one's ``valid_from`` the day before, in
the same transaction (refused when a settlement or forecast used it for a later day).

``settle`` freezes a snapshot and prepares a draft run (who: ``--user``, or the system as ``cli:<login>``);
``approve`` needs a finance user other than the preparer. Exit status 1 with a message when refused.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from openipa.accounts.models import User
from openipa.core.errors import NotFound, PermissionDenied, ValidationFailed
from openipa.core.intake import cli_user
from openipa.core.money import format_money
from openipa.core.months import Month
from openipa.quality.models import QualityRun
from openipa.risk.models import RiskRun
from openipa.savings import selectors, services
from openipa.savings.models import DistributionFormula, Forecast, SettlementRun


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def _month(text: str, option: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a month (YYYY-MM)") from None


def _user(name: str | None) -> User | None:
    if not name:
        return None
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


def _period(options: dict[str, Any]) -> tuple[Month, Month]:
    if options.get("year"):
        return Month(options["year"], 1), Month(options["year"], 12)
    if options.get("from") and options.get("to"):
        return _month(options["from"], "--from"), _month(options["to"], "--to")
    raise CommandError("give --year, or --from and --to")


def _json_file(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"--file: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError("--file: the file must hold one JSON object")
    for key in ("valid_from", "valid_to"):
        if isinstance(data.get(key), str):
            data[key] = _date(data[key], key)
    return data


def _run(run_id: int) -> SettlementRun:
    try:
        return SettlementRun.objects.get(pk=run_id)
    except SettlementRun.DoesNotExist:
        raise CommandError(f"no settlement run {run_id}") from None


def _optional(model: Any, pk: int | None, what: str) -> Any:
    if pk is None:
        return None
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise CommandError(f"no {what} {pk}") from None


def run_json(run: SettlementRun) -> dict[str, Any]:
    return {
        "run_id": run.pk,
        "status": run.status,
        "snapshot_id": run.snapshot_id,
        "benchmark_cents": run.benchmark_cents,
        "cost_cents": run.cost_cents,
        "savings_cents": run.savings_cents,
        "shared_cents": run.shared_cents,
        "reserve_cents": run.reserve_cents,
        "admin_fee_cents": run.admin_fee_cents,
        "distributable_cents": run.distributable_cents,
        "result": run.result,
        "shares": [
            {"practice_id": s.practice_id, "practice": s.practice.code, "member_months": s.member_months,
             "pools": s.pools, "total_cents": s.total_cents, "status": s.status}
            for s in run.shares.select_related("practice").order_by("practice__code")
        ],
    }  # fmt: skip


class Command(BaseCommand):
    help = "Shared savings: settle a contract's period, approve and pay a run, forecast the year."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        settle = verbs.add_parser("settle", help="freeze a snapshot and prepare a draft settlement run")
        forecast = verbs.add_parser(
            "forecast", help="project the year's settlement with a bootstrap interval"
        )
        for sub in (settle, forecast):
            sub.add_argument("--contract", required=True, help="the contract number")
            sub.add_argument("--year", type=int, help="the performance year (January to December)")
            sub.add_argument("--from", help="first month, YYYY-MM (instead of --year)")
            sub.add_argument("--to", help="last month, YYYY-MM (instead of --year)")
            sub.add_argument("--quality-run", type=int, help="the quality run whose scores count")
            sub.add_argument("--risk-run", type=int, help="the risk run whose scores count")
            sub.add_argument("--user", help="the finance user acting (default: the system)")
            sub.add_argument("--json", action="store_true", help="print JSON")
        settle.add_argument("--cutoff", required=True, help="claims paid by this day count, YYYY-MM-DD")
        settle.add_argument(
            "--formula",
            help="the distribution formula's name: its version in force on the period's last day (default: the only formula in force then)",
        )
        forecast.add_argument("--as-of", required=True, help="the day of the forecast, YYYY-MM-DD")
        forecast.add_argument("--samples", type=int, default=1000, help="bootstrap resamples (default 1000)")
        forecast.add_argument("--seed", type=int, default=1, help="the bootstrap's seed (default 1)")
        approve = verbs.add_parser("approve", help="approve a draft run (not by the user who prepared it)")
        approve.add_argument("run_id", type=int)
        approve.add_argument("--user", required=True, help="the approving finance user")
        approve.add_argument("--json", action="store_true", help="print JSON")
        pay = verbs.add_parser("pay", help="pay an approved run's practice shares (a NACHA file)")
        pay.add_argument("run_id", type=int)
        pay.add_argument("--user", required=True, help="the finance user paying")
        pay.add_argument("--out", required=True, help="the NACHA file to write")
        pay.add_argument("--effective", help="effective entry date (default: tomorrow)")
        pay.add_argument("--json", action="store_true", help="print JSON")
        terms = verbs.add_parser(
            "add-terms", help="add the next version of a contract's shared savings terms"
        )
        terms.add_argument("--contract", required=True, help="the contract number")
        terms.add_argument("--file", required=True, help="a JSON object of the terms' fields")
        terms.add_argument("--user", help="the user adding them (default: the system)")
        formula = verbs.add_parser("add-formula", help="add the next version of a distribution formula")
        formula.add_argument("--file", required=True, help="a JSON object: name, percents, pools, valid_from")
        formula.add_argument("--user", help="the user adding it (default: the system)")
        for sub in (terms, formula):
            sub.add_argument(
                "--end-previous", action="store_true",
                help="end the version in force on the new valid_from the day before (refused when a settlement "
                "or forecast used it for a later day)",
            )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['verb'].replace('-', '_')}")(options)
        except (services.RunRefused, PermissionDenied, ValidationFailed, NotFound) as exc:
            raise CommandError(str(exc)) from None

    def _settle(self, options: dict[str, Any]) -> None:
        first, last = _period(options)
        user = _user(options["user"])
        contract = selectors.contract_by_number(options["contract"])
        cutoff = _date(options["cutoff"], "--cutoff")
        formula = None
        if options["formula"]:
            # the version of that name in force on the period's last day (as without --formula), not its latest
            formula = services.formula_in_force(last.last_day, options["formula"])
            if formula is None:
                if DistributionFormula.objects.filter(name=options["formula"]).exists():
                    raise CommandError(
                        f"distribution formula {options['formula']!r} has no version in force on {last.last_day}"
                    )
                raise CommandError(f"no distribution formula {options['formula']!r}")
        else:
            formula = services.formula_in_force(last.last_day)
        console = Console(stderr=True)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                      disable=options["json"]) as progress:  # fmt: skip
            task = progress.add_task("Freezing the snapshot (attribution, claims, quality, risk)", total=2)
            snapshot = services.take_snapshot(
                user, contract=contract, first=first, last=last, cutoff=cutoff,
                quality_run=_optional(QualityRun, options["quality_run"], "quality run"),
                risk_run=_optional(RiskRun, options["risk_run"], "risk run"), who=cli_user() if user is None else "",
            )  # fmt: skip
            progress.update(task, advance=1, description="Settling and distributing")
            run = services.prepare_run(user, snapshot=snapshot, formula=formula,
                                       who=cli_user() if user is None else "")  # fmt: skip
            progress.update(task, advance=1)
        self._show(run, options["json"])

    def _approve(self, options: dict[str, Any]) -> None:
        run = services.approve_run(_user(options["user"]), _run(options["run_id"]))
        self._show(run, options["json"])

    def _pay(self, options: dict[str, Any]) -> None:
        effective = _date(options["effective"], "--effective") if options["effective"] else None
        run = services.pay_run(_user(options["user"]), _run(options["run_id"]), out=Path(options["out"]),
                               effective=effective)  # fmt: skip
        self._show(run, options["json"])

    def _forecast(self, options: dict[str, Any]) -> None:
        first, last = _period(options)
        user = _user(options["user"])
        console = Console(stderr=True)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                      disable=options["json"]) as progress:  # fmt: skip
            task = progress.add_task(f"Forecasting with {options['samples']:,} bootstrap resamples", total=1)
            record = services.make_forecast(
                user, contract=selectors.contract_by_number(options["contract"]), first=first, last=last,
                as_of=_date(options["as_of"], "--as-of"), samples=options["samples"], seed=options["seed"],
                quality_run=_optional(QualityRun, options["quality_run"], "quality run"),
                risk_run=_optional(RiskRun, options["risk_run"], "risk run"), who=cli_user() if user is None else "",
            )  # fmt: skip
            progress.update(task, advance=1)
        self._show_forecast(record, options["json"])

    def _add_terms(self, options: dict[str, Any]) -> None:
        data = _json_file(options["file"])
        user = _user(options["user"])
        term = services.term_create(user, contract=selectors.contract_by_number(options["contract"]), data=data,
                                    who=cli_user() if user is None else "",
                                    end_previous=bool(options.get("end_previous")))  # fmt: skip
        self.stdout.write(f"terms {term.pk}: {term.name} v{term.version}, in force from {term.valid_from}")
        self._ended(selectors.version_ending_before(term), options)

    def _add_formula(self, options: dict[str, Any]) -> None:
        user = _user(options["user"])
        formula = services.formula_create(
            user, data=_json_file(options["file"]), who=cli_user() if user is None else "",
            end_previous=bool(options.get("end_previous")),
        )  # fmt: skip
        self.stdout.write(
            f"formula {formula.pk}: {formula.name} v{formula.version}, in force from {formula.valid_from}"
        )
        self._ended(selectors.version_ending_before(formula), options)

    def _ended(self, previous: Any, options: dict[str, Any]) -> None:
        if options.get("end_previous") and previous is not None:
            self.stdout.write(f"  v{previous.version} now ends on {previous.valid_to}")

    def _show(self, run: SettlementRun, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(run_json(run)))
            return
        self.stdout.write(
            f"settlement run {run.pk} ({run.get_status_display().lower()}), snapshot {run.snapshot_id}"
        )
        for step in run.result["steps"]:
            self.stdout.write(f"  {step['label']}: {step['value']}")
        if run.distributable_cents:
            self.stdout.write(
                f"  reserve {format_money(run.reserve_cents)}, fee {format_money(run.admin_fee_cents)}, "
                f"distributed {format_money(run.distributable_cents)} to {run.shares.count()} practices"
            )

    def _show_forecast(self, record: Forecast, as_json: bool) -> None:
        r = record.result
        if as_json:
            self.stdout.write(json.dumps({"forecast_id": record.pk, "samples": record.samples, "seed": record.seed,
                                          **{k: v for k, v in r.items() if k != "histogram"}}))  # fmt: skip
            return
        interval = r["interval"]
        self.stdout.write(
            f"forecast {record.pk} as of {record.as_of}: projected savings {format_money(r['savings_cents'])} "
            f"({r['savings_rate']}%), 90% interval {format_money(interval['low'])} to {format_money(interval['high'])}"
        )
        self.stdout.write(f"  shared {format_money(r['shared_cents'])}")
        for name, p in r["probabilities"].items():
            self.stdout.write(f"  P({name.replace('_', ' ')}) = {p:.1%}")
