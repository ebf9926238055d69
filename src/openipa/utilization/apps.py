"""Utilization management: referrals, prior authorizations and their clocks (ADR 0014)."""

import importlib
from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_rules(sender: AppConfig, *, apps: Any = None, **kwargs: Any) -> None:
    """Put the legal clocks and the watch thresholds back after a flush (as the ledger keeps its chart of
    accounts), through the models as the migrations left them."""
    if apps is None:
        from django.apps import apps as current

        apps = current
    try:
        apps.get_model("utilization", "ClockRule")
        apps.get_model("utilization", "WatchThreshold")
    except LookupError:  # migrate stopped before the utilization tables
        return
    importlib.import_module("openipa.utilization.migrations.0003_seed_clocks").seed(apps, None)


class UtilizationConfig(AppConfig):
    name = "openipa.utilization"
    label = "utilization"
    verbose_name = "Utilization management"

    def ready(self) -> None:
        post_migrate.connect(_seed_rules, sender=self, dispatch_uid="openipa.utilization.seed_rules")
