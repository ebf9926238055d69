"""URLs of the credentialing pages, included by the shell's urls (names `web:credentialing:...`)."""

from __future__ import annotations

from openipa.credentialing.views import urlpatterns

app_name = "credentialing"
__all__ = ["app_name", "urlpatterns"]
