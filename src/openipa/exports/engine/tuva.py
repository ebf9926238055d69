"""OpenIPA's frames mapped to the Tuva Project's claims input layer (pure: frames in, Tuva-shaped frames out).

The tables, their columns, order and types come from ``exports/data/tuva_input_layer.json`` (the one source,
checked against Tuva's own model files: docs/tuva-export.md). Every column Tuva defines is written; what
OpenIPA does not hold is left null. Money arrives in integer cents and leaves as an exact decimal with two
places; dates stay dates.

Input frames (the selectors build them; column names below):

- ``spans``: one row per eligibility span, with the member's demographics, the product and payer;
- ``headers`` and ``lines``: claims (final versions only) and their lines;
- ``fills``: pharmacy fills, paid and reversed (reversed ones cancel their paid fill);
- ``pcp``: PCP assignment spans with the provider's NPI and the practice.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

DATA_SOURCE = "openipa"
MAX_DIAGNOSES = 25
MAX_MODIFIERS = 5
ICD10_QUALIFIERS = ("ABK", "ABF")
ICD9_QUALIFIERS = ("BK", "BF")
"""HI qualifiers exported as claim diagnoses, principal first: ICD-10 principal (ABK) and other (ABF), their
ICD-9 twins. Admitting diagnosis and reason for visit (ABJ, APR) are not diagnoses of the claim in Tuva's sense
and are left out."""

PAYER_TYPES = {"medicare_advantage": "medicare", "medicaid": "medicaid", "commercial": "commercial"}
"""Line of business -> Tuva's payer_type terminology."""

GENDERS = {"F": "female", "M": "male", "U": "unknown"}

AMOUNT = pl.Decimal(38, 2)
QUANTITY = pl.Decimal(38, 3)
DTYPES: dict[str, Any] = {
    "varchar": pl.String,
    "integer": pl.Int64,
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "amount": AMOUNT,
    "quantity": QUANTITY,
    "flag": pl.Int8,
}


@dataclass(frozen=True)
class Table:
    name: str
    source: str
    columns: tuple[tuple[str, str], ...]  # (name, type as in the data file)

    @property
    def names(self) -> list[str]:
        return [name for name, _kind in self.columns]

    @property
    def schema(self) -> dict[str, Any]:
        return {name: DTYPES[kind] for name, kind in self.columns}


@cache
def input_layer() -> dict[str, Any]:
    """The data file as read."""
    text = resources.files("openipa.exports").joinpath("data/tuva_input_layer.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def tables() -> dict[str, Table]:
    """Tuva's claims input tables, in the order they are written."""
    out = {}
    for name, spec in input_layer()["tables"].items():
        columns = tuple((c["name"], c["type"]) for c in spec["columns"])
        unknown = {kind for _n, kind in columns} - set(DTYPES)
        if unknown:
            raise ValueError(f"{name}: unknown column types {sorted(unknown)}")
        out[name] = Table(name=name, source=spec["source"], columns=columns)
    return out


@dataclass(frozen=True)
class Stamp:
    """What every row says about the export itself."""

    open_end: dt.date  # the end written for an open-ended span (the export's --to, else the as-of month end)
    data_source: str = DATA_SOURCE


def conform(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """``frame`` as exactly the table's columns, in order and type; columns it lacks are null. A column that
    is not Tuva's is an error (a typo would otherwise vanish silently)."""
    extra = set(frame.columns) - set(table.names)
    if extra:
        raise ValueError(f"{table.name}: columns not in Tuva's input layer: {sorted(extra)}")
    schema = table.schema
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(kind).alias(name)
        for name, kind in schema.items()
    )


def cents(column: str) -> pl.Expr:
    """Integer cents as an exact decimal of dollars (two places): integer arithmetic only, never a float."""
    return (pl.col(column).cast(pl.Int64).cast(AMOUNT) / pl.lit(100).cast(AMOUNT)).cast(AMOUNT)


def _blank_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.strip_chars() == "").then(None).otherwise(expr)


