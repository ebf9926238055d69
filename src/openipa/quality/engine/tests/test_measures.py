"""Golden members for each measure's denominator, exclusion and numerator edges (measurement year 2025)."""

from __future__ import annotations

import polars as pl

from .builders import OPEN, D, World, hit, row


def test_bcs_age_boundaries_on_december_31():
    w = World()
    w.member("74", D(1951, 1, 1))  # 74 on Dec 31 2025
    w.member("75", D(1950, 12, 31))  # 75 on Dec 31 2025
    w.member("52", D(1973, 12, 31))  # turns 52 on the last day
    w.member("51", D(1974, 1, 1))
    w.member("man", D(1960, 1, 1), "M")
    r = w.run()
    assert row(r, "BCS-E", "74") is not None
    assert row(r, "BCS-E", "75") is None
    assert row(r, "BCS-E", "52") is not None
    assert row(r, "BCS-E", "51") is None
    assert row(r, "BCS-E", "man") is None


def test_bcs_mammogram_27_months_counts_28_does_not():
    w = World()
    w.member("27", D(1960, 5, 5))
    w.member("28", D(1960, 5, 5))
    w.member("dx-only", D(1960, 5, 5))
    evidence = w.claim("27", D(2023, 10, 1), px=("77067",))
    w.claim("28", D(2023, 9, 30), px=("77067",))
    w.claim("dx-only", D(2025, 3, 1), dx=("Z12.31",))
    r = w.run()
    found = row(r, "BCS-E", "27")
    assert found is not None
    assert found["numerator"] is True
    assert found["numerator_evidence"] == [evidence]
    assert not hit(r, "BCS-E", "28")
    assert not hit(r, "BCS-E", "dx-only")


def test_bcs_enrollment_no_gap_in_the_first_quarter_one_45_day_gap_a_year():
    w = World()
    w.member("late", D(1960, 1, 1), enrolled=((D(2023, 10, 2), OPEN),))
    w.member("on-time", D(1960, 1, 1), enrolled=((D(2023, 10, 1), OPEN),))
    w.member("gap-45", D(1960, 1, 1), enrolled=((D(2023, 1, 1), D(2024, 3, 1)), (D(2024, 4, 16), OPEN)))
    w.member("gap-46", D(1960, 1, 1), enrolled=((D(2023, 1, 1), D(2024, 3, 1)), (D(2024, 4, 17), OPEN)))
    w.member("left", D(1960, 1, 1), enrolled=((D(2020, 1, 1), D(2025, 12, 30)),))
    r = w.run()
    assert row(r, "BCS-E", "late") is None
    assert row(r, "BCS-E", "on-time") is not None
    assert row(r, "BCS-E", "gap-45") is not None
    assert row(r, "BCS-E", "gap-46") is None
    assert row(r, "BCS-E", "left") is None  # not enrolled on Dec 31


def test_enrollment_two_gaps_in_a_year_fail_and_gaps_at_the_edges_count():
    w = World()
    two = ((D(2020, 1, 1), D(2025, 2, 1)), (D(2025, 2, 10), D(2025, 6, 1)), (D(2025, 6, 10), OPEN))
    w.member("two-gaps", D(1970, 1, 1), enrolled=two)
    w.member("starts-feb-15", D(1970, 1, 1), enrolled=((D(2025, 2, 15), OPEN),))  # 45 days uncovered
    w.member(
        "starts-feb-16", D(1970, 1, 1), enrolled=((D(2024, 1, 1), D(2024, 12, 31)), (D(2025, 2, 16), OPEN))
    )
    overlapping = ((D(2020, 1, 1), D(2025, 6, 1)), (D(2025, 3, 1), D(2025, 7, 1)), (D(2025, 7, 2), OPEN))
    w.member("overlap", D(1970, 1, 1), enrolled=overlapping)
    r = w.run()
    assert row(r, "COL-E", "two-gaps") is None
    assert row(r, "COL-E", "starts-feb-15") is None  # the year prior is not covered at all
    assert row(r, "COL-E", "starts-feb-16") is None  # 46 days at the start of the year
    assert row(r, "COL-E", "overlap") is not None
    w2 = World()
    w2.member("feb-15", D(1970, 1, 1), enrolled=((D(2024, 1, 1), D(2024, 12, 31)), (D(2025, 2, 15), OPEN)))
    assert row(w2.run(), "COL-E", "feb-15") is not None


