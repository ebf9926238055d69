from django.apps import AppConfig


class UtilizationConfig(AppConfig):
    name = "openipa.utilization"
    label = "utilization"
