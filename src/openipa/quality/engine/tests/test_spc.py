"""SPC (Statin Therapy for Patients With Cardiovascular Disease), measurement year 2025: golden members for
the sex-dependent ages, the events and diagnoses that put a member in the denominator, the two-year
enrollment, the exclusions, the statin received and the proportion of days covered (PDC) from the IPSD."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from openipa.quality.engine import DefinitionError, load_measures, parse_measures, starter_value_sets
from openipa.quality.engine.definitions import Pdc, available_years
from openipa.quality.engine.valuesets import normalize_code

from .builders import OPEN, D, World, hit, row

MODERATE = "72603028201"  # atorvastatin 10 mg (NorthStar Rx 72603-282-01)
HIGH = "63304083090"  # atorvastatin 80 mg (Sun Pharmaceutical 63304-830-90)
HIGH_HYPHENATED = "0378-3952-77"  # atorvastatin 40 mg (Mylan), 4-4-2 as printed on the label
CLOMIPHENE = "64980069003"  # clomiphene citrate 50 mg (Rising Pharma 64980-690-03)
NOT_A_STATIN = "99999999999"


PRIOR_YEAR_PCI = D(2024, 5, 1)
BORN_1960 = D(1960, 6, 1)
ALWAYS = ((D(2015, 1, 1), OPEN),)


def _pci(w: World, member: str, day: D = PRIOR_YEAR_PCI) -> str:
    return w.claim(member, day, dx=("I25.10",), px=("92928",))


def _cvd(
    w: World,
    member: str,
    birth: D = BORN_1960,
    sex: str = "M",
    enrolled: tuple[tuple[D, D | None], ...] = ALWAYS,
) -> str:
    """A member in SPC's denominator through a PCI in the year before the measurement year."""
    w.member(member, birth, sex, enrolled=enrolled)
    return _pci(w, member)


def test_age_boundaries_differ_by_sex():
    w = World()
    _cvd(w, "man-21", D(2004, 12, 31), "M")
    _cvd(w, "man-20", D(2005, 1, 1), "M")
    _cvd(w, "woman-40", D(1985, 12, 31), "F")
    _cvd(w, "woman-39", D(1986, 1, 1), "F")
    _cvd(w, "man-75", D(1950, 1, 1), "M")
    _cvd(w, "woman-76", D(1949, 12, 31), "F")
    r = w.run()
    assert row(r, "SPC Received", "man-21") is not None
    assert row(r, "SPC Received", "man-20") is None
    assert row(r, "SPC Received", "woman-40") is not None
    assert row(r, "SPC Received", "woman-39") is None
    assert row(r, "SPC Received", "man-75") is not None
    assert row(r, "SPC Received", "woman-76") is None


def test_event_in_the_prior_year_not_two_years_ago_nor_only_this_year():
    w = World()
    w.member("pci-dec-31", D(1960, 1, 1), "M")
    pci = _pci(w, "pci-dec-31", D(2024, 12, 31))
    w.member("pci-2023", D(1960, 1, 1), "M")
    _pci(w, "pci-2023", D(2023, 12, 31))
    w.member("pci-2025", D(1960, 1, 1), "M")
    _pci(w, "pci-2025", D(2025, 1, 1))
    w.member("cabg", D(1960, 1, 1), "M")
    w.claim("cabg", D(2024, 3, 1), px=("33533",))
    w.member("revascularization", D(1960, 1, 1), "M")
    w.claim("revascularization", D(2024, 3, 1), px=("37224",))
    w.member("mi-inpatient", D(1960, 1, 1), "M")
    mi = w.claim("mi-inpatient", D(2024, 7, 1), dx=("I21.4",), px=("99223",))
    w.member("mi-office", D(1960, 1, 1), "M")
    w.claim("mi-office", D(2024, 7, 1), dx=("I21.4",), px=("99213",))  # not an inpatient stay
    r = w.run()
    found = row(r, "SPC Received", "pci-dec-31")
    assert found is not None
    assert found["denominator_evidence"] == [pci]
    assert row(r, "SPC Received", "pci-2023") is None
    assert row(r, "SPC Received", "pci-2025") is None
    assert row(r, "SPC Received", "cabg") is not None
    assert row(r, "SPC Received", "revascularization") is not None
    mi_row = row(r, "SPC Received", "mi-inpatient")
    assert mi_row is not None
    assert mi_row["denominator_evidence"] == [mi]
    assert row(r, "SPC Received", "mi-office") is None