def test_col_lookbacks_per_screening():
    w = World()
    cases = {
        "colonoscopy-9y": (D(2016, 1, 1), "45378", True),
        "colonoscopy-10y": (D(2015, 12, 31), "45378", False),
        "fobt-my": (D(2025, 1, 1), "82274", True),
        "fobt-prior": (D(2024, 12, 31), "82274", False),
        "sdna-2y": (D(2023, 1, 1), "81528", True),
        "sdna-3y": (D(2022, 12, 31), "81528", False),
        "ct-4y": (D(2021, 1, 1), "74263", True),
        "sig-5y": (D(2020, 12, 31), "G0104", False),
    }
    for member, (day, code, _) in cases.items():
        w.member(member, D(1960, 1, 1), "M")
        w.claim(member, day, px=(code,))
    w.member("fit-lab", D(1960, 1, 1))
    w.fact("fit-lab", D(2025, 4, 1), "LOINC", "29771-3")
    r = w.run()
    for member, (_, _, expected) in cases.items():
        assert hit(r, "COL-E", member) is expected, member
    assert hit(r, "COL-E", "fit-lab")


def test_col_age_range_and_cancer_exclusion():
    w = World()
    w.member("46", D(1979, 12, 31))
    w.member("45", D(1980, 1, 1))
    w.member("cancer", D(1960, 1, 1))
    evidence = w.claim("cancer", D(2010, 6, 1), dx=("Z85.038",))
    r = w.run()
    assert row(r, "COL-E", "46") is not None
    assert row(r, "COL-E", "45") is None
    found = row(r, "COL-E", "cancer")
    assert found is not None
    assert found["excluded"] is True
    assert found["denominator"] is False
    assert found["exclusion_reason"] == "colorectal cancer or total colectomy"
    assert found["exclusion_evidence"] == [evidence]


BORN_1960 = D(1960, 1, 1)
BORN_1970 = D(1970, 1, 1)


def _hypertensive(w: World, member: str, birth: D = BORN_1960) -> list[str]:
    w.member(member, birth, "M")
    return [w.claim(member, D(2024, 3, 1), dx=("I10",)), w.claim(member, D(2025, 6, 30), dx=("I10",))]


def test_cbp_needs_two_hypertension_dates_in_the_window():
    w = World()
    evidence = _hypertensive(w, "two")
    w.member("one", D(1960, 1, 1))
    w.claim("one", D(2025, 1, 5), dx=("I10",))
    w.claim("one", D(2025, 1, 5), dx=("I10",))  # same date
    w.member("late", D(1960, 1, 1))
    w.claim("late", D(2025, 1, 5), dx=("I10",))
    w.claim("late", D(2025, 7, 1), dx=("I10",))  # after June 30
    r = w.run()
    found = row(r, "CBP", "two")
    assert found is not None
    assert found["denominator_evidence"] == sorted(evidence)
    assert row(r, "CBP", "one") is None
    assert row(r, "CBP", "late") is None


def test_cbp_latest_date_lowest_systolic_and_lowest_diastolic():
    w = World()
    _hypertensive(w, "mixed")  # latest date: 150/85 and 135/95 -> representative 135/85
    w.fact("mixed", D(2025, 3, 1), "LOINC", "8480-6", 180)
    w.fact("mixed", D(2025, 3, 1), "LOINC", "8462-4", 100)
    s = w.fact("mixed", D(2025, 9, 1), "LOINC", "8480-6", 150)
    d = w.fact("mixed", D(2025, 9, 1), "LOINC", "8462-4", 85)
    s2 = w.fact("mixed", D(2025, 9, 1), "LOINC", "8480-6", 135)
    d2 = w.fact("mixed", D(2025, 9, 1), "LOINC", "8462-4", 95)
    _hypertensive(w, "latest-high")  # controlled earlier, not on the latest date
    w.fact("latest-high", D(2025, 3, 1), "LOINC", "8480-6", 120)
    w.fact("latest-high", D(2025, 3, 1), "LOINC", "8462-4", 70)
    w.fact("latest-high", D(2025, 11, 1), "LOINC", "8480-6", 140)
    w.fact("latest-high", D(2025, 11, 1), "LOINC", "8462-4", 70)
    _hypertensive(w, "half-reading")  # the latest date has only a systolic: the earlier full reading decides
    w.fact("half-reading", D(2025, 3, 1), "LOINC", "8480-6", 139)
    w.fact("half-reading", D(2025, 3, 1), "LOINC", "8462-4", 89)
    w.fact("half-reading", D(2025, 12, 1), "LOINC", "8480-6", 170)
    _hypertensive(w, "cpt2")
    w.claim("cpt2", D(2025, 10, 1), px=("3075F", "3079F"))
    _hypertensive(w, "cpt2-high")
    w.claim("cpt2-high", D(2025, 10, 1), px=("3077F", "3079F"))
    _hypertensive(w, "prior-year")
    w.fact("prior-year", D(2024, 12, 31), "LOINC", "8480-6", 120)
    w.fact("prior-year", D(2024, 12, 31), "LOINC", "8462-4", 70)
    r = w.run()
    found = row(r, "CBP", "mixed")
    assert found is not None
    assert found["numerator"] is True
    assert found["numerator_evidence"] == sorted([s, d, s2, d2])
    assert not hit(r, "CBP", "latest-high")
    assert hit(r, "CBP", "half-reading")
    assert hit(r, "CBP", "cpt2")
    assert not hit(r, "CBP", "cpt2-high")
    assert not hit(r, "CBP", "prior-year")


