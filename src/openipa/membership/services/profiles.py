"""Writing a payer's roster profile: how its 834 or CSV rosters are read and applied.

    roster_profile_save(actor=..., payer=payer, data={...})  ->  RosterProfile

One transaction, audited with the profile before and after. Every rule is checked before anything is
written, and a refusal names the field it is about: ``plan_map``, ``default_product``, ``insurance_lines``,
and for the CSV column mapping ``csv.columns.<roster field>``, ``csv.date_format``, ``csv.delimiter``,
``csv.encoding``, ``csv.sex_values``, ``csv.maintenance_values``, ``csv.relationship_values``,
``csv.insurance_line`` (``csv`` for a problem of the mapping as a whole).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from openipa.contracts.models import Payer, Product
from openipa.core import audit
from openipa.core.errors import ValidationFailed
from openipa.core.roles import Actor, Perm, require
from openipa.edi.csvroster import TARGETS, CsvProfile
from openipa.membership.models import RosterProfile

PROFILE_FIELDS = (
    "default_format",
    "full_file_terms_missing",
    "insurance_lines",
    "plan_map",
    "default_product",
    "csv_profile",
)
_LINE_CODE = re.compile(r"[A-Z0-9]{1,3}")
_PLAN_CODE_MAX = 80
_LINES_MAX = 100  # RosterProfile.insurance_lines


def _plain(profile: RosterProfile) -> dict[str, Any]:
    """The profile as the audit log keeps it: plain JSON, the default product by its code."""
    product = profile.default_product if profile.default_product_id else None
    return {
        "default_format": profile.default_format,
        "full_file_terms_missing": profile.full_file_terms_missing,
        "insurance_lines": profile.insurance_lines,
        "plan_map": dict(sorted((profile.plan_map or {}).items())),
        "default_product": product.code if product is not None else None,
        "csv_profile": profile.csv_profile or {},
    }


def csv_problem_field(problem: str) -> str:
    """The field a sentence of ``CsvProfile.validate()`` is about, as an error key of this service.

    The sentences name the roster field first (``"member_id must be mapped to a column"``) or the setting
    (``"the date format ..."``); a sentence that fits no field goes to ``csv``, the mapping as a whole.
    """
    text = problem.strip()
    for prefix, key in (
        ("the date format", "csv.date_format"),
        ("the delimiter", "csv.delimiter"),
        ("the encoding", "csv.encoding"),
        ("the insurance line", "csv.insurance_line"),
        ("sex value", "csv.sex_values"),
        ("maintenance value", "csv.maintenance_values"),
        ("relationship value", "csv.relationship_values"),
        ("map either client_id or mbi", "csv.columns.mbi"),
        ("plan_code is mapped, so coverage_begin", "csv.columns.coverage_begin"),
    ):
        if text.startswith(prefix):
            return key
    if text.endswith("is not a known text encoding"):
        return "csv.encoding"
    both = re.fullmatch(r"column .* is mapped to both (\w+) and (\w+)", text)
    if both:
        return f"csv.columns.{both.group(2)}"
    first = text.split(" ", 1)[0]
    if first in TARGETS:
        return f"csv.columns.{first}"
    return "csv"


def _check_csv(data: Any, default_format: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The CSV mapping as stored ({} for none); its problems go into ``errors`` under their fields. Columns
    mapped to nothing (blank) are left out."""
    if isinstance(data, Mapping) and isinstance(data.get("columns"), Mapping):
        columns = {k: v for k, v in data["columns"].items() if not (isinstance(v, str) and not v.strip())}
        data = {**data, "columns": columns}
    if not data or (isinstance(data, Mapping) and set(data) <= {"columns"} and not data.get("columns")):
        if default_format == RosterProfile.Format.CSV:
            errors.setdefault("csv.columns.member_id", []).append(
                "The payer sends CSV rosters: map the file's columns (member_id, last_name, first_name, "
                "birth_date at least)."
            )
        return {}
    try:
        profile = CsvProfile.from_dict(data)
    except ValueError as exc:
        errors.setdefault("csv", []).append(f"The CSV mapping is not readable: {exc}.")
        return {}
    for problem in profile.validate():
        errors.setdefault(csv_problem_field(problem), []).append(problem[:1].upper() + problem[1:] + ".")
    stored = profile.as_dict()
    stored["columns"] = {k: v.strip() for k, v in profile.columns.items() if v.strip()}
    return stored


