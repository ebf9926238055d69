"""IBNR reserves from the command line (docs/reserves.md).

- `openipa reserves ibnr --as-of YYYY-MM [--method METHOD] [--periods N] [--months 24] [--threshold 0.5]
  [--pmpm-months 12] [--tail 1] [--trend 0] [--group-by line_of_business,service_category] [--user NAME]
  [--json]`: prepare the draft estimate as of the month; prints totals per group and overall (with `--json`:
  `{"as_of", "estimate_id", "total_paid_cents", "total_ibnr_cents", "groups": [...], "months": [...], ...}`).
  Without `--user` the estimate is prepared by `cli`.
- `openipa reserves approve ESTIMATE_ID --user NAME [--json]`: approve a draft (a finance user other than its
  preparer).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.claims.engine import ibnr
from openipa.claims.models import IbnrEstimate
from openipa.claims.selectors import reserves as selectors
from openipa.claims.services import reserves
from openipa.core.errors import PermissionDenied
from openipa.core.money import format_money
from openipa.core.months import Month


def _user(name: str) -> User:
    try:
        return User.objects.get(username=name, is_active=True)
    except User.DoesNotExist:
        raise CommandError(f"no active user {name!r}") from None


def _estimate(pk: int) -> IbnrEstimate:
    try:
        return IbnrEstimate.objects.get(pk=pk)
    except IbnrEstimate.DoesNotExist:
        raise CommandError(f"no IBNR estimate {pk}") from None


class Command(BaseCommand):
    help = "IBNR reserves: prepare an estimate as of a month, approve one."
    # a batch step run by people and cron: the project's checks run with the server and migrate, not on
    # every step (they import every page's code, about 0.7 s)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        est = verbs.add_parser("ibnr", help="prepare the draft IBNR estimate as of a month")
        est.add_argument("--as-of", required=True, help="YYYY-MM: payments through the end of this month")
        est.add_argument("--method", default=ibnr.VOLUME_WEIGHTED, choices=ibnr.METHODS)
        est.add_argument("--periods", type=int, help=f"the N of {ibnr.VOLUME_WEIGHTED_LAST_N}")
        est.add_argument("--months", type=int, default=24, help="incurred months in the triangle")
        est.add_argument(
            "--threshold", default=str(ibnr.DEFAULT_THRESHOLD), help="PMPM below this completion"
        )
        est.add_argument("--pmpm-months", type=int, default=ibnr.DEFAULT_PMPM_MONTHS)
        est.add_argument("--tail", default="1", help="the tail factor (oldest lag to ultimate)")
        est.add_argument("--trend", default="0", help="monthly trend of the PMPM projection, e.g. 0.004")
        est.add_argument("--group-by", default=",".join(selectors.GROUP_COLUMNS), help="comma separated")
        est.add_argument("--user", help="the finance user preparing it (default: cli)")
        est.add_argument("--json", action="store_true", help="print the result as JSON")
        approve = verbs.add_parser("approve", help="approve a draft estimate")
        approve.add_argument("estimate_id", type=int)
        approve.add_argument("--user", required=True, help="a finance user other than the preparer")
        approve.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except (reserves.ReserveRefused, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None

    def _handle(self, options: dict[str, Any]) -> None:
        if options["verb"] == "approve":
            estimate = reserves.approve_estimate(_user(options["user"]), _estimate(options["estimate_id"]))
        else:
            try:
                as_of = Month.parse(options["as_of"])
            except ValueError:
                raise CommandError(f"--as-of {options['as_of']!r} is not a YYYY-MM month") from None
            estimate = reserves.estimate_ibnr(
                _user(options["user"]) if options["user"] else None,
                as_of,
                method=options["method"],
                periods=options["periods"],
                months=options["months"],
                threshold=options["threshold"],
                pmpm_months=options["pmpm_months"],
                tail=options["tail"],
                monthly_trend=options["trend"],
                group_by=[g.strip() for g in options["group_by"].split(",") if g.strip()],
                who="" if options["user"] else "cli",
            )
        self._show(estimate, options["json"])

    def _show(self, estimate: IbnrEstimate, as_json: bool) -> None:
        result = reserves.result_json(estimate, selectors.hindsight(None, estimate))
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        keys = result["group_by"]
        self.stdout.write(
            f"IBNR estimate {estimate.pk} as of {result['as_of']} ({estimate.get_status_display().lower()}, "
            f"{estimate.method}): paid {format_money(estimate.total_paid_cents)}, IBNR "
            f"{format_money(estimate.total_ibnr_cents)}"
        )
        for group in result["groups"]:
            name = " / ".join(str(group[k]) for k in keys) or "all claims"
            self.stdout.write(
                f"  {name}: paid {format_money(group['paid_cents'])}, ultimate "
                f"{format_money(group['ultimate_cents'])}, IBNR {format_money(group['ibnr_cents'])} "
                f"({group['chain_ladder_months']} chain-ladder, {group['pmpm_months']} PMPM months)"
            )
