"""`openipa risk score-file IN.csv --year YYYY [--model V28] --out OUT.csv`: CMS-HCC risk scores of a CSV
of beneficiaries, without the database.

Input columns exactly ``member_id, date_of_birth, sex, orec, medicaid, diagnosis_codes`` (codes separated
by spaces; ``medicaid`` is the CMS dual status code 00-10), optionally followed by ``crec`` and/or
``graft_months`` (read by the ESRD model, ``--model ESRDV24``); output ``member_id, raf, payment_raf, hccs``
(see openipa.risk.engine.beneficiary_file). The whole file is checked first: a bad file writes nothing,
prints each problem (file, line, column) on stderr and exits 1. ``raf`` is the model's raw score;
``payment_raf`` the payment year's score after normalization, the MA coding pattern adjustment and the
blend of models the year uses (openipa/risk/data/payment_factors.csv).

`openipa risk score --year YYYY [--model V28] [--json]`: scores the members in the database (Medicare Advantage
coverage on February 1 of the payment year or in the diagnosis window, the calendar year before) from their
claims' diagnoses and the conditions of clinical sources accepted for risk adjustment, stores a draft risk run
with the coding gaps (``openipa.risk.services.score_members``) and prints a summary: members, mean raf and
payment_raf, the top HCCs. ``--json`` prints ``{"run_id", "year", "model", "status", "members", "not_scored",
"mean_raf", "mean_payment_raf", "gaps", "members_by_model", "top_hccs", "scores": [{"member_id", "model", "raf",
"payment_raf", "hccs"}...]}`` (``model``: the model that scored the member: ESRD members by ESRDV24)
with every member scored and RAFs as strings ("1.234"), and ``"raw_only"``: true when the payment year has no
payment factors on file (payment RAFs null; such a run cannot be approved). The run is approved on the Risk page
by another user.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from openipa.core.errors import ValidationFailed
from openipa.core.intake import cli_user
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
        score_file.add_argument("--model", default="V28", help="V28 (default), V24, RxV08 (Part D), ESRDV24")
        score_file.add_argument("--out", required=True, help="the CSV of scores to write")
        db = sub.add_parser("score", help="score the members in the database and store a draft risk run")
        db.add_argument("--year", type=int, required=True, help="payment year (diagnoses of the year before)")
        db.add_argument("--model", default="V28", help="CMS-HCC model: V28 (default) or V24")
        db.add_argument("--json", action="store_true", help="print JSON with every member's score")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand == "score-file":
            self._score_file(Path(options["file"]), options["year"], options["model"], Path(options["out"]))
        elif subcommand == "score":
            self._score_db(options["year"], options["model"], as_json=options["json"])

    def _score_db(self, year: int, model: str, *, as_json: bool) -> None:
        from openipa.risk import selectors, services
        from openipa.risk.models import MemberScore

        try:
            run = services.score_members(None, year=year, model=model, who=cli_user())
        except ValidationFailed as exc:
            raise CommandError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
        except DatabaseError as exc:
            raise CommandError(f"cannot read the database ({exc}): is it migrated?") from None

        def milli(value: int | None) -> str | None:
            return None if value is None else pl.select(format_thousandths(pl.lit(value))).item()

        top = selectors.top_hccs(run)
        if as_json:
            rows = MemberScore.objects.filter(run=run).order_by("member_id")
            scores = [{"member_id": m, "model": s, "raf": milli(r), "payment_raf": milli(p), "hccs": h}
                      for m, s, r, p, h in rows.values_list("member_id", "model", "raf_milli", "payment_raf_milli",
                                                            "hccs")]  # fmt: skip
            self.stdout.write(json.dumps({
                "run_id": run.pk, "year": run.payment_year, "model": run.model, "status": run.status, "raw_only": run.raw_only,
                "members": run.members, "not_scored": run.not_scored, "mean_raf": milli(run.mean_raf_milli),
                "mean_payment_raf": milli(run.mean_payment_raf_milli), "gaps": run.gaps,
                "members_by_model": run.inputs.get("members_by_model", {}),
                "top_hccs": [{"hcc": h, "label": label, "members": n} for h, label, n in top],
                "scores": scores}))  # fmt: skip
            return
        self.stdout.write(
            f"risk run {run.pk} (draft): payment year {run.payment_year}, {run.model}, diagnoses of "
            f"{run.window_start}..{run.window_end}: {run.members:,} members scored"
            + (f" ({run.not_scored:,} not scored: sex unknown)" if run.not_scored else "")
            + "".join(f"; {n:,} by {m}" for m, n in run.inputs.get("members_by_model", {}).items())
        )
        self.stdout.write(f"  mean raf {milli(run.mean_raf_milli) or '-'}, mean payment raf "
                          f"{milli(run.mean_payment_raf_milli) or '-'}; {run.gaps:,} coding gaps")  # fmt: skip
        for hcc, label, n in top:
            self.stdout.write(f"  HCC {hcc:<4} {n:>7,}  {label}")
        if run.raw_only:
            self.stdout.write(
                f"  raw scores only ({run.inputs.get('raw_only', '')}): not for payment, cannot be approved"
            )
        else:
            self.stdout.write("  approve it on the Risk page (another user with EDIT_CLINICAL)")

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
        paid = members["payment_raf"].drop_nulls()
        mean = "-"
        if paid.len():
            total = int(paid.sum())
            mean_thousandths = (total * 2 + paid.len()) // (2 * paid.len())
            mean = pl.select(format_thousandths(pl.lit(mean_thousandths))).item()
        # the ESRD model gives no payment RAF to a member without ESRD (no OREC/CREC 2-3, no graft month)
        unpaid = members.height - paid.len()
        note = f" ({unpaid} without a payment RAF: no ESRD)" if unpaid else ""
        self.stdout.write(
            f"{members.height} members scored with {model} for {year}: mean payment RAF {mean}{note}; wrote {out}"
        )
