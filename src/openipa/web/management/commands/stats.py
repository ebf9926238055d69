"""`openipa stats [--json]`: counts of practices, providers, members, member-months and users per role."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from openipa.web.stats import platform_stats


class Command(BaseCommand):
    help = (
        "Print platform counts: practices, providers, members, member-months per payer and month, users "
        "per role. --json prints them as JSON with sorted keys (the same data always prints the same text)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of tables")

    def handle(self, *args: Any, **options: Any) -> None:
        stats = platform_stats()
        if options["json"]:
            self.stdout.write(json.dumps(stats, indent=2, sort_keys=True))
            return
        # Rich writes to the stream under Django's wrapper (so call_command(stdout=...) captures it too).
        console = Console(file=getattr(self.stdout, "_out", None), width=120)
        console.print(
            f"Practices [bold]{stats['practices']:,}[/]   Providers [bold]{stats['providers']:,}[/]   "
            f"Members [bold]{stats['members']:,}[/]"
        )
        by_payer_month: dict[str, dict[str, int]] = stats["member_months"]["by_payer_month"]
        by_month: dict[str, int] = stats["member_months"]["by_month"]
        payers = list(by_payer_month)
        table = Table(title="Member-months", title_justify="left")
        table.add_column("Month")
        for code in payers:
            table.add_column(code, justify="right")
        table.add_column("Total", justify="right", style="bold")
        for month, total in by_month.items():
            table.add_row(month, *(f"{by_payer_month[c][month]:,}" for c in payers), f"{total:,}")
        by_payer: dict[str, int] = stats["member_months"]["by_payer"]
        table.add_row(
            "Total", *(f"{by_payer[c]:,}" for c in payers), f"{sum(by_payer.values()):,}", style="bold"
        )
        console.print(table)
        users = Table(title="Users per role", title_justify="left")
        users.add_column("Role")
        users.add_column("Users", justify="right")
        for role, n in stats["users_by_role"].items():
            users.add_row(role, f"{n:,}")
        console.print(users)
