from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "openipa.demo"
    label = "demo"
