"""Patient-matching benchmark: N incoming clinical patients against M members, seconds and peak memory.

    .venv/bin/python bench/clinical/matching.py [--members 1000000] [--incoming 100000] [--json]

Synthetic, deterministic data (hashes of the row number, no randomness): members with names drawn from
skewed pools (so common names crowd the blocks as in life), birth dates over 1930-2020, ~1,000 zip codes.
The incoming patients are 80% members' records with realistic damage (a nickname, a typo in the last name, a
transposed or one-digit-off birth date, a move, a missing phone; 30% carry the MBI) and 20% people who are
not members. Reported: seconds of `match_patients` alone (generation not timed), candidate pairs, decisions,
and against the known truth: wrong links (a link to another member or of a non-member) and the share of
members' records linked. Peak memory is this process's maximum resident set (generation included; the
resident set before matching is printed beside it).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date
from itertools import product
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from openipa.clinical.engine.matching import load_settings, match_patients  # noqa: E402

SYLLABLES = [
    "an",
    "ber",
    "cas",
    "del",
    "er",
    "fon",
    "gar",
    "hol",
    "is",
    "jo",
    "kin",
    "lor",
    "man",
    "nel",
    "or",
    "per",
    "quin",
    "ros",
    "son",
    "tor",
    "ul",
    "ver",
    "wil",
    "yan",
    "zel",
    "ba",
    "mi",
    "ko",
]
FIRST = [
    "ROBERT",
    "WILLIAM",
    "MARGARET",
    "ELIZABETH",
    "JAMES",
    "JOHN",
    "MARY",
    "PATRICIA",
    "MICHAEL",
    "LINDA",
    "DAVID",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "THOMAS",
    "SARAH",
    "CHARLES",
    "KAREN",
    "CHRISTOPHER",
    "NANCY",
    "DANIEL",
    "LISA",
    "MATTHEW",
    "BETTY",
    "ANTHONY",
    "SANDRA",
    "MARK",
    "ASHLEY",
    "DONALD",
    "KIMBERLY",
    "STEVEN",
    "EMILY",
    "PAUL",
    "DONNA",
    "ANDREW",
    "MICHELLE",
    "JOSHUA",
    "CAROL",
    "KENNETH",
    "AMANDA",
    "KEVIN",
    "MELISSA",
    "BRIAN",
    "DEBORAH",
    "GEORGE",
    "STEPHANIE",
    "TIMOTHY",
    "REBECCA",
    "RONALD",
    "SHARON",
    "JASON",
    "LAURA",
    "EDWARD",
    "CYNTHIA",
    "JEFFREY",
    "DOROTHY",
    "RYAN",
    "AMY",
    "JACOB",
    "KATHLEEN",
    "GARY",
    "ANGELA",
    "NICHOLAS",
    "SHIRLEY",
    "ERIC",
    "BRENDA",
    "JONATHAN",
    "EMMA",
    "LUIS",
    "MARIA",
    "JOSE",
    "ROSA",
    "CARLOS",
    "ANA",
    "JUAN",
    "SOFIA",
    "MIGUEL",
    "LUCIA",
    "WEI",
    "MEI",
    "HIEU",
    "LINH",
]
NICK = {
    "ROBERT": "BOB",
    "WILLIAM": "BILL",
    "MARGARET": "PEGGY",
    "ELIZABETH": "BETH",
    "JAMES": "JIM",
    "MICHAEL": "MIKE",
    "RICHARD": "DICK",
    "JOSEPH": "JOE",
    "THOMAS": "TOM",
    "CHARLES": "CHUCK",
    "DANIEL": "DAN",
    "ANTHONY": "TONY",
    "PATRICIA": "PAT",
    "EDWARD": "TED",
    "KENNETH": "KEN",
}
STREETS = [
    "MAIN",
    "OAK",
    "PINE",
    "MAPLE",
    "CEDAR",
    "ELM",
    "VIEW",
    "LAKE",
    "HILL",
    "PARK",
    "WASHINGTON",
    "SUNSET",
    "MISSION",
    "OCEAN",
    "VALLEY",
    "RIDGE",
    "FOREST",
    "RIVER",
    "SPRING",
    "MEADOW",
]
KINDS = ["STREET", "AVE", "RD", "DRIVE", "BLVD", "LN", "CT", "WAY"]


def _h(seed: int, modulo: int) -> pl.Expr:
    return (pl.col("n").hash(seed) % modulo).cast(pl.Int64)


def _people(count: int, offset: int) -> pl.DataFrame:
    last_pool = pl.Series(
        [(a + b + c).upper() for a, b, c in product(SYLLABLES, SYLLABLES, ["", "s", "ez", "ton"])]
    )
    skewed = ((_h(1, 1_000_000).cast(pl.Float64) / 1_000_000) ** 2 * len(last_pool)).cast(pl.Int64)
    base = pl.DataFrame({"n": pl.int_range(offset, offset + count, eager=True)})
    return base.select(
        member_id=pl.col("n") + 1,
        last_name=pl.lit(last_pool).gather(skewed),
        first_name=pl.lit(pl.Series(FIRST)).gather(_h(2, len(FIRST))),
        date_of_birth=pl.lit(date(1930, 1, 1)) + pl.duration(days=_h(3, 33_000)),
        sex=pl.when(_h(4, 2) == 0).then(pl.lit("F")).otherwise(pl.lit("M")),
        address_line=(_h(5, 9000) + 1).cast(pl.Utf8)
        + " "
        + pl.lit(pl.Series(STREETS)).gather(_h(6, len(STREETS)))
        + " "
        + pl.lit(pl.Series(KINDS)).gather(_h(7, len(KINDS))),
        zip=(90000 + _h(8, 1000)).cast(pl.Utf8),
        phone=(2_000_000_000 + _h(9, 7_999_999_999)).cast(pl.Utf8),
        mbi=pl.lit("1EG") + pl.col("n").cast(pl.Utf8).str.zfill(8),
    )


def generate(n_members: int, n_incoming: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    members = _people(n_members, 0)
    n_known = n_incoming * 4 // 5
    picked = members.gather(pl.int_range(0, n_known, eager=True).hash(11) % n_members).unique(
        "member_id", keep="first", maintain_order=True
    )
    known = picked.with_columns(n=pl.int_range(pl.len()), true_member=pl.col("member_id"))
    dob = pl.col("date_of_birth")
    known = known.with_columns(
        first_name=pl.when(_h(12, 10) == 0)
        .then(pl.col("first_name").replace(NICK))
        .otherwise(pl.col("first_name")),
        last_name=pl.when(_h(13, 20) == 0)
        .then(pl.col("last_name").str.slice(0, 2) + "X" + pl.col("last_name").str.slice(3))
        .otherwise(pl.col("last_name")),
        date_of_birth=pl.when((_h(14, 20) == 0) & (dob.dt.day() <= 12))
        .then(pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month()))
        .when(_h(14, 20) == 1)
        .then(dob + pl.duration(days=1))
        .otherwise(dob),
        address_line=pl.when(_h(15, 10) == 0).then(pl.lit("77 NEW PLACE")).otherwise(pl.col("address_line")),
        phone=pl.when(_h(16, 5) == 0).then(pl.lit(None, dtype=pl.Utf8)).otherwise(pl.col("phone")),
        mbi=pl.when(_h(17, 10) < 3).then(pl.col("mbi")),
    )
    strangers = _people(n_incoming - known.height, 50_000_000).with_columns(
        true_member=pl.lit(None, dtype=pl.Int64), mbi=pl.lit(None, dtype=pl.Utf8)
    )
    patients = pl.concat([known.drop("n"), strangers], how="diagonal_relaxed").with_row_index("k")
    identifier = pl.Struct({"system": pl.Utf8, "value": pl.Utf8, "payer": pl.Utf8})
    patients = patients.with_columns(
        source=pl.lit("ehr"),
        source_patient_id=pl.col("k").cast(pl.Utf8),
        identifiers=pl.when(pl.col("mbi").is_not_null())
        .then(
            pl.concat_list(
                pl.struct(system=pl.lit("mbi"), value=pl.col("mbi"), payer=pl.lit(None, dtype=pl.Utf8))
            )
        )
        .otherwise(pl.lit([], dtype=pl.List(identifier))),
    ).drop("k", "mbi", "member_id")
    return members, patients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--incoming", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    members, patients = generate(args.members, args.incoming)
    links = pl.DataFrame(schema={"source": pl.Utf8, "source_patient_id": pl.Utf8, "member_id": pl.Int64})
    settings = load_settings(date(2026, 6, 1))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = match_patients(patients.drop("true_member"), members, links, settings)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = result.decisions.with_columns(true_member=patients["true_member"])
    linked = out.filter(pl.col("decision") == "linked")
    row = {
        "case": "clinical patient matching",
        "members": members.height,
        "incoming": patients.height,
        "seconds": round(seconds, 2),
        "patients_per_second": round(patients.height / seconds),
        "pairs": result.pairs,
        "peak_mib": round(peak),
        "rss_before_match_mib": round(before),
        "decisions": dict(out.group_by("decision").len().sort("decision").iter_rows()),
        "wrong_links": linked.filter(
            pl.col("true_member").is_null() | (pl.col("true_member") != pl.col("member_id"))
        ).height,
        "members_records_linked": round(
            linked.filter(pl.col("true_member") == pl.col("member_id")).height
            / out.filter(pl.col("true_member").is_not_null()).height,
            4,
        ),
    }
    print(json.dumps(row) if args.json else "\n".join(f"{k}: {v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
