"""URLs of the ledger pages, included by the shell's urls (names `web:ledger:...`)."""

from django.urls import URLPattern

app_name = "ledger"
urlpatterns: list[URLPattern] = []
