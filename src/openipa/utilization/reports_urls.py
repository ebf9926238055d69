"""URLs of the utilization reports: the SLA dashboard, the CMS-0057-F metrics and the under-service watch
(included by `openipa.utilization.urls`, whose patterns are under ``authorizations/``)."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.utilization import reports_views

urlpatterns: list[URLPattern] = [
    path("authorizations/dashboard/", reports_views.sla_dashboard, name="sla_dashboard"),
    path("authorizations/metrics/", reports_views.cms_metrics, name="cms_metrics"),
    path("authorizations/metrics.csv", reports_views.cms_metrics_csv, name="cms_metrics_csv"),
    path("authorizations/watch/", reports_views.under_service_watch, name="under_service_watch"),
]
