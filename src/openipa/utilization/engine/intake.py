"""Checks on a request as submitted (portal, API or 278), before anything is looked up: every problem is
named with its field, so a hostile or careless request is refused whole with a clear answer. Also the
auto-approval match. Pure: no Django."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openipa.core.identifiers import is_valid_npi

KINDS = ("referral", "prior_auth", "admission", "post_stabilization")
URGENCIES = ("standard", "expedited")
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
"""ICD-10-CM: a letter (not U), a digit, a digit or letter, then up to four more after an optional dot."""
HCPCS = re.compile(r"^([0-9]{4}[0-9FTU]|[A-V][0-9]{4})$")
"""CPT (five digits, or four and F/T/U for category II/III and PLA) or HCPCS Level II (a letter, four digits)."""
MAX_SPAN_DAYS = 366
MAX_SERVICES = 50


@dataclass(frozen=True, slots=True)
class ServiceInput:
    code: str
    units: Decimal | int | str
    service_from: dt.date | None
    service_to: dt.date | None
    modifiers: str = ""


@dataclass(frozen=True, slots=True)
class RequestInput:
    """A request as a submitter gives it."""

    kind: str
    urgency: str
    member_id: str
    """The payer's member id."""
    requesting_npi: str
    diagnoses: Sequence[str]
    services: Sequence[ServiceInput]
    payer_code: str = ""
    servicing_npi: str = ""
    servicing_name: str = ""
    clinical_notes: str = ""
    trace_number: str = ""
    member_birth_date: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict)


def normalize_diagnosis(code: str) -> str:
    return code.strip().upper().replace(".", "")


def check(request: RequestInput) -> dict[str, list[str]]:
    """Every problem with `request`, by field ({} when there is none)."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if request.kind not in KINDS:
        add("kind", f"unknown kind {request.kind!r}: one of {', '.join(KINDS)}")
    if request.urgency not in URGENCIES:
        add("urgency", f"unknown urgency {request.urgency!r}: standard or expedited")
    if not request.member_id.strip():
        add("member_id", "the member's id is missing")
    if not is_valid_npi(request.requesting_npi.strip()):
        add("requesting_npi", f"{request.requesting_npi!r} is not a valid NPI")
    if request.servicing_npi.strip() and not is_valid_npi(request.servicing_npi.strip()):
        add("servicing_npi", f"{request.servicing_npi!r} is not a valid NPI")
    diagnoses = [normalize_diagnosis(d) for d in request.diagnoses if d.strip()]
    if not diagnoses:
        add("diagnoses", "at least one diagnosis (ICD-10-CM) is required")
    for code in diagnoses:
        if not ICD10.match(code):
            add("diagnoses", f"{code!r} is not an ICD-10-CM code")
    if len(set(diagnoses)) != len(diagnoses):
        add("diagnoses", "a diagnosis is listed twice")
    if not request.services:
        add("services", "at least one service is required")
    if len(request.services) > MAX_SERVICES:
        add("services", f"at most {MAX_SERVICES} services per request")
    for n, service in enumerate(request.services, start=1):
        where = f"services[{n}]"
        if not HCPCS.match(service.code.strip().upper()):
            add(f"{where}.code", f"{service.code!r} is not a CPT or HCPCS code")
        try:
            units = Decimal(str(service.units))
        except InvalidOperation:
            add(f"{where}.units", f"{service.units!r} is not a number")
        else:
            if (
                not units.is_finite()
                or units <= 0
                or units > 9999
                or units != units.quantize(Decimal("0.01"))
            ):
                add(f"{where}.units", "units are a number above 0 and at most 9999, to two decimals")
        if service.service_from is None or service.service_to is None:
            add(f"{where}.dates", "the service dates are missing")
        elif service.service_to < service.service_from:
            add(f"{where}.dates", f"the service dates are reversed ({service.service_from} after "
                f"{service.service_to})")  # fmt: skip
        elif (service.service_to - service.service_from).days > MAX_SPAN_DAYS:
            add(f"{where}.dates", f"a span of at most {MAX_SPAN_DAYS} days")
    return problems


@dataclass(frozen=True, slots=True)
class AutoRule:
    rule_id: int
    kind: str
    line_of_business: str
    specialties: frozenset[str]
    in_network_only: bool
    code_from: str
    code_to: str
    max_units: int | None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the auto-approval rules look at."""

    kind: str
    line_of_business: str
    servicing_specialty: str
    servicing_in_network: bool
    codes_units: Sequence[tuple[str, Decimal]]


def auto_approval(facts: Facts, rules: Sequence[AutoRule]) -> AutoRule | None:
    """The first rule (by id) that approves the request as a whole, or None. Every service must fall in
    the rule's code range and units; a rule never denies."""
    for rule in sorted(rules, key=lambda r: r.rule_id):
        if rule.kind != facts.kind or rule.line_of_business not in ("", facts.line_of_business):
            continue
        if rule.in_network_only and not facts.servicing_in_network:
            continue
        if rule.specialties and facts.servicing_specialty.strip().lower() not in rule.specialties:
            continue
        if rule.code_from and not all(
            rule.code_from <= code <= rule.code_to for code, _ in facts.codes_units
        ):
            continue
        if rule.max_units is not None and any(units > rule.max_units for _, units in facts.codes_units):
            continue
        return rule
    return None