def person_id(member_id: str = "member_id") -> pl.Expr:
    """Tuva's person_id: OpenIPA's own member key, stable across payer ids and roster files."""
    return pl.format("{}-{}", pl.lit(DATA_SOURCE), pl.col(member_id).cast(pl.Int64))


def _timestamp(column: str) -> pl.Expr:
    """A database timestamp read as text (SQLite 'YYYY-MM-DD HH:MM:SS.ffffff', PostgreSQL with an offset) to a
    datetime to the second."""
    text = pl.col(column).cast(pl.String).str.slice(0, 19).str.replace("T", " ")
    return text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False).cast(pl.Datetime("us"))


# -- eligibility


def eligibility(spans: pl.DataFrame, stamp: Stamp) -> pl.DataFrame:
    """One row per eligibility span. An open-ended span ends at ``stamp.open_end`` (never before it starts)."""
    payer_type = pl.col("line_of_business").replace_strict(PAYER_TYPES, default=None)
    medicare = payer_type == "medicare"
    frame = spans.select(
        person_id().alias("person_id"),
        pl.col("payer_member_id").alias("member_id"),
        pl.col("sex").replace_strict(GENDERS, default="unknown").alias("gender"),
        pl.col("birth_date"),
        pl.col("death_date"),
        pl.col("death_date").is_not_null().cast(pl.Int8).alias("death_flag"),
        pl.col("valid_from").alias("enrollment_start_date"),
        pl.coalesce(
            pl.col("valid_to"), pl.max_horizontal(pl.lit(stamp.open_end), pl.col("valid_from"))
        ).alias("enrollment_end_date"),
        pl.col("payer_name").alias("payer"),
        payer_type.alias("payer_type"),
        pl.col("product_name").alias("plan"),
        pl.when(medicare).then(pl.col("orec")).alias("original_reason_entitlement_code"),
        pl.when(medicare).then(pl.col("dual_status")).alias("dual_status_code"),
        pl.col("first_name"),
        pl.col("last_name"),
        _blank_null(pl.col("address")).alias("address"),
        _blank_null(pl.col("city")).alias("city"),
        _blank_null(pl.col("state")).alias("state"),
        _blank_null(pl.col("zip_code")).alias("zip_code"),
        _blank_null(pl.col("phone")).alias("phone"),
        pl.lit(stamp.data_source).alias("data_source"),
        pl.col("file_name"),
        pl.col("file_date"),
        _timestamp("ingested").alias("ingest_datetime"),
    ).sort("person_id", "enrollment_start_date", "plan")
    return conform(frame, tables()["eligibility"])


# -- coverage on a day (payer and plan of a claim or a fill)


def coverage(spans: pl.DataFrame) -> pl.DataFrame:
    """The spans as (member_id, valid_from, valid_to, payer, plan), sorted for an as-of join."""
    return (
        spans.select(
            "member_id",
            pl.col("valid_from").alias("_cov_from"),
            pl.col("valid_to").alias("_cov_to"),
            pl.col("payer_name").alias("_cov_payer"),
            pl.col("product_name").alias("_cov_plan"),
        )
        .unique()
        .sort("member_id", "_cov_from")
    )


def _with_coverage(frame: pl.DataFrame, cover: pl.DataFrame, on: str) -> pl.DataFrame:
    """``frame`` with ``payer`` and ``plan`` of the span in force on its ``on`` date (the latest span started
    on or before it, if it has not ended); the member's own payer (``member_payer``) and no plan otherwise."""
    frame = frame.with_row_index("_row")
    joined = frame.sort("member_id", on).join_asof(
        cover, left_on=on, right_on="_cov_from", by="member_id", strategy="backward", check_sortedness=False
    )
    in_force = pl.col("_cov_from").is_not_null() & (
        pl.col("_cov_to").is_null() | (pl.col("_cov_to") >= pl.col(on))
    )
    return (
        joined.with_columns(
            pl.when(in_force).then(pl.col("_cov_payer")).otherwise(pl.col("member_payer")).alias("payer"),
            pl.when(in_force).then(pl.col("_cov_plan")).alias("plan"),
        )
        .drop("_cov_from", "_cov_to", "_cov_payer", "_cov_plan", "member_payer")
        .sort("_row")
        .drop("_row")
    )