def test_ivd_diagnosis_on_a_visit_in_both_years():
    w = World()
    w.member("both", D(1960, 1, 1), "M")
    first = w.claim("both", D(2024, 2, 1), dx=("I25.10",), px=("99213",))
    second = w.claim("both", D(2025, 2, 1), dx=("I70.0",), px=("99222",))  # acute inpatient
    w.member("this-year", D(1960, 1, 1), "M")
    w.claim("this-year", D(2025, 2, 1), dx=("I25.10",), px=("99213",))
    w.member("last-year", D(1960, 1, 1), "M")
    w.claim("last-year", D(2024, 2, 1), dx=("I25.10",), px=("99213",))
    w.member("lab-only", D(1960, 1, 1), "M")
    w.claim("lab-only", D(2024, 2, 1), dx=("I25.10",), px=("99213",))
    w.claim("lab-only", D(2025, 2, 1), dx=("I25.10",), px=("80053",))  # a lab line, not a visit
    w.member("telephone", D(1960, 1, 1), "M")
    w.claim("telephone", D(2024, 2, 1), dx=("I20.9",), px=("98966",))
    w.claim("telephone", D(2025, 2, 1), dx=("I20.9",), px=("99421",))
    r = w.run()
    found = row(r, "SPC Received", "both")
    assert found is not None
    assert found["denominator_evidence"] == sorted([first, second])
    assert row(r, "SPC Received", "this-year") is None
    assert row(r, "SPC Received", "last-year") is None
    assert row(r, "SPC Received", "lab-only") is None
    assert row(r, "SPC Received", "telephone") is not None


def test_enrollment_over_two_years():
    w = World()
    _cvd(w, "gap-45-2024", enrolled=((D(2015, 1, 1), D(2024, 5, 1)), (D(2024, 6, 16), OPEN)))
    _cvd(w, "gap-46-2024", enrolled=((D(2015, 1, 1), D(2024, 5, 1)), (D(2024, 6, 17), OPEN)))
    _cvd(w, "joined-2024-01-02", enrolled=((D(2024, 1, 2), OPEN),))
    _cvd(w, "joined-2024-02-15", enrolled=((D(2024, 2, 16), OPEN),))  # 46 days missing at the start
    _cvd(w, "left-2025-12-30", enrolled=((D(2015, 1, 1), D(2025, 12, 30)),))
    r = w.run()
    assert row(r, "SPC Received", "gap-45-2024") is not None
    assert row(r, "SPC Received", "gap-46-2024") is None
    assert row(r, "SPC Received", "joined-2024-01-02") is not None
    assert row(r, "SPC Received", "joined-2024-02-15") is None
    assert row(r, "SPC Received", "left-2025-12-30") is None


