"""The demo's clinical data, generated as the files its senders would send (pure: no Django, no I/O).

For the demo's members, deterministic from the seed and "today", five senders' files:

- a hosted EHR used by half the connected practices: a FHIR R4 bulk export (``Patient``, ``Encounter``,
  ``Condition``, ``Observation``, ``Procedure``, ``Immunization`` NDJSON);
- another EHR used by the other half: the clinical CSV layout;
- the regional laboratory: HL7 v2 ORU^R01 results (HbA1c, eGFR, urine albumin/creatinine ratio);
- the hospital system's ADT feed: HL7 v2 ADT A01/A03/A04/A08 of the last weeks' admissions, discharges and
  emergency visits;
- the pharmacy benefit manager: the pharmacy claims CSV (statins, insulin, metformin, anticoagulants).

Each person gets a profile from their age and sex: hypertension and diabetes (with ICD-10 diagnoses on two
visits in the year before and the first half of the measurement year), blood pressures, the diabetic's labs
and eye exam, mammograms, colorectal screening, children's vaccines (CVX) and well-child visits, at rates that
give the quality measures realistic gaps (:data:`RATES`). A few people are sent so the matching cannot decide
(a name typo and another address, a birth date with day and month swapped): they wait in the review queue; a
few patients are no members at all. Some fills and lab results have no diagnosis behind them (insulin
without diabetes, an anticoagulant, an eGFR under 60 twice) so that risk suspects exist. The PBM also fills a
statin for most of the ischemic vascular disease patients the claims demo plants
(:func:`openipa.demo.engine.claims.cardiovascular`: the same rule on the member's key), for SPC.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from openipa.demo.engine import claims

RATES: dict[str, float] = {
    "hypertension_18_64": 0.22,
    "hypertension_65": 0.55,
    "diabetes_18_64": 0.09,
    "diabetes_65": 0.24,
    "bp_controlled": 0.66,  # the latest blood pressure below 140/90 (CBP)
    "a1c_below_8": 0.60,  # the latest HbA1c below 8 (GSD <8); no test at all is a gap too
    "a1c_tested": 0.90,
    "a1c_above_9_of_rest": 0.55,  # of those tested and not below 8: above 9 (GSD >9)
    "eye_exam": 0.58,  # EED
    "kidney_eval": 0.45,  # eGFR and uACR both (KED)
    "mammogram": 0.71,  # BCS
    "colonoscopy_10y": 0.45,  # COL: a colonoscopy in the last 10 years ...
    "fit_this_year": 0.28,  # ... or, of the rest, a FIT this year
    "child_fully_vaccinated": 0.42,  # CIS combo 10
    "well_care": 0.55,  # WCV and the well-child visits
    "statin_diabetic_40": 0.55,
    "statin_cardiovascular": 0.82,  # SPC: of the claims' planted ischemic vascular disease patients 45-75
    "suspect_insulin_only": 0.01,  # insulin filled, no diabetes diagnosis sent
    "anticoagulant_65": 0.06,
    "low_egfr_65": 0.05,  # two eGFR under 60, 90+ days apart, no CKD diagnosis
    "admitted_in_window": 0.012,  # of the adults: an inpatient stay in the ADT window
    "ed_visit_in_window": 0.02,
}
ADT_WINDOW_DAYS = 35
"""How far back the ADT feed goes from today."""
REVIEW_PLANTED = 12
"""Patients sent so that the matching sends them to review (typos, swapped dates)."""
STRANGERS = 8
"""Patients who are no members (unmatched)."""

LOINC_A1C, LOINC_EGFR, LOINC_UACR = "4548-4", "33914-3", "9318-7"
LOINC_BP, LOINC_SYS, LOINC_DIA = "85354-9", "8480-6", "8462-4"
MAMMOGRAM, COLONOSCOPY, FIT, EYE_EXAM = "77067", "45378", "82274", "92014"
WELL_ADULT, WELL_CHILD = ("99395", "99396", "99397"), ("99381", "99382", "99391", "99392", "99393")
# (CVX, doses) of the Combination 10 series by 2 years old
VACCINES: tuple[tuple[str, int], ...] = (
    ("20", 4), ("10", 3), ("03", 1), ("17", 3), ("08", 3), ("21", 1), ("133", 4), ("83", 2), ("119", 2), ("88", 2),
)  # fmt: skip
DRUGS: dict[str, tuple[str, str, int, str]] = {  # kind: (NDC 11, name, days, unit price cents)
    "statin": ("71610003630", "atorvastatin 80 mg tablet", 30, "1250"),
    "statin_moderate": ("68071164609", "simvastatin 20 mg tablet", 90, "1800"),
    "insulin": ("00088222033", "insulin glargine 100 unit/mL pen", 30, "32500"),
    "metformin": ("65862000801", "metformin 500 mg tablet", 90, "900"),
    "anticoagulant": ("00003089321", "apixaban 5 mg tablet", 30, "52000"),
}
PHARMACY_NPIS = ("1914177765", "1170669075", "2391500081")  # check digits right (core.identifiers)
FACILITIES = (("HOSP", "Foothill Regional Medical Center"), ("VALLEY", "Valley Presbyterian Hospital"))
DIAGNOSES_INPATIENT = ("I50.9", "J18.9", "N39.0", "I21.4", "J44.1", "A41.9", "I63.9")
DIAGNOSES_ED = ("R07.9", "S93.401A", "R10.9", "J06.9", "N39.0", "R55")


@dataclass(frozen=True)
class Person:
    """A member as the senders know them: their practice's EHR group, "fhir", "csv" or "" (a practice not
    connected: the member's care is in no file but the ADT feed's)."""

    member_id: int
    payer_member_id: str
    mbi: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    sex: str
    address_line1: str
    city: str
    zip_code: str
    phone: str
    ehr: str
    pcp_npi: str = ""


@dataclass
class ClinicalFiles:
    """The generated files (name -> text) per sender, and what was planted."""

    fhir: dict[str, str] = field(default_factory=dict)
    csv: str = ""
    oru: str = ""
    adt: str = ""
    pharmacy: str = ""
    planted: Counter[str] = field(default_factory=Counter)


def measurement_year(today: dt.date) -> int:
    """The year the data is about: the current one from July, else the one before (mostly complete)."""
    return today.year if today.month >= 7 else today.year - 1


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    if last < first:
        return first
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


class _Writer:
    """Accumulates one person's facts in the shape of their EHR's file, and the lab's, PBM's and hospital's."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.fhir: dict[str, list[str]] = {t: [] for t in ("Patient", "Condition", "Observation", "Procedure",
                                                           "Immunization", "Encounter")}  # fmt: skip
        self.csv: list[str] = []
        self.oru: list[str] = []
        self.adt: list[str] = []
        self.pharmacy: list[str] = []
        self.statin: set[int] = set()
        """Members with statin fills (a member is given one statin only)."""
        self.n = 0

    def next_id(self) -> int:
        self.n += 1
        return self.n

    # -- the EHRs
    def patient(self, p: Person, key: str, *, first: str, last: str, born: dt.date, address: str,
                with_ids: bool) -> None:  # fmt: skip
        if p.ehr != "fhir":
            return
        identifiers: list[dict[str, object]] = [
            {"system": "urn:oid:2.16.840.1.113883.3.9999.1", "value": key,
             "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}},
        ]  # fmt: skip
        if with_ids:
            identifiers.append({"system": "urn:openipa:payer-member-id", "value": p.payer_member_id,
                                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                     "code": "MB"}]}})  # fmt: skip
            if p.mbi:
                identifiers.append({"system": "http://hl7.org/fhir/sid/us-mbi", "value": p.mbi})
        resource = {
            "resourceType": "Patient", "id": key, "identifier": identifiers,
            "name": [{"use": "official", "family": last, "given": [first]}], "gender": "female" if p.sex == "F" else "male",
            "birthDate": born.isoformat(), "telecom": [{"system": "phone", "value": p.phone}] if p.phone else [],
            "address": [{"line": [address], "city": p.city, "state": "CA", "postalCode": p.zip_code}],
        }  # fmt: skip
        self.fhir["Patient"].append(json.dumps(resource, separators=(",", ":")))

    def fact(self, p: Person, key: str, kind: str, system: str, code: str, day: dt.date, *,
             value: str = "", unit: str = "") -> None:  # fmt: skip
        """One fact in the person's EHR (kind: diagnosis, vital, screening, procedure, immunization)."""
        rid = f"{key}-{self.next_id()}"
        if p.ehr == "csv":
            self.csv.append(",".join((rid, key, kind, system, code, value, unit, day.isoformat())))
            return
        if p.ehr != "fhir":
            return
        subject = {"reference": f"Patient/{key}"}
        uri = {"ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm", "LOINC": "http://loinc.org",
               "CPT": "http://www.ama-assn.org/go/cpt", "CVX": "http://hl7.org/fhir/sid/cvx"}[system]  # fmt: skip
        coding = {"coding": [{"system": uri, "code": code}]}
        resource: dict[str, object]
        if kind == "diagnosis":
            resource = {"resourceType": "Condition", "id": rid, "subject": subject, "code": coding,
                        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                       "code": "active"}]},
                        "onsetDateTime": day.isoformat(), "recordedDate": day.isoformat()}  # fmt: skip
        elif kind == "vital":
            systolic, diastolic = value.split("/")
            resource = {"resourceType": "Observation", "id": rid, "status": "final", "subject": subject,
                        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                                  "code": "vital-signs"}]}],
                        "code": coding, "effectiveDateTime": day.isoformat(),
                        "component": [
                            {"code": {"coding": [{"system": "http://loinc.org", "code": LOINC_SYS}]},
                             "valueQuantity": {"value": int(systolic), "unit": "mm[Hg]"}},
                            {"code": {"coding": [{"system": "http://loinc.org", "code": LOINC_DIA}]},
                             "valueQuantity": {"value": int(diastolic), "unit": "mm[Hg]"}},
                        ]}  # fmt: skip
        elif kind == "immunization":
            resource = {"resourceType": "Immunization", "id": rid, "status": "completed", "patient": subject,
                        "vaccineCode": coding, "occurrenceDateTime": day.isoformat()}  # fmt: skip
        else:
            resource = {"resourceType": "Procedure", "id": rid, "status": "completed", "subject": subject,
                        "code": coding, "performedDateTime": day.isoformat()}  # fmt: skip
        self.fhir[str(resource["resourceType"])].append(json.dumps(resource, separators=(",", ":")))

    # -- the lab
    def lab(
        self, p: Person, day: dt.date, code: str, value: Decimal, unit: str, name: str, rng: random.Random
    ) -> None:
        n = self.next_id()
        stamp = f"{day:%Y%m%d}{rng.randint(7, 16):02d}{rng.randint(0, 59):02d}"
        dob = f"{p.date_of_birth:%Y%m%d}"
        self.oru.append("\r".join((
            f"MSH|^~\\&|LABSYS|REGIONAL LAB|OPENIPA|IPA|{stamp}||ORU^R01|LAB{n:07d}|P|2.5.1",
            f"PID|1||{p.payer_member_id}^^^PAYER^MB||{p.last_name.upper()}^{p.first_name.upper()}||{dob}|{p.sex}|||"
            f"{p.address_line1}^^{p.city}^CA^{p.zip_code}",
            f"OBR|1||ORD{n:07d}|{code}^{name}^LN|||{stamp}",
            f"OBX|1|NM|{code}^{name}^LN||{value}|{unit}|||||F|||{stamp}",
        )) + "\r")  # fmt: skip

    # -- the PBM
    def fill(self, p: Person, day: dt.date, drug: str, n: int) -> None:
        ndc, name, days, price = DRUGS[drug]
        if drug.startswith("statin"):
            self.statin.add(p.member_id)
        paid = Decimal(price) / 100
        self.pharmacy.append(",".join((
            f"RX{p.member_id:07d}{drug[:3].upper()}{n:02d}", p.payer_member_id, ndc, day.isoformat(), str(days),
            str(days), p.pcp_npi, PHARMACY_NPIS[p.member_id % len(PHARMACY_NPIS)], f"{paid:.2f}", "paid", name,
        )))  # fmt: skip


