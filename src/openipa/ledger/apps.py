from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "openipa.ledger"
    label = "ledger"
