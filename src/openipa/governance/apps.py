"""Governance of the association: the board and its committees, their members and terms, meetings, motions,
votes and minutes, and each member practice's participation. Pages for board members never show
fee-for-service rates or messenger answers (ADR 0012)."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "openipa.governance"
    label = "governance"
    verbose_name = "Governance"