def _bp(rng: random.Random, controlled: bool) -> str:
    if controlled:
        return f"{rng.randint(112, 138)}/{rng.randint(68, 88)}"
    if rng.random() < 0.5:
        return f"{rng.randint(140, 172)}/{rng.randint(70, 98)}"
    return f"{rng.randint(120, 139)}/{rng.randint(90, 102)}"


def generate(people: Sequence[Person], *, seed: int, today: dt.date) -> ClinicalFiles:
    """The five senders' files for `people` (see the module docstring)."""
    rng = random.Random(f"clinical-{seed}")
    my = measurement_year(today)
    my_start, my_end = dt.date(my, 1, 1), min(dt.date(my, 12, 31), today)
    prior_start = dt.date(my - 1, 1, 1)
    w = _Writer(today)
    out = ClinicalFiles()
    review_left = REVIEW_PLANTED
    for p in people:
        key = f"{'F' if p.ehr == 'fhir' else 'C'}{p.member_id:07d}"
        first, last, born, address, with_ids = (
            p.first_name,
            p.last_name,
            p.date_of_birth,
            p.address_line1,
            True,
        )
        if p.ehr and review_left and rng.random() < 0.02 and len(p.last_name) > 4:
            # sent so that the matching cannot decide: the member id with the birth date's day and month swapped,
            # or its year wrong (the identifier and the birth date disagree); or no member id, a typo in the
            # name and another address
            review_left -= 1
            variant = review_left % 3
            if variant == 0 and born.day <= 12 and born.day != born.month:
                born = dt.date(born.year, born.day, born.month)
                out.planted["review_swapped_birth_date"] += 1
            elif variant in (0, 1):
                born = dt.date(born.year + 1, born.month, min(born.day, 28))
                out.planted["review_birth_year"] += 1
            else:
                last = last[:2] + last[3] + last[2] + last[4:]
                address, with_ids = f"{rng.randint(100, 9999)} Mission St", False
                out.planted["review_name_typo"] += 1
        w.patient(p, key, first=first, last=last, born=born, address=address, with_ids=with_ids)
        if p.ehr == "csv":
            # the layout holds the demographics on a patient's first row (a visit): facts leave them empty
            w.csv.append(",".join((f"{key}-demo", key, p.payer_member_id if with_ids else "",
                                  p.mbi if with_ids else "", first, last, born.isoformat(), p.sex, address, p.city,
                                  p.zip_code, "encounter", "CPT", "99213", "", "", _day(rng, my_start, my_end).isoformat())))  # fmt: skip
        elif p.ehr == "fhir":  # an office visit this year
            visit = _day(rng, my_start, my_end).isoformat()
            w.fhir["Encounter"].append(json.dumps({
                "resourceType": "Encounter", "id": f"{key}-visit", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "type": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]}],
                "subject": {"reference": f"Patient/{key}"}, "period": {"start": visit, "end": visit},
            }, separators=(",", ":")))  # fmt: skip
        age = _age(p.date_of_birth, my_end)
        if not p.ehr:  # a practice not connected: only the hospitals' ADT feed knows the member
            continue
        if age >= 18:
            _adult(w, p, key, rng, age, my_start, my_end, prior_start, out)
        else:
            _child(w, p, key, rng, my_start, my_end, out)
    _strangers(w, rng, my_start, my_end, out)
    _adt(w, people, rng, today, out)
    _cardiovascular_statins(w, people, seed, my_start, my_end, out)
    out.fhir = {f"{t}.000.ndjson": "\n".join(lines) + "\n" for t, lines in w.fhir.items() if lines}
    out.csv = _CSV_HEADER + "".join(line + "\n" for line in w.csv)
    out.oru = "".join(w.oru)
    out.adt = "".join(w.adt)
    out.pharmacy = _PHARMACY_HEADER + "".join(line + "\n" for line in w.pharmacy)
    return out


