"""Navigation links: the shell's menu and each app's own tabs (the eligibility pages', say)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool


def is_active(url: str, path: str) -> bool:
    """Whether the page at ``path`` is under the link ``url``.

    The dashboard is "/", a prefix of every path: it is active only on itself.
    """
    return path == url if url == "/" else path.startswith(url)
