"""FHIR R4 bulk data (NDJSON, one resource per line) read into clinical records, streamed.

:func:`read_ndjson` reads one NDJSON file (a path, bytes or a binary stream) a line at a time, in constant
memory, and yields :class:`~openipa.edi.clinical.PatientRecord` for a Patient and
:class:`~openipa.edi.clinical.ClinicalFact` for a Condition, Observation, Procedure, Immunization,
Encounter or DiagnosticReport (see :func:`read_resource` for which elements are read), plus
:class:`~openipa.edi.clinical.ClinicalIssue` for each problem. :func:`read_bulk_dir` reads a bulk-export
directory: one file per resource type named after it (``Patient.000.ndjson``, ``Observation.ndjson``,
``export_Condition.001.ndjson``), Patient files first; :func:`bulk_files` lists them.

Error policy: **each line is an independent record.** A line that is not JSON, not a resource, has no
``id`` or no ``subject``/``patient``, or has a bad code, date or value in an element the record needs, is
reported as a ``ClinicalIssue`` of severity ``error`` naming the file, line, resource id and element path
(``Observation.effectiveDateTime``), and the next lines are still read. A bad demographic detail (a
Patient's birthDate or gender, a partial date the reader cannot place on a day) is a ``warning``: the detail
is dropped and the record kept. A resource of a type this reader does not read is skipped with a warning.
A file that is not NDJSON at all -- a pretty-printed JSON document or Bundle (its first line is ``{`` or
``[`` alone, or a JSON array), a line over :data:`~openipa.edi.clinical.MAX_LINE` bytes, a file that cannot
be opened -- is refused whole with :class:`~openipa.edi.clinical.ClinicalFileError`.

Numbers are read exactly: ``orjson`` parses each line, and a decimal value whose float cannot give back the
written digits (more than 15 significant digits) makes the line be parsed again with ``decimal.Decimal``
numbers, so ``valueQuantity.value`` is always the decimal the file wrote (trailing zeros aside).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import orjson

from openipa.edi.clinical import (
    CHUNK_SIZE,
    SEXES,
    Address,
    ClinicalFact,
    ClinicalFileError,
    ClinicalIssue,
    Coding,
    Component,
    Identifier,
    Kind,
    PatientRecord,
    Record,
    Where,
    birth_date_problem,
    code_system,
    decode_text,
    iter_lines,
    normalize_code,
    open_clinical,
)
from openipa.edi.x12.reader import Source

RESOURCE_TYPES: tuple[str, ...] = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "Immunization",
    "Encounter",
    "DiagnosticReport",
)
"""The resource types read; others are skipped with a warning."""

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"

SKIPPED_TYPES = frozenset(
    {
        "AllergyIntolerance",
        "CarePlan",
        "CareTeam",
        "Claim",
        "Coverage",
        "Device",
        "DocumentReference",
        "ExplanationOfBenefit",
        "Goal",
        "Group",
        "ImagingStudy",
        "Location",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationRequest",
        "MedicationStatement",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Provenance",
        "RelatedPerson",
        "ServiceRequest",
        "SupplyDelivery",
    }
)
"""Resource types of bulk exports that are not read: a file named for one is skipped whole."""


class _Refused(Exception):
    """The record cannot be read: ``path`` is the element at fault."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class _NeedExact(Exception):
    """A float that cannot give back the decimal the file wrote: parse the line again with Decimals."""