_CSV_COLUMNS = ("record_id", "patient_id", "member_id", "mbi", "first_name", "last_name", "date_of_birth", "sex",
                "address_line1", "city", "zip", "record_type", "code_system", "code", "value", "unit", "date")  # fmt: skip
_CSV_HEADER = ",".join(_CSV_COLUMNS) + "\n"
_PHARMACY_HEADER = ("claim_id,member_id,ndc,fill_date,days_supply,quantity,prescriber_npi,pharmacy_npi,paid_amount,"
                    "claim_status,drug_name\n")  # fmt: skip


def _adult(w: _Writer, p: Person, key: str, rng: random.Random, age: int, my_start: dt.date, my_end: dt.date,
           prior_start: dt.date, out: ClinicalFiles) -> None:  # fmt: skip
    senior = age >= 65
    half = dt.date(my_start.year, 6, 30)
    hypertensive = rng.random() < RATES["hypertension_65" if senior else "hypertension_18_64"]
    diabetic = rng.random() < RATES["diabetes_65" if senior else "diabetes_18_64"]
    if hypertensive:
        for day in sorted({_day(rng, prior_start, min(half, my_end)) for _ in range(2)}):
            _fact(w, p, key, "diagnosis", "ICD10CM", "I10", day)
        controlled = rng.random() < RATES["bp_controlled"]
        # the latest reading decides (any day of the year, so year-to-date runs see members' control change);
        # the earlier ones, each as likely controlled, come before it
        latest = _day(rng, my_start, my_end)
        for _ in range(rng.randint(1, 2)):
            earlier = _bp(rng, rng.random() < RATES["bp_controlled"])
            _fact(w, p, key, "vital", "LOINC", LOINC_BP, _day(rng, my_start, latest - dt.timedelta(days=1)),
                  value=earlier, unit="mm[Hg]")  # fmt: skip
        _fact(w, p, key, "vital", "LOINC", LOINC_BP, latest, value=_bp(rng, controlled), unit="mm[Hg]")
        out.planted["hypertension"] += 1
    elif rng.random() < 0.3:
        _fact(
            w,
            p,
            key,
            "vital",
            "LOINC",
            LOINC_BP,
            _day(rng, my_start, my_end),
            value=_bp(rng, True),
            unit="mm[Hg]",
        )
    if diabetic:
        code = rng.choice(("E11.9", "E11.65", "E11.22", "E11.40"))
        for day in sorted({_day(rng, prior_start, my_end) for _ in range(2)}):
            _fact(w, p, key, "diagnosis", "ICD10CM", code, day)
        out.planted["diabetes"] += 1
        if rng.random() < RATES["a1c_tested"]:
            if rng.random() < RATES["a1c_below_8"] / RATES["a1c_tested"]:
                a1c = Decimal(rng.randint(58, 79)) / 10
            elif rng.random() < RATES["a1c_above_9_of_rest"]:
                a1c = Decimal(rng.randint(91, 128)) / 10
            else:
                a1c = Decimal(rng.randint(80, 90)) / 10
            w.lab(p, _day(rng, my_start, my_end), LOINC_A1C, a1c, "%", "Hemoglobin A1c", rng)
        if rng.random() < RATES["eye_exam"]:
            _fact(w, p, key, "procedure", "CPT", EYE_EXAM, _day(rng, my_start, my_end))
        if rng.random() < RATES["kidney_eval"]:
            w.lab(
                p,
                _day(rng, my_start, my_end),
                LOINC_EGFR,
                Decimal(rng.randint(45, 110)),
                "mL/min/1.73m2",
                "eGFR",
                rng,
            )
            w.lab(
                p,
                _day(rng, my_start, my_end),
                LOINC_UACR,
                Decimal(rng.randint(5, 120)),
                "mg/g",
                "Albumin/Creatinine",
                rng,
            )
        _fills(w, p, rng, "insulin" if rng.random() < 0.25 else "metformin", my_start, my_end)
        if age >= 40 and rng.random() < RATES["statin_diabetic_40"]:
            _fills(w, p, rng, "statin" if rng.random() < 0.5 else "statin_moderate", my_start, my_end)
    elif rng.random() < RATES["suspect_insulin_only"]:
        _fills(w, p, rng, "insulin", my_start, my_end)
        out.planted["suspect_insulin"] += 1
    if senior and rng.random() < RATES["anticoagulant_65"]:
        _fills(w, p, rng, "anticoagulant", my_start, my_end)
        out.planted["suspect_anticoagulant"] += 1
    if senior and rng.random() < RATES["low_egfr_65"]:
        first = _day(rng, my_start, my_end - dt.timedelta(days=100))
        w.lab(p, first, LOINC_EGFR, Decimal(rng.randint(38, 58)), "mL/min/1.73m2", "eGFR", rng)
        w.lab(p, first + dt.timedelta(days=rng.randint(92, 100)), LOINC_EGFR, Decimal(rng.randint(38, 58)),
              "mL/min/1.73m2", "eGFR", rng)  # fmt: skip
        out.planted["suspect_ckd"] += 1
    if p.sex == "F" and 50 <= age <= 74 and rng.random() < RATES["mammogram"]:
        _fact(w, p, key, "screening", "CPT", MAMMOGRAM, _day(rng, dt.date(my_start.year - 2, 10, 1), my_end))
    if 45 <= age <= 75:
        if rng.random() < RATES["colonoscopy_10y"]:
            _fact(
                w,
                p,
                key,
                "procedure",
                "CPT",
                COLONOSCOPY,
                _day(rng, dt.date(my_start.year - 9, 1, 1), my_end),
            )
        elif rng.random() < RATES["fit_this_year"]:
            _fact(w, p, key, "screening", "CPT", FIT, _day(rng, my_start, my_end))
    if age <= 21 and rng.random() < RATES["well_care"]:
        _fact(w, p, key, "encounter", "CPT", rng.choice(WELL_ADULT[:1]), _day(rng, my_start, my_end))


