from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "openipa.accounts"
    label = "accounts"
