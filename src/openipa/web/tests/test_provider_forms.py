"""Creating and editing providers: a bad NPI check digit and a duplicate NPI each get a clear message next
to the NPI field, and nothing is saved."""

from __future__ import annotations

from openipa.network.models import Provider
from openipa.web.tests.pages import field_errors, html


def _data(**overrides: str) -> dict[str, str]:
    data = {
        "npi": "1598765437",
        "first_name": "Dee",
        "last_name": "Dogwood",
        "degree": "MD",
        "taxonomy_code": "207R00000X",
        "specialty": "Internal Medicine",
        "kind": "pcp",
        "accepting_new_patients": "on",
        "panel_limit": "1800",
    }
    data.update(overrides)
    return data


def test_a_provider_is_created(client_for, small_ipa):
    from openipa.core.identifiers import npi_check_digit

    npi = "159876543" + npi_check_digit("159876543")
    response = client_for("ops").post("/providers/new/", _data(npi=npi))
    provider = Provider.objects.get(npi=npi)
    assert response["Location"] == f"/providers/{provider.pk}/"
    assert (provider.panel_limit, provider.accepting_new_patients) == (1800, True)


def test_a_bad_npi_check_digit_is_shown_next_to_the_npi_field(client_for, small_ipa):
    response = client_for("ops").post("/providers/new/", _data(npi="1234567890"))
    assert response.status_code == 200
    errors = field_errors(response, "npi")
    assert len(errors) == 1
    assert "check digit" in errors[0]
    assert field_errors(response, "last_name") == []
    assert not Provider.objects.filter(last_name="Dogwood").exists()


def test_a_duplicate_npi_names_the_provider_who_has_it(client_for, small_ipa):
    response = client_for("ops").post("/providers/new/", _data(npi="1234567893"))
    assert field_errors(response, "npi") == ["NPI 1234567893 is already registered to Ada Alder, MD."]
    assert Provider.objects.count() == 3


def test_several_problems_are_each_shown_next_to_their_own_field(client_for, small_ipa):
    response = client_for("ops").post("/providers/new/", _data(npi="1234567893", taxonomy_code="207Q"))
    # Both problems are reported at once, each next to its own field.
    assert field_errors(response, "npi")
    assert field_errors(response, "taxonomy_code") == [
        "A NUCC taxonomy code has 10 characters ending in X, e.g. 207Q00000X."
    ]


def test_a_provider_is_edited_keeping_its_own_npi(client_for, small_ipa):
    client = client_for("ops")
    assert 'value="1234567893"' in html(client.get(f"/providers/{small_ipa.pcp_a.pk}/edit/"))
    data = _data(npi="1234567893", first_name="Ada", last_name="Alder", panel_limit="2100")
    response = client.post(f"/providers/{small_ipa.pcp_a.pk}/edit/", data)
    assert response.status_code == 302
    assert Provider.objects.get(pk=small_ipa.pcp_a.pk).panel_limit == 2100