def _child(w: _Writer, p: Person, key: str, rng: random.Random, my_start: dt.date, my_end: dt.date,
           out: ClinicalFiles) -> None:  # fmt: skip
    born = p.date_of_birth
    if born > my_end:
        return
    age_days = (my_end - born).days
    if age_days < 3 * 365:
        complete = rng.random() < RATES["child_fully_vaccinated"]
        for cvx, doses in VACCINES:
            given = doses if complete else rng.randint(max(0, doses - 2), doses)
            for dose in range(given):
                # the live vaccines and hepatitis A after the first birthday, influenza from 6 months
                first = 370 if cvx in ("03", "21", "83") else 190 if cvx == "88" else 60
                day = born + dt.timedelta(days=first + dose * 62)
                if day <= my_end:
                    _fact(w, p, key, "immunization", "CVX", cvx, day)
        regular = rng.random() < RATES["well_care"]
        visits = [14 + n * 70 for n in range(6 if regular else rng.randint(2, 5))]
        visits += [480, 720] if regular or rng.random() < 0.3 else [540]  # 15 to 30 months
        for after in visits:
            day = born + dt.timedelta(days=after)
            if day <= my_end:
                _fact(w, p, key, "encounter", "CPT", WELL_CHILD[0] if after < 365 else WELL_CHILD[3], day)
        out.planted["young_children"] += 1
    elif rng.random() < RATES["well_care"]:
        _fact(w, p, key, "encounter", "CPT", rng.choice(WELL_CHILD[2:]), _day(rng, my_start, my_end))


