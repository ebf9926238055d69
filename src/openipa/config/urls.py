from django.urls import include, path

urlpatterns = [
    path("", include("openipa.web.urls")),
]
