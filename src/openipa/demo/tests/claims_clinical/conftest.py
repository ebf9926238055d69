"""The package's shared demo (see shared.py)."""

from openipa.demo.tests.claims_clinical.shared import claims_clinical_demo

__all__ = ["claims_clinical_demo"]