def test_received_a_high_or_moderate_intensity_statin_in_the_year():
    w = World()
    _cvd(w, "moderate")
    moderate = w.fill("moderate", D(2025, 6, 1), MODERATE)
    _cvd(w, "high-hyphenated")
    high = w.fill("high-hyphenated", D(2025, 12, 31), HIGH_HYPHENATED)
    _cvd(w, "last-year")
    w.fill("last-year", D(2024, 12, 31), HIGH, 90)
    _cvd(w, "other-drug")
    w.fill("other-drug", D(2025, 3, 1), NOT_A_STATIN)
    r = w.run()
    found = row(r, "SPC Received", "moderate")
    assert found is not None
    assert found["numerator"] is True
    assert found["numerator_evidence"] == [moderate]
    found = row(r, "SPC Received", "high-hyphenated")
    assert found is not None
    assert found["numerator_evidence"] == [high]
    assert not hit(r, "SPC Received", "last-year")
    assert not hit(r, "SPC Received", "other-drug")
    # Adherence is measured on those who received one: the others have no row there.
    assert row(r, "SPC Adherence", "last-year") is None
    assert row(r, "SPC Adherence", "other-drug") is None
    adherence = row(r, "SPC Adherence", "moderate")
    assert adherence is not None
    assert adherence["denominator_evidence"] == sorted([moderate, "claim:c1"])
    rates = {x["rate"]: x for x in r.rates.iter_rows(named=True)}
    assert (rates["SPC Received"]["denominator"], rates["SPC Received"]["numerator"]) == (4, 2)
    assert rates["SPC Adherence"]["denominator"] == 2


def test_pdc_threshold_in_exact_days():
    w = World()
    # IPSD Jan 1: 365 days in the treatment period; 80% is 292 days exactly.
    _cvd(w, "292-of-365")
    w.fill("292-of-365", D(2025, 1, 1), MODERATE, 292)
    _cvd(w, "291-of-365")
    w.fill("291-of-365", D(2025, 1, 1), MODERATE, 291)
    # IPSD Mar 3: 304 days to Dec 31; 243 days is 79.93%, 244 days 80.26%.
    _cvd(w, "243-of-304")
    w.fill("243-of-304", D(2025, 3, 3), HIGH, 243)
    _cvd(w, "244-of-304")
    w.fill("244-of-304", D(2025, 3, 3), HIGH, 244)
    # Supply beyond Dec 31 does not count, and the period starts at the IPSD: Nov 1 + 90 days is 61/61.
    _cvd(w, "late-start")
    w.fill("late-start", D(2025, 11, 1), MODERATE, 90)
    r = w.run()
    assert hit(r, "SPC Adherence", "292-of-365")
    assert not hit(r, "SPC Adherence", "291-of-365")
    assert not hit(r, "SPC Adherence", "243-of-304")
    assert hit(r, "SPC Adherence", "244-of-304")
    assert hit(r, "SPC Adherence", "late-start")


def test_pdc_overlapping_fills_shift_forward_and_same_day_fills_count_once():
    w = World()
    # Jan 1 covers Jan 1-Mar 31; the Mar 1 fill is shifted to Apr 1-Jun 29, Jun 1 to Jun 30-Sep 27, Sep 1
    # to Sep 28-Oct 27: 300 days (82.2%). Counted without shifting, the days would be 269 (73.7%).
    _cvd(w, "overlapping")
    fills = [
        w.fill("overlapping", D(2025, 1, 1), MODERATE, 90),
        w.fill("overlapping", D(2025, 3, 1), HIGH, 90),
        w.fill("overlapping", D(2025, 6, 1), MODERATE, 90),
        w.fill("overlapping", D(2025, 9, 1), MODERATE, 30),
    ]
    # The same fills without overlap leave gaps: Jan 1-Mar 31, then May 1-Jul 29, Sep 1-Nov 29: 269 days.
    _cvd(w, "gaps")
    w.fill("gaps", D(2025, 1, 1), MODERATE, 90)
    w.fill("gaps", D(2025, 5, 1), MODERATE, 90)
    w.fill("gaps", D(2025, 9, 1), MODERATE, 90)
    # Two fills on one day: the longer supply (200 days, 54.8%) counts, not their sum (300).
    _cvd(w, "same-day")
    w.fill("same-day", D(2025, 1, 1), MODERATE, 200)
    w.fill("same-day", D(2025, 1, 1), HIGH, 100)
    # A fill whose days supply is missing covers no day, but is still a statin received.
    _cvd(w, "no-supply")
    w.fill("no-supply", D(2025, 1, 1), MODERATE, None)
    r = w.run()
    found = row(r, "SPC Adherence", "overlapping")
    assert found is not None
    assert found["numerator"] is True
    assert found["numerator_evidence"] == sorted(fills)
    assert not hit(r, "SPC Adherence", "gaps")
    assert not hit(r, "SPC Adherence", "same-day")
    assert hit(r, "SPC Received", "no-supply")
    assert not hit(r, "SPC Adherence", "no-supply")


