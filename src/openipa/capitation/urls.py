"""URLs of the capitation pages, included by the shell's urls (names `web:capitation:...`)."""

from django.urls import URLPattern

app_name = "capitation"
urlpatterns: list[URLPattern] = []
