"""The pages that add a contract's terms and a formula's next version: a good post creates exactly what the
command line creates from the same data, every bad input is shown on its field and creates nothing, and
only finance (EDIT_FINANCE) sees the forms or may post: everyone else gets the 403 page and nothing changes."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from openipa.savings.models import DistributionFormula, SavingsTerm

TERM_FIELDS_COMPARED = [
    f.name for f in SavingsTerm._meta.get_fields() if f.concrete and f.name not in ("id", "created_at")
]
FORMULA_FIELDS_COMPARED = [
    f.name
    for f in DistributionFormula._meta.get_fields()
    if f.concrete and f.name not in ("id", "created_at")
]

PAYER_POST = {
    "kind": "payer", "name": "Sunrise shared savings 2027", "line_of_business": "", "track": "",
    "valid_from": "2027-01-01", "valid_to": "2027-12-31", "benchmark_basis": "pmpm",
    "benchmark_amount": "950.00", "target_mlr_percent": "", "reference_raf": "", "msr_source": "fixed",
    "msr_percent": "2", "msr_table": "", "first_dollar": "", "sharing_percent": "50",
    "savings_cap_percent": "10", "quality_min_score": "70", "quality_scale": "60, 50\n80, 100",
    "quality_standard": "HEDIS composite", "two_sided": "true", "mlr_percent": "2",
    "loss_sharing_percent": "40", "loss_sharing_floor_percent": "", "loss_sharing_ceiling_percent": "",
    "loss_cap_percent": "3", "loss_cap_revenue_percent": "", "ibnr_completion": "on",
}  # fmt: skip
"""The page's post of docs/shared-savings.md's example terms file (plus a quality scale)."""

PAYER_FILE = {
    "kind": "payer", "name": "Sunrise shared savings 2027", "benchmark_basis": "pmpm", "benchmark_amount": "950.00",
    "msr_source": "fixed", "msr_percent": "2", "first_dollar": False, "sharing_percent": "50",
    "quality_min_score": "70", "quality_scale": [["60", "50"], ["80", "100"]], "quality_standard": "HEDIS composite",
    "savings_cap_percent": "10", "two_sided": True, "mlr_percent": "2", "loss_sharing_percent": "40",
    "loss_cap_percent": "3", "valid_from": "2027-01-01", "valid_to": "2027-12-31", "ibnr_completion": True,
    "risk_adjust": False,
}  # fmt: skip
"""The same terms as a file for ``openipa savings add-terms``."""

MSSP_POST = {
    "kind": "mssp", "name": "ACO BASIC E", "line_of_business": "", "track": "BASIC_E", "valid_from": "2028-01-01",
    "valid_to": "", "benchmark_basis": "beneficiary_year", "benchmark_amount": "11000", "msr_source": "table",
    "msr_table": "mssp_one_sided", "first_dollar": "on", "two_sided": "", "ibnr_completion": "on",
}  # fmt: skip
MSSP_FILE = {
    "kind": "mssp", "name": "ACO BASIC E", "track": "BASIC_E", "valid_from": "2028-01-01",
    "benchmark_basis": "beneficiary_year", "benchmark_amount": "11000", "msr_source": "table",
    "msr_table": "mssp_one_sided", "first_dollar": True, "ibnr_completion": True, "risk_adjust": False,
}  # fmt: skip

FORMULA_POST = {
    "name": "quality-heavy", "reserve_percent": "5", "admin_fee_percent": "2.5", "valid_from": "2027-01-01",
    "valid_to": "", "pool_1_key": "quality", "pool_1_percent": "70", "pool_2_key": "member_months",
    "pool_2_percent": "30", "pool_3_key": "", "pool_3_percent": "", "pool_4_key": "", "pool_4_percent": "",
}  # fmt: skip
FORMULA_FILE = {
    "name": "quality-heavy", "reserve_percent": "5", "admin_fee_percent": "2.5", "valid_from": "2027-01-01",
    "pools": [{"key": "quality", "percent": "70"}, {"key": "member_months", "percent": "30"}],
}  # fmt: skip


def _client(ss: Any, name: str) -> Client:
    client = Client()
    client.force_login(ss.users[name])
    return client


def _cli(tmp_path: Path, verb: str, data: dict[str, Any], *extra: str) -> None:
    path = tmp_path / f"{verb}.json"
    path.write_text(json.dumps(data))
    call_command("savings", verb, *extra, "--file", str(path), "--user", "fin", stdout=StringIO())


def _row(model: Any, pk: int, fields: list[str]) -> dict[str, Any]:
    return dict(model.objects.filter(pk=pk).values(*fields).get())


def _snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every term and formula row, to check that a refused post changed nothing."""
    terms = [dict(row) for row in SavingsTerm.objects.order_by("pk").values()]
    formulas = [dict(row) for row in DistributionFormula.objects.order_by("pk").values()]
    return terms, formulas