def test_exclusions():
    w = World()
    _cvd(w, "esrd-2024")
    w.claim("esrd-2024", D(2024, 1, 5), dx=("N18.6",))
    _cvd(w, "dialysis")
    w.claim("dialysis", D(2025, 4, 5), px=("90935",))
    _cvd(w, "esrd-2023")
    w.claim("esrd-2023", D(2023, 12, 31), dx=("N18.6",))
    _cvd(w, "cirrhosis")
    w.claim("cirrhosis", D(2024, 8, 1), dx=("K74.60",))
    _cvd(w, "myalgia-2025")
    myalgia = w.claim("myalgia-2025", D(2025, 8, 1), dx=("M79.10",))
    w.fill("myalgia-2025", D(2025, 1, 1), HIGH, 365)
    _cvd(w, "myalgia-2024")
    w.claim("myalgia-2024", D(2024, 8, 1), dx=("M79.10",))
    _cvd(w, "pregnant-2024", D(1984, 1, 1), "F")
    w.claim("pregnant-2024", D(2024, 3, 1), dx=("Z34.90",))
    _cvd(w, "ivf", D(1984, 1, 1), "F")
    w.claim("ivf", D(2025, 3, 1), px=("58970",))
    _cvd(w, "clomiphene", D(1984, 1, 1), "F")
    w.fill("clomiphene", D(2024, 3, 1), CLOMIPHENE, 5)
    _cvd(w, "hospice")
    w.claim("hospice", D(2025, 3, 1), px=("Q5003",))
    _cvd(w, "frail-70", D(1955, 1, 1))
    w.claim("frail-70", D(2025, 3, 1), dx=("R54",))
    w.claim("frail-70", D(2024, 3, 1), dx=("G30.9",))
    _cvd(w, "frail-65", D(1960, 1, 1))
    w.claim("frail-65", D(2025, 3, 1), dx=("R54",))
    w.claim("frail-65", D(2024, 3, 1), dx=("G30.9",))
    r = w.run()

    def reason(member: str) -> object:
        found = row(r, "SPC Received", member)
        assert found is not None
        return found["exclusion_reason"]

    assert reason("esrd-2024") == "ESRD or dialysis"
    assert reason("dialysis") == "ESRD or dialysis"
    assert reason("esrd-2023") is None
    assert reason("cirrhosis") == "cirrhosis"
    assert reason("myalgia-2025") == "myalgia, myositis, myopathy or rhabdomyolysis"
    assert reason("myalgia-2024") is None
    assert reason("pregnant-2024") == "pregnancy, IVF or clomiphene"
    assert reason("ivf") == "pregnancy, IVF or clomiphene"
    assert reason("clomiphene") == "pregnancy, IVF or clomiphene"
    assert reason("hospice") == "hospice"
    assert reason("frail-70") == "frailty and advanced illness (66+)"
    assert reason("frail-65") is None
    # An excluded member who received a statin is in Adherence's eligible rows, excluded, never a hit.
    adherence = row(r, "SPC Adherence", "myalgia-2025")
    assert adherence is not None
    assert (adherence["excluded"], adherence["denominator"], adherence["numerator"]) == (True, False, False)
    assert adherence["exclusion_evidence"] == [myalgia]


