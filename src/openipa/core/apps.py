from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "openipa.core"
    label = "core"
    verbose_name = "Core"