# -- medical_claim


def _diagnoses(headers: pl.DataFrame) -> pl.DataFrame:
    """Per claim: diagnosis_code_type and diagnosis_code_1..25 from the HI pairs (JSON text)."""
    pairs = (
        headers.select(
            "claim_pk", pl.col("diagnoses").str.json_decode(pl.List(pl.List(pl.String))).alias("pair")
        )
        .explode("pair")
        .filter(pl.col("pair").is_not_null())
        .select(
            "claim_pk",
            pl.col("pair").list.get(0, null_on_oob=True).alias("qualifier"),
            pl.col("pair").list.get(1, null_on_oob=True).str.replace_all(r"[.\s]", "").alias("code"),
        )
        .filter(pl.col("qualifier").is_in(ICD10_QUALIFIERS + ICD9_QUALIFIERS) & (pl.col("code") != ""))
    )
    grouped = pairs.group_by("claim_pk", maintain_order=True).agg(
        pl.col("code").alias("codes"),
        pl.col("qualifier").is_in(ICD10_QUALIFIERS).any().alias("icd10"),
        pl.col("qualifier").is_in(ICD9_QUALIFIERS).any().alias("icd9"),
    )
    return grouped.select(
        "claim_pk",
        pl.when(pl.col("icd10"))
        .then(pl.lit("icd-10-cm"))
        .when(pl.col("icd9"))
        .then(pl.lit("icd-9-cm"))
        .alias("diagnosis_code_type"),
        *(
            pl.col("codes").list.get(i, null_on_oob=True).alias(f"diagnosis_code_{i + 1}")
            for i in range(MAX_DIAGNOSES)
        ),
    )


