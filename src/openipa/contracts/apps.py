from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "openipa.contracts"
    label = "contracts"
