"""`openipa clinical source-add CODE --name NAME --kind ehr|lab|hie|hospital --format fhir-ndjson|hl7v2|csv
[--practice CODE] [--not-for-risk]`: register a source of clinical data.
`openipa clinical sources [--json]`: the sources, with their files and patients by match state.
`openipa clinical notifications [--status new|acknowledged] [--limit N] [--json]`: the ADT notifications (admissions,
discharges, ED visits of members), newest first; the members listed are recorded as read.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.clinical import adt_selectors, selectors, services
from openipa.clinical.models import AdtNotification, ClinicalSource
from openipa.core.errors import ValidationFailed
from openipa.network.models import Practice


class Command(BaseCommand):
    help = (
        "Clinical data: `clinical source-add ...` registers a source, `clinical sources` lists them, "
        "`clinical notifications` lists the ADT notifications."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        add = sub.add_parser("source-add", help="register a source of clinical data")
        add.add_argument("code", help="the code `import-clinical --source` will name")
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, choices=ClinicalSource.Kind.values)
        add.add_argument("--format", required=True, choices=ClinicalSource.Format.values, dest="fmt")
        add.add_argument("--practice", help="the practice code, for a practice's EHR")
        add.add_argument("--not-for-risk", action="store_true",
                         help="its diagnoses do not count for risk adjustment")  # fmt: skip
        listing = sub.add_parser("sources", help="list the sources")
        listing.add_argument("--json", action="store_true")
        notes = sub.add_parser("notifications", help="list the ADT notifications, newest first")
        notes.add_argument("--status", choices=AdtNotification.Status.values)
        notes.add_argument("--limit", type=int, help="at most this many")
        notes.add_argument("--json", action="store_true")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "source-add":
            practice = None
            if options["practice"]:
                practice = Practice.objects.filter(code=options["practice"]).first()
                if practice is None:
                    raise CommandError(f"no practice {options['practice']!r}")
            try:
                source = services.register_source(
                    actor=None, code=options["code"], name=options["name"], kind=options["kind"],
                    default_format=options["fmt"], practice=practice, accepted_for_risk=not options["not_for_risk"],
                )  # fmt: skip
            except ValidationFailed as exc:
                raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
            self.stdout.write(f"registered {source}")
            return
        if subcommand == "notifications":
            self._notifications(options)
            return
        rows = selectors.source_summary()
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for row in rows:
            self.stdout.write(f"{row['code']:<20} {row['kind']:<8} {row['format']:<12} {row['imports']:>5} files "
                              f"{row['linked']:>7} linked {row['review']:>5} to review {row['unmatched']:>6} "
                              f"unmatched")  # fmt: skip

    def _notifications(self, options: dict[str, Any]) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit: give a number of notifications (1 or more)")
        rows = adt_selectors.export_rows(status=options["status"] or "", limit=options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        for r in rows:
            due = f"follow-up by {r['follow_up_due']}" if r["follow_up_due"] else ""
            self.stdout.write(f"{r['event_date']} {r['label']:<20} {r['status']:<12} {r['member']:<14} {r['member_name']:<28} "
                              f"{r['patient_class']:<2} {r['facility'] or '-':<16} {r['practice'] or 'no PCP':<10} {due}")  # fmt: skip
        self.stdout.write(f"{len(rows)} notification{'s' if len(rows) != 1 else ''}")
