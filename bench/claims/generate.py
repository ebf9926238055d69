"""A deterministic N-claim 837P file (005010X222A1), written with write_837 and streamed to disk.

    python bench/claims/generate.py OUT --claims N [--seed 7]

Claims come from one seeded random stream in file order and nothing depends on N, so the first K claims
of an N-claim file are those of the K-claim file (the bench validates that prefix with pyx12). Per claim:
a billing group from a panel of 200 (valid NPIs and TINs, a taxonomy, an address), a member M000000001...
(a fifth of the claims are for a dependant, a 2000C patient loop), a Medicaid HMO payer, one to four
ICD-10 diagnoses, a rendering provider (2310B), sometimes a prior authorization, and one to ten service
lines (5-character CPT/HCPCS-like codes, charges from a fee table, units, DTP*472, diagnosis pointers).
Codes carry no descriptions.

``members``: the member ids to bill for (the end-to-end bench passes the ids of the roster it imported). Claim n
is then for ``members[(n - 1) * 7919 % len(members)]`` instead of M00000000n: every member has claims and
the random stream is untouched, so the file is otherwise the same claims.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from openipa.core.identifiers import generate_npi, generate_tin
from openipa.edi.t837 import (
    PROFESSIONAL,
    VERSION_PROFESSIONAL,
    Address,
    Claim837,
    Diagnosis,
    Header837,
    Patient,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
    write_837,
)

DEFAULT_SEED = 7
GROUPS = 200
RENDERING = 2_000
CREATED = dt.date(2026, 11, 2)
FEES: dict[str, int] = {
    "99211": 2500, "99212": 5500, "99213": 9500, "99214": 14000, "99215": 19000, "99203": 12000,
    "99204": 18000, "99392": 11000, "99393": 11000, "99395": 13000, "99396": 14000, "36415": 1000,
    "80053": 2500, "80061": 3000, "83036": 2200, "85025": 1800, "81002": 800, "87880": 2000, "93000": 3500,
    "71046": 6000, "90471": 2500, "90686": 3000, "90715": 4500, "96127": 1200, "99406": 2000, "G0439": 17500,
    "G0444": 2500, "J1100": 600, "J3420": 900, "97110": 4500, "97140": 4000, "20610": 11000, "11721": 6000,
}  # fmt: skip
CODES = tuple(FEES)
ICD10 = (
    "E119",
    "I10",
    "J069",
    "M545",
    "Z0000",
    "E785",
    "K219",
    "F419",
    "R51",
    "N390",
    "E6601",
    "J45909",
    "Z23",
    "Z1331",
    "M1711",
    "R1084",
    "E039",
    "F329",
    "G4733",
    "L309",
)
MODIFIERS = ("25", "59", "GT", "95", "RT", "LT")
LAST = (
    "GARCIA",
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "NGUYEN",
    "KIM",
    "PATEL",
    "CHEN",
    "TRAN",
    "SINGH",
)
FIRST = ("MARIA", "SOFIA", "EMMA", "OLIVIA", "JOSE", "LIAM", "NOAH", "JAMES", "MEI", "ARJUN", "WEI", "ROSA")
PLACES = (
    ("LOS ANGELES", "CA", "900111234"),
    ("PASADENA", "CA", "911015678"),
    ("LONG BEACH", "CA", "908021111"),
)
HEADER = Header837(
    "0001",
    VERSION_PROFESSIONAL,
    PROFESSIONAL,
    "BATCH0001",
    CREATED,
    "SUNRISE CLEARING",
    "SUBMIT01",
    "SUNRISE IPA",
    "IPA01",
)
PAYER = Payer("SUNRISE IPA", "PI", "IPA01")


def _address(rng: random.Random) -> Address:
    city, state, zip_code = rng.choice(PLACES)
    return Address(
        f"{rng.randint(1, 9999)} {rng.choice(('MAIN', 'OAK', 'ELM', 'PARK'))} ST", "", city, state, zip_code
    )


def panels(seed: int) -> tuple[list[Provider], list[Provider]]:
    """The billing groups and rendering providers (from their own stream: fixed whatever N is)."""
    rng = random.Random(f"837-providers-{seed}")
    groups = [
        Provider(
            "2",
            f"MEDICAL GROUP {n:03d}",
            "",
            "",
            "XX",
            generate_npi(rng),
            generate_tin(rng),
            rng.choice(("207Q00000X", "208D00000X", "261QP2300X")),
            _address(rng),
        )
        for n in range(GROUPS)
    ]
    doctors = [
        Provider(
            "1",
            rng.choice(LAST),
            rng.choice(FIRST),
            "",
            "XX",
            generate_npi(rng),
            "",
            rng.choice(("207Q00000X", "207R00000X", "208000000X")),
        )
        for _ in range(RENDERING)
    ]
    return groups, doctors


MEMBER_STRIDE = 7919
"""A prime: claim n goes to member (n - 1) * 7919 modulo the pool, spreading a member's claims over the file."""


