"""The package's shared demo (see shared.py)."""

from openipa.demo.tests.value_based.shared import value_based_demo

__all__ = ["value_based_demo"]
