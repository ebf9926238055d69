"""Quality measures (HEDIS-style, by measurement year) and care gaps per practice and PCP (issue 8)."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "openipa.quality"
    label = "quality"
    verbose_name = "Quality measures"
