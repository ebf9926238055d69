from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "openipa.web"
    label = "web"
