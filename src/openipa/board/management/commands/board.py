"""The board dashboard's figures on the command line (the system reading):
``openipa board --period 2026-Q3 [--as-of YYYY-MM-DD] [--json]``: revenue against medical cost, PMPM and MLR by
line of business, the RBO criteria with their lights and arithmetic, the reserve, top cost drivers and the
quality trajectory, the same figures as the page and its CSV (docs/board.md)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from openipa.board import engine, selectors
from openipa.core.money import format_money


def _money(cents: int | None) -> str:
    return "-" if cents is None else format_money(cents)


class Command(BaseCommand):
    help = "The board dashboard's figures: `board --period 2026-Q3 [--as-of DATE] [--json]`."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", help="2026-09 (a month), 2026-Q3 (a quarter) or 2026-09-YTD (default: the "
                                              "quarter of the last closed month)")  # fmt: skip
        parser.add_argument("--as-of", help="judge the criteria on this day (default: today)")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["as_of"]:
            try:
                today = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"--as-of: {options['as_of']!r} is not a date (YYYY-MM-DD)") from None
        try:
            period = engine.parse_period(options["period"], today=today) if options["period"] else (
                engine.default_period(today))  # fmt: skip
        except engine.BoardInputError as exc:
            raise CommandError(f"--period: {exc}") from None
        console = Console(file=sys.stderr, highlight=False)
        try:
            if not options["json"] and console.is_terminal:
                with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=console, transient=True) as bar:  # fmt: skip
                    task = bar.add_task("board", total=len(selectors.STEPS))

                    def advance(step: str) -> None:
                        bar.update(task, description=f"reading {step}", completed=selectors.STEPS.index(step))

                    board = selectors.board_dashboard(None, period=period, as_of=today, progress=advance)
                    bar.update(task, completed=len(selectors.STEPS))
            else:
                board = selectors.board_dashboard(None, period=period, as_of=today)
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None
        except engine.BoardInputError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(selectors.dashboard_json(board), indent=1))
            return
        self._print(board)

    def _print(self, board: selectors.Dashboard) -> None:
        out = self.stdout.write
        out(f"{board.period.label}; criteria judged on {board.as_of}, ledger balances at {board.balance_day}")
        out("")
        out(f"{'line of business':<26} {'member-months':>13} {'revenue':>16} {'medical cost':>16} "
            f"{'rev PMPM':>10} {'cost PMPM':>10} {'MLR':>7}")  # fmt: skip
        for f in [*board.lobs, board.total]:
            label = "All" if f is board.total else engine.lob_label(f.label)
            out(f"{label:<26} {f.member_months:>13,} {_money(f.revenue_cents):>16} {_money(f.cost_cents):>16} "
                f"{_money(f.revenue_pmpm):>10} {_money(f.cost_pmpm):>10} "
                f"{'-' if f.mlr_percent is None else str(f.mlr_percent) + '%':>7}")  # fmt: skip
        t = board.total
        out(f"  medical cost = claims paid {_money(t.claims_cents)} + capitation to practices "
            f"{_money(t.capitation_cents)} + IBNR (estimate) {_money(t.ibnr_cents)}")  # fmt: skip
        out("")
        out("RBO criteria")
        for c in board.criteria:
            out(f"  [{c.light.value:>5}] {c.title:<40} {c.value_text}  ({c.threshold_text})")
            out(f"          {c.arithmetic}")
        out("")
        estimate = board.estimate
        if estimate is None:
            out("Reserve: no IBNR estimate")
        else:
            out(f"Reserve: IBNR {_money(int(estimate.total_ibnr_cents))}, {estimate.status} estimate "
                f"{estimate.pk} as of {estimate.as_of:%Y-%m}, method {estimate.method}")  # fmt: skip
        out("")
        out(f"Top cost drivers (claims paid {_money(board.drivers.paid_cents)})")
        for title, rows in (("service category", board.drivers.categories),
                            ("diagnosis group", board.drivers.diagnoses),
                            ("place of service", board.drivers.places)):  # fmt: skip
            out(f"  by {title}")
            for r in rows:
                out(f"    {r.label:<42} {_money(r.paid_cents):>16} {_money(r.pmpm_cents):>10} PMPM "
                    f"{'' if r.share_percent is None else str(r.share_percent) + '%':>7}")  # fmt: skip
        out("")
        if board.quality.runs:
            out("Quality trajectory: " + " | ".join(board.quality.runs))
            for m in board.quality.measures:
                values = " ".join("-" if p is None else f"{p}%" for p in m.percents)
                target = "-" if m.target_percent is None else f"{m.target_percent}%"
                out(f"  {m.measure:<8} {m.rate:<14} {values}  target {target}")
        else:
            out("Quality trajectory: no quality run")
