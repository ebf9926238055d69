"""Shared savings: payer and MSSP-style contract terms, settlements from frozen snapshots, distribution to
practices by a configurable formula, statements, and the year-end forecast. It reads membership, claims,
quality and risk, and sits above them."""

from django.apps import AppConfig


class SavingsConfig(AppConfig):
    name = "openipa.savings"
    label = "savings"
    verbose_name = "Shared savings"
