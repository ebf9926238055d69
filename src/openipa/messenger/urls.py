"""URLs of the offer pages, included by the shell's urls (names `web:messenger:...`)."""

from openipa.messenger.views import app_name, urlpatterns

__all__ = ["app_name", "urlpatterns"]