class _Reader:
    """One resource being read: where it is, the warnings met, and typed getters for its elements."""

    def __init__(self, resource: Mapping[str, Any], rtype: str, where: Where) -> None:
        self.res = resource
        self.rtype = rtype
        self.where = where
        self.warnings: list[ClinicalIssue] = []

    def refuse(self, message: str, path: str) -> NoReturn:
        raise _Refused(message, path)

    def warn(self, message: str, path: str) -> None:
        self.warnings.append(ClinicalIssue("warning", message, self.where, path))

    # -- element getters ---------------------------------------------------------------------------------

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.refuse(f"must be an object, not {_kind(value)}", path)
        return value

    def array(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.refuse(f"must be an array, not {_kind(value)}", path)
        return value

    def text(self, value: Any, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.refuse(f"must be a string, not {_kind(value)}", path)
        return value.strip()

    def coding(self, value: Any, path: str) -> Coding | None:
        c = self.obj(value, path)
        if c is None:
            return None
        code = self.text(c.get("code"), f"{path}.code")
        if not code:
            return None
        raw_system = self.text(c.get("system"), f"{path}.system")
        system = code_system(raw_system) or raw_system if raw_system else ""
        return Coding(system, normalize_code(system, code), self.text(c.get("display"), f"{path}.display"))

    def concept(self, value: Any, path: str) -> tuple[Coding, ...]:
        cc = self.obj(value, path)
        if cc is None:
            return ()
        codes: list[Coding] = []
        for i, item in enumerate(self.array(cc.get("coding"), f"{path}.coding")):
            coding = self.coding(item, f"{path}.coding[{i}]")
            if coding is not None:
                codes.append(coding)
        return tuple(codes)

    def required_concept(self, name: str) -> tuple[Coding, ...]:
        path = f"{self.rtype}.{name}"
        codes = self.concept(self.res.get(name), path)
        if not codes:
            self.refuse("has no coding with a code", path)
        return codes

    def first_code(self, value: Any, path: str) -> str:
        codes = self.concept(value, path)
        return codes[0].code if codes else ""

    def reference(self, value: Any, path: str) -> str:
        ref = self.obj(value, path)
        if ref is None:
            return ""
        return self.text(ref.get("reference"), f"{path}.reference")

    def patient_ref(self, name: str) -> str:
        path = f"{self.rtype}.{name}"
        ref = self.reference(self.res.get(name), path)
        if not ref:
            self.refuse(f"has no {name} (the patient it is about)", path)
        found = _patient_id(ref)
        if found is None:
            self.refuse(f"{ref!r} is not a reference to a Patient", f"{path}.reference")
        return found

    def when(
        self, value: Any, path: str, *, required_day: bool = False
    ) -> tuple[dt.date | None, dt.datetime | None]:
        """A FHIR date or dateTime: (the day, the timestamp when a time was given)."""
        text = self.text(value, path)
        if not text:
            return None, None
        match = _DATE_TIME.fullmatch(text)
        if match is None:
            self.refuse(f"{text!r} is not a FHIR date or dateTime", path)
        year, month, day, time_part = match.group(1, 2, 3, 4)
        if day is None:
            message = f"{text!r} is a partial date (no day); it is not used"
            if required_day:
                self.refuse(message, path)
            self.warn(message, path)
            return None, None
        try:
            date = dt.date(int(year), int(month), int(day))
            stamp = dt.datetime.fromisoformat(text) if time_part else None
        except ValueError:
            self.refuse(f"{text!r} is not a real date or time", path)
        return date, stamp

    def period(
        self, value: Any, path: str
    ) -> tuple[dt.date | None, dt.date | None, dt.datetime | None, dt.datetime | None]:
        p = self.obj(value, path)
        if p is None:
            return None, None, None, None
        start, start_time = self.when(p.get("start"), f"{path}.start")
        end, end_time = self.when(p.get("end"), f"{path}.end")
        if start is not None and end is not None and end < start:
            self.refuse(f"ends {end.isoformat()} before it starts {start.isoformat()}", f"{path}.end")
        return start, end, start_time, end_time

    def decimal(self, value: Any, path: str) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            self.refuse(f"must be a number, not {_kind(value)}", path)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.refuse("is not a finite number", path)
            shown = repr(value)
            if len(shown.replace("-", "").replace(".", "").lstrip("0").split("e")[0]) > 15 or "e" in shown:
                raise _NeedExact
            return Decimal(shown)
        return Decimal(value)

    def quantity(self, value: Any, path: str) -> tuple[Decimal | None, str, str]:
        q = self.obj(value, path)
        if q is None:
            return None, "", ""
        number = self.decimal(q.get("value"), f"{path}.value")
        unit = self.text(q.get("unit"), f"{path}.unit") or self.text(q.get("code"), f"{path}.code")
        comparator = self.text(q.get("comparator"), f"{path}.comparator")
        if comparator and comparator not in ("<", "<=", ">=", ">"):
            self.refuse(f"comparator {comparator!r} is not one of <, <=, >=, >", f"{path}.comparator")
        return number, unit, comparator


_DATE_TIME = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})"
    r"(T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
    re.ASCII,
)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _patient_id(reference: str) -> str | None:
    ref = reference.split("/_history/")[0]
    if ref.startswith("urn:uuid:"):
        return ref[len("urn:uuid:") :] or None
    if ref.startswith("Patient/"):
        rest = ref[len("Patient/") :]
        return rest if rest and "/" not in rest else None
    marker = "/Patient/"
    if "://" in ref and marker in ref:
        rest = ref.rsplit(marker, 1)[1]
        return rest if rest and "/" not in rest else None
    return None