@pytest.mark.parametrize(
    ("post", "file"), [(PAYER_POST, PAYER_FILE), (MSSP_POST, MSSP_FILE)], ids=["payer", "mssp"]
)
def test_a_good_post_creates_exactly_what_the_cli_creates(
    ss: Any, tmp_path: Path, post: dict[str, str], file: dict[str, Any]
) -> None:
    fin = _client(ss, "fin")
    response = fin.post(reverse("web:savings:term_create"), {**post, "contract": ss.contract.pk})
    assert response.status_code == 302, response.content.decode()[:3000]
    term = SavingsTerm.objects.get(contract=ss.contract, version=2)
    assert response["Location"] == reverse("web:savings:term_detail", args=[term.pk])
    page = fin.get(response["Location"]).content.decode()
    assert f"{term.name} v2 saved" in page  # shown on the term page after saving
    assert term.name in page
    from_page = _row(SavingsTerm, term.pk, TERM_FIELDS_COMPARED)
    term.delete()
    _cli(tmp_path, "add-terms", file, "--contract", ss.contract.number)
    from_cli = SavingsTerm.objects.get(contract=ss.contract, version=2)
    assert _row(SavingsTerm, from_cli.pk, TERM_FIELDS_COMPARED) == from_page


def test_mssp_terms_take_the_tracks_rates_and_both_loss_caps(ss: Any) -> None:
    response = _client(ss, "fin").post(
        reverse("web:savings:term_create"), {**MSSP_POST, "contract": ss.contract.pk}
    )
    assert response.status_code == 302
    term = SavingsTerm.objects.get(contract=ss.contract, version=2)
    assert (str(term.sharing_percent), str(term.savings_cap_percent), term.two_sided) == (
        "50.000",
        "10.000",
        True,
    )
    assert (str(term.loss_cap_percent), str(term.loss_cap_revenue_percent)) == ("4.000", "8.000")
    page = _client(ss, "fin").get(reverse("web:savings:term_detail", args=[term.pk])).content.decode()
    assert "8% of ACO participant revenue, at most 4% of the benchmark" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [({"name": ""}, "name", "required"),
     ({"valid_from": ""}, "valid_from", "required"),
     ({"valid_from": "31/12/2027"}, "valid_from", "valid date"),
     ({"benchmark_amount": "abc"}, "benchmark_amount", "number"),
     ({"benchmark_amount": "0"}, "benchmark_amount", "above zero"),
     ({"benchmark_amount": "950.123"}, "benchmark_amount", "decimal places"),
     ({"msr_percent": "120"}, "msr_percent", "between 0 and 100"),
     ({"sharing_percent": ""}, "sharing_percent", "between 0 and 100"),
     ({"quality_scale": "60 50"}, "quality_scale", "line 1"),
     ({"quality_scale": "70, 50\n60, 75"}, "quality_scale", "rise"),
     ({"kind": "mssp"}, "benchmark_basis", "beneficiary-year"),
     ({"msr_source": "table", "msr_table": ""}, "msr_table", "no MSR table"),
     ({"valid_to": "2026-12-31"}, "valid_to", ""),
     ({"valid_from": "2026-06-01"}, "valid_from", "overlaps"),
     ({"loss_sharing_floor_percent": "40"}, "loss_sharing_ceiling_percent", "together"),
     ({"loss_cap_revenue_percent": "2", "loss_cap_percent": ""}, "loss_cap_percent", "give both"),
     ({"kind": "x"}, "kind", "valid choice"),
     ({"contract": "999999"}, "contract", "valid choice")],
)  # fmt: skip
def test_every_bad_term_input_is_shown_and_creates_nothing(
    ss: Any, change: dict[str, str], field: str, message: str
) -> None:
    before = _snapshot()
    response = _client(ss, "fin").post(
        reverse("web:savings:term_create"), {**PAYER_POST, "contract": ss.contract.pk, **change}
    )
    assert response.status_code == 400
    form = response.context["form"]
    errors = form.errors.get(field or "__all__") or []
    assert errors, form.errors
    assert message in " ".join(errors)
    assert f'data-field="{field}"' in response.content.decode() or not field
    assert _snapshot() == before


