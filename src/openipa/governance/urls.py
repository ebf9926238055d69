"""URLs of the governance pages, included by the shell's urls (names `web:governance:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "governance"
urlpatterns: list[URLPattern] = []
