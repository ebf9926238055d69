"""URLs of the incentives pages, included by the shell's urls (names `web:incentives:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "incentives"
urlpatterns: list[URLPattern] = []
