"""Template filters of the board pages."""

from __future__ import annotations

from django import template

from openipa.board.engine import lob_label as _lob_label
from openipa.core.money import format_money

register = template.Library()


@register.filter
def cents(value: object) -> str:
    """Int cents as "$1,234.56"; None as an en dash (no figure: nothing to divide by)."""
    if value is None:
        return "\u2013"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"cents takes int cents, not {type(value).__name__}")
    return format_money(value)


@register.filter
def lob_label(value: object) -> str:
    return _lob_label(str(value))


@register.filter
def pct(value: object) -> str:
    """A Decimal percentage as "87.5%"; None as an en dash."""
    return "\u2013" if value is None else f"{value}%"
