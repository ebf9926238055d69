"""Shared test fixtures: a small IPA with two practices and named personas.

Personas (all with password PASSWORD):
- `admin` (ipa_admin), `ops` (operations), `fin` (finance), `auditor`, `messenger`;
- `alice` is a practice user at Practice A ("Alder Family Medicine"), `bob` at Practice B
  ("Birch Pediatrics"). Alice must never see Bob's members, payments or providers' private data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: pytest.FixtureRequest) -> None:
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


@dataclass
class SmallIpa:
    region: Any
    practice_a: Any
    practice_b: Any
    pcp_a: Any
    pcp_b: Any
    specialist: Any
    payer: Any
    product: Any
    contract: Any
    term: Any
    member_a: Any  # PCP at practice A
    member_b: Any  # PCP at practice B
    users: dict[str, Any]


@pytest.fixture(autouse=True)
def _var_dir_of_the_test(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Files a test imports, stores or writes (var/imports, var/payments...) go to a folder of its own, never
    to the checkout's var/ (a test may still point VAR_DIR elsewhere)."""
    settings.VAR_DIR = str(tmp_path_factory.mktemp("var"))


@pytest.fixture
def small_ipa(db: None) -> SmallIpa:
    from openipa.accounts.services import user_create
    from openipa.contracts.services import contract_create, payer_create, product_create, term_create
    from openipa.core.roles import Role
    from openipa.membership.services import eligibility_add, member_create, pcp_assign
    from openipa.network.services import (
        affiliation_create,
        practice_bank_update,
        practice_create,
        provider_create,
        region_create,
    )

    system = user_create(actor=None, username="system-setup", password=PASSWORD, role=Role.IPA_ADMIN)
    region = region_create(actor=system, code="SGV", name="San Gabriel Valley")
    base = {
        "address_line1": "1 Main St",
        "city": "Pasadena",
        "state": "CA",
        "zip_code": "91101",
        "region": region,
    }
    practice_a = practice_create(
        actor=system,
        data={
            **base,
            "code": "ALDER",
            "legal_name": "Alder Family Medicine",
            "tin": "123456789",
        },
    )
    practice_b = practice_create(
        actor=system,
        data={
            **base,
            "code": "BIRCH",
            "legal_name": "Birch Pediatrics",
            "tin": "234567891",
        },
    )
    # Bank details are finance's alone (ADR 0003): the administrator registers the practices, finance
    # adds where their payments go.
    fin = user_create(actor=None, username="fin", password=PASSWORD, role=Role.FINANCE)
    practice_a = practice_bank_update(
        actor=fin,
        practice=practice_a,
        data={
            "bank_name": "First Bank",
            "bank_routing_number": "121000358",
            "bank_account_number": "000123456789",
        },
    )
    practice_b = practice_bank_update(
        actor=fin,
        practice=practice_b,
        data={
            "bank_name": "Second Bank",
            "bank_routing_number": "322271627",
            "bank_account_number": "987654321",
        },
    )
    pcp_a = provider_create(
        actor=system,
        data={
            "npi": "1234567893",
            "first_name": "Ada",
            "last_name": "Alder",
            "degree": "MD",
            "taxonomy_code": "207Q00000X",
            "specialty": "Family Medicine",
            "kind": "pcp",
            "panel_limit": 2000,
            "date_of_birth": dt.date(1970, 1, 2),
            "personal_phone": "626-555-0101",
        },
    )
    pcp_b = provider_create(
        actor=system,
        data={
            "npi": "1245319599",
            "first_name": "Ben",
            "last_name": "Birch",
            "degree": "DO",
            "taxonomy_code": "208000000X",
            "specialty": "Pediatrics",
            "kind": "pcp",
            "panel_limit": 1500,
            "date_of_birth": dt.date(1975, 5, 6),
            "personal_phone": "626-555-0202",
        },
    )
    specialist = provider_create(
        actor=system,
        data={
            "npi": "1003000126",
            "first_name": "Cy",
            "last_name": "Cardio",
            "degree": "MD",
            "taxonomy_code": "207RC0000X",
            "specialty": "Cardiology",
            "kind": "specialist",
        },
    )
    start = dt.date(2026, 1, 1)
    affiliation_create(actor=system, provider=pcp_a, practice=practice_a, valid_from=start)
    affiliation_create(actor=system, provider=pcp_b, practice=practice_b, valid_from=start)
    affiliation_create(actor=system, provider=specialist, practice=practice_b, valid_from=start)
    payer = payer_create(
        actor=system, data={"name": "Sunrise Health Plan", "code": "SUN", "x12_payer_id": "SUN01"}
    )
    product = product_create(
        actor=system,
        payer=payer,
        code="MAHMO",
        name="Sunrise Medicare HMO",
        line_of_business="medicare_advantage",
    )
    contract = contract_create(
        actor=system,
        data={
            "payer": payer,
            "number": "SUN-2026",
            "name": "Sunrise capitation 2026",
            "legal_basis": "capitated_risk",
            "valid_from": start,
            "valid_to": dt.date(2026, 12, 31),
        },
        products=[product],
    )
    term = term_create(
        actor=system,
        contract=contract,
        data={
            "valid_from": start,
            "valid_to": dt.date(2026, 12, 31),
            "capitation_basis": "pmpm_table",
            "admin_fee_percent": "12.000",
            "reinsurance_pmpm": "3.50",
            "withhold_percent": "10.000",
        },
    )
    member_a = member_create(
        actor=None,
        data={
            "payer": payer,
            "payer_member_id": "SUN0001",
            "first_name": "Amy",
            "last_name": "Anders",
            "date_of_birth": dt.date(1950, 3, 4),
            "sex": "F",
            "mbi": "1EG4TE5MK73",
            "city": "Pasadena",
            "state": "CA",
        },
    )
    member_b = member_create(
        actor=None,
        data={
            "payer": payer,
            "payer_member_id": "SUN0002",
            "first_name": "Bert",
            "last_name": "Brooks",
            "date_of_birth": dt.date(1948, 7, 8),
            "sex": "M",
            "city": "Arcadia",
            "state": "CA",
        },
    )
    for member, pcp in ((member_a, pcp_a), (member_b, pcp_b)):
        eligibility_add(actor=None, member=member, product=product, valid_from=start, valid_to=None)
        pcp_assign(actor=None, member=member, provider=pcp, valid_from=start, valid_to=None)
    users = {
        "admin": system,
        "ops": user_create(actor=None, username="ops", password=PASSWORD, role=Role.OPERATIONS),
        "fin": fin,
        "auditor": user_create(actor=None, username="auditor", password=PASSWORD, role=Role.AUDITOR),
        "messenger": user_create(actor=None, username="messenger", password=PASSWORD, role=Role.MESSENGER),
        "alice": user_create(
            actor=None,
            username="alice",
            password=PASSWORD,
            role=Role.PRACTICE_USER,
            practice_id=practice_a.pk,
        ),
        "bob": user_create(
            actor=None, username="bob", password=PASSWORD, role=Role.PRACTICE_USER, practice_id=practice_b.pk
        ),
    }
    return SmallIpa(
        region,
        practice_a,
        practice_b,
        pcp_a,
        pcp_b,
        specialist,
        payer,
        product,
        contract,
        term,
        member_a,
        member_b,
        users,
    )


@pytest.fixture
def client_for(small_ipa: SmallIpa) -> Any:
    """`client_for("alice")`: a fresh test client with that persona's session (no password round trip)."""
    from django.test import Client

    def make(name: str) -> Client:
        client = Client()
        client.force_login(small_ipa.users[name])
        return client

    return make
