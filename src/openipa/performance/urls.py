"""URLs of the practice performance pages, included by the shell's urls (names `web:performance:...`): the
under-service watch."""

from __future__ import annotations

from django.urls import URLPattern, path

from openipa.performance import views

app_name = "performance"
urlpatterns: list[URLPattern] = [
    path("performance/watch/", views.under_service_watch, name="under_service_watch"),
]