def test_spc_in_every_year_and_its_value_sets_shipped():
    for year in available_years():
        measures = load_measures(year)
        spc = next(m for m in measures.measures if m.id == "SPC")
        assert [r.id for r in spc.rates] == ["SPC Received", "SPC Adherence"]
        assert spc.rates[0].denominator is None
        assert spc.rates[1].denominator is not None
        pdc = spc.rates[1].numerator
        assert isinstance(pdc, Pdc)
        assert (pdc.numerator, pdc.denominator) == (4, 5)
        names = set(starter_value_sets(year)["value_set"].to_list())
        assert measures.value_sets() <= names
    statins = starter_value_sets(2025).filter(pl.col("value_set").str.contains("Statin"))
    assert statins.filter(pl.col("code_system") != "NDC").height == 0
    assert statins["code"].str.len_chars().unique().to_list() == [11]
    assert statins["code"].is_duplicated().sum() == 0


def test_ndc_label_forms_become_eleven_digits():
    assert normalize_code("NDC", "0378-3952-77") == "00378395277"  # 4-4-2
    assert normalize_code("NDC", "63304-830-90") == "63304083090"  # 5-3-2
    assert normalize_code("NDC", "71335-9646-1") == "71335964601"  # 5-4-1
    assert normalize_code("NDC", "00378395277") == "00378395277"
    assert normalize_code("NDC", "0378395277") == "0378395277"  # no hyphens: ambiguous, left as it is


def _spc_doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads(Path(load_measures(2025).source).read_text(encoding="utf-8"))
    doc["measures"] = [m for m in doc["measures"] if m["id"] == "SPC"]  # type: ignore[attr-defined]
    return doc


def test_definition_errors_for_sex_pdc_and_rate_denominators():
    base = _spc_doc()
    parse_measures(base, "spc.json")
    cases = [
        (("denominator", "all", 0, "any", 0), {"sex": ["X"]}, r"\.sex: expected F or M, got 'X'"),
        (
            ("rates", 1, "numerator", "pdc", "at_least_percent"),
            0,
            r"at_least_percent: expected a number above 0",
        ),
        (("rates", 1, "numerator", "pdc", "at_least_percent"), 120, r"at most 100, got 120"),
        (("rates", 1, "numerator", "pdc", "at_least_percent"), "80", r"got '80'"),
        (("rates", 1, "numerator", "pdc", "days"), 3, r"pdc: unknown field\(s\) days"),
        (("rates", 1, "denominator"), {"nothing": 1}, r"rates\[1\]\.denominator: expected exactly one of"),
    ]
    for path, value, message in cases:
        doc = copy.deepcopy(base)
        target: object = doc["measures"][0]  # type: ignore[index]
        for key in path[:-1]:
            target = target[key]  # type: ignore[index]
        target[path[-1]] = value  # type: ignore[index]
        with pytest.raises(DefinitionError, match=message):
            parse_measures(doc, "spc.json")
    fractional = copy.deepcopy(base)
    fractional["measures"][0]["rates"][1]["numerator"]["pdc"]["at_least_percent"] = 79.5  # type: ignore[index]
    pdc = parse_measures(fractional, "spc.json").measures[0].rates[1].numerator
    assert isinstance(pdc, Pdc)
    assert (pdc.numerator, pdc.denominator) == (159, 200)


def test_adherence_rows_follow_received_numerators_on_many_members():
    """Every member in Adherence received a statin; the rate counts agree with the rows."""
    w = World()
    start = D(2025, 1, 1)
    for i in range(40):
        _cvd(w, f"m{i}")
        if i % 3:
            for k in range(i % 5):
                w.fill(
                    f"m{i}", start + dt.timedelta(days=37 * k + i), MODERATE if k % 2 else HIGH, 30 + 15 * k
                )
    r = w.run()
    received = r.members.filter((pl.col("rate") == "SPC Received") & pl.col("numerator"))["member_id"]
    adherence = r.members.filter(pl.col("rate") == "SPC Adherence")["member_id"]
    assert sorted(received.to_list()) == sorted(adherence.to_list())
    rates = {x["rate"]: x for x in r.rates.iter_rows(named=True)}
    assert rates["SPC Adherence"]["denominator"] == len(adherence)
