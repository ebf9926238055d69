"""`openipa edi stats FILE [--json]`: counts per transaction set of an X12 file, without the database.
`openipa edi eligibility FILE [--out FILE] [--payer CODE]`: answer a 270 with a 271.
`openipa edi auth FILE [--out FILE] [--json]`: receive the requests of a 278 and answer them with a 278.

It lives in the gateway app because it calls into several apps (membership for the 271, utilization
management for the 278); subcommands are argparse subparsers.
Exit status 0 for a good file, 1 for a bad one (the error on stderr, or under "error" in the JSON).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.edi.stats import FileStats, file_stats
from openipa.edi.t270 import Inquiry, read_270
from openipa.edi.t271 import (
    DUPLICATE_MEMBER_ID,
    SUBSCRIBER_NOT_FOUND,
    Answer,
    Eligibility,
    Provider,
    Rejection,
    build_271,
    precheck,
    screen,
)
from openipa.edi.x12 import X12Error


class Command(BaseCommand):
    help = (
        "X12 EDI tools. `edi stats FILE [--json]`: interchanges, groups, transactions, segments per set. "
        "`edi eligibility FILE [--out FILE] [--payer CODE]`: answer a 270 eligibility inquiry with a 271. "
        "`edi auth FILE [--out FILE] [--json]`: receive a 278's authorization requests and answer them."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        stats = sub.add_parser(
            "stats", help="count interchanges, groups, transactions, segments, members/claims"
        )
        stats.add_argument("file", help="an X12 file (834, 837, 835, 820, 270/271, 276/277, ...)")
        stats.add_argument("--json", action="store_true", help="print JSON instead of text")
        eligibility = sub.add_parser(
            "eligibility", help="answer a 270 eligibility inquiry with a 271 (coverage and PCP on the date)"
        )
        eligibility.add_argument("file", help="an X12 270 (005010X279A1)")
        eligibility.add_argument("--out", help="write the 271 to this file (default: standard output)")
        eligibility.add_argument(
            "--payer",
            help="payer code for inquiries whose NM1*PR id matches no payer's X12 payer id",
        )

        auth = sub.add_parser(
            "auth",
            help="receive the referrals and prior authorizations of a 278 and answer each in a 278 response",
        )
        auth.add_argument("file", help="an X12 278 request (005010X217)")
        auth.add_argument("--out", help="write the 278 response to this file (default: standard output)")
        auth.add_argument(
            "--json",
            action="store_true",
            help="print a JSON summary (requests, received, approved, rejected) instead; needs --out",
        )

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "stats":
            self._stats(options["file"], as_json=options["json"])
        elif subcommand == "eligibility":
            self._eligibility(options["file"], out=options["out"], payer=options["payer"])
        elif subcommand == "auth":
            self._auth(options["file"], out=options["out"], as_json=options["json"])

    def _auth(self, file: str, *, out: str | None, as_json: bool) -> None:
        """Every patient event of the 278 submitted as a request by the 278 gateway (source x12_278), and
        answered: A4 pended or A1 certified with the request number, AAA for a refused one (not written)."""
        from django.db import DatabaseError, transaction

        from openipa.contracts.models import Payer
        from openipa.edi.t278 import build_278, read_278
        from openipa.utilization.x12 import answer_file

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        if as_json and not out:
            raise CommandError(
                "--json prints the summary on standard output: give --out for the 278 response"
            )
        # The whole 278 is read before anything is looked up or written: a bad file gets no answer at all.
        try:
            requests = list(read_278(path, filename=str(path)))
            if not requests:
                raise X12Error(f"{file}: no 278 request in the file")
        except X12Error as exc:
            if as_json:
                self.stdout.write(json.dumps({"error": exc.as_dict()}, indent=2))
            else:
                self.stderr.write(f"error: {exc}")
            sys.exit(1)
        try:
            payers = dict(Payer.objects.exclude(x12_payer_id="").values_list("x12_payer_id", "code"))
        except DatabaseError as exc:
            raise CommandError(f"cannot read the payers ({exc}): is the database migrated?") from None
        target = Path(out) if out else None
        partial = target.with_name(target.name + ".partial") if target else None
        # The requests and the answer stand or fall together: the response is written (beside its target)
        # before the requests are committed, and put in place after.
        try:
            with transaction.atomic():
                answered = answer_file(requests, payers=payers)
                data = build_278(answered.pairs, when=dt.datetime.now())
                if partial is not None:
                    partial.write_bytes(data)
        except DatabaseError as exc:
            raise CommandError(f"cannot receive the requests ({exc}): is the database migrated?") from None
        if target is not None and partial is not None:
            partial.replace(target)
        else:
            self.stdout.write(data.decode("latin-1"), ending="")
        summary = answered.summary()
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, default=str))
        else:
            parts = [f"{len(answered.received)} received", f"{len(answered.approved)} approved on receipt",
                     f"{len(answered.rejected)} rejected"]  # fmt: skip
            if answered.duplicates:
                parts.append(f"{len(answered.duplicates)} sent before")
            self.stderr.write(f"{len(requests)} requests: " + ", ".join(parts))

    def _eligibility(self, file: str, *, out: str | None, payer: str | None) -> None:
        # Imported here: `edi stats` runs without a database, and so without the models.
        from django.db import DatabaseError

        from openipa.contracts.models import Payer

        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        # The whole 270 is read before anything is looked up or written: a bad file gets no 271 at all.
        try:
            inquiries = list(read_270(path, filename=str(path)))
        except X12Error as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(1)
        if not inquiries:
            self.stderr.write(f"error: {file}: no 270 inquiry in the file")
            sys.exit(1)
        try:
            payers = dict(Payer.objects.exclude(x12_payer_id="").values_list("x12_payer_id", "code"))
        except DatabaseError as exc:
            raise CommandError(f"cannot read the payers ({exc}): is the database migrated?") from None
        if payer is not None and not Payer.objects.filter(code=payer).exists():
            raise CommandError(f"unknown payer {payer!r}")
        answers = [_answer(inquiry, payers.get(inquiry.payer_id) or payer) for inquiry in inquiries]
        data = build_271(zip(inquiries, answers, strict=True), when=dt.datetime.now())
        if out:
            target = Path(out)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            partial.replace(target)
        else:
            self.stdout.write(data.decode("latin-1"), ending="")
        counts = Counter(_outcome(a) for a in answers)
        summary = ", ".join(f"{counts[k]} {k}" for k in ("active", "inactive", "rejected") if counts[k])
        self.stderr.write(f"{len(inquiries)} inquiries: {summary}")

    def _stats(self, file: str, *, as_json: bool) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        stats = file_stats(path, filename=str(path))
        if as_json:
            self.stdout.write(json.dumps(stats.as_dict(), indent=2))
        else:
            self.stdout.write(_text(stats))
        if stats.error is not None:
            if not as_json:
                self.stderr.write(f"error: {stats.error}")
            sys.exit(1)


def _answer(inquiry: Inquiry, payer_code: str | None) -> Answer:
    """One inquiry answered by the system (actor None: the command's user already holds the database); the
    read is recorded in the audit log with the purpose "eligibility inquiry"."""
    from openipa.core.errors import NotFound, ValidationFailed
    from openipa.membership.selectors import eligibility_on

    early = precheck(inquiry)
    if early is not None:
        return early
    try:
        found = eligibility_on(None, member_id=inquiry.member_id, on=inquiry.date, payer_code=payer_code)
    except NotFound:
        return Rejection(SUBSCRIBER_NOT_FOUND)
    except ValidationFailed:
        return Rejection(DUPLICATE_MEMBER_ID)
    pcp = (
        Provider(found.pcp_npi, found.pcp_last_name or "", found.pcp_first_name or "")
        if found.pcp_npi
        else None
    )
    eligibility = Eligibility(
        member_id=found.member_id,
        last_name=found.last_name,
        first_name=found.first_name,
        birth_date=found.date_of_birth,
        sex=found.sex,
        active=found.active,
        plan_name=found.product_name or "",
        plan_begin=found.coverage_from,
        plan_end=found.coverage_to,
        pcp=pcp,
    )
    return screen(inquiry, eligibility)


def _outcome(answer: Answer) -> str:
    if isinstance(answer, Rejection):
        return "rejected"
    return "active" if answer.active else "inactive"


def _text(stats: FileStats) -> str:
    lines = [
        f"file          {stats.file}",
        f"interchanges  {stats.interchanges}",
        f"groups        {stats.groups}",
        f"transactions  {stats.transactions}",
        f"segments      {stats.segments}",
    ]
    for set_id, counts in sorted(stats.by_transaction_set.items()):
        parts = [f"{k} {v}" for k, v in counts.as_dict().items()]
        lines.append(f"  {set_id}: " + ", ".join(parts))
    return "\n".join(lines)