# -- resources ----------------------------------------------------------------------------------------------


def read_resource(resource: Mapping[str, Any], where: Where | None = None) -> list[Record]:
    """The records for one parsed resource: a PatientRecord or ClinicalFact followed by its warnings, or
    just a ClinicalIssue (an error when the resource cannot be read, a warning when its type is not read).

    Elements read -- Patient: identifier (system, value, type), name (the official one first: family,
    given), birthDate, gender, address, telecom (phone, email), deceased[x]. Condition: code,
    clinicalStatus, verificationStatus, category, onset[x] (dateTime or Period), abatementDateTime,
    recordedDate, subject, encounter. Observation: status, category, code, effective[x] (dateTime, instant
    or Period), value[x] (Quantity with unit and comparator, CodeableConcept, string, integer, boolean),
    component (code and value), subject, encounter. Procedure: status, code, performed[x], subject,
    encounter. Immunization: status, vaccineCode, occurrence[x], patient, encounter. Encounter: status,
    class, type, period, hospitalization.dischargeDisposition, participant (the attending or primary
    performer, with an NPI when the reference or a logical identifier names one), subject. DiagnosticReport: status, category,
    code, effective[x], result, subject, encounter.
    """
    base = where or Where()
    if not isinstance(resource, Mapping):
        return [ClinicalIssue("error", f"the line is {_kind(resource)}, not a FHIR resource", base)]
    rtype = resource.get("resourceType")
    rid = resource.get("id")
    record_id = rid if isinstance(rid, str) else None
    here = Where(base.filename, base.line, record_id)
    if not isinstance(rtype, str) or not rtype:
        return [ClinicalIssue("error", "has no resourceType", here, "resourceType")]
    if rtype not in _READERS:
        return [
            ClinicalIssue(
                "warning",
                f"resourceType {rtype!r} is not read (read: {', '.join(RESOURCE_TYPES)}); skipped",
                here,
                "resourceType",
            )
        ]
    if not isinstance(rid, str) or not rid.strip():
        return [ClinicalIssue("error", "has no id", here, f"{rtype}.id")]
    reader = _Reader(resource, rtype, here)
    try:
        record = _READERS[rtype](reader)
    except _Refused as exc:
        return [ClinicalIssue("error", exc.message, here, exc.path)]
    return [record, *reader.warnings]


