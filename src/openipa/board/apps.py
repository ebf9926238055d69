"""The board dashboard: revenue against cost PMPM by line of business, medical loss ratio, membership, reserves
and the California risk-bearing organization criteria, top cost drivers and the quality trajectory.
Aggregates only: never fee-for-service rates, messenger answers or member-level data."""

from django.apps import AppConfig


class BoardConfig(AppConfig):
    name = "openipa.board"
    label = "board"
    verbose_name = "Board dashboard"