def test_a_good_formula_post_creates_exactly_what_the_cli_creates(ss: Any, tmp_path: Path) -> None:
    fin = _client(ss, "fin")
    response = fin.post(reverse("web:savings:formula_create"), FORMULA_POST)
    assert response.status_code == 302, response.content.decode()[:3000]
    formula = DistributionFormula.objects.get(name="quality-heavy")
    assert formula.version == 1
    overview = fin.get(response["Location"]).content.decode()
    assert "Formula quality-heavy v1 saved" in overview
    from_page = _row(DistributionFormula, formula.pk, FORMULA_FIELDS_COMPARED)
    formula.delete()
    _cli(tmp_path, "add-formula", FORMULA_FILE)
    from_cli = DistributionFormula.objects.get(name="quality-heavy")
    assert _row(DistributionFormula, from_cli.pk, FORMULA_FIELDS_COMPARED) == from_page


def test_a_new_version_never_edits_the_one_in_use(ss: Any) -> None:
    """``standard`` v1 (2026, open-ended) exists; its next version is a new row, v1 is untouched."""
    fin = _client(ss, "fin")
    v1 = DistributionFormula.objects.get(name="standard")
    v1_before = _row(DistributionFormula, v1.pk, FORMULA_FIELDS_COMPARED)
    form_page = fin.get(reverse("web:savings:formula_create") + f"?from={v1.pk}")
    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert 'value="standard"' in html  # prefilled from v1
    assert 'value="60"' in html
    # v1 is open-ended: a version from 2027 overlaps it, and nothing is written
    overlap = fin.post(reverse("web:savings:formula_create"), {**FORMULA_POST, "name": "standard"})
    assert overlap.status_code == 400
    assert "overlaps" in " ".join(overlap.context["form"].errors["valid_from"])
    assert DistributionFormula.objects.filter(name="standard").count() == 1
    # a version before it (2025) is fine: v2, and v1 is unchanged
    fine = fin.post(reverse("web:savings:formula_create"), {**FORMULA_POST, "name": "standard",
                                                            "valid_from": "2025-01-01", "valid_to": "2025-12-31"})  # fmt: skip
    assert fine.status_code == 302
    assert DistributionFormula.objects.get(name="standard", version=2).valid_to is not None
    assert _row(DistributionFormula, v1.pk, FORMULA_FIELDS_COMPARED) == v1_before
    overview = fin.get(reverse("web:savings:overview")).content.decode()
    assert "v2" in overview
    assert "v1" in overview
    assert f"?from={v1.pk}" not in overview  # "New version" starts from the latest version only
    latest = DistributionFormula.objects.get(name="standard", version=2)
    assert f"?from={latest.pk}" in overview


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [({"name": ""}, "name", "required"),
     ({"valid_from": ""}, "valid_from", "required"),
     ({"reserve_percent": "x"}, "reserve_percent", "number"),
     ({"reserve_percent": "120"}, "reserve_percent", ""),
     ({"pool_1_key": "", "pool_1_percent": "70"}, "pool_1_key", "choose"),
     ({"pool_2_percent": ""}, "pool_2_percent", "give the pool"),
     ({"pool_2_percent": "20"}, "__all__", "100"),
     ({"pool_2_key": "quality"}, "__all__", "pools"),
     ({"pool_1_key": "bogus"}, "pool_1_key", "valid choice"),
     ({"valid_to": "2026-01-01"}, "valid_to", "")],
)  # fmt: skip
def test_every_bad_formula_input_is_shown_and_creates_nothing(
    ss: Any, change: dict[str, str], field: str, message: str
) -> None:
    before = _snapshot()
    response = _client(ss, "fin").post(reverse("web:savings:formula_create"), {**FORMULA_POST, **change})
    assert response.status_code == 400
    errors = response.context["form"].errors.get(field) or []
    assert errors, response.context["form"].errors
    assert message in " ".join(errors)
    assert _snapshot() == before