def _diabetic(w: World, member: str, birth: D = BORN_1970) -> None:
    w.member(member, birth, "F")
    w.claim(member, D(2024, 5, 1), dx=("E11.9",))
    w.claim(member, D(2025, 2, 1), dx=("E1165",))  # without the dot


def test_gsd_latest_hba1c_or_gmi():
    w = World()
    _diabetic(w, "7.9")
    w.fact("7.9", D(2025, 3, 1), "LOINC", "4548-4", 9.5)
    latest = w.fact("7.9", D(2025, 8, 1), "LOINC", "4548-4", 7.9)
    _diabetic(w, "8.0")
    w.fact("8.0", D(2025, 8, 1), "LOINC", "4548-4", 8.0)
    _diabetic(w, "9.1")
    w.fact("9.1", D(2025, 3, 1), "LOINC", "4548-4", 7.0)
    w.fact("9.1", D(2025, 8, 1), "LOINC", "4548-4", 9.1)
    _diabetic(w, "9.0")
    w.fact("9.0", D(2025, 8, 1), "LOINC", "4548-4", 9.0)
    _diabetic(w, "same-day")  # 9.5 and 8.5 the same day: the lowest (8.5) is representative
    w.fact("same-day", D(2025, 8, 1), "LOINC", "4548-4", 9.5)
    w.fact("same-day", D(2025, 8, 1), "LOINC", "4548-4", 8.5)
    _diabetic(w, "gmi")
    w.fact("gmi", D(2025, 8, 1), "LOINC", "97506-0", 7.2)
    _diabetic(w, "untested")
    _diabetic(w, "cpt2")
    w.claim("cpt2", D(2025, 6, 1), px=("3046F",))
    r = w.run()
    assert hit(r, "GSD <8", "7.9")
    found = row(r, "GSD <8", "7.9")
    assert found is not None
    assert found["numerator_evidence"] == [latest]
    assert not hit(r, "GSD >9", "7.9")
    assert not hit(r, "GSD <8", "8.0")
    assert not hit(r, "GSD >9", "8.0")
    assert hit(r, "GSD >9", "9.1")
    assert not hit(r, "GSD >9", "9.0")
    assert not hit(r, "GSD >9", "same-day")
    assert not hit(r, "GSD <8", "same-day")
    assert hit(r, "GSD <8", "gmi")
    assert hit(r, "GSD >9", "untested")  # inverse rate: no result counts as poor control
    assert not hit(r, "GSD <8", "untested")
    assert hit(r, "GSD >9", "cpt2")
    rates = {x["rate"]: x for x in r.rates.iter_rows(named=True)}
    assert rates["GSD >9"]["inverse"] is True


def test_diabetes_needs_two_dates_and_age_18_75():
    w = World()
    w.member("one-date", D(1970, 1, 1))
    w.claim("one-date", D(2025, 2, 1), dx=("E11.9",))
    _diabetic(w, "76", D(1949, 12, 31))
    _diabetic(w, "75", D(1950, 1, 1))
    r = w.run()
    assert row(r, "GSD <8", "one-date") is None
    assert row(r, "GSD <8", "76") is None
    assert row(r, "GSD <8", "75") is not None
    assert row(r, "KED", "76") is not None  # KED runs to 85


