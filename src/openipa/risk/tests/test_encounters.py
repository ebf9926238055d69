"""CMS's encounter filter: which claims' diagnoses count for risk adjustment (inpatient stays whole; outpatient
and professional claims through a face-to-face service on the year's CPT/HCPCS list; other facilities never),
as data, and its effect on a risk run."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from openipa.risk import encounters
from openipa.risk.models import MemberScore
from openipa.risk.services import score_members, window_diagnoses
from openipa.risk.tests.conftest import claim


@pytest.mark.parametrize(
    ("institutional", "bill_type", "code", "counts"),
    [
        (False, "", "99214", True),  # an office visit
        (False, "", "80053", False),  # a lab panel: not face to face
        (False, "", "E0601", False),  # a supply
        (True, "0111", "", True),  # an inpatient stay counts whole
        (True, "411", "80053", True),
        (True, "0131", "99284", True),  # hospital outpatient, an ED visit
        (True, "0131", "80053", False),
        (True, "0211", "99309", False),  # a skilled nursing facility: never
        (True, "0811", "99214", False),  # hospice: never
    ],
)
def test_the_filter_by_bill_type_and_procedure(
    institutional: bool, bill_type: str, code: str, counts: bool
) -> None:
    rules = encounters.load_filter(2025)
    assert rules.codes_year == 2025
    assert rules.counts(institutional=institutional, type_of_bill=bill_type, procedure_code=code) is counts


def test_a_year_without_its_own_code_list_uses_the_nearest_earlier_one() -> None:
    assert encounters.load_filter(2031).codes_year < 2031
    assert encounters.bill_type_prefix("0111") == encounters.bill_type_prefix("111") == "11"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a rules file"),
        (json.dumps({"rules": [{"effective_from": "2014-01-01"}]}), "rule 1"),
        (
            json.dumps(
                {
                    "rules": [
                        {
                            "effective_from": "2030-01-01",
                            "inpatient_bill_types": [],
                            "outpatient_bill_types": [],
                        }
                    ]
                }
            ),
            "no rule in effect on 2025-01-01",
        ),
    ],
)
def test_a_bad_rules_file_is_named(text: str, message: str) -> None:
    with pytest.raises(encounters.EncounterFilterError, match=message):
        encounters.load_filter(2025, text)


@pytest.mark.django_db
def test_only_the_diagnoses_of_accepted_encounters_reach_the_score(risk_ipa: Any) -> None:
    """Bert's 2025 claims: a lab panel with E11.9 and a skilled-nursing stay with I50.20 (neither counts), and
    an inpatient stay with J44.1 (counts whole): his 2026 run holds the COPD HCC only."""
    ipa = risk_ipa
    claim(ipa, ipa.member_b, dt.date(2025, 5, 2), ["E11.9"], procedure="80053")
    claim(ipa, ipa.member_b, dt.date(2025, 6, 2), ["I50.20"], kind="institutional", type_of_bill="0211",
          procedure="99309")  # fmt: skip
    stay = claim(ipa, ipa.member_b, dt.date(2025, 7, 2), ["J44.1"], kind="institutional", type_of_bill="0111",
                 procedure="")  # fmt: skip
    found = window_diagnoses(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    bert = found.filter(found["member_id"] == ipa.member_b.pk)
    assert sorted(bert["diagnosis_code"].to_list()) == ["J441"]
    assert bert["source_id"].to_list() == [stay.pk]
    run = score_members(None, year=2026)
    assert MemberScore.objects.get(run=run, member=ipa.member_b).hccs == ["280"]
