"""URLs of the quality pages, included by the shell's urls (names `web:quality:...`)."""

from __future__ import annotations

from openipa.quality import views

app_name = "quality"
urlpatterns = [*views.urlpatterns]
__all__ = ["app_name", "urlpatterns"]
