"""Incentive pools and their settlements: the quality incentive pool, the year-end withhold return and the
risk-pool surplus or deficit, as effective-dated formulas; runs with approval, statements, ledger postings and
payments. It reads capitation, claims and quality, and sits above them."""

from django.apps import AppConfig


class IncentivesConfig(AppConfig):
    name = "openipa.incentives"
    label = "incentives"
    verbose_name = "Incentive pools and settlements"