def roster_profile_save(*, actor: Actor, payer: Payer, data: Mapping[str, Any]) -> RosterProfile:
    """Create or change ``payer``'s roster profile from ``data`` (the keys of PROFILE_FIELDS; a missing key
    keeps its current value). ``plan_map`` maps a plan code as sent in the file to a product code of the
    payer; ``default_product`` is a Product of the payer or None. Raise ValidationFailed naming each field
    in error; nothing is written then."""
    require(actor, Perm.EDIT_MEMBERS)
    current = RosterProfile.objects.filter(payer=payer).select_related("default_product").first()
    profile = current if current is not None else RosterProfile(payer=payer)
    before = _plain(profile) if current is not None else None
    errors: dict[str, list[str]] = {}

    default_format = str(data.get("default_format", profile.default_format))
    if default_format not in RosterProfile.Format.values:
        errors["default_format"] = [f"Choose {' or '.join(RosterProfile.Format.values)}."]

    lines = [c.strip().upper() for c in str(data.get("insurance_lines", profile.insurance_lines)).split(",")]
    lines = [c for c in lines if c]
    bad = [c for c in lines if not _LINE_CODE.fullmatch(c)]
    if not lines:
        errors["insurance_lines"] = ["Name at least one insurance line (HD03), e.g. HLT."]
    elif bad:
        errors["insurance_lines"] = [
            f"{', '.join(bad)}: an insurance line code is 1 to 3 letters or digits (HLT, HMO, MM ...)."
        ]
    insurance_lines = ",".join(dict.fromkeys(lines))
    if len(insurance_lines) > _LINES_MAX:
        errors.setdefault("insurance_lines", []).append(f"At most {_LINES_MAX} characters in all.")

    products = {p.code.strip().upper(): p for p in Product.objects.filter(payer=payer)}
    raw_map = data.get("plan_map", profile.plan_map) or {}
    plan_map: dict[str, str] = {}
    seen: dict[str, str] = {}
    for sent, code in raw_map.items():
        sent_s, code_s = str(sent).strip(), str(code).strip().upper()
        key = sent_s.upper()
        if not sent_s or len(sent_s) > _PLAN_CODE_MAX:
            errors.setdefault("plan_map", []).append(
                f"A plan code must be 1 to {_PLAN_CODE_MAX} characters, not {sent_s!r}."
            )
            continue
        if key in seen:
            errors.setdefault("plan_map", []).append(
                f"Plan code {sent_s} is listed twice (also as {seen[key]}); plan codes match without "
                "regard to case."
            )
            continue
        seen[key] = sent_s
        if code_s not in products:
            known = ", ".join(sorted(products)) or "none yet"
            errors.setdefault("plan_map", []).append(
                f"Plan {sent_s} maps to {code_s or '(nothing)'}, which is not a product of {payer.code} "
                f"(its products: {known})."
            )
            continue
        plan_map[sent_s] = products[code_s].code

    default_product = data.get("default_product", profile.default_product if profile.pk else None)
    if default_product is not None and (
        not isinstance(default_product, Product) or default_product.payer_id != payer.pk
    ):
        errors["default_product"] = [f"Choose a product of {payer.code}."]

    csv_profile = _check_csv(data.get("csv_profile", profile.csv_profile), default_format, errors)
    if errors:
        raise ValidationFailed(errors)

    with transaction.atomic():
        profile.default_format = default_format
        profile.full_file_terms_missing = bool(
            data.get("full_file_terms_missing", profile.full_file_terms_missing)
        )
        profile.insurance_lines = insurance_lines
        profile.plan_map = plan_map
        profile.default_product = default_product
        profile.csv_profile = csv_profile
        profile.updated_by = actor.username[:150]
        profile.save()
        audit.record_write(
            actor,
            "roster_profile.update" if current is not None else "roster_profile.create",
            profile,
            before=before,
            after=_plain(profile),
        )
    return profile
