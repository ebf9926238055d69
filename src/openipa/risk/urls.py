"""URLs of the risk adjustment pages, included by the shell's urls (names `web:risk:...`)."""

from __future__ import annotations

from openipa.risk import views

app_name = "risk"
urlpatterns = [*views.urlpatterns]
__all__ = ["app_name", "urlpatterns"]
