from django.apps import AppConfig


class CapitationConfig(AppConfig):
    name = "openipa.capitation"
    label = "capitation"