def _fact(w: _Writer, p: Person, key: str, kind: str, system: str, code: str, day: dt.date, *,
          value: str = "", unit: str = "") -> None:  # fmt: skip
    if p.ehr == "csv":
        rid = f"{key}-{w.next_id()}"
        w.csv.append(",".join((rid, key, "", "", "", "", "", "", "", "", "", kind, system, code, value, unit,
                               day.isoformat())))  # fmt: skip
    else:
        w.fact(
            p, key, "procedure" if kind == "encounter" else kind, system, code, day, value=value, unit=unit
        )


def _fills(w: _Writer, p: Person, rng: random.Random, drug: str, first: dt.date, last: dt.date) -> None:
    days = DRUGS[drug][2]
    day = _day(rng, first, min(last, first + dt.timedelta(days=60)))
    n = 0
    while day <= last:
        w.fill(p, day, drug, n)
        n += 1
        day += dt.timedelta(days=days + rng.randint(0, 12))


def _cardiovascular_statins(
    w: _Writer, people: Sequence[Person], seed: int, my_start: dt.date, my_end: dt.date, out: ClinicalFiles
) -> None:
    """The PBM's statin fills for most of the ischemic vascular disease patients the claims demo plants
    (:func:`openipa.demo.engine.claims.cardiovascular`, those 45-75), whatever their practice's EHR: SPC's
    numerator. Drawn from a stream of their own, after everything else (the other files are as without them)."""
    rng = random.Random(f"clinical-{seed}-cardiovascular-statins")
    for p in people:
        if not (45 <= _age(p.date_of_birth, my_end) <= 75 and claims.cardiovascular(seed, p.payer_member_id)):
            continue
        if p.member_id in w.statin or rng.random() >= RATES["statin_cardiovascular"]:
            continue
        _fills(w, p, rng, "statin" if rng.random() < 0.6 else "statin_moderate", my_start, my_end)
        out.planted["statin_cardiovascular"] += 1


