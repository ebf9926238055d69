"""Small builders of engine input frames for the tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from openipa.quality.engine import MeasureInputs, MeasureResults, evaluate, load_measures, starter_value_sets

D = dt.date
OPEN = None


@dataclass
class World:
    """Members and their data, added row by row; ``run`` evaluates the shipped definitions."""

    members: list[dict[str, object]] = field(default_factory=list)
    spans: list[dict[str, object]] = field(default_factory=list)
    claims: list[dict[str, object]] = field(default_factory=list)
    clinical: list[dict[str, object]] = field(default_factory=list)
    pharmacy: list[dict[str, object]] = field(default_factory=list)

    def member(
        self,
        member_id: str,
        birth: dt.date,
        sex: str = "F",
        *,
        enrolled: tuple[tuple[dt.date, dt.date | None], ...] = ((D(2015, 1, 1), OPEN),),
        death: dt.date | None = None,
    ) -> str:
        self.members.append({"member_id": member_id, "birth_date": birth, "sex": sex, "death_date": death})
        for start, end in enrolled:
            self.spans.append({"member_id": member_id, "start_date": start, "end_date": end})
        return member_id

    def claim(self, member_id: str, day: dt.date, dx: tuple[str, ...] = (), px: tuple[str, ...] = ()) -> str:
        ident = f"c{len(self.claims) + 1}"
        self.claims.append(
            {
                "claim_line_id": ident,
                "member_id": member_id,
                "service_date": day,
                "diagnosis_codes": list(dx),
                "procedure_codes": list(px),
            }
        )
        return f"claim:{ident}"

    def fact(self, member_id: str, day: dt.date, system: str, code: str, value: float | None = None) -> str:
        ident = f"f{len(self.clinical) + 1}"
        self.clinical.append(
            {
                "clinical_id": ident,
                "member_id": member_id,
                "code_system": system,
                "code": code,
                "value": value,
                "unit": None,
                "observed_date": day,
            }
        )
        return f"clinical:{ident}"

    def fill(self, member_id: str, day: dt.date, ndc: str, days_supply: int | None = 30) -> str:
        ident = f"rx{len(self.pharmacy) + 1}"
        self.pharmacy.append(
            {
                "fill_id": ident,
                "member_id": member_id,
                "ndc": ndc,
                "fill_date": day,
                "days_supply": days_supply,
            }
        )
        return f"rx:{ident}"

    def inputs(self) -> MeasureInputs:
        members = pl.DataFrame(
            self.members,
            schema={"member_id": pl.String, "birth_date": pl.Date, "sex": pl.String, "death_date": pl.Date},
        )
        spans = pl.DataFrame(
            self.spans, schema={"member_id": pl.String, "start_date": pl.Date, "end_date": pl.Date}
        )
        claims = pl.DataFrame(
            self.claims,
            schema={
                "claim_line_id": pl.String,
                "member_id": pl.String,
                "service_date": pl.Date,
                "diagnosis_codes": pl.List(pl.String),
                "procedure_codes": pl.List(pl.String),
            },
        )
        clinical = pl.DataFrame(
            self.clinical,
            schema={
                "clinical_id": pl.String,
                "member_id": pl.String,
                "code_system": pl.String,
                "code": pl.String,
                "value": pl.Float64,
                "unit": pl.String,
                "observed_date": pl.Date,
            },
        )
        pharmacy = pl.DataFrame(
            self.pharmacy,
            schema={
                "fill_id": pl.String,
                "member_id": pl.String,
                "ndc": pl.String,
                "fill_date": pl.Date,
                "days_supply": pl.Int32,
            },
        )
        return MeasureInputs(members, spans, claims=claims, pharmacy=pharmacy, clinical=clinical)

    def run(self, year: int = 2025) -> MeasureResults:
        return evaluate(self.inputs(), load_measures(year), starter_value_sets(year))


def row(results: MeasureResults, rate: str, member_id: str) -> dict[str, object] | None:
    """The result row of ``member_id`` in ``rate``, or None when the member is not eligible."""
    found = results.members.filter((pl.col("rate") == rate) & (pl.col("member_id") == member_id))
    assert found.height <= 1
    return found.row(0, named=True) if found.height else None


def hit(results: MeasureResults, rate: str, member_id: str) -> bool:
    found = row(results, rate, member_id)
    assert found is not None, f"{member_id} is not eligible for {rate}"
    return bool(found["numerator"])
