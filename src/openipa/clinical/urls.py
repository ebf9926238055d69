"""URLs of the clinical data pages, included by the shell's urls (names `web:clinical:...`)."""

from __future__ import annotations

from openipa.clinical import views

app_name = "clinical"
urlpatterns = [*views.urlpatterns]
__all__ = ["app_name", "urlpatterns"]
