"""Helpers for reading rendered pages in tests: a field's errors, the navigation's labels."""

from __future__ import annotations

import re
from typing import Any


def html(response: Any) -> str:
    return str(response.content.decode())


def field_block(response: Any, name: str) -> str:
    """The rendered block of one form field: its label, input, errors and help, nothing else."""
    match = re.search(rf'data-field="{re.escape(name)}">(.*?)</div>', html(response), re.DOTALL)
    assert match, f"no field {name!r} on the page"
    return match.group(1)


def field_errors(response: Any, name: str) -> list[str]:
    """The error messages rendered next to one field (inside its block)."""
    errors = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', field_block(response, name), re.DOTALL)
    if not errors:
        return []
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", errors.group(1))]


def nav_labels(response: Any) -> list[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html(response), re.DOTALL)
    assert nav, "no main navigation on the page"
    return [label.strip() for label in re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(1))]


def results(response: Any) -> str:
    """Only the results of a directory page (the table and its pager), not the filter form's choices."""
    body = html(response)
    start = body.find('<div id="results"')
    return body[start:] if start >= 0 else body
