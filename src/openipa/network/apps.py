from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "openipa.network"
    label = "network"
