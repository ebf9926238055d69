"""CMS-HCC risk adjustment: risk scores, HCCs and coding gaps (issue 8)."""

from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "openipa.risk"
    label = "risk"
    verbose_name = "Risk adjustment"
