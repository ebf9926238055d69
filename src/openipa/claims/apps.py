from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "openipa.claims"
    label = "claims"
