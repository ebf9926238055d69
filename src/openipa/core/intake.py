"""Receiving files: every file a payer sends is kept as received, under var/imports/<kind>/, with its hash.

Shared by the roster and capitation imports (and any later file intake): the copy is made while hashing, so
a duplicate check by content hash costs one read of the file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


MAX_LISTED = 200
"""Errors and warnings an import keeps on its record (the counts are always exact)."""


def issue(
    segment: int, segment_id: str, element: int | None, message: str, member_id: str = ""
) -> dict[str, Any]:
    """One error or warning of a received file, as import records keep them: where (segment or line, segment
    id, element) and what; control characters escaped."""
    out: dict[str, Any] = {
        "segment": segment,
        "segment_id": printable(segment_id),
        "element": element,
        "message": printable(message),
    }
    if member_id:
        out["member_id"] = printable(member_id)
    return out


@dataclass
class Issues:
    """The errors and warnings found reading a file: the first ``limit`` of each are kept, all are counted."""

    limit: int = MAX_LISTED
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_count: int = 0
    error_count: int = 0

    def error(self, item: dict[str, Any]) -> None:
        self.error_count += 1
        if len(self.errors) < self.limit:
            self.errors.append(item)

    def warn(self, item: dict[str, Any]) -> None:
        self.warning_count += 1
        if len(self.warnings) < self.limit:
            self.warnings.append(item)

    def error_at(self, segment: int, segment_id: str, element: int | None, message: str) -> None:
        self.error(issue(segment, segment_id, element, message))

    def warn_at(self, segment: int, segment_id: str, element: int | None, message: str) -> None:
        self.warn(issue(segment, segment_id, element, message))

    def listed_warnings(self) -> list[dict[str, Any]]:
        """The warnings kept, and a last one saying how many more were found."""
        extra = self.warning_count - len(self.warnings)
        if extra > 0:
            return [*self.warnings, issue(0, "", None, f"{extra} more warnings not listed")]
        return list(self.warnings)
