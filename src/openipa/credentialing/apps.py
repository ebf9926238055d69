from django.apps import AppConfig


class CredentialingConfig(AppConfig):
    name = "openipa.credentialing"
    label = "credentialing"
    verbose_name = "Credentialing"
