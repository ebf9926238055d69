from django.apps import AppConfig


class MessengerConfig(AppConfig):
    name = "openipa.messenger"
    label = "messenger"
    verbose_name = "Messenger-model contracting"
