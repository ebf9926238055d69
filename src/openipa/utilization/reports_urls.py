"""URLs of the utilization reports: the SLA dashboard and the CMS-0057-F metrics (included by
`openipa.utilization.urls`, whose patterns are under ``authorizations/``). The under-service watch is
`openipa.performance.urls`."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.utilization import reports_views

urlpatterns: list[URLPattern] = [
    path("authorizations/dashboard/", reports_views.sla_dashboard, name="sla_dashboard"),
    path("authorizations/metrics/", reports_views.cms_metrics, name="cms_metrics"),
    path("authorizations/metrics.csv", reports_views.cms_metrics_csv, name="cms_metrics_csv"),
]
