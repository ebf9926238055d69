"""`openipa import-clinical FILE|DIR --source NAME [--format fhir-ndjson|hl7v2|csv] [--json]`: import clinical
data from a registered source. A directory is imported file by file (a FHIR bulk export: Patient files first).
Exit status 0 when every file was applied (bad records in it are reported one by one and left out), 1 when a
file was rejected whole (nothing of it loaded; the file and the reason are kept).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.clinical.models import ClinicalImport, ClinicalSource
from openipa.clinical.services import import_clinical
from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user

TOTALS = ("patients", "records", "linked", "review", "unmatched", "error_count", "warning_count")


def result_json(record: ClinicalImport) -> dict[str, Any]:
    return {
        "file": record.file_name,
        "status": record.status,
        "format": record.format,
        "sha256": record.sha256,
        "error": record.error,
        "patients": record.patients,
        "records": record.records,
        "linked": record.linked,
        "review": record.review,
        "unmatched": record.unmatched,
        "errors": record.error_count,
        "warnings": record.warning_count,
        "issues": record.issues,
    }


class Command(BaseCommand):
    help = "Import clinical data (FHIR R4 bulk NDJSON, HL7 v2, clinical CSV) from a registered source."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a file, or a directory of files (a FHIR bulk export)")
        parser.add_argument("--source", required=True, help="the registered source's code")
        parser.add_argument("--format", choices=ClinicalSource.Format.values, default=None,
                            help="default: from the file's extension, else the source's format")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            records = import_clinical(actor=None, path=Path(options["path"]), source_code=options["source"],
                                      fmt=options["format"], imported_by=cli_user())  # fmt: skip
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        results = [result_json(r) for r in records]
        totals = {k: sum(getattr(r, k) for r in records) for k in TOTALS}
        if options["json"]:
            self.stdout.write(
                json.dumps({"source": options["source"], "imports": results, **totals}, default=str)
            )
        else:
            for record, result in zip(records, results, strict=True):
                if record.status == ClinicalImport.Status.REJECTED:
                    self.stderr.write(f"{record.file_name}: rejected: {record.error}")
                    continue
                self.stdout.write(
                    f"{record.file_name}: {record.patients:,} patients ({record.linked:,} linked, {record.review:,} "
                    f"to review, {record.unmatched:,} unmatched), {record.records:,} records, "
                    f"{record.error_count:,} errors, {record.warning_count:,} warnings"
                )
                for issue in result["issues"][:20]:
                    self.stderr.write(f"  {issue['filename']} line {issue['line']} {issue['field']}: "
                                      f"{issue['severity']}: {issue['message']}")  # fmt: skip
        if any(r.status == ClinicalImport.Status.REJECTED for r in records):
            raise SystemExit(1)
