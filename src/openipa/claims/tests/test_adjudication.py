"""Adjudicating imported claims end to end: fee schedules loaded from CMS-layout files, the DOFR, a contracted
specialist group; each line paid, denied or pended with its reason; replacements and voids reverse the original;
the CLI's JSON; who may run it."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from openipa.claims.models import AdjudicationRun, Claim, ClaimLine
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.tests.conftest import claim_file
from openipa.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def _outcomes(claim: Claim) -> dict[str, tuple[str, str, int, int | None]]:
    return {
        line.code: (line.outcome, line.carc, line.paid_cents, line.allowed_cents)
        for line in ClaimLine.objects.filter(claim=claim)
    }


def test_each_line_is_paid_denied_or_pended_with_its_reason(claims_ipa: Any, tmp_path: Path) -> None:
    record = import_claims(
        actor=claims_ipa.users["ops"], path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2)
    )
    assert record.status == "applied", record.errors
    run = adjudicate_waiting(actor=claims_ipa.users["ops"], today=dt.date(2026, 11, 3))
    claim = Claim.objects.get(source=record)
    out = _outcomes(claim)
    # 99213 in the office, Los Angeles: (1.30 x 1.045 + 1.20 x 1.185 + 0.10 x 0.724) x 33.4009 = $95.29, billed $40:
    # the lesser of the two
    assert out["99213"] == ("paid", "", 4000, 4000)
    assert out["87070"][:2] == ("denied", "109")  # labs are the plan's under this DOFR
    assert out["86663"][:2] == ("denied", "109")
    assert out["99214"][0] == "pended"  # no RVU row prices 99214 in the test file
    line = ClaimLine.objects.get(claim=claim, code="99214")
    assert line.pend_reason.startswith("no fee schedule prices 99214")
    assert ClaimLine.objects.get(claim=claim, code="99213").pricing["method"] == "percent_of_medicare"
    assert (run.lines, run.paid, run.denied, run.pended, run.paid_cents) == (4, 1, 2, 1, 4000)
    assert run.auto_adjudication_rate == 0.75
    assert claim.status == Claim.Status.PENDED
    assert claim.billing_practice == claims_ipa.practice_b  # by the billing TIN: Birch Pediatrics' claims
    again = adjudicate_waiting(actor=None)
    assert again.lines == 0  # nothing waits any more


def test_late_claims_are_denied_for_timely_filing(claims_ipa: Any, tmp_path: Path) -> None:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2027, 3, 1))
    adjudicate_waiting(actor=None)
    assert ClaimLine.objects.get(code="99213").carc == "29"


def test_a_replacement_reverses_the_original_and_a_void_reverses_the_replacement(
    claims_ipa: Any, tmp_path: Path
) -> None:
    first = import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    adjudicate_waiting(actor=None)
    original = Claim.objects.get(source=first)
    replacement_file = claim_file(tmp_path, "replacement.837", clm="CLM*26463774*100.00***11:B:7*Y*A*Y*I")
    text = replacement_file.read_text().replace("REF*D9*17312345600006351", f"REF*F8*{original.pk}")
    replacement_file.write_text(text)
    second = import_claims(actor=None, path=replacement_file, received_on=dt.date(2026, 11, 5))
    assert second.status == "applied", second.errors
    run = adjudicate_waiting(actor=None)
    assert run.reversed == 4
    assert set(ClaimLine.objects.filter(claim=original).values_list("outcome", flat=True)) == {"reversed"}
    original.refresh_from_db()
    assert original.status == Claim.Status.REVERSED
    replacement = Claim.objects.get(source=second)
    # the original's lines are no longer history: the replacement's 99213 is not a duplicate of them
    assert _outcomes(replacement)["99213"][:2] == ("paid", "")


def test_the_cli_prints_counts_and_the_rate(claims_ipa: Any, tmp_path: Path) -> None:
    import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    out = StringIO()
    call_command("claims", "adjudicate", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["by_outcome"] == {"paid": 1, "denied": 2, "pended": 1}
    assert result["auto_adjudication_rate"] == 0.75


def test_a_practice_user_cannot_adjudicate(claims_ipa: Any, tmp_path: Path) -> None:
    import_claims(actor=None, path=claim_file(tmp_path))
    with pytest.raises(PermissionDenied):
        adjudicate_waiting(actor=claims_ipa.users["alice"])
    assert AdjudicationRun.objects.count() == 0
    assert set(ClaimLine.objects.values_list("outcome", flat=True)) == {"new"}


def test_reversing_keeps_the_original_decisions_day(claims_ipa: Any, tmp_path: Path) -> None:
    first = import_claims(actor=None, path=claim_file(tmp_path), received_on=dt.date(2026, 11, 2))
    run = adjudicate_waiting(actor=None)
    original = Claim.objects.get(source=first)
    decided = dict(ClaimLine.objects.filter(claim=original).values_list("pk", "adjudicated_at"))
    void = claim_file(tmp_path, "void.837", clm="CLM*26463774*100.00***11:B:8*Y*A*Y*I")
    void.write_text(void.read_text().replace("REF*D9*17312345600006351", f"REF*F8*{original.pk}"))
    import_claims(actor=None, path=void, received_on=dt.date(2026, 11, 9))
    adjudicate_waiting(actor=None)
    after = ClaimLine.objects.filter(claim=original)
    assert set(after.values_list("outcome", flat=True)) == {"reversed"}
    assert dict(after.values_list("pk", "adjudicated_at")) == decided
    assert set(after.values_list("adjudication_run_id", flat=True)) == {run.pk}


@pytest.mark.parametrize(("outcome", "index"), [("new", "claimline_new"), ("pended", "claimline_pended")])
def test_waiting_lines_are_found_by_their_partial_index(outcome: str, index: str) -> None:
    """The lines waiting (new, pended) are looked up through a partial index of their own, on both databases
    (SQLite uses a partial index only for a query naming its condition); decided lines are in no outcome index."""
    from django.db import connection, transaction

    query = ClaimLine.objects.filter(outcome=outcome).order_by("pk").values_list("pk", "claim_id")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # an empty test table is cheaper to scan: ask for the index
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert index in plan
