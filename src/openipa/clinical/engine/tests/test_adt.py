"""The ADT notification rules: the shipped file, what each event raises, effective dating and bad files."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from openipa.clinical.engine.adt import RulesError, load_rules, parse_rules

D = dt.date


def test_the_shipped_rules() -> None:
    rules = load_rules()
    admit, day = D(2026, 5, 1), D(2026, 5, 4)
    discharge = rules.decide("A03", "I", admit=admit, discharge=day, fallback=D(2026, 5, 9))
    assert discharge is not None
    assert (discharge.event_date, discharge.follow_up_due) == (day, D(2026, 5, 11))
    ed = rules.decide("A04", "e", admit=admit, discharge=None, fallback=D(2026, 5, 9))
    assert ed is not None
    assert (ed.label, ed.follow_up_due) == ("ED visit", D(2026, 5, 8))
    assert rules.decide("A04", "O", admit=admit, discharge=None, fallback=admit) is None
    assert rules.decide("A08", "I", admit=admit, discharge=None, fallback=admit) is None
    assert rules.is_update("A08", admit)
    # no admit day sent: the recorded day
    admission = rules.decide("A01", "I", admit=None, discharge=None, fallback=D(2026, 2, 2))
    assert admission is not None
    assert (admission.event_date, admission.follow_up_due) == (D(2026, 2, 2), None)


def _file(*versions: dict[str, object]) -> str:
    return json.dumps({"versions": list(versions)})


RULE = {
    "event": "A03",
    "patient_classes": ["I"],
    "label": "Discharge",
    "follow_up": {"from": "discharge", "days": 7},
}


def test_a_new_version_applies_from_its_day() -> None:
    later = {**RULE, "follow_up": {"from": "discharge", "days": 14}}
    rules = parse_rules(_file({"version": "a", "valid_from": "2000-01-01", "valid_to": "2026-12-31", "rules": [RULE]},
                              {"version": "b", "valid_from": "2027-01-01", "valid_to": None, "rules": [later]}))  # fmt: skip
    old = rules.decide("A03", "I", admit=None, discharge=D(2026, 12, 31), fallback=D(2026, 12, 31))
    new = rules.decide("A03", "I", admit=None, discharge=D(2027, 1, 1), fallback=D(2027, 1, 1))
    assert old is not None
    assert new is not None
    assert (old.follow_up_due, new.follow_up_due) == (D(2027, 1, 7), D(2027, 1, 15))
    with pytest.raises(RulesError, match="0 versions in force on 1999-12-31"):
        rules.decide("A03", "I", admit=None, discharge=D(1999, 12, 31), fallback=D(1999, 12, 31))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "adt_notifications.json: line 1"),
        (_file({"valid_from": "2000-01-01", "rules": [{**RULE, "event": "A02"}]}), "rules\\[0\\]: event: 'A02'"),
        (_file({"valid_from": "2000-01-01", "rules": [{**RULE, "patient_classes": []}]}), "patient_classes"),
        (_file({"valid_from": "2000-01-01", "rules": [{**RULE, "follow_up": {"from": "admit", "days": -1}}]}),
         "follow_up.days: -1"),
        (_file({"valid_from": "2000-01-01", "rules": [{**RULE, "follow_up": {"from": "visit", "days": 7}}]}),
         "follow_up.from: 'visit'"),
        (_file({"valid_from": "May 1", "rules": []}), "versions\\[0\\]: valid_from: 'May 1' is not a date"),
        (_file({"version": "a", "valid_from": "2000-01-01", "rules": []},
               {"version": "b", "valid_from": "2020-01-01", "rules": []}), "versions a and b overlap"),
    ],
)  # fmt: skip
def test_a_bad_rules_file_names_the_field(text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(text)
