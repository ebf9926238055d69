"""Capitation: remittance import (820, 835 PLB, CSV), expected capitation, reconciliation, distribution runs,
statements and payments."""
