"""Writing a payer's capitation profile: the default format of its remittances, the column mapping of its CSV
files, and the payer deductions the contract allows (any other deduction is a discrepancy).

    capitation_profile_save(actor=..., payer=payer, data={...})  ->  CapitationProfile

One transaction, audited with the profile before and after. Everything is checked before anything is written;
a refusal names its field: ``default_format``, ``csv_profile`` or ``accepted_deductions``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from openipa.capitation.models import CapitationProfile
from openipa.capitation.services.imports import profile_for
from openipa.contracts.models import Payer
from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, require
from openipa.edi.csvremit import CsvRemitProfile

_REASON = re.compile(r"[A-Z0-9]{1,10}")


def _plain(profile: CapitationProfile) -> dict[str, Any]:
    return {
        "default_format": profile.default_format,
        "csv_profile": profile.csv_profile or {},
        "accepted_deductions": dict(sorted((profile.accepted_deductions or {}).items())),
    }


def capitation_profile_save(*, actor: Actor, payer: Payer, data: Mapping[str, Any]) -> CapitationProfile:
    """Save ``payer``'s capitation profile (finance only)."""
    require(actor, Perm.EDIT_FINANCE)
    errors: dict[str, list[str]] = {}
    fmt = str(data.get("default_format", CapitationProfile.Format.X12_820))
    if fmt not in CapitationProfile.Format.values:
        errors["default_format"] = [f"Choose one of {', '.join(CapitationProfile.Format.values)}."]
    csv_profile = data.get("csv_profile") or {}
    if csv_profile:
        try:
            problems = CsvRemitProfile.from_dict(csv_profile).problems()
        except (TypeError, ValueError) as exc:
            problems = [str(exc)]
        if problems:
            errors["csv_profile"] = problems
    elif fmt == CapitationProfile.Format.CSV:
        errors["csv_profile"] = ["A payer whose default format is CSV needs a column mapping."]
    deductions: dict[str, str] = {}
    for code, label in dict(data.get("accepted_deductions") or {}).items():
        key = str(code).strip().upper()
        if not _REASON.fullmatch(key):
            errors.setdefault("accepted_deductions", []).append(
                f"{code!r} is not a reason code (1-10 letters or digits)."
            )
        deductions[key] = str(label).strip()[:80]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        profile = profile_for(payer)
        before = _plain(profile) if profile.pk else None
        profile.default_format = fmt
        profile.csv_profile = dict(csv_profile)
        profile.accepted_deductions = deductions
        profile.save()
        audit.record_write(actor, "capitation.profile", profile, before=before, after=_plain(profile))
    return profile
