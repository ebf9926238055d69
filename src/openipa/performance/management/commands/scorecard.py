"""A practice's or PCP's scorecard on the command line:
``openipa scorecard --practice CODE --period 2026-Q3 [--pcp NPI] [--user LOGIN] [--json]``.

Reads as IPA staff (a read-only system reader recorded as ``cli:<login>``), or as ``--user`` with that user's
scope (a practice user: its own practice and PCPs only, peers as aggregates of at least K other practices).
Prints each metric with its target and the peers' mean and quartiles; ``--json`` prints the same as JSON
(values as exact decimal strings)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console

from openipa.accounts.models import User
from openipa.core.errors import NotFound, PermissionDenied
from openipa.core.intake import cli_user
from openipa.core.roles import Actor, Role
from openipa.network.models import Practice, Provider
from openipa.performance import scorecard_selectors as sel
from openipa.performance.engine import scorecard as sc


@dataclass(frozen=True)
class CliReader:
    """The command line reading as IPA staff: the auditor's read-only scope."""

    username: str
    pk: object = None
    role: str = Role.AUDITOR.value
    practice_id: int | None = None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def card_json(card: sel.Scorecard) -> dict[str, Any]:
    counts = card.counts
    return {
        "unit": card.unit, "id": card.unit_id, "name": card.name, "code": card.code,
        "practice": card.practice_name, "period": card.period.label, "first": str(card.period.first),
        "last": str(card.period.last), "member_months": counts.member_months,
        "claims_cents": counts.claims_cents, "capitation_cents": counts.capitation_cents,
        "raf_defaulted": card.raf_defaulted, "qualifies": card.qualifies,
        "metrics": [
            {"key": r.key, "label": r.label, "value": _text(r.value), "target": _text(r.target), "met": r.met,
             "peers": None if r.peers is None else {
                 "units": r.peers.units, "mean": _text(r.peers.mean), "p25": _text(r.peers.p25),
                 "median": _text(r.peers.median), "p75": _text(r.peers.p75)}}
            for r in card.rows
        ],
        "sources": {"quality_run": card.sources.quality_run_id, "baseline_run": card.sources.baseline_run_id,
                    "risk_runs": {str(k): v for k, v in card.sources.risk_run_ids.items()},
                    "recapture_runs": [card.sources.recapture_prior_run_id, card.sources.recapture_run_id],
                    "min_member_months": card.sources.settings.min_member_months,
                    "min_peer_practices": card.min_peer_practices},
    }  # fmt: skip


class Command(BaseCommand):
    help = "A practice's (or PCP's) scorecard: `scorecard --practice CODE --period 2026-Q3 [--pcp NPI] [--json]`."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", required=True, help="the practice's code")
        parser.add_argument("--period", default="", help="YYYY-MM, YYYY-Qn, YYYY-YTD or YYYY (default: the last "
                                                         "complete quarter)")  # fmt: skip
        parser.add_argument(
            "--pcp", default="", help="a PCP's NPI: that PCP's scorecard (a PCP of the practice)"
        )
        parser.add_argument(
            "--user", default="", help="read as this user, with its scope (default: IPA staff)"
        )
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        try:
            period = (
                sc.parse_period(options["period"], today) if options["period"] else sc.default_period(today)
            )
        except ValueError as exc:
            raise CommandError(f"--period: {exc}") from None
        actor: Actor = CliReader(cli_user())
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"--user: no active user {options['user']!r}")
            actor = user
        practice = Practice.objects.filter(code=options["practice"]).first()
        if practice is None:
            raise CommandError(f"--practice: no practice {options['practice']!r}")
        console = Console(stderr=True, quiet=options["json"])
        try:
            with console.status(f"Computing the scorecard for {period.label}"):
                if options["pcp"]:
                    provider = Provider.objects.filter(npi=options["pcp"]).first()
                    if provider is None:
                        raise CommandError(f"--pcp: no provider with NPI {options['pcp']!r}")
                    card = sel.pcp_scorecard(actor, provider.pk, period)
                    if card.practice_id != practice.pk:
                        raise CommandError(
                            f"--pcp: {options['pcp']} is not a PCP of {practice.code} in {period.label}"
                        )
                else:
                    card = sel.practice_scorecard(actor, practice.pk, period)
        except PermissionDenied:
            raise CommandError("not allowed: this user may not read scorecards") from None
        except NotFound:
            raise CommandError("not found (or not in this user's scope)") from None
        except sc.ScorecardDataError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(card_json(card), indent=2))
            return
        self._print(card)

    def _print(self, card: sel.Scorecard) -> None:
        out = self.stdout
        out.write(
            f"{card.name} ({card.code}), {card.period.label}: {card.period.first} to {card.period.last}"
        )
        out.write(f"member-months {card.counts.member_months}, claims paid {card.counts.claims_cents / 100:,.2f}, "
                  f"capitation {card.counts.capitation_cents / 100:,.2f}"
                  + ("; no payment RAF: divided by 1.000" if card.raf_defaulted else ""))  # fmt: skip
        out.write(f"{'metric':<44} {'value':>12} {'target':>12} {'peer mean':>12} {'p25':>12} {'median':>12} "
                  f"{'p75':>12}")  # fmt: skip
        for r in card.rows:
            value = "-" if r.value is None else str(r.value)
            target = (
                ""
                if r.target is None
                else f"{r.target}{' met' if r.met else ' not met' if r.met is False else ''}"
            )
            if r.peers is None:
                peers = f"{'not enough peers':>12}"
            else:
                peers = " ".join(
                    f"{v!s:>12}" for v in (r.peers.mean, r.peers.p25, r.peers.median, r.peers.p75)
                )
            out.write(f"{r.label[:44]:<44} {value:>12} {target:>12} {peers}")
