"""The 2026 dates-of-service exclusions of CMS's encounter filter (the 2027 payment year): audio-only
telehealth lines (modifier 93 or FQ) do not make a claim count, and record-review diagnoses count only when
linked to a counting encounter. As data (rules/encounter_filter.json), effective by the service year."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openipa.risk import encounters
from openipa.risk.services import window_diagnoses
from openipa.risk.tests.conftest import AMY, claim, clinical_file


@pytest.mark.parametrize(
    ("year", "modifiers", "counts"),
    [
        (2025, "", True),
        (2025, "93", True),  # before 2026 dates of service: audio-only still counted
        (2026, "", True),
        (2026, "95", True),  # audio and video telehealth: face to face
        (2026, "93", False),
        (2026, "fq", False),  # case and spacing do not matter
        (2026, "25, FQ", False),
        (2026, "25,GT", True),
    ],
)
def test_audio_only_lines_stop_counting_from_2026_dates_of_service(
    year: int, modifiers: str, counts: bool
) -> None:
    rules = encounters.load_filter(year)
    assert (
        rules.counts(institutional=False, type_of_bill="", procedure_code="99214", modifiers=modifiers)
        is counts
    )


def test_an_inpatient_stay_counts_whole_whatever_its_modifiers() -> None:
    rules = encounters.load_filter(2026)
    assert rules.counts(institutional=True, type_of_bill="0111", procedure_code="", modifiers="93")
    # a hospital outpatient visit billed audio-only does not
    assert not rules.counts(institutional=True, type_of_bill="0131", procedure_code="99214", modifiers="93")


def test_record_reviews_need_a_linked_encounter_from_2026() -> None:
    assert encounters.load_filter(2025).linked_clinical_only is False
    assert encounters.load_filter(2026).linked_clinical_only is True
    assert encounters.load_filter(2026).audio_only_modifiers == frozenset({"93", "FQ"})


def test_a_bad_setting_is_named() -> None:
    text = json.dumps(
        {
            "rules": [
                {
                    "effective_from": "2014-01-01",
                    "inpatient_bill_types": ["11"],
                    "outpatient_bill_types": [],
                    "unlinked_record_reviews": "sometimes",
                }
            ]
        }
    )
    with pytest.raises(encounters.EncounterFilterError, match="rule 1: unlinked_record_reviews"):
        encounters.load_filter(2025, text)


@pytest.mark.django_db
def test_a_2026_window_drops_audio_only_visits_and_unlinked_record_reviews(
    small_ipa: Any, tmp_path: Path
) -> None:
    """Amy in 2026: an office visit (E11.9) on March 10 and an audio-only visit (I50.20, modifier 93) on April
    1; her EHR's problem list has N18.31 on March 10 (the day of the counting visit: linked) and I48.91 on May
    5 (no encounter that day: an unlinked record review). Only E11.9 and N18.31 count. The same records in 2025
    all count (the rule starts with 2026 dates of service)."""
    from openipa.claims.models import ClaimLine

    ipa = small_ipa
    for year in (2025, 2026):
        claim(ipa, ipa.member_a, dt.date(year, 3, 10), ["E11.9"])
        audio = claim(ipa, ipa.member_a, dt.date(year, 4, 1), ["I50.20"])
        ClaimLine.objects.filter(pk=audio.pk).update(modifiers="93")
    clinical_file(
        tmp_path,
        "alder-ehr",
        [
            f"{AMY},diagnosis,ICD10CM,N18.31,,,2026-03-10",
            f"{AMY},diagnosis,ICD10CM,I48.91,,,2026-05-05",
            f"{AMY},diagnosis,ICD10CM,N18.31,,,2025-03-10",
            f"{AMY},diagnosis,ICD10CM,I48.91,,,2025-05-05",
        ],
    )

    def codes(year: int) -> dict[str, list[str]]:
        found = window_diagnoses(dt.date(year, 1, 1), dt.date(year, 12, 31))
        amy = found.filter(found["member_id"] == ipa.member_a.pk)
        return {
            source: sorted(amy.filter(amy["source"] == source)["diagnosis_code"].to_list())
            for source in ("claim", "clinical")
        }

    assert codes(2026) == {"claim": ["E119"], "clinical": ["N1831"]}
    assert codes(2025) == {"claim": ["E119", "I5020"], "clinical": ["I4891", "N1831"]}
