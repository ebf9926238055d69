"""`openipa demo`: build the synthetic demo IPA into an empty database (once), print the logins, serve it."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openipa.accounts.models import User
from openipa.core.months import Month
from openipa.demo import engine
from openipa.demo.services import (
    DEFAULT_PASSWORD,
    DEFAULT_SEED,
    DemoError,
    DemoLogin,
    build_demo,
    demo_is_built,
    demo_logins,
    roster_dir,
)
from openipa.network.models import Practice


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class Command(BaseCommand):
    help = (
        "Build the demo IPA if this database has none (about 40 practices, 150 providers, 3 payers and "
        "--members members with 12 months of eligibility ending with the --as-of month, imported from the "
        "payers' monthly 834 files, which are kept in var/demo/rosters/), a year of capitation and of claims "
        "(837s in var/demo/claims/, adjudicated, paid monthly but the last), print one login per role and "
        "per practice, then serve the site (unless --no-serve). The same --seed, --members "
        "and --as-of always build the same data; --as-of defaults to the current month, so pass it "
        "explicitly to compare builds made in different months."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--members",
            type=_positive,
            default=engine.DEFAULT_MEMBERS,
            help=f"members to generate (default {engine.DEFAULT_MEMBERS:,})",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
        )
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=f"password of every demo login (default {DEFAULT_PASSWORD!r})",
        )
        parser.add_argument(
            "--as-of",
            dest="as_of",
            type=_month,
            default=None,
            metavar="YYYY-MM",
            help="last month of eligibility (default: the current month)",
        )
        parser.add_argument("--no-serve", action="store_true", help="build and print the logins, then exit")
        parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=getattr(self.stdout, "_out", None), highlight=False)
        if not console.is_terminal:
            console.width = 120  # a log or a pipe: do not wrap the table at 80 columns
        password: str = options["password"]
        url = f"http://{options['host']}:{options['port']}/"

        call_command("migrate", interactive=False, verbosity=0)
        if demo_is_built():
            console.print("The demo is already built in this database; not building it again.")
            logins = demo_logins()
            password_known = self._password_matches(password)
        elif Practice.objects.exists():
            raise CommandError(
                "this database has practices but no demo build; the demo needs an empty database "
                "(point OPENIPA_VAR_DIR or DATABASE_URL elsewhere)"
            )
        else:
            as_of: Month = options["as_of"] or Month.of(timezone.localdate())
            logins = self._build(console, options["seed"], options["members"], password, as_of)
            password_known = True

        self._print_logins(console, logins, password if password_known else None, url)
        if not options["no_serve"]:
            call_command(
                "serve",
                host=options["host"],
                port=options["port"],
                stdout=getattr(self.stdout, "_out", None),
                stderr=getattr(self.stderr, "_out", None),
            )

    def _build(
        self, console: Console, seed: int, members: int, password: str, as_of: Month
    ) -> list[DemoLogin]:
        console.print(
            f"Building the demo IPA: seed {seed}, {members:,} members, eligibility through {as_of}."
        )
        started = time.monotonic()
        with Progress(
            TextColumn("{task.description:<32}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)
                if stage.startswith("  ") and done >= total:
                    bar.remove_task(tasks.pop(stage))  # one roster file: shown while it is imported

            try:
                summary = build_demo(
                    seed=seed, members=members, password=password, as_of=as_of, progress=progress
                )
            except DemoError as exc:
                raise CommandError(str(exc)) from None
        console.print(
            f"Built in {time.monotonic() - started:.1f} s: {summary.practices} practices, "
            f"{summary.providers} providers, {summary.members_on_file:,} members on file "
            f"({summary.members:,} generated), {summary.eligibility_spans:,} eligibility spans, "
            f"{summary.pcp_assignments:,} PCP assignments, from {summary.roster_files} roster files "
            f"({summary.roster_rejected} rejected) in {roster_dir()}; {summary.remittances} capitation "
            f"remittances, {summary.distribution_runs} distribution runs approved and paid "
            f"({summary.adjustment_runs} adjustment runs); the latest month is left to distribute."
        )
        if summary.claims:
            console.print(
                f"Claims: {summary.claims:,} claims ({summary.claim_lines:,} lines) from {summary.claim_files} 837 "
                f"files, adjudicated; {summary.claim_payment_runs} monthly payment runs approved "
                f"({summary.claim_payment_files} paid by NACHA); the latest month is left to pay."
            )
        if summary.um_requests:
            console.print(
                f"Authorizations: {summary.um_requests:,} requests, {summary.um_open} open "
                f"({summary.um_overdue} overdue), {summary.um_denied} denied by the medical directors, "
                f"{summary.um_appeals} appeals; sign in as um-nurse or medical-director for the queues."
            )
        if summary.clinical.files:
            c = summary.clinical
            console.print(
                f"Clinical data: {c.files} files from {c.sources} senders, {c.records:,} records, "
                f"{c.patients_linked:,} patients linked, {c.patients_review} to review, {c.patients_unmatched} "
                f"unmatched, {c.pharmacy_fills:,} pharmacy fills; {c.adt_notifications:,} ADT notifications "
                f"({c.adt_new} new); quality measurement year {c.measurement_year}."
            )
        if summary.measurement.quality_run:
            m = summary.measurement
            console.print(
                f"Quality and risk: measures for {m.quality_year} run ({m.quality_results:,} member results, "
                f"{m.open_gaps:,} open care gaps); {m.risk_members:,} members scored with CMS-HCC V28, "
                f"{m.coding_gaps:,} coding gaps; sign in as quality for the Quality and Risk pages."
            )
        if summary.incentives is not None and summary.savings is not None and summary.association is not None:
            i, s, a = summary.incentives, summary.savings, summary.association
            console.print(
                f"Value-based: {len(i.paid_runs)} incentive settlements paid ({i.period}), "
                f"{len(i.draft_runs)} left as drafts; shared savings settled and paid for {s.practices_paid} "
                f"practices ({s.settled_from}..{s.settled_to}) with this year's forecasts; {a.invoices:,} "
                f"membership-fee invoices, {a.payments:,} payments, {len(a.programs)} health-improvement programs"
                + (f"; {summary.governance.meetings} governance meetings" if summary.governance else "")
                + (f"; Tuva export in {summary.tuva_export.out_dir}" if summary.tuva_export else "")
                + ". Sign in as board for the board dashboard, as practice-01 for the practice portal."
            )
        return list(summary.logins)

    @staticmethod
    def _password_matches(password: str) -> bool:
        admin = User.objects.filter(username="admin").first()
        return admin is not None and admin.check_password(password)

    @staticmethod
    def _print_logins(console: Console, logins: list[DemoLogin], password: str | None, url: str) -> None:
        table = Table(title="Demo logins", title_justify="left")
        table.add_column("User name", style="bold")
        table.add_column("Role")
        table.add_column("Practice")
        for login in logins:
            table.add_row(login.username, login.role_label, login.practice)
        console.print(table)
        if password is not None:
            console.print(f"Password for every login: [bold]{password}[/]")
        else:
            console.print("Password for every login: the one given when the demo was built (default 'demo').")
        console.print(f"Open {url}")