@pytest.mark.parametrize("user", ["alice", "ops", "auditor", "admin", "messenger"])
def test_only_finance_sees_the_forms_or_posts(ss: Any, user: str) -> None:
    """A practice user, operations, the auditor (who views finance), the administrator (who edits contracts
    but moves no money) and the messenger: the 403 page, and nothing changes."""
    client = _client(ss, user)
    before = _snapshot()
    for name in ("web:savings:term_create", "web:savings:formula_create"):
        assert client.get(reverse(name)).status_code == 403
    term = client.post(reverse("web:savings:term_create"), {**PAYER_POST, "contract": ss.contract.pk})
    formula = client.post(reverse("web:savings:formula_create"), FORMULA_POST)
    assert term.status_code == formula.status_code == 403
    assert "403.html" in [t.name for t in term.templates]
    assert "403.html" in [t.name for t in formula.templates]
    assert _snapshot() == before


def test_the_overview_links_the_forms_for_finance_only(ss: Any) -> None:
    fin = _client(ss, "fin").get(reverse("web:savings:overview")).content.decode()
    assert reverse("web:savings:term_create") in fin
    assert reverse("web:savings:formula_create") in fin
    auditor = _client(ss, "auditor").get(reverse("web:savings:overview")).content.decode()
    assert reverse("web:savings:term_create") not in auditor
    assert reverse("web:savings:formula_create") not in auditor
    term_page = _client(ss, "auditor").get(reverse("web:savings:term_detail", args=[ss.savings_term.pk]))
    assert reverse("web:savings:term_create") not in term_page.content.decode()


def test_the_term_form_preselects_the_contract_and_posts_with_csrf(ss: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ss.users["fin"])
    page = client.get(reverse("web:savings:term_create") + f"?contract={ss.contract.pk}").content.decode()
    assert f'<option value="{ss.contract.pk}" selected>' in page
    assert "csrfmiddlewaretoken" in page
    for legend in ("Benchmark", "Minimum savings rate", "Sharing and the savings cap", "Quality", "Losses"):
        assert f"<legend>{legend}</legend>" in page
    before = _snapshot()
    assert (
        client.post(
            reverse("web:savings:term_create"), {**PAYER_POST, "contract": ss.contract.pk}
        ).status_code
        == 403
    )
    assert _snapshot() == before


def test_service_refuses_terms_without_edit_finance(ss: Any) -> None:
    from openipa.core.errors import PermissionDenied
    from openipa.savings import services

    with pytest.raises(PermissionDenied):
        services.term_create(ss.users["admin"], contract=ss.contract, data=PAYER_FILE)
    assert SavingsTerm.objects.filter(contract=ss.contract).count() == 1
