"""The few exception types every layer shares. Views and the API turn them into responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class PermissionDenied(Exception):
    """The acting user may not do this. Pages answer 403, the API its error format with 403."""


class NotFound(Exception):
    """No such object for this actor. Also raised when it exists but lies outside the actor's scope,
    so a practice user cannot learn that another practice's record exists."""


class ValidationFailed(ValueError):
    """Input that breaks a rule. `fields` maps a field name ("" for the whole input) to messages."""

    def __init__(self, fields: Mapping[str, Sequence[str]]):
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in fields.items() if v}
        super().__init__("; ".join(f"{k or 'input'}: {' '.join(v)}" for k, v in self.fields.items()))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})
