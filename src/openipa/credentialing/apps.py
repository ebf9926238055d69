"""Credentialing: exclusion screening, credentialing files, the committee and delegation reports."""

import importlib
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

_SEEDS = ("0002_seed_screening_policy", "0004_seed_credentialing_rules")
"""The data migrations that put the rules in (each does nothing when its rows are there)."""


def _seed_rules(sender: AppConfig, *, apps: Any = None, **kwargs: Any) -> None:
    """Put the screening policy and the credentialing rules back after a flush (as transactional tests and
    `flush` leave the database), through the models as the migrations left them (the current ones after a
    flush, which sends no migration state)."""
    if apps is None:
        from django.apps import apps as current

        apps = current
    try:
        apps.get_model("credentialing", "CredentialingRule")
        apps.get_model("credentialing", "ScreeningPolicy")
    except LookupError:  # migrate stopped before the credentialing tables
        return
    for name in _SEEDS:
        importlib.import_module(f"openipa.credentialing.migrations.{name}").seed(apps, None)


class CredentialingConfig(AppConfig):
    name = "openipa.credentialing"
    label = "credentialing"
    verbose_name = "Credentialing"

    def ready(self) -> None:
        # as the ledger keeps its chart of accounts: reference rows a flushed database gets back
        post_migrate.connect(_seed_rules, sender=self, dispatch_uid="openipa.credentialing.seed_rules")
