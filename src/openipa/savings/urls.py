"""URLs of the savings pages, included by the shell's urls (names `web:savings:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "savings"
urlpatterns: list[URLPattern] = []