def _strangers(
    w: _Writer, rng: random.Random, my_start: dt.date, my_end: dt.date, out: ClinicalFiles
) -> None:
    """Patients of the EHRs who are no members (self-pay, another IPA's): unmatched."""
    for n in range(STRANGERS):
        p = Person(9_900_000 + n, "", "", rng.choice(("Zelda", "Quentin", "Ottilie", "Bertram")),
                   rng.choice(("Vandermeer", "Oyelaran", "Castellanos", "Fitzwilliam")),
                   dt.date(rng.randint(1940, 1990), rng.randint(1, 12), rng.randint(1, 28)), rng.choice("FM"),
                   f"{rng.randint(10, 99)} Nowhere Ln", "Ventura", "93001", "", "fhir" if n % 2 else "csv")  # fmt: skip
        key = f"X{n:04d}"
        w.patient(p, key, first=p.first_name, last=p.last_name, born=p.date_of_birth, address=p.address_line1,
                  with_ids=False)  # fmt: skip
        if p.ehr == "csv":
            w.csv.append(",".join((f"{key}-demo", key, "", "", p.first_name, p.last_name, p.date_of_birth.isoformat(),
                                   p.sex, p.address_line1, p.city, p.zip_code, "diagnosis", "ICD10CM", "I10", "", "",
                                   _day(rng, my_start, my_end).isoformat())))  # fmt: skip
        else:
            w.fact(p, key, "diagnosis", "ICD10CM", "I10", _day(rng, my_start, my_end))
        out.planted["strangers"] += 1


