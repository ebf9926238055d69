"""Refusals the claims services share."""

from __future__ import annotations


class RunRefused(ValueError):
    """A payment run cannot be prepared, approved, remitted or paid as asked; the message says why."""
