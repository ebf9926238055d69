"""Patient matching: deterministic steps, scored comparisons, the review rules, settings and bad input."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from openipa.clinical.engine.matching import (
    MatchSettings,
    load_settings,
    match_patients,
    parse_settings,
    soundex,
)
from openipa.core.engine.frames import EngineInputError

SETTINGS = load_settings(date(2026, 6, 1))
NO_LINKS = pl.DataFrame(schema={"source": pl.Utf8, "source_patient_id": pl.Utf8, "member_id": pl.Int64})

BOB: dict[str, Any] = {
    "member_id": 1,
    "last_name": "Smith",
    "first_name": "Robert",
    "date_of_birth": date(1950, 3, 14),
    "sex": "M",
    "address_line": "12 Main Street",
    "zip": "90210",
    "phone": "555-123-4567",
    "mbi": "1EG4-TE5-MK73",
    "payer_id": "ACME",
    "payer_member_id": "A100",
}
OTHERS: list[dict[str, Any]] = [
    {
        "member_id": 2,
        "last_name": "Nguyen",
        "first_name": "Linh",
        "date_of_birth": date(1962, 7, 1),
        "sex": "F",
        "address_line": "9 Elm Ave",
        "zip": "90001",
        "phone": "5550001111",
    },
    {
        "member_id": 3,
        "last_name": "Okafor",
        "first_name": "Chidi",
        "date_of_birth": date(1950, 3, 14),
        "sex": "M",
        "address_line": "4 Pine Rd",
        "zip": "90210",
        "phone": "5550002222",
    },
]


def members(*rows: dict[str, Any]) -> pl.DataFrame:
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "member_id": pl.Int64,
        "last_name": pl.Utf8,
        "first_name": pl.Utf8,
        "date_of_birth": pl.Date,
        "sex": pl.Utf8,
        "address_line": pl.Utf8,
        "zip": pl.Utf8,
        "phone": pl.Utf8,
        "mbi": pl.Utf8,
        "payer_id": pl.Utf8,
        "payer_member_id": pl.Utf8,
        "medicaid_id": pl.Utf8,
        "other_last_names": pl.List(pl.Utf8),
    }
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def patient(**fields: Any) -> dict[str, Any]:
    row = {k: v for k, v in BOB.items() if k not in {"member_id", "mbi", "payer_id", "payer_member_id"}}
    row.update(source="clinic-ehr", source_patient_id="P1", identifiers=[])
    row.update(fields)
    return row


def incoming(*rows: dict[str, Any]) -> pl.DataFrame:
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "source": pl.Utf8,
        "source_patient_id": pl.Utf8,
        "identifiers": pl.List(pl.Struct({"system": pl.Utf8, "value": pl.Utf8, "payer": pl.Utf8})),
        "last_name": pl.Utf8,
        "first_name": pl.Utf8,
        "date_of_birth": pl.Date,
        "sex": pl.Utf8,
        "address_line": pl.Utf8,
        "city": pl.Utf8,
        "zip": pl.Utf8,
        "phone": pl.Utf8,
    }
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def match_one(
    row: dict[str, Any], member_rows: list[dict[str, Any]], links: pl.DataFrame = NO_LINKS
) -> dict[str, Any]:
    result = match_patients(incoming(row), members(*member_rows), links, SETTINGS)
    assert result.decisions.height == 1
    return result.decisions.row(0, named=True)


def test_identical_record_links_by_score() -> None:
    out = match_one(patient(), [BOB, *OTHERS])
    assert (out["decision"], out["method"], out["member_id"]) == ("linked", "score", 1)
    assert out["agreement"] == {
        "last_name": "exact",
        "first_name": "exact",
        "date_of_birth": "exact",
        "sex": "same",
        "address": "exact",
        "phone": "same",
    }
    assert out["score"] == sum(
        SETTINGS.weights[c][lvl]
        for c, lvl in [
            ("last_name", "exact"),
            ("first_name", "exact"),
            ("date_of_birth", "exact"),
            ("sex", "same"),
            ("address", "exact"),
            ("phone", "same"),
        ]
    )
    assert out["candidates"] == []


@pytest.mark.parametrize(
    ("given_name", "member_name"),
    [("Bob", "Robert"), ("Bill", "William"), ("Peggy", "Margaret"), ("Bob", "Rob")],
)
def test_nickname(given_name: str, member_name: str) -> None:
    out = match_one(patient(first_name=given_name, phone=None), [{**BOB, "first_name": member_name}, *OTHERS])
    assert out["decision"] == "linked"
    assert out["agreement"]["first_name"] == "nickname"


def test_transposed_birth_day_and_month() -> None:
    out = match_one(
        patient(date_of_birth=date(1950, 3, 4)), [{**BOB, "date_of_birth": date(1950, 4, 3)}, *OTHERS]
    )
    assert out["agreement"]["date_of_birth"] == "transposed"
    assert (out["decision"], out["member_id"]) == ("linked", 1)


def test_one_digit_off_birth_date() -> None:
    out = match_one(patient(date_of_birth=date(1950, 3, 17)), [BOB, *OTHERS])
    assert out["agreement"]["date_of_birth"] == "one_digit"
    assert out["decision"] == "linked"


def test_typo_in_last_name() -> None:
    out = match_one(patient(last_name="Smyth"), [BOB, *OTHERS])
    assert out["agreement"]["last_name"] == "similar"
    assert (out["decision"], out["member_id"]) == ("linked", 1)


def test_twins_are_never_linked_to_each_other() -> None:
    twin = {
        **BOB,
        "member_id": 7,
        "first_name": "Richard",
        "mbi": None,
        "payer_member_id": None,
        "phone": None,
    }
    # both twins are members: each incoming twin links to its own record only
    out = match_one(patient(first_name="Richard", phone=None), [BOB, twin])
    assert (out["decision"], out["member_id"]) == ("linked", 7)
    # only the other twin is a member: high score, but the first name disagrees, so it goes to review
    out = match_one(patient(first_name="Richard", phone=None), [BOB])
    assert out["decision"] == "review"
    assert out["reason"] == "link_requirements_not_met"
    assert out["score"] >= SETTINGS.link_threshold
    assert [c["member_id"] for c in out["candidates"]] == [1]
    assert out["candidates"][0]["eligible"] is False


def test_same_name_different_birth_date_is_not_linked() -> None:
    # father and son at the same address: never an automatic link
    out = match_one(patient(date_of_birth=date(1978, 11, 2)), [BOB])
    assert out["decision"] == "review"
    assert out["agreement"]["date_of_birth"] == "different"
    # name alone, different birth date and nothing else: unmatched
    out = match_one(patient(date_of_birth=date(1978, 11, 2), address_line=None, zip=None, phone=None), [BOB])
    assert out["decision"] == "unmatched"
    assert out["member_id"] is None


def test_identifier_links_when_birth_date_agrees() -> None:
    ids = [{"system": "mbi", "value": "1eg4te5mk73", "payer": None}]
    out = match_one(patient(identifiers=ids, last_name="Jones", first_name="X", phone=None), [BOB, *OTHERS])
    assert (out["decision"], out["method"], out["member_id"]) == ("linked", "identifier", 1)
    ids = [{"system": "payer_member_id", "value": "A100", "payer": "ACME"}]
    assert match_one(patient(identifiers=ids), [BOB])["method"] == "identifier"
    # the same member id of another payer names nobody
    ids = [{"system": "payer_member_id", "value": "A100", "payer": "OTHER"}]
    assert match_one(patient(identifiers=ids), [BOB])["method"] == "score"


def test_identifier_with_conflicting_birth_date_goes_to_review() -> None:
    ids = [{"system": "mbi", "value": "1EG4TE5MK73", "payer": None}]
    out = match_one(patient(identifiers=ids, date_of_birth=date(1971, 8, 30)), [BOB, *OTHERS])
    assert (out["decision"], out["reason"], out["member_id"]) == (
        "review",
        "identifier_birth_date_conflict",
        1,
    )
    assert out["method"] is None
    assert 1 in [c["member_id"] for c in out["candidates"]]
    # a missing birth date is not agreement either
    out = match_one(patient(identifiers=ids, date_of_birth=None), [BOB])
    assert (out["decision"], out["reason"]) == ("review", "identifier_birth_date_conflict")
    # even when everything else agrees, the conflict is not overruled by the score
    out = match_one(patient(identifiers=ids, date_of_birth=date(1950, 3, 15)), [BOB])
    assert out["decision"] == "review"


def test_identifiers_naming_several_members_go_to_review() -> None:
    other = {**OTHERS[0], "medicaid_id": "MC-9"}
    ids = [
        {"system": "mbi", "value": "1EG4TE5MK73", "payer": None},
        {"system": "medicaid", "value": "mc9", "payer": None},
    ]
    out = match_one(patient(identifiers=ids), [BOB, other])
    assert (out["decision"], out["reason"]) == ("review", "identifier_names_several_members")


def test_confirmed_link_wins() -> None:
    links = pl.DataFrame({"source": ["clinic-ehr"], "source_patient_id": ["P1"], "member_id": [2]})
    out = match_one(patient(), [BOB, *OTHERS], links)
    assert (out["decision"], out["method"], out["member_id"]) == ("linked", "confirmed", 2)
    # a link of another source does not apply
    links = pl.DataFrame({"source": ["lab"], "source_patient_id": ["P1"], "member_id": [2]})
    assert match_one(patient(), [BOB, *OTHERS], links)["member_id"] == 1


def test_hyphenated_last_name() -> None:
    out = match_one(patient(last_name="Smith-Garcia", phone=None), [BOB, *OTHERS])
    assert (out["agreement"]["last_name"], out["decision"]) == ("part", "linked")
    out = match_one(patient(last_name="Smith Garcia", phone=None), [{**BOB, "last_name": "Smith-Garcia"}])
    assert out["agreement"]["last_name"] == "exact"


def test_maiden_name() -> None:
    married = {**BOB, "first_name": "Maria", "sex": "F", "last_name": "Smith", "other_last_names": ["Lopez"]}
    out = match_one(patient(first_name="Maria", sex="F", last_name="Lopez", phone=None), [married])
    assert (out["agreement"]["last_name"], out["decision"]) == ("part", "linked")
    # without the former name on file the last names disagree: review, not a link
    out = match_one(
        patient(first_name="Maria", sex="F", last_name="Lopez"), [{**married, "other_last_names": None}]
    )
    assert (out["agreement"]["last_name"], out["decision"]) == ("different", "review")


def test_two_eligible_candidates_go_to_review() -> None:
    duplicate = {**BOB, "member_id": 9, "mbi": None, "payer_member_id": None}
    out = match_one(patient(), [BOB, duplicate])
    assert (out["decision"], out["reason"]) == ("review", "several_candidates_eligible")
    assert sorted(c["member_id"] for c in out["candidates"]) == [1, 9]


def test_blocking_finds_a_pair_on_zip_and_initial_when_birth_year_is_wrong() -> None:
    # birth year typed 1951 (not in the birth-date nor the Soundex+year block), another phone and street:
    # found by zip + first initial only
    row = patient(date_of_birth=date(1951, 3, 14), phone=None, address_line="1 Other Rd")
    out = match_one(row, [BOB])
    assert out["agreement"]["date_of_birth"] == "one_digit"
    assert out["score"] is not None
    # and a member sharing no block with the patient is never compared
    row = patient(zip="10001", date_of_birth=date(1991, 1, 1), phone=None)
    result = match_patients(incoming(row), members(BOB), NO_LINKS, SETTINGS)
    assert result.pairs == 0
    assert result.decisions["decision"].to_list() == ["unmatched"]


def test_blocking_on_the_household_finds_a_nickname_with_a_birth_date_typo() -> None:
    # Bob (initial B, not R) born 1951 instead of 1950: only the phone and the home address are shared keys
    for fields in ({"address_line": "1 Other Rd"}, {"phone": None}):
        out = match_one(patient(first_name="Bob", date_of_birth=date(1951, 3, 14), **fields), [BOB])
        assert (out["decision"], out["member_id"]) == ("linked", 1)
        assert out["agreement"]["first_name"] == "nickname"


def test_block_size_cap_is_data() -> None:
    tiny = MatchSettings(**{**SETTINGS.__dict__, "max_block_size": 1})
    crowd = [
        {**OTHERS[1], "member_id": 10 + n, "first_name": f"Zed{n}", "last_name": f"Q{n}x"} for n in range(2)
    ]
    result = match_patients(incoming(patient(zip=None)), members(BOB, *crowd), NO_LINKS, tiny)
    # the birth-date block (3 members) is skipped; the Soundex+year block (Bob alone) still finds him
    assert result.pairs == 1
    assert result.decisions["member_id"].to_list() == [1]


def test_output_order_and_missing_fields() -> None:
    rows = [patient(source_patient_id=f"P{n}") for n in (3, 1, 2)]
    rows.append(
        patient(
            source_patient_id="P0",
            last_name=None,
            first_name=None,
            date_of_birth=None,
            sex="U",
            address_line=None,
            zip=None,
            phone="12",
        )
    )
    out = match_patients(incoming(*rows), members(BOB), NO_LINKS, SETTINGS).decisions
    assert out["source_patient_id"].to_list() == ["P3", "P1", "P2", "P0"]
    assert out["decision"].to_list() == ["linked", "linked", "linked", "unmatched"]
    assert out.schema["candidates"] == pl.List(
        pl.Struct(
            {
                "member_id": pl.Int64,
                "score": pl.Int64,
                "eligible": pl.Boolean,
                "last_name": pl.Utf8,
                "first_name": pl.Utf8,
                "date_of_birth": pl.Utf8,
                "sex": pl.Utf8,
                "address": pl.Utf8,
                "phone": pl.Utf8,
            }
        )
    )


def test_soundex() -> None:
    assert [
        soundex(n) for n in ("Robert", "Rupert", "Rubin", "Ashcraft", "Tymczak", "Pfister", "Lee", "")
    ] == [
        "R163",
        "R163",
        "R150",
        "A261",
        "T522",
        "P236",
        "L000",
        "",
    ]


# ------------------------------------------------------------------------------------------- bad input


def test_bad_frames_name_the_field_and_row() -> None:
    with pytest.raises(EngineInputError, match=r"incoming: missing column"):
        match_patients(pl.DataFrame({"source": ["x"]}), members(BOB), NO_LINKS, SETTINGS)
    with pytest.raises(EngineInputError, match=r"more than one row.*source clinic-ehr, source_patient_id P1"):
        match_patients(incoming(patient(), patient()), members(BOB), NO_LINKS, SETTINGS)
    with pytest.raises(
        EngineInputError, match=r"members: more than one row for the same member_id: member_id 1"
    ):
        match_patients(incoming(patient()), members(BOB, BOB), NO_LINKS, SETTINGS)
    with pytest.raises(EngineInputError, match=r"members: column date_of_birth"):
        match_patients(
            incoming(patient()),
            members(BOB).with_columns(date_of_birth=pl.lit("yesterday")),
            NO_LINKS,
            SETTINGS,
        )
    bad_system = patient(identifiers=[{"system": "ssn", "value": "1", "payer": None}])
    with pytest.raises(
        EngineInputError, match=r"identifiers.system is not one of.*source_patient_id P1, system ssn"
    ):
        match_patients(incoming(bad_system), members(BOB), NO_LINKS, SETTINGS)
    no_payer = patient(identifiers=[{"system": "payer_member_id", "value": "A100", "payer": None}])
    with pytest.raises(EngineInputError, match=r"payer is required.*value A100"):
        match_patients(incoming(no_payer), members(BOB), NO_LINKS, SETTINGS)
    links = pl.DataFrame({"source": ["clinic-ehr"], "source_patient_id": ["P1"], "member_id": [404]})
    with pytest.raises(EngineInputError, match=r"links: member_id is not among the members.*member_id 404"):
        match_patients(incoming(patient()), members(BOB), links, SETTINGS)
    with pytest.raises(EngineInputError, match=r"payer_member_id without payer_id: member_id 1"):
        match_patients(incoming(patient()), members({**BOB, "payer_id": None}), NO_LINKS, SETTINGS)


def _shipped() -> tuple[dict[str, Any], dict[str, str]]:
    folder = resources.files("openipa.clinical").joinpath("data")
    raw = json.loads(folder.joinpath("matching.json").read_text(encoding="utf-8"))
    return raw, {"nicknames.csv": folder.joinpath("nicknames.csv").read_text(encoding="utf-8")}


def test_settings_are_effective_dated() -> None:
    raw, nick = _shipped()
    old = json.loads(json.dumps(raw["versions"][0]))
    old.update(
        version="old",
        valid_from="2000-01-01",
        valid_to="2025-12-31",
        thresholds={"link": "30.00", "review": "10.00"},
    )
    new = {**raw["versions"][0], "valid_from": "2026-01-01"}
    text = json.dumps({"versions": [old, new]})
    assert parse_settings(text, date(2025, 12, 31), nick).link_threshold == 3000
    assert parse_settings(text, date(2026, 1, 1), nick).link_threshold == 2600
    with pytest.raises(EngineInputError, match=r"matching.json: no version in force on 1999-12-31"):
        parse_settings(text, date(1999, 12, 31), nick)


def test_weights_are_log2_of_m_over_u() -> None:
    assert SETTINGS.weights["last_name"]["exact"] == 881  # log2(0.90 / 0.002) = 8.8138
    assert SETTINGS.weights["phone"]["different"] == -132  # log2(0.40 / 0.9999) = -1.3219


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v: v["comparisons"]["sex"].pop("same"), r"versions\[0\].comparisons.sex: missing field same"),
        (
            lambda v: v["comparisons"]["phone"]["same"].update(m="1.5"),
            r"comparisons.phone.same.m: a probability",
        ),
        (
            lambda v: v["comparisons"]["phone"]["same"].update(u="abc"),
            r"comparisons.phone.same.u: not a decimal",
        ),
        (
            lambda v: v["comparisons"]["phone"]["different"].update(m="0.9"),
            r"comparisons.phone: the m probabilities sum",
        ),
        (lambda v: v["thresholds"].update(review="30"), r"thresholds: review must not exceed link"),
        (lambda v: v["link_requires"].update(sex=["maybe"]), r"link_requires.sex: unknown level"),
        (lambda v: v.update(valid_from="soon"), r"valid_from: not an ISO date"),
        (lambda v: v["blocking"].update(max_block_size=0), r"max_block_size: expected a positive integer"),
        (lambda v: v.update(nicknames="nope.csv"), r"nicknames: no data file"),
        (lambda v: v.update(unit_designators="APT"), r"unit_designators: expected a list of strings"),
    ],
)
def test_bad_settings_name_the_field(change: Any, message: str) -> None:
    raw, nick = _shipped()
    change(raw["versions"][0])
    with pytest.raises(EngineInputError, match=message):
        parse_settings(json.dumps(raw), date(2026, 1, 1), nick)


def test_bad_nickname_file_names_the_line() -> None:
    raw, _ = _shipped()
    with pytest.raises(EngineInputError, match=r"nicknames.csv: line 3: expected two names"):
        parse_settings(
            json.dumps(raw), date(2026, 1, 1), {"nicknames.csv": "formal,nickname\nROBERT,BOB\nROBERT\n"}
        )
    with pytest.raises(EngineInputError, match=r"matching.json: line 1"):
        parse_settings("{", date(2026, 1, 1), {})


# -------------------------------------------------------------------------------------------- properties

NAMES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10)
PERSON = st.fixed_dictionaries(
    {
        "last_name": NAMES,
        "first_name": NAMES,
        "date_of_birth": st.dates(date(1930, 1, 1), date(1999, 12, 31)),
        "sex": st.sampled_from(["F", "M", None]),
        "address_line": st.one_of(
            st.none(), st.from_regex(r"[1-9][0-9]{0,3} [A-Z]{3,8} (ST|AVE|RD)", fullmatch=True)
        ),
        "zip": st.one_of(st.none(), st.from_regex(r"9[0-9]{4}", fullmatch=True)),
        "phone": st.one_of(st.none(), st.from_regex(r"[2-9][0-9]{9}", fullmatch=True)),
    }
)


def _a_century_later(person: dict[str, Any]) -> dict[str, Any]:
    born: date = person["date_of_birth"]
    later = date(2001, 3, 1) if (born.month, born.day) == (2, 29) else born.replace(year=born.year + 101)
    return {**person, "date_of_birth": later}


# born 2031-2100: at least two digits of the birth date differ from 1930-1999, never transposed
UNRELATED = PERSON.map(_a_century_later)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=PERSON, crowd=st.lists(PERSON, max_size=8), unrelated=st.lists(UNRELATED, max_size=8))
def test_property_exact_copy_links_and_unrelated_members_change_nothing(
    record: dict[str, Any], crowd: list[dict[str, Any]], unrelated: list[dict[str, Any]]
) -> None:
    base = [{**record, "member_id": 1}] + [{**p, "member_id": 100 + n} for n, p in enumerate(crowd)]
    row = {**record, "source": "hie", "source_patient_id": "x"}
    first = match_patients(incoming(row), members(*base), NO_LINKS, SETTINGS).decisions.row(0, named=True)
    if (first["decision"], first["member_id"]) != ("linked", 1):
        # only another member that is itself eligible (a near-duplicate of the record) may stop the link
        assert (first["decision"], first["reason"]) == ("review", "several_candidates_eligible")
        assert {1} < {c["member_id"] for c in first["candidates"] if c["eligible"]}
    more = base + [{**p, "member_id": 1000 + n} for n, p in enumerate(unrelated)]
    second = match_patients(incoming(row), members(*more), NO_LINKS, SETTINGS).decisions.row(0, named=True)
    if first["decision"] == "linked":
        assert (second["decision"], second["member_id"], second["score"]) == (
            "linked",
            first["member_id"],
            first["score"],
        )


def test_empty_frames_and_minimal_columns() -> None:
    minimal = pl.DataFrame(
        {
            "source": ["lab"],
            "source_patient_id": ["9"],
            "last_name": ["Smith"],
            "first_name": ["Robert"],
            "date_of_birth": [date(1950, 3, 14)],
        }
    )
    out = match_patients(minimal, members(BOB), NO_LINKS, SETTINGS).decisions
    assert out.select("decision", "member_id").row(0) == ("linked", 1)
    assert match_patients(minimal.clear(), members(BOB), NO_LINKS, SETTINGS).decisions.height == 0
    none = match_patients(minimal, members(BOB).clear(), NO_LINKS, SETTINGS).decisions
    assert none.select("decision", "member_id", "candidates").row(0) == ("unmatched", None, [])
    bare = match_patients(minimal, pl.DataFrame({"member_id": [1, 2]}), NO_LINKS, SETTINGS).decisions
    assert bare["decision"].to_list() == ["unmatched"]


def test_normalization_of_address_phone_sex_and_names() -> None:
    row = patient(
        address_line="12 main st.",
        zip="90210-4411",
        phone="+1 (555) 123-4567",
        sex="male",
        last_name="Smith Jr.",
        first_name="  robert ",
    )
    out = match_one(row, [BOB])
    assert out["agreement"] == {
        "last_name": "exact",
        "first_name": "exact",
        "date_of_birth": "exact",
        "sex": "same",
        "address": "exact",
        "phone": "same",
    }
    out = match_one(patient(address_line="12 Main Street Apt 4"), [BOB])
    assert out["agreement"]["address"] == "similar"
    out = match_one(patient(address_line="12 Mian Street"), [BOB])
    assert out["agreement"]["address"] == "similar"
    apartment = {**BOB, "address_line": "12 Main Street, Apartment 5"}
    assert (
        match_one(patient(address_line="12 Main St Apt 4"), [apartment])["agreement"]["address"] == "similar"
    )
    out = match_one(patient(address_line="12 Main Street", zip="90001"), [BOB])
    assert out["agreement"]["address"] == "similar"
    out = match_one(patient(address_line="800 Ocean Blvd"), [BOB])
    assert out["agreement"]["address"] == "zip"
    out = match_one(patient(sex="unknown", phone="555"), [BOB])
    assert (out["agreement"]["sex"], out["agreement"]["phone"]) == ("missing", "missing")
    out = match_one(patient(first_name="R"), [BOB])
    assert (out["agreement"]["first_name"], out["decision"]) == ("initial", "linked")