def _adt(
    w: _Writer, people: Sequence[Person], rng: random.Random, today: dt.date, out: ClinicalFiles
) -> None:
    """Admissions, discharges and ED visits of the last :data:`ADT_WINDOW_DAYS`, in time order."""
    events: list[tuple[dt.datetime, str]] = []
    start = today - dt.timedelta(days=ADT_WINDOW_DAYS)
    for p in people:
        if _age(p.date_of_birth, today) < 18:
            continue
        facility = FACILITIES[p.member_id % len(FACILITIES)][0]
        roll = rng.random()
        if roll < RATES["admitted_in_window"]:
            admit = dt.datetime.combine(
                _day(rng, start, today), dt.time(rng.randint(0, 23), rng.randint(0, 59))
            )
            stay = dt.timedelta(days=rng.randint(1, 7), hours=rng.randint(0, 10))
            visit = f"IP{p.member_id:07d}"
            dx = rng.choice(DIAGNOSES_INPATIENT)
            events.append((admit, _adt_message("A01", p, visit, "I", facility, admit, None, dx)))
            out.planted["adt_admissions"] += 1
            if rng.random() < 0.3:  # the attending and the unit change: an update
                events.append((admit + dt.timedelta(hours=6),
                               _adt_message("A08", p, visit, "I", facility, admit, None, dx, unit="ICU")))  # fmt: skip
            if admit + stay <= dt.datetime.combine(today, dt.time(23, 59)) and rng.random() < 0.9:
                events.append((admit + stay, _adt_message("A03", p, visit, "I", facility, admit, admit + stay, dx,
                                                          disposition=rng.choice(("01", "01", "06", "03")))))  # fmt: skip
                out.planted["adt_discharges"] += 1
        elif roll < RATES["admitted_in_window"] + RATES["ed_visit_in_window"]:
            arrived = dt.datetime.combine(
                _day(rng, start, today), dt.time(rng.randint(0, 23), rng.randint(0, 59))
            )
            left = arrived + dt.timedelta(hours=rng.randint(2, 9))
            visit = f"ED{p.member_id:07d}"
            dx = rng.choice(DIAGNOSES_ED)
            events.append((arrived, _adt_message("A04", p, visit, "E", facility, arrived, None, dx)))
            if left <= dt.datetime.combine(today, dt.time(23, 59)):
                events.append(
                    (left, _adt_message("A03", p, visit, "E", facility, arrived, left, dx, disposition="01"))
                )
            out.planted["adt_ed_visits"] += 1
    events.sort(key=lambda e: e[0])
    w.adt = [message for _when, message in events]


