"""US healthcare identifiers: NPI (providers), TIN/EIN (tax IDs of practices), MBI (Medicare members).

Each identifier has a `validate_*` that returns the normalized form or raises `IdentifierError` with a
message fit to show a user, an `is_valid_*` predicate, and a `generate_*` that makes valid values for
synthetic data. Validation checks format only: a well-formed NPI may still be unassigned in NPPES.
"""

from __future__ import annotations

import random
import re

# The NPI check digit is a Luhn digit over the ISO issuer prefix 80840 followed by the first nine digits
# (CMS, "Requirements for NPI check digit"), so a bare Luhn over the ten digits would give wrong answers.
_NPI_ISSUER_PREFIX = "80840"

# First two digits that the IRS never assigns to an EIN (IRS "How EINs are assigned and valid EIN
# prefixes": the valid prefixes are 01-06, 10-16, 20-27, 30-48, 50-68, 71-77, 80-88, 90-95, 98, 99).
_INVALID_TIN_PREFIXES = frozenset(
    {"00", "07", "08", "09", "17", "18", "19", "28", "29", "49", "69", "70", "78", "79", "89", "96", "97"}
)

_TIN_PATTERN = re.compile(r"(\d{2})-?(\d{7})", re.ASCII)

# CMS MBI format: S, L, O, I, B and Z are never used, so they cannot be mistaken for 5, 1, 0, 8 and 2.
_MBI_ALPHA = frozenset("ACDEFGHJKMNPQRTUVWXY")
_MBI_DIGITS = frozenset("0123456789")
_MBI_ALNUM = _MBI_ALPHA | _MBI_DIGITS
_MBI_LAYOUT: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset("123456789"), "a digit 1-9"),
    (_MBI_ALPHA, "a letter"),
    (_MBI_ALNUM, "a letter or digit"),
    (_MBI_DIGITS, "a digit"),
    (_MBI_ALPHA, "a letter"),
    (_MBI_ALNUM, "a letter or digit"),
    (_MBI_DIGITS, "a digit"),
    (_MBI_ALPHA, "a letter"),
    (_MBI_ALPHA, "a letter"),
    (_MBI_DIGITS, "a digit"),
    (_MBI_DIGITS, "a digit"),
)


class IdentifierError(ValueError):
    """A value is not a well-formed identifier; the message says what is wrong with it."""


def _require_str(value: object, label: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(f"{label} must be text, not {type(value).__name__}")
    return value.strip()


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() accepts other scripts' digits and superscripts, which no payer file means.
    return text.isascii() and text.isdigit()


# ---------------------------------------------------------------------------------------------- NPI


def _luhn_check_digit(payload: str) -> str:
    total = 0
    # Walking right to left, the digit next to the (future) check digit is doubled, then every second one.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi_check_digit(first9: str) -> str:
    """Return the check digit (one character) that completes the NPI whose first nine digits are `first9`.

    Raise IdentifierError if `first9` is not nine ASCII digits.
    """
    if len(first9) != 9 or not _is_ascii_digits(first9):
        raise IdentifierError(f"NPI check digit needs the first 9 digits, got {first9!r}")
    return _luhn_check_digit(_NPI_ISSUER_PREFIX + first9)


def validate_npi(value: str) -> str:
    """Return the NPI as ten digits (surrounding whitespace removed).

    Raise IdentifierError "NPI must be 10 digits, ..." or "NPI check digit is wrong: expected N, ...".
    """
    npi = _require_str(value, "NPI")
    if len(npi) != 10 or not _is_ascii_digits(npi):
        raise IdentifierError(f"NPI must be 10 digits, got {npi!r}")
    expected = npi_check_digit(npi[:9])
    if npi[9] != expected:
        raise IdentifierError(f"NPI check digit is wrong: expected {expected}, got {npi[9]} in {npi}")
    return npi


def is_valid_npi(value: str) -> bool:
    """Return True if `validate_npi` would accept `value`."""
    try:
        validate_npi(value)
    except IdentifierError:
        return False
    return True


def generate_npi(rng: random.Random) -> str:
    """Return a random valid NPI starting with 1 (individuals) or 2 (organizations), as NPPES issues them."""
    first9 = str(rng.choice("12")) + "".join(rng.choice("0123456789") for _ in range(8))
    return first9 + npi_check_digit(first9)


# ---------------------------------------------------------------------------------------------- TIN


def validate_tin(value: str) -> str:
    """Return the TIN as nine digits, accepting the EIN layout "12-3456789" or plain "123456789".

    Checked as an EIN: the first two digits must be a prefix the IRS assigns, and nine copies of one
    digit are refused as filler values. Raise IdentifierError saying which rule failed.
    """
    text = _require_str(value, "TIN")
    match = _TIN_PATTERN.fullmatch(text)
    if match is None:
        raise IdentifierError(f"TIN must be 9 digits (optionally written 12-3456789), got {text!r}")
    tin = match.group(1) + match.group(2)
    if len(set(tin)) == 1:
        raise IdentifierError(f"TIN cannot be one digit repeated: {tin}")
    if tin[:2] in _INVALID_TIN_PREFIXES:
        raise IdentifierError(f"TIN prefix {tin[:2]} is never assigned by the IRS: {tin}")
    return tin


def is_valid_tin(value: str) -> bool:
    """Return True if `validate_tin` would accept `value`."""
    try:
        validate_tin(value)
    except IdentifierError:
        return False
    return True


_VALID_TIN_PREFIXES = tuple(f"{p:02d}" for p in range(100) if f"{p:02d}" not in _INVALID_TIN_PREFIXES)


def generate_tin(rng: random.Random) -> str:
    """Return a random valid TIN as nine digits, without a dash."""
    while True:
        tin = rng.choice(_VALID_TIN_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(7))
        # A valid prefix has two different digits unless it is 11, 22, ...; retry the rare repeat.
        if len(set(tin)) > 1:
            return tin


# ---------------------------------------------------------------------------------------------- MBI


def validate_mbi(value: str) -> str:
    """Return the Medicare Beneficiary Identifier as 11 upper-case characters without dashes.

    Accepts lower case and the printed layout "1EG4-TE5-MK73". Raise IdentifierError naming the first
    position that breaks the CMS format.
    """
    text = _require_str(value, "MBI")
    mbi = text.replace("-", "").upper()
    if len(mbi) != 11:
        raise IdentifierError(f"MBI must be 11 characters (dashes aside), got {len(mbi)} in {text!r}")
    for position, (char, (allowed, kind)) in enumerate(zip(mbi, _MBI_LAYOUT, strict=True), start=1):
        if char not in allowed:
            raise IdentifierError(f"MBI position {position} must be {kind}, got {char!r} in {mbi}")
    return mbi


def is_valid_mbi(value: str) -> bool:
    """Return True if `validate_mbi` would accept `value`."""
    try:
        validate_mbi(value)
    except IdentifierError:
        return False
    return True


_MBI_CHOICES = tuple("".join(sorted(allowed)) for allowed, _ in _MBI_LAYOUT)


def generate_mbi(rng: random.Random) -> str:
    """Return a random valid MBI: 11 upper-case characters, no dashes."""
    return "".join(rng.choice(choices) for choices in _MBI_CHOICES)
