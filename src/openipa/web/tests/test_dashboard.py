"""The dashboard: staff see network counts, the largest PCP panels and the member-months chart; a practice
user sees their own practice's panels and member count only. Few queries, aggregated in SQL."""

from __future__ import annotations

from openipa.web.tests.pages import html


def test_staff_see_counts_panels_and_a_lazily_loaded_chart(client_for, small_ipa):
    response = client_for("ops").get("/")
    assert response.status_code == 200
    body = html(response)
    for label in ("Practices", "Providers", "Primary care providers", "Members", "Eligible today"):
        assert f'<span class="stat-label">{label}</span>' in body
    assert '<span class="stat-value">2</span><span class="stat-label">Practices</span>' in body
    assert "Largest PCP panels" in body
    assert "Ada Alder, MD" in body
    assert "Ben Birch, DO" in body
    assert 'hx-get="/dashboard/member-months/"' in body


def test_the_member_months_chart_is_svg_with_a_title_a_legend_and_a_table(client_for, small_ipa):
    response = client_for("ops").get("/dashboard/member-months/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = html(response)
    assert "<html" not in body  # a fragment for the dashboard
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in body
    assert '<title id="member-months-title">Member-months by payer and month</title>' in body
    assert ">SUN</text>" in body  # the legend names the payer
    assert '<th scope="row">SUN</th>' in body  # the table fallback
    assert '<td class="num">2</td>' in body  # two members in 2026-01


def test_without_htmx_the_chart_is_a_page_of_its_own(client_for, small_ipa):
    response = client_for("auditor").get("/dashboard/member-months/")
    assert response.status_code == 200
    assert "<html" in html(response)
    assert "<svg" in html(response)


def test_a_practice_user_sees_only_her_practice(client_for, small_ipa):
    response = client_for("alice").get("/")
    assert response.status_code == 200
    body = html(response)
    assert "PCP panels at your practice" in body
    assert "Ada Alder, MD" in body
    assert "Your members" in body
    assert '<span class="stat-value">1</span><span class="stat-label">Your members</span>' in body
    for other in ("Ben Birch", "Birch Pediatrics", "Cardio", "member-months", "Practices</span>"):
        assert other not in body


def test_a_practice_user_gets_no_network_wide_chart(client_for, small_ipa):
    assert client_for("alice").get("/dashboard/member-months/").status_code == 403


def test_the_messenger_sees_no_member_figures(client_for, small_ipa):
    body = html(client_for("messenger").get("/"))
    assert "Members" not in body.split('aria-label="Counts"')[1].split("</section>")[0]
    assert "hx-get" not in body
    assert "panels" not in body


def test_a_full_panel_is_drawn_as_over_the_limit(client_for, small_ipa):
    from openipa.network.models import Provider

    Provider.objects.filter(pk=small_ipa.pcp_a.pk).update(panel_limit=1)
    body = html(client_for("admin").get("/"))
    assert '<span class="meter over"' in body
    assert "100% of the panel limit" in body


def test_the_dashboard_takes_a_few_aggregate_queries(client_for, small_ipa, django_assert_max_num_queries):
    client = client_for("admin")
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/dashboard/member-months/", HTTP_HX_REQUEST="true").status_code == 200


def test_the_dashboard_writes_nothing_to_the_audit_log(client_for, small_ipa):
    from openipa.core.models import AuditEvent

    before = AuditEvent.objects.count()
    client_for("ops").get("/")
    assert AuditEvent.objects.count() == before
