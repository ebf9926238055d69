"""Template filters of the ledger pages: amounts in integer cents shown as money."""

from __future__ import annotations

from django import template

from openipa.core.money import format_money

register = template.Library()


@register.filter
def money(cents: object) -> str:
    """123456 -> "$1,234.56"; None or empty -> "" (a blank cell, not "$0.00")."""
    if cents is None or cents == "":
        return ""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money takes int cents, not {type(cents).__name__}")
    return format_money(cents)


@register.filter
def money_or_blank(cents: object) -> str:
    """Like `money`, but zero shows as a blank cell: the debit and credit columns of a trial balance."""
    return "" if cents == 0 else money(cents)
