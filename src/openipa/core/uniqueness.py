"""The one check behind every "already taken" message: another row holds this unique value."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def holder(matches: QuerySet[M], editing: Model | None) -> M | None:
    """The row in `matches` other than the one being edited (None on create), or None when the value is free.

    `matches` filters on the unique value (e.g. `Provider.objects.filter(npi=npi)`); the caller words the
    message, naming the holder when that helps the user.
    """
    if editing is not None and editing.pk is not None:
        matches = matches.exclude(pk=editing.pk)
    return matches.first()
