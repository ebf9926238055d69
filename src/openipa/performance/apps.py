"""Practice performance: how each practice and PCP uses care against its peers (the under-service watch;
scorecards come with the value-based issue). It reads membership, claims and utilization management, and sits
above them."""

from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "openipa.performance"
    label = "performance"
    verbose_name = "Practice performance"
