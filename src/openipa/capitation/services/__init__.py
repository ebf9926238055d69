"""Capitation services: remittance import, reconciliation, distribution runs and payments."""
