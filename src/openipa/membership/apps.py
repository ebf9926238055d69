from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "openipa.membership"
    label = "membership"
