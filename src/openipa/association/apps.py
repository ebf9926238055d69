"""Running the association: membership-fee invoicing to practices under their participation agreements,
payments received and balances; health-improvement programs by regional groups of practices; governance
(board and committees, meetings, motions, votes, minutes)."""

from django.apps import AppConfig


class AssociationConfig(AppConfig):
    name = "openipa.association"
    label = "association"
    verbose_name = "Running the association"
