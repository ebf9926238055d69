"""The quality pages: runs and rates with charts, a run's practices, the care gaps (filters, CSV), a member's
evidence, the supplemental download; who may see and run what, scoping to a practice, and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client

from openipa.core.models import AuditEvent
from openipa.quality import selectors
from openipa.quality.models import MeasureResult, QualityRun
from openipa.quality.services import run_measures
from openipa.quality.tests.conftest import QualityIpa
from openipa.web.tests.pages import html

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 1)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def run(quality_ipa: QualityIpa) -> QualityRun:
    return run_measures(None, year=2026, as_of=AS_OF)


def _csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode())))


def test_home_shows_runs_rates_against_targets_and_charts(quality_ipa: QualityIpa, run: QualityRun) -> None:
    run_measures(None, year=2026, as_of=AS_OF)
    page = _client(quality_ipa.quality).get("/quality/")
    assert page.status_code == 200
    body = html(page)
    assert 'data-testid="run-form"' in body and 'data-testid="runs"' in body  # noqa: PT018
    assert body.count('id="trend-cbp-title"') == 1 and 'id="rate-by-practice-title"' in body  # noqa: PT018
    assert "<polyline" in body and "illustrative" in body  # noqa: PT018
    # CBP: 1 of 2 = 50.0% against the illustrative 72% target: below, 1 star
    row = body[body.index("<td>CBP") : body.index("</tr>", body.index("<td>CBP"))]
    assert "50.0%" in row and "72.0%" in row and "not met" in row and 'aria-label="1 of 5 stars"' in row  # noqa: PT018


def test_run_measures_button_stores_a_run(quality_ipa: QualityIpa) -> None:
    response = _client(quality_ipa.quality).post("/quality/", {"year": "2026", "as_of": "2026-11-01"})
    run = QualityRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/quality/runs/{run.pk}/"
    assert run.run_by == "quinn"


def test_run_measures_with_a_bad_as_of_is_a_form_error(quality_ipa: QualityIpa) -> None:
    response = _client(quality_ipa.quality).post("/quality/", {"year": "2026", "as_of": "2025-01-01"})
    assert response.status_code == 400
    assert "before measurement year 2026" in html(response)
    assert not QualityRun.objects.exists()


def test_an_auditor_reads_but_cannot_run(quality_ipa: QualityIpa, run: QualityRun) -> None:
    client = _client(quality_ipa.ipa.users["auditor"])
    page = client.get("/quality/")
    assert page.status_code == 200
    assert 'data-testid="run-form"' not in html(page)
    assert client.post("/quality/", {"year": "2026"}).status_code == 403
    assert QualityRun.objects.count() == 1


@pytest.mark.parametrize("persona", ["fin", "messenger"])
@pytest.mark.parametrize(
    "url", ["/quality/", "/quality/gaps/", "/quality/runs/{run}/", "/quality/runs/{run}/members/{member}/"]
)
def test_roles_without_the_gaps_view_are_refused(
    quality_ipa: QualityIpa, run: QualityRun, persona: str, url: str
) -> None:
    response = _client(quality_ipa.ipa.users[persona]).get(url.format(run=run.pk, member=quality_ipa.cara.pk))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(object_type="quality.measureresult").exists()


def test_run_page_shows_rates_per_practice_and_the_supplemental_download(
    quality_ipa: QualityIpa, run: QualityRun
) -> None:
    page = _client(quality_ipa.quality).get(f"/quality/runs/{run.pk}/")
    body = html(page)
    assert page.status_code == 200
    assert run.definitions_sha256 in body
    table = body[body.index('data-testid="practice-rates"') :]
    assert "ALDER" in table and "BIRCH" in table  # noqa: PT018
    assert 'data-testid="supplemental"' in body and '<option value="SUN">' in body  # noqa: PT018
    assert _client(quality_ipa.quality).get("/quality/runs/9999/").status_code == 404


def test_gaps_list_filters_and_audits_the_members_shown(quality_ipa: QualityIpa, run: QualityRun) -> None:
    client = _client(quality_ipa.quality)
    page = client.get("/quality/gaps/")
    body = html(page)
    assert page.status_code == 200
    assert "Anders, Amy" in body and "Cole, Cara" in body and "Brooks, Bert" not in body  # noqa: PT018
    assert "last HbA1c 9.4% on 2026-03-02" in body and "2026-12-31" in body  # noqa: PT018
    assert "LOINC 4548-4" in body  # the service that closes it, with example codes
    assert "from 2024-10-01 through 2026-12-31" in body  # its wording for the run's year
    assert "{" not in body[body.index('data-testid="gaps"') :]
    per_pcp = body[body.index('data-testid="gaps-by-pcp"') : body.index('id="results"')]
    assert "Ada Alder, MD" in per_pcp
    assert "Ben Birch" not in per_pcp  # Bert's CBP is met: no gap at practice B
    assert ">7<" in per_pcp  # Amy's CBP and Cara's six: 7 open gaps, 2 members
    event = AuditEvent.objects.get(object_type="quality.measureresult", action="list")
    assert sorted(event.member_ids) == sorted([quality_ipa.ipa.member_a.pk, quality_ipa.cara.pk])
    only_cbp = html(client.get("/quality/gaps/", {"rate": "CBP|CBP"}))
    assert "Anders, Amy" in only_cbp and "Cole, Cara" not in only_cbp  # noqa: PT018
    at_b = html(client.get("/quality/gaps/", {"practice": str(quality_ipa.ipa.practice_b.pk)}))
    assert "No open gap matches" in at_b  # practice B has no gap: its choice is not offered either
    assert client.get("/quality/gaps/", {"run": "9999"}).status_code == 404


def test_gaps_csv_export_is_filtered_and_audited(quality_ipa: QualityIpa, run: QualityRun) -> None:
    response = _client(quality_ipa.quality).get("/quality/gaps/", {"format": "csv", "rate": "GSD|GSD >9"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert list(rows[0]) == list(selectors.GAP_CSV_HEADER)
    assert [(r["payer_member_id"], r["rate"], r["reason"], r["due_date"], r["practice"]) for r in rows] == [
        ("SUN0003", "GSD >9", "last HbA1c 9.4% on 2026-03-02", "2026-12-31", "ALDER")
    ]
    assert "9%" in rows[0]["closes_with"]
    assert (rows[0]["pcp"], rows[0]["pcp_npi"], rows[0]["example_codes"]) == (
        "Ada Alder, MD", "1234567893", "LOINC 4548-4 CPTII 3044F CPTII 3051F")  # fmt: skip
    event = AuditEvent.objects.get(object_type="quality.measureresult", action="export")
    assert event.member_ids == [quality_ipa.cara.pk]


def test_a_members_results_show_the_evidence_and_are_audited(
    quality_ipa: QualityIpa, run: QualityRun
) -> None:
    page = _client(quality_ipa.quality).get(f"/quality/runs/{run.pk}/members/{quality_ipa.cara.pk}/")
    body = html(page)
    assert page.status_code == 200
    assert "GSD &gt;9" in body and "open gap" in body  # noqa: PT018
    assert "below 8% as the last result of 2026" in body
    evidence = body[body.index('data-testid="evidence-numerator"') :]
    assert "LOINC 4548-4" in evidence and "9.4 %" in evidence and "Alder EHR" in evidence  # noqa: PT018
    event = AuditEvent.objects.get(object_type="quality.measureresult", action="view")
    assert event.member_ids == [quality_ipa.cara.pk]
    # a member without a result in the run: 404, nothing recorded
    other = _client(quality_ipa.quality).get(f"/quality/runs/{run.pk}/members/999999/")
    assert other.status_code == 404
    assert AuditEvent.objects.filter(object_type="quality.measureresult").count() == 1


def test_supplemental_download_is_the_payers_non_claims_evidence_and_audited(
    quality_ipa: QualityIpa, run: QualityRun
) -> None:
    response = _client(quality_ipa.quality).get(f"/quality/runs/{run.pk}/supplemental/", {"payer": "SUN"})
    assert response.status_code == 200
    rows = _csv(response)
    assert {(r["payer_member_id"], r["rate"], r["code"], r["value"]) for r in rows} == {
        ("SUN0002", "CBP", "8480-6", "128"), ("SUN0002", "CBP", "8462-4", "78"), ("SUN0003", "GSD >9", "4548-4", "9.4"),
    }  # fmt: skip
    event = AuditEvent.objects.get(object_type="quality.supplemental")
    assert sorted(event.member_ids) == sorted([quality_ipa.ipa.member_b.pk, quality_ipa.cara.pk])
    unknown = _client(quality_ipa.quality).get(f"/quality/runs/{run.pk}/supplemental/", {"payer": "NOPE"})
    assert unknown.status_code == 302
    assert AuditEvent.objects.filter(object_type="quality.supplemental").count() == 1


def test_a_practice_scoped_user_sees_only_its_practice(quality_ipa: QualityIpa, run: QualityRun) -> None:
    ipa = quality_ipa.ipa
    bob = _client(ipa.users["bob"])  # practice B: Bert, whose CBP is met
    assert "No open gap matches" in html(bob.get("/quality/gaps/"))
    assert bob.get(f"/quality/runs/{run.pk}/members/{quality_ipa.cara.pk}/").status_code == 404
    assert bob.get(f"/quality/runs/{run.pk}/members/{ipa.member_b.pk}/").status_code == 200
    assert bob.get(f"/quality/runs/{run.pk}/supplemental/", {"payer": "SUN"}).status_code == 403
    rows = _csv(bob.get("/quality/gaps/", {"format": "csv"}))
    assert rows == []
    alice_rows = _csv(_client(ipa.users["alice"]).get("/quality/gaps/", {"format": "csv"}))
    assert {r["practice"] for r in alice_rows} == {"ALDER"}
    assert len(alice_rows) == 7
    # the rates are the practice's own: practice B's CBP is 1 of 1
    rates = {r.rate: r for r in selectors.rate_rows(ipa.users["bob"], run)}
    assert (rates["CBP"].numerator, rates["CBP"].denominator, rates["BCS-E"].denominator) == (1, 1, 0)
    practices = selectors.practice_rates(ipa.users["bob"], run)
    assert [p.practice for p in practices] == ["BIRCH"]
    assert bob.post("/quality/", {"year": "2026"}).status_code == 403
    assert MeasureResult.objects.filter(run=run).count() == run.result_count
