"""Write the payer's 820 for October 2026 for the members of a generated 834 (bench/eligibility/generate.py):
$300.00 for each member covered on the 1st, except about 1% left out and 0.5% paid $280.00 (seeded).

    python -m bench.capitation.generate FILE_834 OUT_820
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from openipa.edi.t820 import MemberRemittance, Remittance820, RemittanceLine, write_820  # noqa: E402
from openipa.edi.t834 import MemberRecord, read_834  # noqa: E402

MONTH = dt.date(2026, 10, 1)
MONTH_END = dt.date(2026, 10, 31)
RATE_CENTS = 30000


def _paid(path: Path, seed: int) -> Iterator[tuple[str, str, str, int]]:
    rng = random.Random(seed)
    for item in read_834(path):
        if not isinstance(item, MemberRecord):
            continue
        cov = item.coverage[0]
        if cov.begin is None or cov.begin > MONTH or (cov.end is not None and cov.end < MONTH_END):
            continue
        draw = rng.random()
        if draw < 0.01:
            continue
        yield item.member_id, item.last_name, item.first_name, 28000 if draw < 0.015 else RATE_CENTS


def write(path_834: Path, out: Path, seed: int = 7) -> int:
    total = sum(cents for *_rest, cents in _paid(path_834, seed))
    header = Remittance820(
        control_number="0001", version="005010X218", handling_code="C", total_cents=total, credit_debit="C",
        payment_method="CHK", payment_date=dt.date(2026, 10, 10), trace_number="BENCH202610",
        originator_id="1999999999", payer_name="BENCHMARK HEALTH PLAN", payer_id="BENCH", payee_name="OPEN IPA",
        payee_id_qualifier="FI", payee_id="951234567", period_start=MONTH, period_end=MONTH_END,
        created=dt.date(2026, 10, 5), segment_number=0, payer_id_qualifier="PI",
    )  # fmt: skip
    members = (
        MemberRemittance(control_number="0001", ent_number=n, member_id=key, last_name=last, first_name=first,
                         subscriber_id="", lines=(RemittanceLine("IK", "CAP", cents, None, MONTH, MONTH_END),),
                         adjustments=(), segment_number=0)
        for n, (key, last, first, cents) in enumerate(_paid(path_834, seed), start=1)
    )  # fmt: skip
    return write_820(out, header, members, sender_id="BENCH", receiver_id="OPENIPA")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path_834", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(write(args.path_834, args.out))


if __name__ == "__main__":
    main()