def claims(count: int, seed: int = DEFAULT_SEED, members: Sequence[str] | None = None) -> Iterator[Claim837]:
    """``count`` claims, the same first K for any count (one seeded stream, in file order); ``members``: see
    the module docstring."""
    if members is not None and not members:
        raise ValueError("members: an empty pool of member ids")
    groups, doctors = panels(seed)
    rng = random.Random(seed)
    group = groups[0]
    run = 0
    for n in range(1, count + 1):
        if run == 0:  # a billing group's claims come in a run (as a clearinghouse batches them)
            group, run = rng.choice(groups), rng.randint(1, 40)
        run -= 1
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
        member = Person(
            rng.choice(LAST),
            rng.choice(FIRST),
            "",
            "MI",
            _member_id(n, members),
            born,
            rng.choice("FM"),
            _address(rng),
        )
        patient = None
        if rng.random() < 0.2:
            child = Person(
                member.last_name,
                rng.choice(FIRST),
                "",
                "",
                "",
                dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(5_000)),
                rng.choice("FM"),
                member.address,
            )
            patient = Patient("19", child)
        subscriber = Subscriber("P", "" if patient else "18", "GRP-MCD", "", "HM", member)
        diagnoses = tuple(
            Diagnosis("ABK" if i == 0 else "ABF", code, i + 1)
            for i, code in enumerate(rng.sample(ICD10, rng.randint(1, 4)))
        )
        rendering = rng.choice(doctors)
        first_day = CREATED - dt.timedelta(days=rng.randrange(1, 90))
        lines = []
        for number in range(1, rng.randint(1, 10) + 1):
            code = rng.choice(CODES)
            units = rng.choice((1, 1, 1, 1, 2, 3))
            pointers = tuple(sorted(rng.sample(range(1, len(diagnoses) + 1), rng.randint(1, len(diagnoses)))))
            lines.append(
                ServiceLine(
                    number=number,
                    procedure_qualifier="HC",
                    procedure_code=code,
                    modifiers=(rng.choice(MODIFIERS),) if rng.random() < 0.15 else (),
                    revenue_code="",
                    charge_cents=FEES[code] * units,
                    unit_basis="UN",
                    units=Decimal(units),
                    place_of_service="",
                    diagnosis_pointers=pointers[:4],
                    diagnoses=tuple(diagnoses[p - 1] for p in pointers[:4]),
                    service_date=first_day + dt.timedelta(days=rng.randrange(3)),
                    service_date_end=None,
                    control_number=f"L{n}-{number}",
                    rendering=rendering,
                    segment_number=0,
                )
            )
        yield Claim837(
            transaction=HEADER,
            billing_provider=group,
            pay_to=None,
            subscriber=subscriber,
            patient=patient,
            payer=PAYER,
            claim_id=f"PCN{n:010d}",
            total_charge_cents=sum(ln.charge_cents for ln in lines),
            place_of_service=rng.choice(("11", "11", "02")),
            facility_type="",
            frequency_code="1",
            payer_claim_control_number="",
            prior_authorization=f"PA{rng.randrange(10**8):08d}" if rng.random() < 0.1 else "",
            referral_number="",
            onset_date=None,
            statement_from=None,
            statement_to=None,
            admission_date=None,
            diagnoses=diagnoses,
            rendering=rendering,
            attending=None,
            operating=None,
            referring=None,
            service_facility=None,
            lines=tuple(lines),
            segment_number=0,
        )


def _member_id(n: int, members: Sequence[str] | None) -> str:
    if members is None:
        return f"M{n:09d}"
    return members[(n - 1) * MEMBER_STRIDE % len(members)]


def write(
    path: str | Path, claims: int, seed: int = DEFAULT_SEED, members: Sequence[str] | None = None
) -> int:
    """Write an 837P file of ``claims`` claims to ``path`` (for ``members``, if given); the number written."""
    return write_837(
        Path(path),
        _claims(claims, seed, members),
        sender="SUNRISECH",
        receiver="SUNRISEIPA",
        newline=False,
        when=dt.datetime.combine(CREATED, dt.time(6, 30)),
    )


_claims = claims


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the 837 file to write")
    parser.add_argument("--claims", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    written = write(args.out, claims=args.claims, seed=args.seed)
    print(f"{written:,} claims -> {args.out} in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
