"""`openipa fees ...` and `openipa programs list` through Django's call_command."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from openipa.association import services
from openipa.association.models import FeePayment, InvoiceRun


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_fees_cli_invoice_approve_issue_pay_and_balances(ipa: Any) -> None:
    services.fee_term_create(actor=ipa.users["fin"], practice=ipa.practice_a, data={
        "method": "flat_monthly", "amount": "250.00", "valid_from": dt.date(2026, 1, 1)})  # fmt: skip
    made = json.loads(_run("fees", "invoice", "--month", "2026-10", "--user", "fin", "--json"))
    assert made["status"] == "draft"
    assert made["total"] == "250.00"
    run_id = str(made["run_id"])
    with pytest.raises(CommandError, match="another finance user"):
        _run("fees", "approve", run_id, "--user", "fin")
    assert InvoiceRun.objects.get(pk=run_id).status == "draft"
    assert "approved" in _run("fees", "approve", run_id, "--user", "fin2")
    issued = json.loads(_run("fees", "issue", run_id, "--date", "2026-10-31", "--user", "fin", "--json"))
    assert issued["invoices"] == [{"practice": "ALDER", "number": "MF-202610-ALDER", "total": "250.00"}]
    with pytest.raises(CommandError, match="Unknown practice"):
        _run(
            "fees",
            "payment",
            "--practice",
            "NOPE",
            "--amount",
            "1.00",
            "--date",
            "2026-11-01",
            "--reference",
            "r",
        )
    with pytest.raises(CommandError, match="more than zero"):
        _run(
            "fees",
            "payment",
            "--practice",
            "ALDER",
            "--amount",
            "-1.00",
            "--date",
            "2026-11-01",
            "--reference",
            "r",
        )
    assert not FeePayment.objects.exists()
    paid = json.loads(_run("fees", "payment", "--practice", "alder", "--amount", "300.00", "--date", "2026-11-01",
                           "--reference", "CHK 1", "--user", "fin", "--json"))  # fmt: skip
    assert paid["applied"] == [{"invoice": "MF-202610-ALDER", "amount": "250.00"}]
    assert paid["credit"] == "50.00"
    balances = json.loads(_run("fees", "balances", "--as-of", "2026-11-02", "--json"))
    assert balances["practices"] == [{"practice": "ALDER", "balance": "-50.00", "credit": "50.00",
                                      "aging": {"0-30": "0.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}}]  # fmt: skip
    assert "ALDER" in _run("fees", "balances", "--as-of", "2026-11-02")


@pytest.mark.django_db
def test_programs_cli_lists_nothing_then_refuses_an_unknown_user(ipa: Any) -> None:
    assert json.loads(_run("programs", "list", "--json")) == {"programs": []}
    with pytest.raises(CommandError, match="no active user"):
        _run("programs", "list", "--user", "ghost")
