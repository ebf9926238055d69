"""`openipa risk score-file IN.csv --year YYYY [--model V28] --out OUT.csv`: CMS-HCC risk scores of a CSV
of beneficiaries, without the database.

Input columns exactly ``member_id, date_of_birth, sex, orec, medicaid, diagnosis_codes`` (codes separated
by spaces; ``medicaid`` is the CMS dual status code 00-10); output ``member_id, raf, payment_raf, hccs``
(see openipa.risk.engine.beneficiary_file). The whole file is checked first: a bad file writes nothing,
prints each problem (file, line, column) on stderr and exits 1. ``raf`` is the model's raw score;
``payment_raf`` the payment year's score after normalization, the MA coding pattern adjustment and the
blend of models the year uses (openipa/risk/data/payment_factors.csv).

The ``score`` subcommand name is kept for scoring the members in the database (a later change).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.risk.engine.beneficiary_file import BeneficiaryFileError, parse_beneficiaries, scores_csv
from openipa.risk.engine.score import format_thousandths, score
from openipa.risk.engine.tables import TableError


class Command(BaseCommand):
    help = (
        "CMS-HCC risk adjustment. `risk score-file IN.csv --year YYYY [--model V28] --out OUT.csv`: "
        "score a CSV of beneficiaries without the database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, parser_class=type(parser))
        score_file = sub.add_parser(
            "score-file",
            help="score a CSV of beneficiaries (no database) and write member_id,raf,payment_raf,hccs",
        )
        score_file.add_argument("file", help="CSV: member_id,date_of_birth,sex,orec,medicaid,diagnosis_codes")
        score_file.add_argument("--year", type=int, required=True, help="payment year (age as of February 1)")
        score_file.add_argument("--model", default="V28", help="CMS-HCC model: V28 (default) or V24")
        score_file.add_argument("--out", required=True, help="the CSV of scores to write")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "score-file":
            self._score_file(Path(options["file"]), options["year"], options["model"], Path(options["out"]))

    def _score_file(self, path: Path, year: int, model: str, out: Path) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            frame = parse_beneficiaries(path.read_bytes(), str(path), year)
            result = score(frame, year, model)
        except BeneficiaryFileError as exc:
            for error in exc.errors:
                self.stderr.write(f"error: {error}")
            sys.exit(1)
        except (TableError, UnicodeDecodeError) as exc:
            self.stderr.write(f"error: {path}: {exc}")
            sys.exit(1)
        data = scores_csv(result.members)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
        members = result.members
        mean = "-"
        if members.height:
            total = int(members["payment_raf"].sum())
            mean_thousandths = (total * 2 + members.height) // (2 * members.height)
            mean = pl.select(format_thousandths(pl.lit(mean_thousandths))).item()
        self.stdout.write(
            f"{members.height} members scored with {model} for {year}: mean payment RAF {mean}; wrote {out}"
        )
