"""The directories: search, filters and pagination for practices, providers, members, payers and contracts,
and search as you type (htmx asks for the results only; without htmx the same GET gives the whole page)."""

from __future__ import annotations

from openipa.network.models import Provider
from openipa.web.tests.pages import html, results


def test_practices_are_searched_and_filtered(client_for, small_ipa):
    client = client_for("ops")
    body = results(client.get("/practices/"))
    assert "Alder Family Medicine" in body
    assert "Birch Pediatrics" in body
    body = results(client.get("/practices/", {"q": "birch"}))
    assert "Birch Pediatrics" in body
    assert "Alder Family Medicine" not in body
    body = results(client.get("/practices/", {"status": "suspended"}))
    assert "No practices match." in body
    body = results(client.get("/practices/", {"region": "SGV"}))
    assert "1&ndash;2 of 2" in body


def test_providers_are_searched_and_filtered(client_for, small_ipa):
    client = client_for("ops")
    body = results(client.get("/providers/", {"q": "1003000126"}))
    assert "Cy Cardio, MD" in body
    assert "Ada Alder" not in body
    body = results(client.get("/providers/", {"kind": "pcp"}))
    assert "Ada Alder, MD" in body
    assert "Cardio" not in body
    body = results(client.get("/providers/", {"specialty": "Pediatrics"}))
    assert "Ben Birch, DO" in body
    assert "Ada Alder" not in body
    body = results(client.get("/providers/", {"practice": small_ipa.practice_b.pk}))
    assert "Ben Birch, DO" in body
    assert "Cy Cardio, MD" in body
    assert "Ada Alder" not in body


def test_an_invalid_filter_value_is_reported_and_ignored(client_for, small_ipa):
    response = client_for("ops").get("/providers/", {"kind": "wizard"})
    assert response.status_code == 200
    assert "Select a valid choice" in html(response)
    assert "1&ndash;3 of 3" in html(response)


def test_the_provider_directory_pages_by_25(client_for, small_ipa):
    Provider.objects.bulk_create(
        Provider(
            npi=f"99{i:08d}",
            last_name=f"Zed{i:02d}",
            taxonomy_code="207Q00000X",
            specialty="Family Medicine",
            kind="pcp",
        )
        for i in range(30)
    )
    client = client_for("ops")
    first = html(client.get("/providers/"))
    assert "1&ndash;25 of 33" in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = html(client.get("/providers/", {"page": 2}))
    assert "26&ndash;33 of 33" in second
    assert "Zed29" in second
    # A page past the end shows the last page, a nonsense page number the first.
    assert "26&ndash;33 of 33" in html(client.get("/providers/", {"page": 99}))
    assert "1&ndash;25 of 33" in html(client.get("/providers/", {"page": "x"}))


def test_paging_keeps_the_search(client_for, small_ipa):
    Provider.objects.bulk_create(
        Provider(
            npi=f"98{i:08d}", last_name=f"Yew{i:02d}", taxonomy_code="207Q00000X", specialty="X", kind="pcp"
        )
        for i in range(30)
    )
    body = html(client_for("ops").get("/providers/", {"q": "yew"}))
    assert 'href="?q=yew&amp;page=2"' in body


def test_members_are_searched_by_name_and_member_id(client_for, small_ipa):
    client = client_for("ops")
    assert "Anders, Amy" in html(client.get("/members/", {"q": "and"}))
    body = results(client.get("/members/", {"q": "SUN0002"}))
    assert "Brooks, Bert" in body
    assert "Anders" not in body
    body = results(client.get("/members/", {"practice": small_ipa.practice_a.pk}))
    assert "Anders, Amy" in body
    assert "Brooks" not in body
    body = results(client.get("/members/", {"eligible_on": "2025-06-01"}))
    assert "No members match." in body


def test_payers_and_contracts_are_searched_and_filtered(client_for, small_ipa):
    client = client_for("fin")
    assert "Sunrise Health Plan" in html(client.get("/payers/", {"q": "sunrise"}))
    assert "No payers match." in html(client.get("/payers/", {"q": "nobody"}))
    body = results(client.get("/contracts/", {"payer": small_ipa.payer.pk, "status": "active"}))
    assert "SUN-2026" in body
    assert "No contracts match." in html(client.get("/contracts/", {"legal_basis": "messenger_ffs"}))


def test_htmx_search_gets_only_the_results(client_for, small_ipa):
    response = client_for("ops").get("/practices/", {"q": "alder"}, HTTP_HX_REQUEST="true")
    body = html(response)
    assert "<html" not in body
    assert "<form" not in body
    assert "Alder Family Medicine" in body
    assert "Birch" not in body
    assert "HX-Request" in response["Vary"]


def test_the_search_form_works_without_javascript(client_for, small_ipa):
    body = html(client_for("ops").get("/practices/"))
    assert '<form class="filters" method="get" action="/practices/" role="search"' in body
    assert 'hx-get="/practices/"' in body
    assert 'hx-target="#results"' in body
    assert '<button type="submit" class="button">Search</button>' in body