def medical_claim(
    headers: pl.DataFrame, lines: pl.DataFrame, cover: pl.DataFrame, stamp: Stamp
) -> pl.DataFrame:
    """One row per claim line. ``headers``: claim_pk, kind, member_id, payer_member_id, member_payer,
    claim_from, claim_to, place_of_service, type_of_bill, rendering_npi, billing_npi, billing_tin, facility_npi,
    diagnoses (JSON text), in_network (bool), file_name, file_date, ingested. ``lines``: claim_pk, number, code,
    modifiers (comma separated), revenue_code, units (text), charge_cents, allowed_cents, cost_share_cents,
    paid_cents, line_from, line_to, place_of_service, rendering_npi, paid_date; rows come out in the
    order of ``lines`` (the selectors give them by claim, then line number)."""
    table = tables()["medical_claim"]
    if headers.is_empty() or lines.is_empty():
        return conform(pl.DataFrame(), table).clear()
    head = _with_coverage(headers, cover, "claim_from")
    head = head.join(_diagnoses(headers), on="claim_pk", how="left")
    mods = (
        pl.col("modifiers")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    line = lines.rename({"place_of_service": "line_pos", "rendering_npi": "line_rendering_npi"}).with_columns(
        mods.alias("_mods")
    )
    frame = line.join(head, on="claim_pk", how="inner", maintain_order="left")
    frame = frame.select(
        pl.col("claim_pk").cast(pl.String).alias("claim_id"),
        pl.col("number").cast(pl.Int64).alias("claim_line_number"),
        pl.col("kind").alias("claim_type"),
        person_id().alias("person_id"),
        pl.col("payer_member_id").alias("member_id"),
        "payer",
        "plan",
        pl.col("claim_from").alias("claim_start_date"),
        pl.col("claim_to").alias("claim_end_date"),
        pl.col("line_from").alias("claim_line_start_date"),
        pl.col("line_to").alias("claim_line_end_date"),
        # professional claims only: the line's place of service, else the claim's
        pl.when(pl.col("kind") == "professional")
        .then(pl.coalesce(_blank_null(pl.col("line_pos")), _blank_null(pl.col("place_of_service"))))
        .alias("place_of_service_code"),
        pl.when(pl.col("kind") == "institutional")
        .then(_blank_null(pl.col("type_of_bill")))
        .alias("bill_type_code"),
        _blank_null(pl.col("revenue_code")).alias("revenue_center_code"),
        pl.col("units").cast(QUANTITY).alias("service_unit_quantity"),
        _blank_null(pl.col("code")).alias("hcpcs_code"),
        *(
            pl.col("_mods").list.get(i, null_on_oob=True).alias(f"hcpcs_modifier_{i + 1}")
            for i in range(MAX_MODIFIERS)
        ),
        pl.coalesce(_blank_null(pl.col("line_rendering_npi")), _blank_null(pl.col("rendering_npi"))).alias(
            "rendering_npi"
        ),
        _blank_null(pl.col("billing_npi")).alias("billing_npi"),
        _blank_null(pl.col("billing_tin")).alias("billing_tin"),
        _blank_null(pl.col("facility_npi")).alias("facility_npi"),
        pl.col("paid_date"),
        cents("paid_cents").alias("paid_amount"),
        cents("allowed_cents").alias("allowed_amount"),
        cents("charge_cents").alias("charge_amount"),
        # what the plan paid plus what the member owed (copay, coinsurance, deductible together)
        pl.when(pl.col("allowed_cents").is_not_null())
        .then(cents("paid_cents") + cents("cost_share_cents"))
        .alias("total_cost_amount"),
        "diagnosis_code_type",
        *(f"diagnosis_code_{i + 1}" for i in range(MAX_DIAGNOSES)),
        pl.when(pl.col("in_network")).then(pl.lit(1, pl.Int8)).alias("in_network_flag"),
        pl.lit(stamp.data_source).alias("data_source"),
        "file_name",
        "file_date",
        _timestamp("ingested").alias("ingest_datetime"),
    )
    return conform(frame, table)  # in the lines' order: by claim, then line (the selectors' order)


# -- pharmacy_claim


def pharmacy_claim(fills: pl.DataFrame, cover: pl.DataFrame, stamp: Stamp) -> pl.DataFrame:
    """One row per paid fill that no reversal cancels. ``fills``: source_code, claim_id, status (paid or
    reversed), member_id, payer_member_id, member_payer, ndc, fill_date, days_supply, quantity (text),
    prescriber_npi, pharmacy_npi, paid_cents, file_name, file_date, ingested."""
    table = tables()["pharmacy_claim"]
    reversed_ = fills.filter(pl.col("status") == "reversed").select("source_code", "claim_id").unique()
    paid = fills.filter(pl.col("status") == "paid").join(
        reversed_, on=["source_code", "claim_id"], how="anti"
    )
    if paid.is_empty():
        return conform(pl.DataFrame(), table).clear()
    paid = _with_coverage(paid, cover, "fill_date")
    frame = paid.select(
        pl.format("{}:{}", "source_code", "claim_id").alias("claim_id"),
        pl.lit(1, pl.Int64).alias("claim_line_number"),
        person_id().alias("person_id"),
        pl.col("payer_member_id").alias("member_id"),
        "payer",
        "plan",
        _blank_null(pl.col("prescriber_npi")).alias("prescribing_provider_npi"),
        _blank_null(pl.col("pharmacy_npi")).alias("dispensing_provider_npi"),
        pl.col("fill_date").alias("dispensing_date"),
        pl.col("ndc").alias("ndc_code"),
        pl.col("quantity").cast(QUANTITY).alias("quantity"),
        pl.col("days_supply").cast(pl.Int64).alias("days_supply"),
        cents("paid_cents").alias("paid_amount"),
        pl.lit(stamp.data_source).alias("data_source"),
        "file_name",
        "file_date",
        _timestamp("ingested").alias("ingest_datetime"),
    )
    return conform(frame.sort("person_id", "dispensing_date", "claim_id"), table)


# -- provider_attribution


def _month_start(column: str) -> pl.Expr:
    return pl.col(column).dt.month_start()


def provider_attribution(
    spans: pl.DataFrame, pcp: pl.DataFrame, stamp: Stamp, *, first: dt.date | None, last: dt.date | None
) -> pl.DataFrame:
    """One row per member, plan and month of eligibility (a member eligible any day of the month counts, as
    member-months do), with the PCP the payer assigned: the assignment covering most of the member's eligible
    days that month (the later one on a tie), none when no assignment overlaps. Months run from ``first``
    through ``last`` when given (open-ended spans through ``stamp.open_end``). ``pcp``: member_id, valid_from,
    valid_to, npi, practice_name."""
    table = tables()["provider_attribution"]
    if spans.is_empty():
        return conform(pl.DataFrame(), table).clear()
    start = pl.col("valid_from")
    end = pl.coalesce(pl.col("valid_to"), pl.max_horizontal(pl.lit(stamp.open_end), pl.col("valid_from")))
    if first is not None:
        start = pl.max_horizontal(start, pl.lit(first))
    if last is not None:
        end = pl.min_horizontal(end, pl.lit(last))
    elig = (
        spans.select(
            "member_id",
            "payer_member_id",
            pl.col("payer_name").alias("payer"),
            pl.col("product_name").alias("plan"),
            "line_of_business",
            start.alias("e_from"),
            end.alias("e_to"),
        )
        .filter(pl.col("e_from") <= pl.col("e_to"))
        .with_columns(pl.date_ranges(_month_start("e_from"), _month_start("e_to"), "1mo").alias("month"))
        .explode("month")
        .with_columns(
            # the member's eligible days of the month under this span
            pl.max_horizontal("e_from", "month").alias("d_from"),
            pl.min_horizontal("e_to", pl.col("month").dt.month_end()).alias("d_to"),
        )
        .with_row_index("_mm")
    )
    assigned = (
        elig.select("_mm", "member_id", "d_from", "d_to")
        .join(
            pcp.select(
                "member_id",
                pl.col("valid_from").alias("p_from"),
                pl.col("valid_to").alias("p_to"),
                "npi",
                "practice_name",
            ),
            on="member_id",
            how="inner",
        )
        .with_columns(
            (pl.min_horizontal("d_to", pl.coalesce("p_to", "d_to")) - pl.max_horizontal("d_from", "p_from"))
            .dt.total_days()
            .alias("_days")
        )
        .filter(pl.col("_days") >= 0)
        .sort("_mm", "_days", "p_from", descending=[False, True, True])
        .unique("_mm", keep="first")
        .select("_mm", "npi", "practice_name")
    )
    frame = (
        elig.join(assigned, on="_mm", how="left")
        .select(
            person_id().alias("person_id"),
            pl.col("payer_member_id").alias("member_id"),
            pl.col("month").dt.strftime("%Y%m").alias("year_month"),
            "payer",
            "plan",
            pl.lit(stamp.data_source).alias("data_source"),
            pl.col("npi").alias("payer_attributed_provider"),
            pl.col("practice_name").alias("payer_attributed_provider_practice"),
            pl.when(pl.col("npi").is_not_null())
            .then(pl.col("line_of_business").replace_strict(PAYER_TYPES, default=None))
            .alias("payer_attributed_provider_lob"),
        )
        .unique(["person_id", "member_id", "payer", "plan", "year_month"], keep="first", maintain_order=True)
        .sort("person_id", "year_month", "plan")
    )
    return conform(frame, table)


def organization_column(frame: pl.DataFrame, organization: str) -> pl.DataFrame:
    """The attributed provider's organization (the IPA) on rows that have an attributed provider."""
    return frame.with_columns(
        pl.when(pl.col("payer_attributed_provider").is_not_null())
        .then(pl.lit(organization))
        .otherwise(None)
        .alias("payer_attributed_provider_organization")
    )
