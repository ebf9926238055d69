"""URLs of the association pages, included by the shell's urls (names `web:association:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "association"
urlpatterns: list[URLPattern] = []
