"""Any clinical file: which format a file is (:func:`detect_format`) and reading it with the right reader
(:func:`read_clinical`). Above the readers (:mod:`openipa.edi.fhir`, :mod:`openipa.edi.hl7v2`,
:mod:`openipa.edi.csvclinical`), which share the records of :mod:`openipa.edi.clinical`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from openipa.edi.clinical import ClinicalFileError, Record
from openipa.edi.csvclinical import read_clinical_csv
from openipa.edi.fhir import read_bulk_dir, read_ndjson
from openipa.edi.hl7v2 import read_hl7

FORMATS: dict[str, str] = {
    "fhir-ndjson": "FHIR R4 bulk data: an NDJSON file, or a bulk-export directory of them",
    "hl7v2": "HL7 v2 messages (ORU^R01, ADT^A01/A03/A04/A08)",
    "csv": "the clinical CSV layout",
}
"""The formats :func:`read_clinical` reads (``openipa import-clinical --format``)."""


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a clinical file or directory (a key of :data:`FORMATS`), from what it starts with:
    a directory is a FHIR bulk export; ``{`` is NDJSON; ``MSH``, ``FHS`` or ``BHS`` (after MLLP framing or
    a byte-order mark) is HL7 v2; anything else is taken as CSV, whose header the CSV reader checks.
    ClinicalFileError when the path does not exist or the file is empty."""
    target = Path(path)
    if target.is_dir():
        return "fhir-ndjson"
    try:
        with target.open("rb") as stream:
            head = stream.read(4096)
    except OSError as exc:
        raise ClinicalFileError(
            f"the file cannot be read: {exc.strerror or exc}", filename=str(target)
        ) from None
    start = head.lstrip(b"\xef\xbb\xbf\x0b\r\n\t ")
    if not start:
        raise ClinicalFileError("the file is empty", filename=target.name)
    if start[:1] in (b"{", b"["):
        return "fhir-ndjson"
    if start[:3] in (b"MSH", b"FHS", b"BHS"):
        return "hl7v2"
    return "csv"


def read_clinical(path: str | os.PathLike[str], fmt: str | None = None) -> Iterator[Record]:
    """Records and issues of a clinical file or FHIR bulk directory in ``fmt`` (detected by
    :func:`detect_format` when None); ClinicalFileError for an unknown format or an unreadable file."""
    fmt = fmt or detect_format(path)
    target = Path(path)
    if fmt not in FORMATS:
        raise ClinicalFileError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", filename=target.name)
    if target.is_dir():
        if fmt != "fhir-ndjson":
            raise ClinicalFileError(f"a directory is read as fhir-ndjson, not {fmt}", filename=str(target))
        return read_bulk_dir(target)
    if not target.is_file():
        raise ClinicalFileError("no such file", filename=str(target))
    if fmt == "fhir-ndjson":
        return read_ndjson(target)
    if fmt == "hl7v2":
        return read_hl7(target)
    return read_clinical_csv(target)
