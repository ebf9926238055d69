"""URLs of the claims pages, included by the shell's urls (names `web:claims:...`). Each views module lists its
own patterns; this joins the modules present."""

from __future__ import annotations

import importlib
import pkgutil

from django.urls import URLPattern, URLResolver

from openipa.claims import views

app_name = "claims"
urlpatterns: list[URLPattern | URLResolver] = []
for _module in sorted(pkgutil.iter_modules(views.__path__), key=lambda m: m.name):
    urlpatterns += getattr(importlib.import_module(f"openipa.claims.views.{_module.name}"), "urlpatterns", [])
