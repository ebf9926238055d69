"""A contract term page takes a rate-table CSV: a good file replaces the rates; a bad one is refused whole,
with every error naming its line and column, and the rates stay as they were."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from openipa.contracts.models import RateCell
from openipa.web.tests.pages import field_errors, html

GOOD = (
    "product_code,age_min,age_max,sex,pmpm\nMAHMO,0,64,U,410.00\nMAHMO,65,120,F,$512.25\nMAHMO,65,120,M,530\n"
)
BAD = "product_code,age_min,age_max,sex,pmpm\nMAHMO,0,64,U,410.00\nMAHMO,65,x,F,500\nMAHMO,65,120,Q,500\nNOPE,0,1,U,1\n"


def _upload(client: Client, term_pk: int, text: str, name: str = "rates.csv") -> Any:
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(f"/contracts/terms/{term_pk}/rates/", {"file": file})


def test_a_good_rate_table_replaces_the_rates(client_for, small_ipa):
    client = client_for("fin")
    response = _upload(client, small_ipa.term.pk, GOOD)
    assert response.status_code == 302
    assert RateCell.objects.filter(term=small_ipa.term).count() == 3
    body = html(client.get(response["Location"]))
    assert "Imported 3 rates from rates.csv." in body
    assert "$512.25" in body


def test_a_bad_rate_table_lists_each_error_with_line_and_column_and_changes_nothing(client_for, small_ipa):
    client = client_for("fin")
    _upload(client, small_ipa.term.pk, GOOD)
    response = _upload(client, small_ipa.term.pk, BAD, name="bad.csv")
    assert response.status_code == 400
    errors = field_errors(response, "file")
    assert errors[0] == "bad.csv was not imported; nothing changed."
    assert "bad.csv, line 3, column age_min/age_max: ages must be whole numbers" in errors
    assert "bad.csv, line 4, column sex: &#x27;Q&#x27; is not F, M or U" in errors
    assert RateCell.objects.filter(term=small_ipa.term).count() == 3  # the good table is still there


def test_a_product_outside_the_contract_is_named_with_its_line(client_for, small_ipa):
    text = "product_code,age_min,age_max,sex,pmpm\nMAHMO,0,64,U,1\nNOPE,0,1,U,1\n"
    response = _upload(client_for("fin"), small_ipa.term.pk, text)
    errors = field_errors(response, "file")
    assert any("line 3, column product_code" in e and "NOPE" in e for e in errors)
    assert not RateCell.objects.exists()


def test_a_file_that_is_not_text_is_refused_politely(client_for, small_ipa):
    file = SimpleUploadedFile(
        "rates.xlsx", b"PK\x03\x04\xff\xfe\x00", content_type="application/octet-stream"
    )
    response = client_for("fin").post(f"/contracts/terms/{small_ipa.term.pk}/rates/", {"file": file})
    assert response.status_code == 400
    assert "not UTF-8 text" in field_errors(response, "file")[0]


def test_a_missing_column_is_reported_on_line_1(client_for, small_ipa):
    response = _upload(client_for("fin"), small_ipa.term.pk, "product_code,age_min,pmpm\nMAHMO,0,1\n")
    assert "rates.csv, line 1: missing column(s) age_max, sex" in field_errors(response, "file")


def test_operations_may_read_rates_but_not_upload_them(client_for, small_ipa):
    response = _upload(client_for("ops"), small_ipa.term.pk, GOOD)
    assert response.status_code == 403
    assert not RateCell.objects.exists()
