"""The double-entry ledger: accounts, journal entries that balance and are never edited (only reversed),
the trial balance."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_chart(sender: AppConfig, *, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """Seed the missing accounts, through the model as the migrations left it (none when the ledger's tables
    are not there yet, e.g. `migrate` stopped before them)."""
    from openipa.ledger.services import seed_chart

    try:
        model = apps.get_model("ledger", "Account") if apps is not None else None
    except LookupError:
        return
    seed_chart(using=using, account_model=model)


class LedgerConfig(AppConfig):
    name = "openipa.ledger"
    label = "ledger"

    def ready(self) -> None:
        # Django's own way to keep reference rows present (content types and permissions use it too): a
        # flushed database, as transactional tests leave it, gets the chart of accounts back.
        post_migrate.connect(_seed_chart, sender=self, dispatch_uid="openipa.ledger.seed_chart")
