"""URLs of the board pages, included by the shell's urls (names `web:board:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401

app_name = "board"
urlpatterns: list[URLPattern] = []
