"""URLs of the utilization management pages, included by the shell's urls (names `web:utilization:...`):
the request pages (`views`) and the reports (`reports_urls`: the SLA dashboard and the CMS-0057-F metrics;
the under-service watch is `openipa.performance`'s)."""

from __future__ import annotations

from openipa.utilization import reports_urls, views

app_name = "utilization"
urlpatterns = [*views.urlpatterns, *reports_urls.urlpatterns]
__all__ = ["app_name", "urlpatterns"]