def test_eed_and_ked():
    w = World()
    _diabetic(w, "exam")
    w.claim("exam", D(2025, 5, 1), px=("92250",))
    _diabetic(w, "negative-prior")
    w.claim("negative-prior", D(2024, 5, 1), px=("3072F",))
    _diabetic(w, "exam-prior")
    w.claim("exam-prior", D(2024, 5, 1), px=("92250",))
    _diabetic(w, "both-labs")
    w.fact("both-labs", D(2025, 4, 1), "LOINC", "48642-3", 75)
    w.fact("both-labs", D(2025, 10, 1), "LOINC", "9318-7", 12)
    _diabetic(w, "egfr-only")
    w.fact("egfr-only", D(2025, 4, 1), "LOINC", "48642-3", 75)
    _diabetic(w, "esrd")
    w.claim("esrd", D(2025, 4, 1), dx=("N18.6",))
    r = w.run()
    assert hit(r, "EED", "exam")
    assert hit(r, "EED", "negative-prior")
    assert not hit(r, "EED", "exam-prior")
    assert hit(r, "KED", "both-labs")
    assert not hit(r, "KED", "egfr-only")
    found = row(r, "KED", "esrd")
    assert found is not None
    assert found["exclusion_reason"] == "ESRD or dialysis"
    esrd_gsd = row(r, "GSD <8", "esrd")
    assert esrd_gsd is not None
    assert esrd_gsd["excluded"] is False


def test_common_exclusions_and_their_order():
    w = World()
    w.member("hospice", D(1960, 1, 1))
    hospice = w.claim("hospice", D(2025, 5, 1), px=("Q5003",))
    w.claim("hospice", D(2025, 5, 1), dx=("Z51.5",))  # palliative too: hospice comes first
    w.member("dead", D(1960, 1, 1), death=D(2025, 6, 1))
    w.member("dead-before", D(1960, 1, 1), death=D(2024, 6, 1))
    for member, birth in (("frail-66", D(1959, 12, 31)), ("frail-65", D(1960, 1, 1))):
        w.member(member, birth)
        w.claim(member, D(2025, 2, 1), dx=("R54",))
        w.claim(member, D(2024, 7, 1), dx=("G30.9",))
    w.member("frail-only", D(1950, 1, 1))
    w.claim("frail-only", D(2025, 2, 1), dx=("R54",))
    w.claim("hospice", D(2025, 1, 1), px=("77067",))
    r = w.run()
    found = row(r, "BCS-E", "hospice")
    assert found is not None
    assert found["exclusion_reason"] == "hospice"
    assert found["exclusion_evidence"] == [hospice]
    assert found["numerator"] is False  # the mammogram does not count for an excluded member
    assert found["numerator_evidence"] == []
    dead = row(r, "BCS-E", "dead")
    assert dead is not None
    assert dead["exclusion_reason"] == "death"
    assert dead["exclusion_evidence"] == ["member:dead"]
    dead_before = row(r, "BCS-E", "dead-before")
    assert dead_before is not None
    assert dead_before["excluded"] is False
    frail = row(r, "BCS-E", "frail-66")
    assert frail is not None
    assert frail["exclusion_reason"] == "frailty and advanced illness (66+)"
    assert len(frail["exclusion_evidence"]) == 2  # type: ignore[arg-type]
    young = row(r, "BCS-E", "frail-65")
    assert young is not None
    assert young["excluded"] is False
    only = row(r, "BCS-E", "frail-only")
    assert only is not None
    assert only["excluded"] is False
    rates = {x["rate"]: x for x in r.rates.iter_rows(named=True)}
    assert rates["BCS-E"]["eligible"] == 6
    assert rates["BCS-E"]["excluded"] == 3
    assert rates["BCS-E"]["denominator"] == 3
    assert rates["BCS-E"]["numerator"] == 0
    assert rates["BCS-E"]["rate_value"] == 0.0


def _full_series(w: World, member: str, birth: D, skip: str | None = None) -> None:
    w.member(member, birth)
    day = (
        birth.replace(year=birth.year + 1) if birth.month != 2 or birth.day != 29 else D(birth.year + 1, 3, 1)
    )
    from datetime import timedelta

    early = birth + timedelta(days=60)
    doses = {
        "20": 4,  # DTaP
        "10": 3,  # IPV
        "03": 1,  # MMR
        "49": 3,  # Hib
        "08": 3,  # HepB
        "21": 1,  # VZV
        "133": 4,  # PCV13
        "83": 1,  # HepA
        "116": 3,  # RV5
        "141": 2,  # influenza
    }
    for cvx, count in doses.items():
        if cvx == skip:
            count -= 1
        start = day if cvx in ("03", "21", "83") else early + timedelta(days=130 if cvx == "141" else 0)
        for n in range(count):
            w.fact(member, start + timedelta(days=30 * n), "CVX", cvx)