def _adt_message(trigger: str, p: Person, visit: str, cls: str, facility: str, admit: dt.datetime,
                 discharge: dt.datetime | None, dx: str, *, disposition: str = "", unit: str = "") -> str:  # fmt: skip
    stamp = f"{(discharge or admit):%Y%m%d%H%M}"
    pv1 = [""] * 46
    pv1[0], pv1[1], pv1[2] = "PV1", "1", cls
    pv1[3] = f"{unit or ('ED' if cls == 'E' else '4W')}^{(p.member_id % 40) + 1}^A^{facility}"
    pv1[19], pv1[36], pv1[44] = visit, disposition, f"{admit:%Y%m%d%H%M}"
    pv1[45] = f"{discharge:%Y%m%d%H%M}" if discharge else ""
    ident = f"{p.mbi}^^^CMS^MC" if p.mbi else f"{p.payer_member_id}^^^PAYER^MB"
    return "\r".join((
        f"MSH|^~\\&|ADT|{facility}|OPENIPA|IPA|{stamp}||ADT^{trigger}|{visit}{trigger}{stamp}|P|2.5",
        f"EVN|{trigger}|{stamp}",
        f"PID|1||{ident}~MRN{p.member_id:07d}^^^{facility}^MR||{p.last_name.upper()}^{p.first_name.upper()}||"
        f"{p.date_of_birth:%Y%m%d}|{p.sex}|||{p.address_line1}^^{p.city}^CA^{p.zip_code}",
        "|".join(pv1),
        f"DG1|1||{dx}^^I10||{admit:%Y%m%d}|A",
    )) + "\r"  # fmt: skip