def _patient(r: _Reader) -> PatientRecord:
    res = r.res
    identifiers: list[Identifier] = []
    for i, item in enumerate(r.array(res.get("identifier"), "Patient.identifier")):
        path = f"Patient.identifier[{i}]"
        ident = r.obj(item, path) or {}
        value = r.text(ident.get("value"), f"{path}.value")
        if value:
            identifiers.append(
                Identifier(
                    r.text(ident.get("system"), f"{path}.system"),
                    value,
                    r.first_code(ident.get("type"), f"{path}.type"),
                )
            )
    names = [
        r.obj(n, f"Patient.name[{i}]") or {} for i, n in enumerate(r.array(res.get("name"), "Patient.name"))
    ]
    order = sorted(
        range(len(names)), key=lambda i: {"official": 0, "usual": 1}.get(str(names[i].get("use")), 2)
    )
    family = ""
    given: tuple[str, ...] = ()
    if order:
        i = order[0]
        family = r.text(names[i].get("family"), f"Patient.name[{i}].family")
        given = tuple(
            g
            for j, g0 in enumerate(r.array(names[i].get("given"), f"Patient.name[{i}].given"))
            if (g := r.text(g0, f"Patient.name[{i}].given[{j}]"))
        )
    birth: dt.date | None = None
    try:
        birth, _ = r.when(res.get("birthDate"), "Patient.birthDate")
    except _Refused as exc:
        r.warn(f"{exc.message}; the birth date is dropped", exc.path)
    if birth is not None and (problem := birth_date_problem(birth)):
        r.warn(f"{problem}; the birth date is dropped", "Patient.birthDate")
        birth = None
    gender = r.text(res.get("gender"), "Patient.gender")
    sex = SEXES.get(gender.casefold(), "U") if gender else "U"
    if gender and gender.casefold() not in SEXES:
        r.warn(f"gender {gender!r} is not male, female, other or unknown; read as unknown", "Patient.gender")
    addresses: list[Address] = []
    for i, item in enumerate(r.array(res.get("address"), "Patient.address")):
        path = f"Patient.address[{i}]"
        a = r.obj(item, path) or {}
        lines = tuple(
            t
            for j, x in enumerate(r.array(a.get("line"), f"{path}.line"))
            if (t := r.text(x, f"{path}.line[{j}]"))
        )
        addresses.append(
            Address(
                lines,
                r.text(a.get("city"), f"{path}.city"),
                r.text(a.get("state"), f"{path}.state"),
                r.text(a.get("postalCode"), f"{path}.postalCode"),
                r.text(a.get("country"), f"{path}.country"),
            )
        )
    phones: list[str] = []
    emails: list[str] = []
    for i, item in enumerate(r.array(res.get("telecom"), "Patient.telecom")):
        path = f"Patient.telecom[{i}]"
        tel = r.obj(item, path) or {}
        value = r.text(tel.get("value"), f"{path}.value")
        system = r.text(tel.get("system"), f"{path}.system")
        if value and system in ("phone", "sms"):
            phones.append(value)
        elif value and system == "email":
            emails.append(value)
    deceased: bool | None = None
    deceased_date: dt.date | None = None
    flag = res.get("deceasedBoolean")
    if flag is not None:
        if not isinstance(flag, bool):
            r.refuse(f"must be true or false, not {_kind(flag)}", "Patient.deceasedBoolean")
        deceased = flag
    if res.get("deceasedDateTime") is not None:
        deceased_date, _ = r.when(res.get("deceasedDateTime"), "Patient.deceasedDateTime")
        deceased = True
    return PatientRecord(
        patient_ref=str(res["id"]).strip(),
        identifiers=tuple(identifiers),
        family=family,
        given=given,
        birth_date=birth,
        sex=sex,
        addresses=tuple(addresses),
        phones=tuple(phones),
        emails=tuple(emails),
        deceased=deceased,
        deceased_date=deceased_date,
        where=r.where,
    )


def _effective(
    r: _Reader, prefix: str
) -> tuple[dt.date | None, dt.date | None, dt.datetime | None, dt.datetime | None]:
    """``<prefix>DateTime`` / ``<prefix>Instant`` / ``<prefix>Period`` of the resource."""
    res, rtype = r.res, r.rtype
    for suffix in ("DateTime", "Instant"):
        if res.get(prefix + suffix) is not None:
            day, stamp = r.when(res.get(prefix + suffix), f"{rtype}.{prefix}{suffix}")
            return day, None, stamp, None
    if res.get(prefix + "Period") is not None:
        return r.period(res.get(prefix + "Period"), f"{rtype}.{prefix}Period")
    if res.get(prefix + "String") is not None:
        r.warn("is text, not a date; not used", f"{rtype}.{prefix}String")
    return None, None, None, None