def test_cis_combo_10():
    w = World()
    _full_series(w, "complete", D(2023, 3, 15))
    _full_series(w, "one-dtap-short", D(2023, 3, 15), skip="20")
    _full_series(w, "no-flu-second", D(2023, 3, 15), skip="141")
    w.member("too-young", D(2024, 1, 1))
    w.member("too-old", D(2022, 12, 31))
    w.member("first-day", D(2023, 1, 1))
    _full_series(w, "mmr-too-early", D(2023, 3, 15), skip="03")
    w.fact("mmr-too-early", D(2024, 3, 14), "CVX", "03")  # the day before the first birthday
    _full_series(w, "rv1", D(2023, 3, 15), skip="116")
    w.fact("rv1", D(2023, 6, 1), "CVX", "119")  # RV5 x2 + RV1 x1: three doses of a mixed series
    r = w.run()
    assert hit(r, "CIS-E Combo 10", "complete")
    found = row(r, "CIS-E Combo 10", "complete")
    assert found is not None
    assert len(found["numerator_evidence"]) == 25  # type: ignore[arg-type]
    assert not hit(r, "CIS-E Combo 10", "one-dtap-short")
    assert not hit(r, "CIS-E Combo 10", "no-flu-second")
    assert not hit(r, "CIS-E Combo 10", "mmr-too-early")
    assert hit(r, "CIS-E Combo 10", "rv1")
    assert row(r, "CIS-E Combo 10", "too-young") is None
    assert row(r, "CIS-E Combo 10", "too-old") is None
    assert row(r, "CIS-E Combo 10", "first-day") is not None


def test_well_child_and_well_care():
    w = World()
    birth = D(2024, 3, 10)  # 15 months on 2025-06-10
    w.member("six", birth)
    for n in range(6):
        w.claim("six", D(2024, 4, 1 + n), px=("99391",))
    w.member("five", birth)
    for n in range(5):
        w.claim("five", D(2024, 4, 1 + n), px=("99391",))
    w.claim("five", D(2025, 6, 11), px=("99391",))  # the day after the 15-month birthday
    w.member("toddler", D(2023, 2, 1))  # 30 months on 2025-08-01
    w.claim("toddler", D(2024, 5, 2), dx=("Z00.129",))
    w.claim("toddler", D(2025, 7, 30), dx=("Z00.121",))
    w.member("teen", D(2010, 1, 1))
    w.claim("teen", D(2025, 9, 1), px=("99394",))
    w.member("adult-22", D(2003, 12, 31))
    r = w.run()
    assert hit(r, "W30-15", "six")
    assert not hit(r, "W30-15", "five")
    assert hit(r, "W30-30", "toddler")
    assert hit(r, "WCV", "teen")
    assert row(r, "WCV", "adult-22") is None


def test_year_versions_load_and_differ_by_window():
    w = World()
    w.member("m", D(1960, 1, 1))
    w.claim("m", D(2024, 11, 1), px=("77067",))
    assert hit(w.run(2025), "BCS-E", "m")
    assert hit(w.run(2026), "BCS-E", "m")  # Oct 2024 is inside MY 2026's 27 months
    w2 = World()
    w2.member("m", D(1960, 1, 1))
    w2.claim("m", D(2024, 9, 30), px=("77067",))
    assert hit(w2.run(2025), "BCS-E", "m")
    assert not hit(w2.run(2026), "BCS-E", "m")


