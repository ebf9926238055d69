"""URLs of the credentialing pages, included by the shell's urls (names `web:credentialing:...`)."""

from __future__ import annotations

from openipa.credentialing import files_views, views

app_name = "credentialing"
urlpatterns = [*views.urlpatterns, *files_views.urlpatterns]
__all__ = ["app_name", "urlpatterns"]
