"""A deterministic N-member 834 full file (005010X220A1), written with write_834 and streamed to disk.

    python -m bench.eligibility.generate OUT --members N [--seed S] [--payer-id X] [--plans CODE,CODE]

BGN08 4 (verify, full file), every INS03 030 (audit or compare). Households: a subscriber (INS*Y*18) with
sometimes a spouse and children (INS*N*01 / 19) sharing the subscriber id and the address. Per member:
REF*0F, REF*23 (a state client id), DTP*356, NM1*IL (NM108 ZZ), N3, N4, DMG, HD*030**HLT*<plan code>*IND
with DTP*348 (and DTP*349 for a few members who leave), the PCP (loop 2310: NM1*P3 with a valid NPI,
PLA with its effective date), and the rate cell (LS/LX/N1*75 RATE CELL/REF*ZZ/LE).

Members come from one seeded random stream in file order and nothing depends on N, so the first K
members of an N-member file are those of the K-member file (the bench validates that prefix with pyx12).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openipa.core.identifiers import generate_npi
from openipa.edi.t834 import (
    Coverage,
    Enrollment834,
    MemberRecord,
    Party,
    PcpChoice,
    ReportingCategory,
    write_834,
)

AS_OF = dt.date(2026, 11, 1)
"""The file's effective date; coverage began on a first of month in the ten years before."""
CREATED = dt.datetime(2026, 10, 25, 6, 30)
DEFAULT_PLANS = ("MCD-HMO", "MCD-HMO-PLUS", "CHIP-HMO")
DEFAULT_PAYER_ID = "H9999"
DEFAULT_SEED = 7
PCPS = 2_000
"""Size of the PCP panel the members choose from (fixed, so it does not depend on N)."""

FEMALE = ("MARIA", "SOFIA", "EMMA", "OLIVIA", "AVA", "ISABELLA", "MIA", "CHARLOTTE", "AMELIA", "LUNA",
          "CAMILA", "ELENA", "GUADALUPE", "MEI", "AISHA", "FATIMA", "NGOC", "PRIYA", "GRACE", "ROSA",
          "LINDA", "PATRICIA", "BARBARA", "JENNIFER", "ELIZABETH", "SUSAN", "JESSICA", "KAREN", "NANCY")  # fmt: skip
MALE = ("JOSE", "LIAM", "NOAH", "OLIVER", "JAMES", "ELIJAH", "MATEO", "LUCAS", "HENRY", "DAVID",
        "MIGUEL", "JUAN", "WEI", "MOHAMMED", "MINH", "ARJUN", "DANIEL", "ROBERT", "MICHAEL", "WILLIAM",
        "JOSEPH", "THOMAS", "CHARLES", "CHRISTOPHER", "ANTHONY", "LUIS", "CARLOS", "KEVIN", "BRIAN")  # fmt: skip
LAST = ("GARCIA", "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "RODRIGUEZ",
        "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE",
        "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ", "CLARK", "RAMIREZ",
        "LEWIS", "ROBINSON", "NGUYEN", "KIM", "PATEL", "CHEN", "WONG", "TRAN", "SINGH", "O'BRIEN",
        "VAN DER BERG", "SMITH-JONES")  # fmt: skip
STREETS = ("MAIN", "OAK", "PINE", "MAPLE", "CEDAR", "ELM", "WASHINGTON", "LAKE", "HILL", "PARK",
           "SUNSET", "LINCOLN", "JEFFERSON", "MARKET", "MISSION", "VALENCIA", "GRAND", "CENTRAL")  # fmt: skip