def _status(r: _Reader) -> str:
    return r.text(r.res.get("status"), f"{r.rtype}.status")


def _encounter_ref(r: _Reader) -> str:
    ref = r.reference(r.res.get("encounter"), f"{r.rtype}.encounter")
    return ref.split("/", 1)[1] if ref.startswith("Encounter/") else ref


def _fact(r: _Reader, kind: Kind, patient: str, **values: Any) -> ClinicalFact:
    return ClinicalFact(
        kind=kind, record_id=str(r.res["id"]).strip(), patient_ref=patient, where=r.where, **values
    )


def _condition(r: _Reader) -> ClinicalFact:
    res = r.res
    patient = r.patient_ref("subject")
    codes = r.required_concept("code")
    onset, _, onset_time, _ = _effective(r, "onset")
    recorded, _ = r.when(res.get("recordedDate"), "Condition.recordedDate")
    abated, _ = r.when(res.get("abatementDateTime"), "Condition.abatementDateTime")
    categories = r.array(res.get("category"), "Condition.category")
    return _fact(
        r,
        "condition",
        patient,
        codes=codes,
        date=onset or recorded,
        end_date=abated,
        time=onset_time,
        recorded=recorded,
        status=r.first_code(res.get("clinicalStatus"), "Condition.clinicalStatus"),
        verification=r.first_code(res.get("verificationStatus"), "Condition.verificationStatus"),
        category=r.first_code(categories[0], "Condition.category[0]") if categories else "",
        encounter_ref=_encounter_ref(r),
    )


