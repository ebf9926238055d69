"""Seeded synthetic beneficiaries for the risk engine's reference tests and benchmark. Pure, vectorized
(Polars sampling), no Django.

    beneficiaries(n, payment_year, seed=7) -> pl.DataFrame   # the frame score() takes

Ages 0 to 100 on February 1 of the payment year (birthdays on and next to February 1 included), both
sexes, every OREC (mostly 0), every dual-eligibility code (mostly 00), 5% long-term institutional, 5% new
enrollees (a third of them in a special needs plan), and 0 to 15 diagnoses drawn from every code the
year's V24 and V28 mappings know, with the codes that carry age/sex edits and those that map to several
CCs drawn ten times as often, plus codes no model maps (some written with a dot, some lower case).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from openipa.risk.engine.tables import domain_of, load_model, supported

__all__ = ["beneficiaries"]

UNMAPPED = ("Z0000", "Z23", "R69", "I10", "E785", "M545", "Z7901", "K219")


def _code_pool(payment_year: int, domain: str) -> list[str]:
    mapped: set[str] = set()
    weighted: list[str] = []
    for year, model in supported():
        if year != payment_year or domain_of(model) != domain:
            continue
        t = load_model(year, model)
        mapped |= set(t.dx_to_cc["diagnosis_code"].to_list())
        weighted += t.edits["diagnosis_code"].to_list()
        multi = t.dx_to_cc.filter(pl.col("diagnosis_code").is_duplicated())["diagnosis_code"].unique()
        weighted += multi.to_list()
    pool = sorted(mapped) + sorted(weighted) * 10 + list(UNMAPPED) * 200
    # A few spellings the scorer must normalise: a dot after the third character, lower case.
    pool += [f"{c[:3]}.{c[3:]}" for c in sorted(mapped)[::50] if len(c) > 3]
    pool += [c.lower() for c in sorted(mapped)[::70]]
    return pool


def beneficiaries(n: int, payment_year: int, seed: int = 7, domain: str = "CMS-HCC") -> pl.DataFrame:
    """``n`` synthetic beneficiaries for ``payment_year`` (see the module docstring); diagnoses from the
    codes of ``domain``'s models ("CMS-HCC" or "RxHCC"). RxHCC frames also get ``low_income`` (one in
    three)."""
    if n <= 0:
        raise ValueError("n must be positive")

    def draw(values: Sequence[object], k: int, offset: int) -> pl.Series:
        return pl.Series(values).sample(k, with_replacement=True, seed=seed + offset)

    february_1 = dt.date(payment_year, 2, 1)
    days = draw(list(range(0, 101 * 365)), n, 1)
    # One member in 50 has a birthday on January 31, February 1 or February 2.
    edge_age = draw(list(range(1, 101)), n, 2)
    edge_day = draw([-1, 0, 1], n, 3)
    edge = draw([True] + [False] * 49, n, 4)
    pool = _code_pool(payment_year, domain)
    lengths = draw([0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8, 9, 10, 12, 15], n, 5)
    total = int(lengths.sum())
    codes = draw(list(pool), total, 6)
    members = pl.DataFrame(
        {
            "i": pl.int_range(0, n, eager=True),
            "days": days,
            "edge_age": edge_age,
            "edge_day": edge_day,
            "edge": edge,
            "sex": draw(["M", "F"], n, 7),
            "orec": draw(["0"] * 14 + ["1"] * 4 + ["2", "3"], n, 8),
            "medicaid": draw(["00"] * 20 + [f"{i:02d}" for i in range(1, 11)] * 2, n, 9),
            "lti": draw([True] + [False] * 19, n, 10),
            "new_enrollee": draw([True] + [False] * 19, n, 11),
            "snp": draw([True, False, False], n, 12),
            "low_income": draw([True, False, False], n, 13),
        }
    )
    flat = pl.DataFrame({"i": pl.int_range(0, n, eager=True).repeat_by(lengths).explode(), "code": codes})
    lists = flat.group_by("i", maintain_order=True).agg(pl.col("code").alias("diagnosis_codes"))
    feb1 = pl.lit(february_1)
    edge_dob = (
        pl.date(pl.lit(payment_year) - pl.col("edge_age"), 2, 1) + pl.duration(days=pl.col("edge_day"))
    ).cast(pl.Date)
    return (
        members.join(lists, on="i", how="left")
        .with_columns(
            pl.format("M{}", pl.col("i").cast(pl.String).str.zfill(8)).alias("member_id"),
            pl.when(pl.col("edge"))
            .then(edge_dob)
            .otherwise((feb1 - pl.duration(days=pl.col("days"))).cast(pl.Date))
            .alias("date_of_birth"),
            pl.col("diagnosis_codes").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            (pl.col("snp") & pl.col("new_enrollee")).alias("snp"),
        )
        .select(
            "member_id",
            "date_of_birth",
            "sex",
            "orec",
            "medicaid",
            "diagnosis_codes",
            "lti",
            "new_enrollee",
            "snp",
            *(["low_income"] if domain == "RxHCC" else []),
        )
    )
