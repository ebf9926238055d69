"""The member-months report, the PCP panel list with its CSV, and the member timeline: who sees them, and
that a practice user gets her own practice's numbers only."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from openipa.contracts.models import Product
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.membership.models import EligibilitySpan, PcpAssignment
from openipa.membership.selectors import member_months_report, pcp_panel_rows
from openipa.membership.services.roster import import_roster
from openipa.membership.tests.roster_files import NPI_A, NPI_B, M, roster_834
from openipa.network.models import Provider
from openipa.web.tests.pages import html, results

pytestmark = pytest.mark.django_db
D = dt.date


def table(response: Any) -> dict[str, list[str]]:
    """The member-months table as {row label: [cells...]} (the footer row is "Members")."""
    body = html(response)
    start = body.index('<table data-testid="member-months-table">')
    body = body[start : body.index("</table>", start)]
    rows: dict[str, list[str]] = {}
    for row in body.split("<tr>")[2:]:
        label = row.split('<th scope="row">')[1].split("</th>")[0]
        cells = [
            c.split("</td>")[0].replace("<strong>", "").replace("</strong>", "")
            for c in row.split('class="num">')[1:]
        ]
        rows[label] = cells
    return rows


def months(client: Client, **params: Any) -> Any:
    return client.get("/reports/months/", {"month_from": "2026-01", "month_to": "2026-03", **params})


# -- member-months -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "ops", "fin", "auditor", "alice"])
def test_member_months_page_opens_with_a_chart_and_a_table(client_for, small_ipa, persona):
    response = client_for(persona).get("/reports/months/")
    assert response.status_code == 200
    body = html(response)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body
    assert 'data-testid="member-months-table"' in body
    assert "no-store" in response["Cache-Control"]


def test_the_messenger_gets_no_member_months(client_for, small_ipa):
    assert client_for("messenger").get("/reports/months/").status_code == 403


def test_staff_see_the_whole_network_by_payer_practice_pcp_and_product(client_for, small_ipa):
    client = client_for("ops")
    assert table(months(client)) == {
        "SUN · Sunrise Health Plan": ["2", "2", "2", "6"],
        "Members": ["2", "2", "2", "6"],
    }
    assert table(months(client, group_by="practice")) == {
        "Alder Family Medicine": ["1", "1", "1", "3"],
        "Birch Pediatrics": ["1", "1", "1", "3"],
        "Members": ["2", "2", "2", "6"],
    }
    by_pcp = table(months(client, group_by="pcp"))
    assert by_pcp["Ada Alder, MD (1234567893)"] == ["1", "1", "1", "3"]
    assert by_pcp["Ben Birch, DO (1245319599)"] == ["1", "1", "1", "3"]
    assert table(months(client, group_by="product"))["SUN MAHMO"] == ["2", "2", "2", "6"]


def test_alice_gets_only_her_practices_numbers(client_for, small_ipa):
    client = client_for("alice")
    assert table(months(client)) == {
        "SUN · Sunrise Health Plan": ["1", "1", "1", "3"],
        "Members": ["1", "1", "1", "3"],
    }
    for group in ("practice", "pcp", "product"):
        response = months(client, group_by=group, practice=small_ipa.practice_b.pk)
        body = html(response)
        assert "Birch" not in body
        assert table(response)["Members"] == ["1", "1", "1", "3"]
    assert 'name="practice"' not in html(months(client))
    assert 'name="payer"' not in html(months(client))


def test_staff_may_narrow_to_one_practice(client_for, small_ipa):
    response = months(client_for("ops"), group_by="pcp", practice=small_ipa.practice_b.pk)
    assert table(response) == {
        "Ben Birch, DO (1245319599)": ["1", "1", "1", "3"],
        "Members": ["1", "1", "1", "3"],
    }


def test_a_member_counts_for_a_practice_only_while_eligible_and_on_its_panel(small_ipa):
    """Amy moves to Birch from Feb 15 (both PCPs count in February, she once in the total) and loses
    eligibility after March; the PCP span at Birch runs on but counts no more."""
    PcpAssignment.objects.filter(member=small_ipa.member_a).update(valid_to=D(2026, 2, 14))
    PcpAssignment.objects.create(
        member=small_ipa.member_a,
        provider=small_ipa.pcp_b,
        practice=small_ipa.practice_b,
        valid_from=D(2026, 2, 15),
    )
    EligibilitySpan.objects.filter(member=small_ipa.member_a).update(valid_to=D(2026, 3, 31))
    report = member_months_report(
        small_ipa.users["ops"], group_by="practice", first=Month(2026, 1), last=Month(2026, 5)
    )
    rows = {r.label: r.values for r in report.rows}
    assert rows == {"Alder Family Medicine": (1, 1, 0, 0, 0), "Birch Pediatrics": (1, 2, 2, 1, 1)}
    assert report.totals == (2, 2, 2, 1, 1)
    alice = member_months_report(
        small_ipa.users["alice"], group_by="pcp", first=Month(2026, 1), last=Month(2026, 5)
    )
    assert [(r.label, r.values) for r in alice.rows] == [("Ada Alder, MD (1234567893)", (1, 1, 0, 0, 0))]
    assert alice.totals == (1, 1, 0, 0, 0)


def test_months_before_any_coverage_are_zeros(small_ipa):
    report = member_months_report(
        small_ipa.users["ops"], group_by="payer", first=Month(2025, 11), last=Month(2026, 1)
    )
    assert report.months == ("2025-11", "2025-12", "2026-01")
    assert report.totals == (0, 0, 2)


def test_a_bad_month_is_named_and_the_defaults_are_shown(client_for, small_ipa):
    client = client_for("ops")
    response = client.get("/reports/months/", {"month_from": "2026-13", "month_to": "2026-03"})
    assert response.status_code == 200
    assert "Write the month as YYYY-MM, e.g. 2026-03." in html(response)
    response = client.get("/reports/months/", {"month_from": "2026-05", "month_to": "2026-03"})
    assert "The last month is before the first." in html(response)
    response = client.get("/reports/months/", {"month_from": "2016-01", "month_to": "2026-03"})
    assert "Choose at most 60 months." in html(response)
    today = Month.of(timezone.localdate())
    assert f"{today - 11} to {today}" in html(response)  # the default range


def test_the_report_answers_htmx_with_its_results_only(client_for, small_ipa):
    response = client_for("ops").get("/reports/months/", {"group_by": "pcp"}, HTTP_HX_REQUEST="true")
    assert "<html" not in html(response)
    assert "Member-months by pcp" in html(response)


def test_the_table_is_paginated_and_the_chart_keeps_the_largest_groups(client_for, small_ipa):
    products = Product.objects.bulk_create(
        [
            Product(payer=small_ipa.payer, code=f"P{i:02d}", name=f"Plan {i}", line_of_business="commercial")
            for i in range(55)
        ]
    )
    EligibilitySpan.objects.bulk_create(
        [EligibilitySpan(member=small_ipa.member_a, product=p, valid_from=D(2026, 1, 1)) for p in products]
    )
    client = client_for("ops")
    response = months(client, group_by="product")
    assert "1&ndash;50 of 56" in html(response)
    assert "Other (49 more)" in html(response)  # 7 series of their own, the rest as one
    assert "51&ndash;56 of 56" in html(months(client, group_by="product", page=2))


def test_member_months_are_counts_and_not_audited(client_for, small_ipa):
    months(client_for("alice"), group_by="pcp")
    assert not AuditEvent.objects.filter(kind="read").exists()


# -- PCP panels --------------------------------------------------------------------------------------


def export(client: Client, **params: Any) -> list[dict[str, str]]:
    response = client.get("/pcp-panels/export.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_staff_see_every_pcp_panel(client_for, small_ipa):
    body = results(client_for("ops").get("/pcp-panels/", {"on": "2026-03-01"}))
    for text in (
        "Ada Alder, MD",
        "1234567893",
        "Alder Family Medicine",
        "Ben Birch, DO",
        "Birch Pediatrics",
        "2,000",
        "1,500",
    ):
        assert text in body
    assert "Cy Cardio" not in body  # a specialist has no panel
    assert "1&ndash;2 of 2" in body


def test_alice_sees_only_her_practices_panels_on_the_page_and_in_the_csv(client_for, small_ipa):
    client = client_for("alice")
    body = html(client.get("/pcp-panels/", {"practice": small_ipa.practice_b.pk}))
    assert "Ada Alder, MD" in body
    assert "Ben Birch" not in body
    assert "Birch Pediatrics" not in body
    rows = export(client, practice=small_ipa.practice_b.pk)
    assert [(r["npi"], r["practice_code"], r["panel"]) for r in rows] == [(NPI_A, "ALDER", "1")]


def test_the_csv_holds_the_filtered_rows_with_the_flag(client_for, small_ipa):
    Provider.objects.filter(pk=small_ipa.pcp_a.pk).update(panel_limit=0, accepting_new_patients=False)
    client = client_for("ops")
    rows = export(client, on="2026-02-01")
    assert [
        (r["npi"], r["panel"], r["panel_limit"], r["accepting_new_patients"], r["over_limit"]) for r in rows
    ] == [
        (NPI_A, "1", "0", "no", "yes"),
        (NPI_B, "1", "1500", "yes", "no"),
    ]
    assert rows[0]["on"] == "2026-02-01"
    assert [r["npi"] for r in export(client, over_limit="on")] == [NPI_A]
    assert [r["npi"] for r in export(client, q=NPI_B)] == [NPI_B]
    assert [r["npi"] for r in export(client, practice=small_ipa.practice_b.pk)] == [NPI_B]
    body = results(client.get("/pcp-panels/", {"over_limit": "on"}))
    assert "Over limit" in body
    assert "Not accepting" in body
    assert "Ben Birch" not in body
    assert not AuditEvent.objects.filter(kind="read").exists()  # counts, not members


def test_a_date_before_any_affiliation_lists_no_panels(client_for, small_ipa):
    assert "No primary care providers match." in results(
        client_for("ops").get("/pcp-panels/", {"on": "2025-06-01"})
    )


def test_a_pcp_with_members_at_two_practices_is_flagged_on_the_total(small_ipa):
    PcpAssignment.objects.create(
        member=small_ipa.member_b,
        provider=small_ipa.pcp_a,
        practice=small_ipa.practice_b,
        valid_from=D(2026, 1, 1),
    )
    Provider.objects.filter(pk=small_ipa.pcp_a.pk).update(panel_limit=1)
    staff = {
        (r.npi, r.practice_code): (r.panel, r.provider_panel, r.over_limit)
        for r in pcp_panel_rows(small_ipa.users["ops"], on=D(2026, 3, 1))
    }
    assert staff[(NPI_A, "ALDER")] == (1, 2, True)
    assert staff[(NPI_A, "BIRCH")] == (1, 2, True)
    alice = [
        (r.npi, r.panel, r.provider_panel, r.over_limit)
        for r in pcp_panel_rows(small_ipa.users["alice"], on=D(2026, 3, 1))
    ]
    assert alice == [(NPI_A, 1, 1, False)]  # her practice's numbers only


def test_the_panel_list_is_paginated(client_for, small_ipa):
    from openipa.network.models import Affiliation

    providers = Provider.objects.bulk_create(
        [
            Provider(
                npi=f"9{i:09d}",
                last_name=f"Doc{i:02d}",
                taxonomy_code="207Q00000X",
                specialty="Family Medicine",
                kind="pcp",
            )
            for i in range(30)
        ]
    )
    Affiliation.objects.bulk_create(
        [Affiliation(provider=p, practice=small_ipa.practice_a, valid_from=D(2026, 1, 1)) for p in providers]
    )
    client = client_for("ops")
    assert "1&ndash;25 of 32" in results(client.get("/pcp-panels/"))
    assert "26&ndash;32 of 32" in results(client.get("/pcp-panels/", {"page": 2}))
    assert len(export(client)) == 32


@pytest.mark.parametrize("url", ["/pcp-panels/", "/pcp-panels/export.csv"])
def test_the_messenger_gets_no_panels(client_for, small_ipa, url):
    assert client_for("messenger").get(url).status_code == 403


def test_a_bad_panel_date_is_named(client_for, small_ipa):
    response = client_for("ops").get("/pcp-panels/", {"on": "not a date"})
    assert response.status_code == 200
    assert "Enter a valid date." in html(response)


# -- the member timeline -----------------------------------------------------------------------------


def _import(ipa: Any, tmp_path: Path) -> Any:
    path = tmp_path / "june.834"
    path.write_bytes(
        roster_834(
            [M("SUN0001", "001", "25", last="ANDERS", first="AMY", pcp_npi=NPI_B, pcp_begin="20260601")]
        )
    )
    return import_roster(actor=ipa.users["ops"], payer=ipa.payer, path=path)


def test_staff_see_the_timeline_and_the_file_behind_each_span_and_change(client_for, small_ipa, tmp_path):
    record = _import(small_ipa, tmp_path)
    body = html(client_for("ops").get(f"/members/{small_ipa.member_a.pk}/"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart timeline"' in body
    assert "Ben Birch, DO · Birch Pediatrics: Jun 1, 2026 to open-ended, from june.834" in body
    assert "Changed from Jun 1, 2026 by june.834" in body
    assert f'<a href="/rosters/{record.pk}/">june.834</a>' in body  # spans and the change link the report
    assert "entered by hand" in body  # the eligibility span came from no file


def test_alice_sees_her_members_timeline_without_links_to_import_reports(client_for, small_ipa, tmp_path):
    _import(small_ipa, tmp_path)
    response = client_for("alice").get(f"/members/{small_ipa.member_a.pk}/")
    assert response.status_code == 200
    body = html(response)
    assert 'class="chart timeline"' in body
    assert "june.834" in body
    assert "/rosters/" not in body


def test_a_member_without_spans_gets_a_plain_sentence(client_for, small_ipa):
    EligibilitySpan.objects.filter(member=small_ipa.member_a).delete()
    PcpAssignment.objects.filter(member=small_ipa.member_a).exclude(practice=small_ipa.practice_a).delete()
    PcpAssignment.objects.filter(member=small_ipa.member_a).update(valid_to=D(2026, 1, 31))
    body = html(client_for("ops").get(f"/members/{small_ipa.member_a.pk}/"))
    assert "No eligibility on file." in body
    assert 'class="chart timeline"' in body  # the PCP span is still drawn


def test_the_default_range_is_shown_in_the_fields(client_for, small_ipa):
    today = Month.of(timezone.localdate())
    body = html(client_for("ops").get("/reports/months/"))
    assert f'name="month_from" value="{today - 11}"' in body
    assert f'name="month_to" value="{today}"' in body
    body = html(client_for("ops").get("/pcp-panels/"))
    assert f'name="on" value="{timezone.localdate().isoformat()}"' in body