SUFFIXES = ("ST", "AVE", "BLVD", "DR", "RD", "LN", "WAY", "CT")
PLACES = (("LOS ANGELES", "CA", "90011"), ("LOS ANGELES", "CA", "90044"), ("PASADENA", "CA", "91101"),
          ("LONG BEACH", "CA", "90805"), ("SANTA ANA", "CA", "92701"), ("ANAHEIM", "CA", "92804"),
          ("RIVERSIDE", "CA", "92503"), ("SAN BERNARDINO", "CA", "92404"), ("FRESNO", "CA", "93722"),
          ("SACRAMENTO", "CA", "95823"), ("OAKLAND", "CA", "94601"), ("SAN JOSE", "CA", "951223456"),
          ("BAKERSFIELD", "CA", "93307"), ("STOCKTON", "CA", "95206"), ("POMONA", "CA", "91766"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    seed: int = DEFAULT_SEED
    payer_id: str = DEFAULT_PAYER_ID
    plans: tuple[str, ...] = DEFAULT_PLANS


def header(settings: Settings) -> Enrollment834:
    id_qualifier = "FI" if settings.payer_id.isdigit() and len(settings.payer_id) == 9 else "XV"
    return Enrollment834(
        control_number="0001",
        version="005010X220A1",
        purpose_code="00",
        reference=f"BENCH{settings.seed}",
        created=CREATED.date(),
        action_code="4",
        file_effective_date=AS_OF,
        sponsor=Party("STATE DEPARTMENT OF HEALTH CARE SERVICES", "FI", "946000001"),
        payer=Party("BENCHMARK HEALTH PLAN", id_qualifier, settings.payer_id),
        segment_number=0,
    )


def _pcp_panel(rng: random.Random) -> list[tuple[str, str]]:
    """NPIs and names ("FIRST LAST": one-word last names, as PcpChoice.name keeps no NM103/NM104 split)."""
    last_names = [name for name in LAST if " " not in name]
    panel = []
    for _ in range(PCPS):
        first = rng.choice(FEMALE if rng.random() < 0.5 else MALE)
        panel.append((generate_npi(rng), f"{first} {rng.choice(last_names)}"))
    return panel


def _rate_cell(age: int, sex: str) -> str:
    if age < 1:
        return "TANF-U1"
    if age < 6:
        return "TANF-1-5"
    if age < 15:
        return "TANF-6-14"
    if age < 21:
        return f"TANF-15-20-{sex}"
    if age < 45:
        return f"ACA-21-44-{sex}"
    if age < 65:
        return f"ACA-45-64-{sex}"
    return "SSI-AGED"


def members(count: int, settings: Settings) -> Iterator[MemberRecord]:
    """``count`` members in file order (households stay together, except one cut by ``count``)."""
    rng = random.Random(settings.seed)
    panel = _pcp_panel(rng)
    months = [dt.date(AS_OF.year - y, m, 1) for y in range(10) for m in range(1, 13)]
    months = [m for m in months if m <= AS_OF]
    made = 0
    household = 0
    while made < count:
        household += 1
        subscriber_id = f"{settings.seed % 100:02d}{household:09d}"
        last = rng.choice(LAST)
        street = f"{rng.randint(1, 19999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
        unit = f"APT {rng.randint(1, 40)}" if rng.random() < 0.3 else ""
        city, state, zip_code = rng.choice(PLACES)
        plan = rng.choice(settings.plans)
        begin = rng.choice(months)
        npi, pcp_name = rng.choice(panel)
        size = 1 if rng.random() < 0.6 else rng.randint(2, 5)
        adult_age = rng.randint(19, 90)
        for position in range(size):
            if made == count:
                break
            made += 1
            if position == 0:
                age, relationship = adult_age, "18"
            elif position == 1 and adult_age < 65 and rng.random() < 0.5:
                age, relationship = max(19, adult_age + rng.randint(-5, 5)), "01"
            else:
                age, relationship = rng.randint(0, 18), "19"
            sex = "F" if rng.random() < 0.51 else "M"
            first = rng.choice(FEMALE if sex == "F" else MALE)
            birth = AS_OF - dt.timedelta(days=age * 365 + rng.randint(1, 364))
            if position and rng.random() < 0.2:  # a dependent who chose another PCP
                npi, pcp_name = rng.choice(panel)
            start = begin
            if start <= birth:  # born after the household enrolled: covered from the next first of month
                start = (birth.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            end = (
                (start + dt.timedelta(days=rng.randint(40, 400))).replace(day=1)
                if rng.random() < 0.03
                else None
            )
            coverage = Coverage("HLT", plan, start, end, "030", "IND")
            yield MemberRecord(
                maintenance_type_code="030",
                reason_code="XN",
                subscriber=position == 0,
                relationship_code=relationship,
                subscriber_id=subscriber_id,
                member_id=f"{subscriber_id}{position:02d}",
                client_id=f"9{made:08d}{'ABCDEFGHJK'[made % 10]}",
                last_name=last,
                first_name=first,
                middle_name=rng.choice("ABCDEFGHJKLMNPRST") if rng.random() < 0.4 else "",
                address_lines=(street, unit) if unit else (street,),
                city=city,
                state=state,
                zip=zip_code,
                birth_date=birth,
                sex=sex,
                coverage=(coverage,),
                pcp=(PcpChoice(npi, pcp_name, start, "HLT", "XX", npi),),
                reporting_categories=(ReportingCategory("RATE CELL", "ZZ", _rate_cell(age, sex)),),
                segment_number=0,
                control_number="0001",
                benefit_status="A",
                employment_status="",
                eligibility_begin=start,
                eligibility_end=end,
                maintenance_effective=None,
            )


def write_file(path: Path, count: int, settings: Settings) -> int:
    """Write the file; return the number of members written."""
    return write_834(
        path,
        header(settings),
        members(count, settings),
        sender_id=settings.payer_id,
        receiver_id="OPENIPA",
        sender_qualifier="ZZ",
        receiver_qualifier="ZZ",
        interchange_control_number=settings.seed,
        group_control_number=1,
        when=CREATED,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="the 834 file to write")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--payer-id", default=DEFAULT_PAYER_ID, help="N1*IN N104 and ISA06 (default %(default)s)"
    )
    parser.add_argument("--plans", default=",".join(DEFAULT_PLANS), help="HD04 plan codes, comma separated")
    args = parser.parse_args(argv)
    plans = tuple(p.strip() for p in args.plans.split(",") if p.strip())
    if not plans:
        parser.error("--plans needs at least one plan code")
    start = time.perf_counter()
    written = write_file(args.out, args.members, Settings(args.seed, args.payer_id, plans))
    seconds = time.perf_counter() - start
    size = args.out.stat().st_size
    print(
        f"{args.out}: {written:,} members, {size / 2**20:,.1f} MiB in {seconds:,.1f} s "
        f"({written / seconds:,.0f} members/s)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