def _value(r: _Reader, holder: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The value[x] of an observation or component as ClinicalFact/Component fields."""
    if holder.get("valueQuantity") is not None:
        number, unit, comparator = r.quantity(holder["valueQuantity"], f"{path}.valueQuantity")
        return {"value": number, "unit": unit, "comparator": comparator}
    if holder.get("valueCodeableConcept") is not None:
        codes = r.concept(holder["valueCodeableConcept"], f"{path}.valueCodeableConcept")
        cc = r.obj(holder["valueCodeableConcept"], f"{path}.valueCodeableConcept") or {}
        text = r.text(cc.get("text"), f"{path}.valueCodeableConcept.text")
        return {
            "value_code": codes[0] if codes else None,
            "value_text": text or (codes[0].display if codes else ""),
        }
    if holder.get("valueString") is not None:
        return {"value_text": r.text(holder["valueString"], f"{path}.valueString")}
    if holder.get("valueInteger") is not None:
        v = holder["valueInteger"]
        if isinstance(v, bool) or not isinstance(v, int):
            r.refuse(f"must be an integer, not {_kind(v)}", f"{path}.valueInteger")
        return {"value": Decimal(v)}
    if holder.get("valueBoolean") is not None:
        v = holder["valueBoolean"]
        if not isinstance(v, bool):
            r.refuse(f"must be true or false, not {_kind(v)}", f"{path}.valueBoolean")
        return {"value_text": "true" if v else "false"}
    return {}


def _observation(r: _Reader) -> ClinicalFact:
    res = r.res
    patient = r.patient_ref("subject")
    codes = r.required_concept("code")
    start, end, start_time, end_time = _effective(r, "effective")
    components: list[Component] = []
    for i, item in enumerate(r.array(res.get("component"), "Observation.component")):
        path = f"Observation.component[{i}]"
        comp = r.obj(item, path) or {}
        comp_codes = r.concept(comp.get("code"), f"{path}.code")
        if not comp_codes:
            r.refuse("has no coding with a code", f"{path}.code")
        components.append(Component(comp_codes, **_value(r, comp, path)))
    categories = r.array(res.get("category"), "Observation.category")
    return _fact(
        r,
        "observation",
        patient,
        codes=codes,
        date=start,
        end_date=end,
        time=start_time,
        end_time=end_time,
        status=_status(r),
        category=r.first_code(categories[0], "Observation.category[0]") if categories else "",
        components=tuple(components),
        encounter_ref=_encounter_ref(r),
        **_value(r, res, "Observation"),
    )


def _procedure(r: _Reader) -> ClinicalFact:
    patient = r.patient_ref("subject")
    codes = r.required_concept("code")
    start, end, start_time, end_time = _effective(r, "performed")
    return _fact(
        r,
        "procedure",
        patient,
        codes=codes,
        date=start,
        end_date=end,
        time=start_time,
        end_time=end_time,
        status=_status(r),
        encounter_ref=_encounter_ref(r),
    )


def _immunization(r: _Reader) -> ClinicalFact:
    patient = r.patient_ref("patient")
    codes = r.required_concept("vaccineCode")
    day, _, stamp, _ = _effective(r, "occurrence")
    return _fact(
        r,
        "immunization",
        patient,
        codes=codes,
        date=day,
        time=stamp,
        status=_status(r),
        encounter_ref=_encounter_ref(r),
    )


_NPI_IN_REFERENCE = re.compile(r"identifier=" + re.escape(NPI_SYSTEM) + r"\|([0-9]{10})")


def _encounter(r: _Reader) -> ClinicalFact:
    res = r.res
    patient = r.patient_ref("subject")
    klass = r.coding(res.get("class"), "Encounter.class")
    codes: list[Coding] = []
    for i, item in enumerate(r.array(res.get("type"), "Encounter.type")):
        codes.extend(r.concept(item, f"Encounter.type[{i}]"))
    start, end, start_time, end_time = r.period(res.get("period"), "Encounter.period")
    hosp = r.obj(res.get("hospitalization"), "Encounter.hospitalization") or {}
    disposition = r.first_code(
        hosp.get("dischargeDisposition"), "Encounter.hospitalization.dischargeDisposition"
    )
    performer, performer_name = "", ""
    participants = [
        r.obj(p, f"Encounter.participant[{i}]") or {}
        for i, p in enumerate(r.array(res.get("participant"), "Encounter.participant"))
    ]

    def rank(i: int) -> int:
        types = {
            c.code
            for j, t in enumerate(r.array(participants[i].get("type"), f"Encounter.participant[{i}].type"))
            for c in r.concept(t, f"Encounter.participant[{i}].type[{j}]")
        }
        return 0 if "ATND" in types else 1 if "PPRF" in types else 2

    for i in sorted(range(len(participants)), key=rank):
        path = f"Encounter.participant[{i}].individual"
        individual = r.obj(participants[i].get("individual"), path)
        if individual is None:
            continue
        ref = r.text(individual.get("reference"), f"{path}.reference")
        match = _NPI_IN_REFERENCE.search(ref)
        performer = match.group(1) if match else ref
        ident = r.obj(individual.get("identifier"), f"{path}.identifier")
        if ident is not None and r.text(ident.get("system"), f"{path}.identifier.system") == NPI_SYSTEM:
            performer = r.text(ident.get("value"), f"{path}.identifier.value") or performer
        performer_name = r.text(individual.get("display"), f"{path}.display")
        break
    return _fact(
        r,
        "encounter",
        patient,
        codes=tuple(codes),
        date=start,
        end_date=end,
        time=start_time,
        end_time=end_time,
        status=_status(r),
        category=klass.code if klass else "",
        disposition=disposition,
        performer=performer,
        performer_name=performer_name,
    )


def _report(r: _Reader) -> ClinicalFact:
    res = r.res
    patient = r.patient_ref("subject")
    codes = r.required_concept("code")
    start, end, start_time, end_time = _effective(r, "effective")
    results: list[str] = []
    for i, item in enumerate(r.array(res.get("result"), "DiagnosticReport.result")):
        ref = r.reference(item, f"DiagnosticReport.result[{i}]")
        if ref:
            results.append(ref.split("/", 1)[1] if ref.startswith("Observation/") else ref)
    categories = r.array(res.get("category"), "DiagnosticReport.category")
    return _fact(
        r,
        "report",
        patient,
        codes=codes,
        date=start,
        end_date=end,
        time=start_time,
        end_time=end_time,
        status=_status(r),
        category=r.first_code(categories[0], "DiagnosticReport.category[0]") if categories else "",
        encounter_ref=_encounter_ref(r),
        references=tuple(results),
    )


_READERS: dict[str, Callable[[_Reader], PatientRecord | ClinicalFact]] = {
    "Patient": _patient,
    "Condition": _condition,
    "Observation": _observation,
    "Procedure": _procedure,
    "Immunization": _immunization,
    "Encounter": _encounter,
    "DiagnosticReport": _report,
}


# -- files --------------------------------------------------------------------------------------------------


def read_ndjson(
    source: Source, *, filename: str | None = None, chunk_size: int = CHUNK_SIZE
) -> Iterator[Record]:
    """Records and issues of one FHIR NDJSON file, a line at a time (see the module's error policy)."""
    stream, name, close = open_clinical(source, filename)
    try:
        first = True
        for number, raw in enumerate(iter_lines(stream, name, chunk_size=chunk_size), 1):
            if not raw.strip():
                continue
            if first:
                first = False
                head = raw.strip().lstrip(b"\xef\xbb\xbf").strip()
                if head in (b"{", b"[") or head.startswith(b"["):
                    raise ClinicalFileError(
                        "the file is a JSON document, not NDJSON (one resource per line); "
                        "export it as bulk data",
                        filename=name,
                        line=number,
                    )
            yield from _line(raw, Where(name, number))
    except OSError as exc:
        raise ClinicalFileError(f"the file cannot be read: {exc}", filename=name) from None
    finally:
        if close:
            stream.close()  # type: ignore[attr-defined]


def _line(raw: bytes, where: Where) -> list[Record]:
    try:
        text = decode_text(raw)
    except UnicodeDecodeError as exc:
        return [ClinicalIssue("error", f"the line is not UTF-8 text (byte {exc.start + 1})", where)]
    try:
        resource = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return [ClinicalIssue("error", f"the line is not valid JSON: {exc}", where)]
    try:
        return read_resource(resource, where)
    except _NeedExact:
        return read_resource(json.loads(text, parse_float=Decimal), where)


_TYPE_TOKEN = re.compile(r"[A-Z][A-Za-z]+")


def resource_type_of(path: Path) -> str | None:
    """The resource type a bulk file's name says (``Patient.000.ndjson`` -> Patient), or None."""
    stem = path.name[: -len(".ndjson")] if path.name.endswith(".ndjson") else path.stem
    tokens = [t for t in re.split(r"[._\-]", stem) if _TYPE_TOKEN.fullmatch(t)]
    return tokens[-1] if tokens else None


def bulk_files(directory: str | Path) -> list[tuple[str | None, Path]]:
    """The ``*.ndjson`` files of a bulk-export directory with the type their names say, Patient files
    first, then by type and name. ClinicalFileError when the directory has none."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ClinicalFileError("is not a directory", filename=str(folder))
    files = [(resource_type_of(p), p) for p in folder.iterdir() if p.is_file() and p.name.endswith(".ndjson")]
    if not files:
        raise ClinicalFileError("the directory has no .ndjson files", filename=str(folder))
    return sorted(files, key=lambda f: (f[0] != "Patient", f[0] or "", f[1].name))


def read_bulk_dir(directory: str | Path, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Record]:
    """Records and issues of every file of a bulk-export directory (see :func:`bulk_files`); a file named
    for a resource type that is not read is skipped whole with one warning."""
    for rtype, path in bulk_files(directory):
        if rtype in SKIPPED_TYPES:
            yield ClinicalIssue(
                "warning",
                f"the file holds {rtype} resources, which are not read; skipped",
                Where(path.name),
            )
            continue
        yield from read_ndjson(path, chunk_size=chunk_size)
