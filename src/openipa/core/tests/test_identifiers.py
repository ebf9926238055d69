"""NPI, TIN and MBI validation and generation."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openipa.core.identifiers import (
    IdentifierError,
    generate_mbi,
    generate_npi,
    generate_tin,
    is_valid_mbi,
    is_valid_npi,
    is_valid_tin,
    npi_check_digit,
    validate_mbi,
    validate_npi,
    validate_tin,
)

seeds = st.integers(min_value=0, max_value=2**32)

# ---------------------------------------------------------------------------------------------- NPI


def test_npi_check_digit_of_the_cms_example() -> None:
    assert npi_check_digit("123456789") == "3"
    assert validate_npi("1234567893") == "1234567893"


def test_npi_check_digit_uses_the_80840_prefix() -> None:
    # A bare Luhn over "123456789" gives 7; only the 80840 prefix gives the CMS answer 3.
    assert npi_check_digit("123456789") != "7"


def test_npi_check_digit_needs_nine_digits() -> None:
    with pytest.raises(IdentifierError, match="first 9 digits"):
        npi_check_digit("12345678")


def test_validate_npi_strips_surrounding_whitespace() -> None:
    assert validate_npi(" 1234567893\n") == "1234567893"


@pytest.mark.parametrize(
    "value",
    [
        "123456789",
        "12345678931",
        "12345678a3",
        "",
        "1234-67893",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
    ],
)
def test_validate_npi_refuses_anything_but_ten_digits(value: str) -> None:
    with pytest.raises(IdentifierError, match="NPI must be 10 digits"):
        validate_npi(value)


def test_validate_npi_names_the_expected_check_digit() -> None:
    with pytest.raises(IdentifierError, match="NPI check digit is wrong: expected 3"):
        validate_npi("1234567890")


def test_validate_npi_refuses_non_text() -> None:
    with pytest.raises(IdentifierError, match="NPI must be text"):
        validate_npi(1234567893)  # type: ignore[arg-type]


def test_identifier_error_is_a_value_error() -> None:
    assert issubclass(IdentifierError, ValueError)


@given(seeds)
def test_generated_npis_validate(seed: int) -> None:
    npi = generate_npi(random.Random(seed))
    assert is_valid_npi(npi)
    assert npi[0] in "12"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), st.integers(min_value=0, max_value=9))
def test_exactly_one_check_digit_makes_an_npi_valid(first9: str, digit: int) -> None:
    assert is_valid_npi(first9 + str(digit)) == (str(digit) == npi_check_digit(first9))


@given(seeds, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_changing_any_one_npi_digit_breaks_it(seed: int, position: int, delta: int) -> None:
    npi = generate_npi(random.Random(seed))
    changed = npi[:position] + str((int(npi[position]) + delta) % 10) + npi[position + 1 :]
    assert not is_valid_npi(changed)


@given(st.text(max_size=12))
def test_is_valid_npi_never_raises(value: str) -> None:
    assert is_valid_npi(value) in (True, False)


# ---------------------------------------------------------------------------------------------- TIN


def test_validate_tin_accepts_the_ein_layout_and_normalizes_it() -> None:
    assert validate_tin("12-3456789") == "123456789"
    assert validate_tin("123456789") == "123456789"
    assert validate_tin(" 95-1234567 ") == "951234567"


@pytest.mark.parametrize(
    "value", ["1234567", "1234567890", "123-45-6789", "12-34567-89", "12 3456789", "ab-cdefghi"]
)
def test_validate_tin_refuses_other_shapes(value: str) -> None:
    with pytest.raises(IdentifierError, match="TIN must be 9 digits"):
        validate_tin(value)


@pytest.mark.parametrize(
    "prefix",
    ["00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97"],
)
def test_validate_tin_refuses_prefixes_the_irs_never_assigns(prefix: str) -> None:
    with pytest.raises(IdentifierError, match=f"TIN prefix {prefix} is never assigned"):
        validate_tin(prefix + "1234567")


@pytest.mark.parametrize("digit", "123456789")
def test_validate_tin_refuses_one_digit_repeated(digit: str) -> None:
    with pytest.raises(IdentifierError, match="one digit repeated"):
        validate_tin(digit * 9)
    assert not is_valid_tin("000000000")


@given(seeds)
def test_generated_tins_validate(seed: int) -> None:
    tin = generate_tin(random.Random(seed))
    assert validate_tin(tin) == tin
    assert validate_tin(f"{tin[:2]}-{tin[2:]}") == tin


# ---------------------------------------------------------------------------------------------- MBI


def test_validate_mbi_accepts_the_cms_example_in_any_case_and_with_dashes() -> None:
    assert validate_mbi("1EG4TE5MK73") == "1EG4TE5MK73"
    assert validate_mbi("1eg4-te5-mk73") == "1EG4TE5MK73"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0EG4TE5MK73", "position 1 must be a digit 1-9"),
        ("11G4TE5MK73", "position 2 must be a letter"),
        ("1ES4TE5MK73", "position 3 must be a letter or digit"),
        ("1EGATE5MK73", "position 4 must be a digit"),
        ("1EG4LE5MK73", "position 5 must be a letter"),
        ("1EG4TE5MK7B", "position 11 must be a digit"),
        ("1EG4TE5OK73", "position 8 must be a letter"),
        ("1EG4TE5MK7", "must be 11 characters"),
        ("1EG4TE5MK733", "must be 11 characters"),
    ],
)
def test_validate_mbi_names_the_first_broken_position(value: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message):
        validate_mbi(value)


@pytest.mark.parametrize("letter", "SLOIBZ")
def test_validate_mbi_refuses_letters_cms_never_uses(letter: str) -> None:
    assert not is_valid_mbi(f"1{letter}G4TE5MK73")


@given(seeds)
def test_generated_mbis_validate(seed: int) -> None:
    mbi = generate_mbi(random.Random(seed))
    assert validate_mbi(mbi) == mbi
    assert validate_mbi(f"{mbi[:4]}-{mbi[4:7]}-{mbi[7:]}".lower()) == mbi


@given(st.text(max_size=14))
def test_is_valid_mbi_never_raises(value: str) -> None:
    assert is_valid_mbi(value) in (True, False)


def test_generators_are_deterministic_for_a_seed() -> None:
    assert generate_npi(random.Random(7)) == generate_npi(random.Random(7))
    assert generate_tin(random.Random(7)) == generate_tin(random.Random(7))
    assert generate_mbi(random.Random(7)) == generate_mbi(random.Random(7))
