"""One page of a query: the pages and the API page the same way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet

T = TypeVar("T")
M = TypeVar("M", bound=Model)

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def end_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def clamp_page(number: int | str | None, per_page: int | str | None) -> tuple[int, int]:
    """Page number >= 1 and page size within 1..MAX_PER_PAGE, from untrusted input."""
    try:
        n = max(1, int(number or 1))
    except (TypeError, ValueError):
        n = 1
    try:
        size = min(MAX_PER_PAGE, max(1, int(per_page or DEFAULT_PER_PAGE)))
    except (TypeError, ValueError):
        size = DEFAULT_PER_PAGE
    return n, size


def paginate(qs: QuerySet[M], number: int | str | None = 1, per_page: int | str | None = None) -> Page[M]:
    """The requested page of `qs` (ordered). A page past the end gives the last page."""
    n, size = clamp_page(number, per_page)
    total = qs.count()
    last = max(1, math.ceil(total / size))
    n = min(n, last)
    items = list(qs[(n - 1) * size : n * size])
    return Page(items=items, number=n, per_page=size, total=total)
