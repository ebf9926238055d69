"""URLs of the board pages, included by the shell's urls (names `web:board:...`)."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.board import views

app_name = "board"
urlpatterns: list[URLPattern] = [
    path("board/", views.dashboard, name="dashboard"),
    path("board/dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("board/criteria/<slug:key>/", views.criterion, name="criterion"),
]
