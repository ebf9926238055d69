"""Members through the API: list with filters, detail with eligibility spans and PCP history."""

from __future__ import annotations

import datetime as dt


def test_staff_list_members_by_name(api_as):
    body = api_as("ops").get("/api/v1/members").json()
    assert [m["payer_member_id"] for m in body["items"]] == ["SUN0001", "SUN0002"]
    assert body["items"][0]["payer_code"] == "SUN"


def test_the_list_filters_by_name_practice_provider_and_date(api_as, small_ipa):
    client = api_as("ops")

    def ids(query: str) -> list[str]:
        return [m["payer_member_id"] for m in client.get(f"/api/v1/members?{query}").json()["items"]]

    assert ids("q=brooks") == ["SUN0002"]
    assert ids("q=1EG4TE5MK73") == ["SUN0001"]
    assert ids(f"practice_id={small_ipa.practice_b.pk}") == ["SUN0002"]
    assert ids(f"provider_id={small_ipa.pcp_a.pk}") == ["SUN0001"]
    assert ids("eligible_on=2026-06-01") == ["SUN0001", "SUN0002"]
    assert ids("eligible_on=2025-06-01") == []


def test_the_detail_embeds_eligibility_and_pcp_history(api_as, small_ipa):
    body = api_as("ops").get(f"/api/v1/members/{small_ipa.member_a.pk}").json()
    assert (body["first_name"], body["last_name"], body["date_of_birth"]) == ("Amy", "Anders", "1950-03-04")
    assert body["eligibility"] == [
        {
            "payer_code": "SUN",
            "product_code": "MAHMO",
            "product_name": "Sunrise Medicare HMO",
            "valid_from": dt.date(2026, 1, 1).isoformat(),
            "valid_to": None,
        }
    ]
    [pcp] = body["pcp_history"]
    assert (pcp["provider_npi"], pcp["practice_code"], pcp["valid_from"]) == (
        "1234567893",
        "ALDER",
        "2026-01-01",
    )


def test_members_cannot_be_written_through_the_api(api_as, small_ipa):
    client = api_as("admin")
    assert client.post_json("/api/v1/members", {"first_name": "X"}).status_code == 405
    assert (
        client.patch_json(f"/api/v1/members/{small_ipa.member_a.pk}", {"first_name": "X"}).status_code == 405
    )
