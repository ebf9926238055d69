"""Helpers of the credentialing files tests: a document to attach, a file verified whole on one day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openipa.credentialing import selectors
from openipa.credentialing.models import CredentialingFile, ElementKind
from openipa.credentialing.services import open_file, record_verification

EXPIRING = {"license", "dea", "board", "insurance"}


def document(tmp_path: Path, name: str = "psv.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 primary source verification\n")
    return path


def verify(
    actor: Any, file: CredentialingFile, code: str, on: dt.date, tmp_path: Path, *, result: str = "verified",
    expires_on: dt.date | None = None,
) -> Any:  # fmt: skip
    kind = ElementKind.objects.get(code=code)
    return record_verification(
        actor=actor, file=file, element=code, source=f"source of {kind.name}", method="online", verified_on=on,
        result=result, expires_on=expires_on or (on + dt.timedelta(days=730) if code in EXPIRING else None),
        document=document(tmp_path), document_name=f"{code}.pdf",
    )  # fmt: skip


def verified_file(
    actor: Any,
    provider: Any,
    on: dt.date,
    tmp_path: Path,
    *,
    kind: str = "initial",
    opened_on: dt.date | None = None,
) -> CredentialingFile:
    """A file of ``provider`` with every element its rules require on ``on`` verified on ``on``."""
    file = open_file(actor=actor, provider=provider, kind=kind, opened_on=opened_on or on)
    for element in selectors.required_elements(file, selectors.rule_on(on)):
        verify(actor, file, element.code, on, tmp_path)
    return file
