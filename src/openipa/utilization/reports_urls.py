"""URLs of the utilization reports: the SLA dashboard, the CMS-0057-F metrics and the under-service watch
(included by `openipa.utilization.urls`)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
