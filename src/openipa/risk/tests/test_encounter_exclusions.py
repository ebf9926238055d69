"""The 2026 dates-of-service exclusions of CMS's encounter filter (the 2027 payment year): audio-only
telehealth lines (modifier 93 or FQ) do not make a claim count, and record-review diagnoses count only when
linked to a counting encounter. As data (rules/encounter_filter.json), effective by the service year."""

from __future__ import annotations

import json

import pytest

from openipa.risk import encounters


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
