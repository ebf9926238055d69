from django.urls import include, path

from openipa.config.api import api_urls

urlpatterns = [
    path("api/v1/", api_urls()),
    path("", include("openipa.web.urls")),
]
