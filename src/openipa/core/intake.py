"""Receiving files: every file a payer sends is kept as received, under var/imports/<kind>/, with its hash.

Shared by the roster and capitation imports (and any later file intake): the copy is made while hashing, so
a duplicate check by content hash costs one read of the file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.conf import settings
from django.utils import timezone

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def intake_dir(kind: str) -> Path:
    """var/imports/<kind>/, created when missing."""
    path = Path(settings.VAR_DIR) / "imports" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_file(path: Path, file_name: str, kind: str) -> tuple[str, int, Path]:
    """Copy ``path`` under var/imports/<kind>/ while hashing it; return (sha256, size, stored path)."""
    digest = hashlib.sha256()
    size = 0
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", file_name)[-120:] or kind
    target = intake_dir(kind) / f"{stamp}-{safe}"
    with path.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return digest.hexdigest(), size, target


def relative_to_var(path: Path) -> str:
    """``path`` relative to VAR_DIR when it is under it (as stored on import records), else as it is."""
    try:
        return str(path.relative_to(Path(settings.VAR_DIR)))
    except ValueError:
        return str(path)


def printable(text: str) -> str:
    """Control characters shown as escapes: messages quote the file's bytes, and a NUL cannot be stored."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def cli_user() -> str:
    """Who runs a command-line import, as recorded on the import: ``cli:<login>`` (or ``cli``)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
