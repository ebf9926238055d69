"""Contracts registry: term versions never overlap, rate tables import whole or not at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openipa.contracts import selectors, services
from openipa.contracts.models import ContractTerm, RateCell
from openipa.core.errors import PermissionDenied, ValidationFailed

GOOD_TABLE = """product_code,age_min,age_max,sex,pmpm
MAHMO,0,64,U,180.00
MAHMO,65,74,F,245.50
MAHMO,65,74,M,251.25
MAHMO,75,120,U,$310.00
"""


def test_rate_table_imports_every_row(small_ipa):
    cells = services.rate_table_import(actor=small_ipa.users["fin"], term=small_ipa.term, text=GOOD_TABLE)
    assert len(cells) == 4
    assert RateCell.objects.get(term=small_ipa.term, age_min=75).pmpm == Decimal("310.00")


def test_bad_rate_table_reports_line_and_column_and_changes_nothing(small_ipa):
    services.rate_table_import(actor=small_ipa.users["fin"], term=small_ipa.term, text=GOOD_TABLE)
    bad = GOOD_TABLE + "MAHMO,75,80,X,10.00\nMAHMO,0,10,U,abc\n"
    with pytest.raises(ValidationFailed) as err:
        services.rate_table_import(
            actor=small_ipa.users["fin"], term=small_ipa.term, text=bad, filename="r.csv"
        )
    messages = err.value.fields["file"]
    assert "r.csv, line 6, column sex" in messages[0]
    assert "r.csv, line 7, column pmpm" in messages[1]
    assert RateCell.objects.filter(term=small_ipa.term).count() == 4


def test_overlapping_age_bands_are_refused(small_ipa):
    text = "product_code,age_min,age_max,sex,pmpm\nMAHMO,0,64,U,1.00\nMAHMO,60,70,U,2.00\n"
    with pytest.raises(ValidationFailed) as err:
        services.rate_table_import(actor=small_ipa.users["fin"], term=small_ipa.term, text=text)
    assert "overlaps line 2" in err.value.fields["file"][0]


def test_unknown_product_is_refused(small_ipa):
    text = "product_code,age_min,age_max,sex,pmpm\nNOPE,0,64,U,1.00\n"
    with pytest.raises(ValidationFailed) as err:
        services.rate_table_import(actor=small_ipa.users["fin"], term=small_ipa.term, text=text)
    assert "'NOPE' is not a product" in err.value.fields["file"][0]


def test_missing_column_is_named(small_ipa):
    with pytest.raises(ValidationFailed) as err:
        services.rate_table_import(
            actor=small_ipa.users["fin"], term=small_ipa.term, text="product_code,pmpm\n"
        )
    assert "missing column(s) age_min, age_max, sex" in err.value.fields["file"][0]


def test_overlapping_term_version_is_refused(small_ipa):
    with pytest.raises(ValidationFailed):
        services.term_create(
            actor=small_ipa.users["fin"],
            contract=small_ipa.contract,
            data={
                "valid_from": dt.date(2026, 6, 1),
                "valid_to": dt.date(2026, 12, 31),
                "capitation_basis": "pmpm_table",
            },
        )
    assert ContractTerm.objects.filter(contract=small_ipa.contract).count() == 1


def test_term_in_force_picks_the_version_for_the_date(small_ipa):
    fin = small_ipa.users["fin"]
    assert selectors.term_in_force(fin, small_ipa.contract, dt.date(2026, 3, 1)) == small_ipa.term
    assert selectors.term_in_force(fin, small_ipa.contract, dt.date(2027, 3, 1)) is None


def test_percent_of_premium_term_needs_a_percent(small_ipa):
    contract = services.contract_create(
        actor=small_ipa.users["fin"],
        data={
            "payer": small_ipa.payer,
            "number": "SUN-POP",
            "name": "POP",
            "legal_basis": "capitated_risk",
            "valid_from": dt.date(2027, 1, 1),
        },
    )
    with pytest.raises(ValidationFailed) as err:
        services.term_create(
            actor=small_ipa.users["fin"],
            contract=contract,
            data={"valid_from": dt.date(2027, 1, 1), "capitation_basis": "percent_of_premium"},
        )
    assert "percent_of_premium" in err.value.fields


def test_practice_user_reads_nothing_financial(small_ipa):
    alice = small_ipa.users["alice"]
    for read in (selectors.payer_list, selectors.contract_list, selectors.product_list):
        with pytest.raises(PermissionDenied):
            read(alice)


def test_dofr_table_is_replaced_and_audited(small_ipa):
    fin = small_ipa.users["fin"]
    services.dofr_set(actor=fin, term=small_ipa.term, entries={"Professional": "ipa", "Inpatient": "plan"})
    services.dofr_set(
        actor=fin, term=small_ipa.term, entries={"Professional": "ipa", "Inpatient": "hospital"}
    )
    assert dict(
        selectors.dofr_entries(fin, small_ipa.term).values_list("service_category", "responsible_party")
    ) == {"Inpatient": "hospital", "Professional": "ipa"}
    with pytest.raises(ValidationFailed):
        services.dofr_set(actor=fin, term=small_ipa.term, entries={"Lab": "nobody"})