def test_fum_episodes_follow_up_within_7_and_30_days():
    w = World()
    w.member("p", D(1990, 1, 1))
    ed1 = w.claim("p", D(2025, 3, 1), dx=("F32.9",), px=("99284",))
    w.claim("p", D(2025, 3, 20), dx=("F41.1",), px=("99284",))  # within 30 days: same episode
    ed3 = w.claim("p", D(2025, 5, 1), dx=("F41.1",), px=("99284",))
    visit = w.claim("p", D(2025, 3, 8), dx=("F32.9",), px=("99213",))  # day 7 with a mental-health diagnosis
    late = w.claim("p", D(2025, 5, 31), px=("90834",))  # day 30 for the May visit
    w.member("chain", D(1990, 1, 1))
    chain1 = w.claim("chain", D(2025, 3, 1), dx=("F32.9",), px=("99284",))
    w.claim("chain", D(2025, 3, 20), dx=("F32.9",), px=("99284",))  # covered by Mar 1
    chain3 = w.claim("chain", D(2025, 4, 8), dx=("F32.9",), px=("99284",))  # 38 days after the kept visit
    w.claim("chain", D(2025, 4, 9), dx=("F32.9",), px=("99284",))
    w.member("no-mh-dx", D(1990, 1, 1))
    w.claim("no-mh-dx", D(2025, 3, 1), dx=("R07.9",), px=("99284",))
    w.member("december", D(1990, 1, 1))
    w.claim("december", D(2025, 12, 2), dx=("F32.9",), px=("99284",))
    w.member("child-5", D(2020, 3, 2))
    w.claim("child-5", D(2025, 3, 1), dx=("F90.0",), px=("99284",))
    w.member("visit-without-dx", D(1990, 1, 1))
    w.claim("visit-without-dx", D(2025, 3, 1), dx=("F32.9",), px=("99284",))
    w.claim("visit-without-dx", D(2025, 3, 2), dx=("J06.9",), px=("99213",))
    r = w.run()
    rows = r.members.filter(pl.col("rate") == "FUM 30-day")
    assert rows.filter(pl.col("member_id") == "p")["episode_id"].to_list() == [ed1, ed3]
    assert rows.filter(pl.col("member_id") == "chain")["episode_id"].to_list() == [chain1, chain3]
    assert rows.filter(pl.col("member_id") == "no-mh-dx").height == 0
    assert rows.filter(pl.col("member_id") == "december").height == 0
    assert rows.filter(pl.col("member_id") == "child-5").height == 0
    by_episode = {
        (x["rate"], x["episode_id"]): x
        for x in r.members.filter(pl.col("member_id") == "p").iter_rows(named=True)
    }
    assert by_episode[("FUM 7-day", ed1)]["numerator"] is True
    assert by_episode[("FUM 7-day", ed1)]["numerator_evidence"] == [visit]
    assert by_episode[("FUM 30-day", ed3)]["numerator"] is True
    assert by_episode[("FUM 30-day", ed3)]["numerator_evidence"] == [late]
    assert by_episode[("FUM 7-day", ed3)]["numerator"] is False
    other = r.members.filter((pl.col("member_id") == "visit-without-dx") & (pl.col("rate") == "FUM 30-day"))
    assert other["numerator"].to_list() == [False]
    rates = {x["rate"]: x for x in r.rates.iter_rows(named=True)}
    assert rates["FUM 30-day"]["denominator"] == 5
    assert rates["FUM 30-day"]["numerator"] == 2


def test_fuh_follow_up_after_the_discharge_day_and_enrollment_after_it():
    w = World()
    w.member("same-day", D(1980, 1, 1))
    w.claim("same-day", D(2025, 4, 10), dx=("F31.9",), px=("99238",))
    w.claim("same-day", D(2025, 4, 10), px=("90837",))  # on the discharge date: does not count
    w.member("day-7", D(1980, 1, 1))
    w.claim("day-7", D(2025, 4, 10), dx=("F31.9",), px=("99239",))
    w.claim("day-7", D(2025, 4, 17), px=("H0036",))
    w.member("day-8", D(1980, 1, 1))
    w.claim("day-8", D(2025, 4, 10), dx=("F20.9",), px=("99238",))
    w.claim("day-8", D(2025, 4, 18), px=("90834",))
    w.member("disenrolled", D(1980, 1, 1), enrolled=((D(2015, 1, 1), D(2025, 5, 9)),))
    w.claim("disenrolled", D(2025, 4, 10), dx=("F20.9",), px=("99238",))
    w.member("enrolled-30", D(1980, 1, 1), enrolled=((D(2015, 1, 1), D(2025, 5, 10)),))
    w.claim("enrolled-30", D(2025, 4, 10), dx=("F20.9",), px=("99238",))
    r = w.run()
    assert not hit(r, "FUH 30-day", "same-day")
    assert hit(r, "FUH 7-day", "day-7")
    assert hit(r, "FUH 30-day", "day-8")
    assert not hit(r, "FUH 7-day", "day-8")
    assert row(r, "FUH 30-day", "disenrolled") is None
    assert row(r, "FUH 30-day", "enrolled-30") is not None
    found = row(r, "FUH 30-day", "day-7")
    assert found is not None
    assert found["episode_id"] == "claim:c3"
