from django.apps import AppConfig


class CapitationConfig(AppConfig):
    name = "openipa.capitation"
    label = "capitation"

    def ready(self) -> None:
        from openipa.capitation.statements import STATEMENT_SET, statements_holding
        from openipa.core import audit

        # an approved run's statement is an immutable set of member-months: its exports name it (core.audit)
        audit.register_member_set(STATEMENT_SET, statements_holding)
