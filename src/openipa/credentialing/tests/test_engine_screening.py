"""The screening engine, pure: reading the LEIE and SAM layouts, and golden matches (exact, near and false-positive
names, NPI, reinstated rows), with property tests of the name normalizer and score."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.credentialing.engine.screening import (
    LEIE_COLUMNS,
    LayoutError,
    MatchPolicy,
    match_providers,
    name_score,
    normalize_name,
    providers_frame,
    read_leie,
    read_sam,
    soundex,
)
from openipa.credentialing.tests.conftest import DATA

TODAY = dt.date(2026, 11, 27)
POLICY = MatchPolicy(threshold=85, name_only_threshold=95, last_name_weight=0.5, first_name_weight=0.5)
PROVIDERS = [
    (1, "1234567893", "Ada", "Alder", dt.date(1970, 1, 2)),
    (2, "1245319599", "Ben", "Birch", dt.date(1975, 5, 6)),
    (3, "1003000126", "Cy", "Cardio", None),
    (4, "1000000004", "William", "Smith", dt.date(1960, 3, 15)),
    (5, "1000000012", "Maria", "Garcia", dt.date(1980, 7, 4)),
    (6, "1000000020", "Robert", "Johnson", dt.date(1965, 11, 30)),
]
HEADER = ",".join(LEIE_COLUMNS)


def leie_row(
    last: str, first: str, dob: str, *, npi: str = "0000000000", reinstated: str = "00000000"
) -> str:
    return (
        f"{last},{first},,,GEN,SPEC,,{npi},{dob},1 A ST,TOWN,CA,90000,1128b4,20220101,{reinstated},00000000,"
    )


def screen_text(
    text: str, providers: list[tuple[int, str, str, str, dt.date | None]] = PROVIDERS
) -> dict[tuple[int, str], float]:
    parsed = read_leie(text.encode(), "test.csv", today=TODAY)
    matches = match_providers(providers_frame(providers), parsed.entries, POLICY)
    return {(r["provider_id"], r["kind"]): r["score"] for r in matches.iter_rows(named=True)}


def test_the_fixture_leie_file_gives_the_golden_hits() -> None:
    parsed = read_leie((DATA / "leie_small.csv").read_bytes(), "leie_small.csv", today=TODAY)
    assert (parsed.rows, parsed.not_in_force, parsed.rejected) == (7, 1, [])
    matches = match_providers(providers_frame(PROVIDERS), parsed.entries, POLICY)
    got = [(r["provider_id"], r["kind"], r["score"], r["row"]) for r in matches.iter_rows(named=True)]
    # NPI first (Birch, also a name and date match, counted once), exact name and date (Alder), near (Smith)
    assert got == [(1, "name_dob", 100.0, 3), (2, "npi", 100.0, 2), (4, "name_dob", 94.7, 4)]
    # Garcia (a different first name, same date) scores below the threshold; Johnson's date differs
    assert 5 not in {g[0] for g in got}
    assert 6 not in {g[0] for g in got}


def test_exact_name_and_date_of_birth_is_a_hit() -> None:
    assert screen_text(f"{HEADER}\n{leie_row('ALDER', 'ADA', '19700102')}\n") == {(1, "name_dob"): 100.0}


def test_a_nickname_and_a_typo_score_above_the_threshold() -> None:
    got = screen_text(f"{HEADER}\n{leie_row('SMYTH', 'BILL', '19600315')}\n")
    assert got[(4, "name_dob")] >= POLICY.threshold
    assert got[(4, "name_dob")] < 100


def test_the_same_name_with_another_date_of_birth_is_not_a_hit() -> None:
    assert screen_text(f"{HEADER}\n{leie_row('SMITH', 'WILLIAM', '19600316')}\n") == {}


def test_another_person_with_the_same_last_name_and_date_scores_below_the_threshold() -> None:
    assert screen_text(f"{HEADER}\n{leie_row('GARCIA', 'ROSA', '19800704')}\n") == {}
    assert name_score("GARCIA", "MARIA", "GARCIA", "ROSA", POLICY) < POLICY.threshold


def test_npi_match_scores_100_whatever_the_name() -> None:
    got = screen_text(f"{HEADER}\n{leie_row('NOBODY', 'ELSE', '19010101', npi='1245319599')}\n")
    assert got == {(2, "npi"): 100.0}


def test_npi_zero_or_empty_means_no_npi() -> None:
    for npi in ("0000000000", ""):
        assert screen_text(f"{HEADER}\n{leie_row('NOBODY', 'ELSE', '19010101', npi=npi)}\n") == {}


def test_a_reinstated_row_is_not_an_exclusion_but_a_future_reinstatement_still_is() -> None:
    # Cy Cardio has no date of birth on file: his name alone must reach the name-only threshold
    assert screen_text(f"{HEADER}\n{leie_row('CARDIO', 'CY', '19550101')}\n") == {(3, "name"): 100.0}
    assert screen_text(f"{HEADER}\n{leie_row('CARDIO', 'CY', '19550101', reinstated='20200101')}\n") == {}
    future = leie_row("CARDIO", "CY", "19550101", reinstated="20270101")
    assert screen_text(f"{HEADER}\n{future}\n") == {(3, "name"): 100.0}


def test_a_business_row_matches_by_npi_only() -> None:
    row = (
        ",,,SMITH WILLIAM CLINIC,DME,DME,,0000000000,,1 A ST,TOWN,CA,90000,1128b7,20190101,00000000,00000000,"
    )
    assert screen_text(f"{HEADER}\n{row}\n") == {}


def test_malformed_rows_are_reported_by_line_and_the_rest_read() -> None:
    parsed = read_leie((DATA / "leie_malformed.csv").read_bytes(), "bad.csv", today=TODAY)
    assert parsed.rows == 6
    assert [(r.row, r.message) for r in parsed.rejected] == [
        (3, "3 columns where the header has 18"),
        (4, "DOB '19701399' is not a date (YYYYMMDD)"),
        (5, "NPI '1234567890' is not a valid NPI (10 digits with a correct check digit)"),
        (6, "EXCLDATE is empty: an exclusion has a date"),
    ]
    assert parsed.entries["row"].to_list() == [2, 7]


def test_a_file_without_the_leie_columns_is_refused_whole() -> None:
    with pytest.raises(LayoutError) as caught:
        read_leie((DATA / "not_leie.csv").read_bytes(), "roster.csv", today=TODAY)
    message = str(caught.value)
    assert message.startswith("roster.csv is not in the OIG LEIE layout: the header lacks columns LASTNAME")
    assert "EXCLDATE" in message
    assert "WVRSTATE" in message


def test_sam_matches_by_name_alone_and_by_npi_and_skips_terminated_rows() -> None:
    parsed = read_sam((DATA / "sam_small.csv").read_bytes(), "sam.csv", today=TODAY)
    assert (parsed.rows, parsed.not_in_force, parsed.rejected) == (4, 1, [])
    assert parsed.entries["dob"].null_count() == parsed.entries.height  # SAM publishes no dates of birth
    matches = match_providers(providers_frame(PROVIDERS), parsed.entries, POLICY)
    got = [(r["provider_id"], r["kind"], r["score"]) for r in matches.iter_rows(named=True)]
    assert got == [(3, "npi", 100.0), (5, "name", 100.0)]


def test_a_file_without_the_sam_columns_is_refused_whole() -> None:
    with pytest.raises(LayoutError, match=r"not in the SAM\.gov exclusions extract layout"):
        read_sam((DATA / "leie_small.csv").read_bytes(), "leie.csv", today=TODAY)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("O'Brien-Smith, Jr.", "OBRIEN SMITH"),
        ("José  de la Cruz III", "JOSE DE LA CRUZ"),
        ("smith md", "SMITH"),
        ("JR", "JR"),  # never to nothing
    ],
)
def test_names_are_normalized(raw: str, normal: str) -> None:
    assert normalize_name(raw) == normal


def test_soundex() -> None:
    assert [soundex(n) for n in ("SMITH", "SMYTH", "ROBERT", "RUPERT", "TYMCZAK", "PFISTER", "")] == [
        "S530", "S530", "R163", "R163", "T522", "P236", "",
    ]  # fmt: skip


names = st.text(alphabet=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ abcé'-."), max_size=20)


@given(names, names, names, names)
def test_the_score_is_symmetric_and_bounded(last_a: str, first_a: str, last_b: str, first_b: str) -> None:
    la, fa, lb, fb = (normalize_name(x) for x in (last_a, first_a, last_b, first_b))
    score = name_score(la, fa, lb, fb, POLICY)
    assert 0.0 <= score <= 100.0
    assert score == name_score(lb, fb, la, fa, POLICY)


@given(names, names)
def test_a_name_matches_itself_fully(last: str, first: str) -> None:
    la, fa = normalize_name(last), normalize_name(first)
    if la and fa:
        assert name_score(la, fa, la, fa, POLICY) == 100.0


@given(names)
def test_normalizing_is_idempotent(raw: str) -> None:
    once = normalize_name(raw)
    assert normalize_name(once) == once
    assert once == once.strip()
    assert "  " not in once
