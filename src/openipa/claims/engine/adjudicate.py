"""Claim line adjudication: an ordered pack of rules, each a pure function over frames returning findings.

Every rule looks at all lines at once (Polars) and returns a findings frame (FINDING_SCHEMA): for each line it
has something to say about, an outcome ``deny`` or ``pend`` with the claim adjustment reason code (CARC), the
remark code (RARC) and a message. :func:`adjudicate` runs the pack in :data:`RULES` order and decides each line:

- the first denial in rule order denies the line (its CARC/RARC go on the 835);
- otherwise the first pend pends it (an examiner works it);
- otherwise the line is payable: paid = allowed - member cost share.

The context a rule needs (eligibility spans, provider status, service-category rules and the DOFR, timely
filing days, authorizations, earlier lines for duplicates, prices, cost shares) comes in as frames built by
the service from effective-dated data; nothing here reads a database or a clock. docs/claims.md lists the
rules, their codes and examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from openipa.core.engine.frames import EngineInputError, Schema, conform, in_force
from openipa.core.engine.rounding import half_up

LINE_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "claim_id": pl.Int64,
    "member_id": pl.Int64,  # null: the member could not be identified
    "service_from": pl.Date,
    "service_to": pl.Date,
    "received_on": pl.Date,
    "code": pl.String,
    "modifiers": pl.String,  # comma separated
    "revenue_code": pl.String,
    "units_milli": pl.Int64,
    "charge_cents": pl.Int64,
    "place_of_service": pl.String,
    "billing_npi": pl.String,
    "rendering_npi": pl.String,
}
SPAN_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "product_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
PROVIDER_SCHEMA: Schema = {
    "npi": pl.String,
    "kind": pl.String,  # network provider kind (pcp, specialist, facility, lab...)
    "contracted": pl.Boolean,  # has a participation agreement in force
    "credentialed": pl.Boolean,  # null: not known
    "excluded": pl.Boolean,  # on an exclusion list (OIG LEIE, SAM)
    "excluded_from": pl.Date,  # the exclusion's first day (null with excluded: on every date)
}
CATEGORY_RULE_SCHEMA: Schema = {
    "category_rule_id": pl.Int64,
    "category": pl.String,
    "priority": pl.Int32,
    "code_from": pl.String,
    "code_to": pl.String,
    "revenue_from": pl.String,
    "revenue_to": pl.String,
    "places": pl.String,  # comma separated; empty: any
    "provider_kind": pl.String,  # empty: any
    "emergency": pl.Boolean,
    "requires_authorization": pl.Boolean,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
TERM_SCHEMA: Schema = {
    "product_id": pl.Int64,
    "term_id": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "timely_filing_days": pl.Int32,
}
DOFR_SCHEMA: Schema = {"term_id": pl.Int64, "category": pl.String, "party": pl.String}
AUTH_SCHEMA: Schema = {
    "member_id": pl.Int64,
    "number": pl.String,
    "code": pl.String,
    "servicing_npi": pl.String,  # empty: any provider
    "units_milli": pl.Int64,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
REQUIREMENT_SCHEMA: Schema = {
    "product_id": pl.Int64,
    "code_from": pl.String,
    "code_to": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
"""Utilization management's authorization requirements, one row per product they apply to (ADR 0014)."""
HISTORY_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "member_id": pl.Int64,
    "code": pl.String,
    "modifiers": pl.String,
    "service_from": pl.Date,
    "billing_npi": pl.String,
    "rendering_npi": pl.String,
    "units_milli": pl.Int64,
    "charge_cents": pl.Int64,
}
PRICE_SCHEMA: Schema = {"line_id": pl.Int64, "allowed_cents": pl.Int64, "pricing": pl.String}
COST_SHARE_SCHEMA: Schema = {
    "product_id": pl.Int64,
    "category": pl.String,
    "copay_cents": pl.Int64,
    "coinsurance_milli": pl.Int64,  # thousandths of a percent: 20% = 20000
    "valid_from": pl.Date,
    "valid_to": pl.Date,
}
FINDING_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "rule": pl.String,
    "outcome": pl.String,  # deny | pend
    "carc": pl.String,
    "rarc": pl.String,
    "message": pl.String,
}
RESULT_SCHEMA: Schema = {
    "line_id": pl.Int64,
    "outcome": pl.String,  # paid | denied | pended
    "carc": pl.String,
    "rarc": pl.String,
    "pend_reason": pl.String,
    "product_id": pl.Int64,
    "term_id": pl.Int64,
    "category": pl.String,
    "party": pl.String,
    "allowed_cents": pl.Int64,
    "cost_share_cents": pl.Int64,
    "copay_cents": pl.Int64,  # the cost share's parts, for the 835 (PR-3 copay, PR-2 coinsurance)
    "coinsurance_cents": pl.Int64,
    "paid_cents": pl.Int64,
}
IPA = "ipa"
EMERGENCY_PLACES = ("23",)
"""Places of service that are emergency care (an emergency room): never need an authorization."""


@dataclass(frozen=True)
class Context:
    """Everything the rules read besides the lines."""

    spans: pl.DataFrame
    providers: pl.DataFrame
    category_rules: pl.DataFrame
    terms: pl.DataFrame
    dofr: pl.DataFrame
    authorizations: pl.DataFrame
    history: pl.DataFrame
    prices: pl.DataFrame
    cost_shares: pl.DataFrame
    edits: pl.DataFrame | None = None
    """Findings of the code edits (procedure-to-procedure, medically unlikely units), FINDING_SCHEMA."""
    requirements: pl.DataFrame | None = None
    """REQUIREMENT_SCHEMA: codes that need an authorization under a product, besides whole service categories
    that do (a category rule's `requires_authorization`)."""


@dataclass(frozen=True)
class Adjudication:
    lines: pl.DataFrame
    """RESULT_SCHEMA, one row per input line."""
    findings: pl.DataFrame
    """FINDING_SCHEMA: every deny and pend any rule found (more than the one that decided the line)."""

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.lines.group_by("outcome").len().iter_rows()}


def _findings(
    frame: pl.DataFrame, rule: str, outcome: str, carc: str, rarc: str, message: pl.Expr
) -> pl.DataFrame:
    return frame.select(
        "line_id",
        pl.lit(rule).alias("rule"),
        pl.lit(outcome).alias("outcome"),
        pl.lit(carc).alias("carc"),
        pl.lit(rarc).alias("rarc"),
        message.cast(pl.String).alias("message"),
    )


# -- context every rule shares -----------------------------------------------------------------------------


def enrich(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """The lines with the member's product on the date of service, the contract term in force for it, the
    service category, the DOFR party, and the billing and rendering providers' status."""
    spans = conform(ctx.spans, SPAN_SCHEMA, "spans")
    covered = (
        lines.select("line_id", "member_id", "service_from")
        .join(spans, on="member_id", how="inner")
        .filter(in_force(pl.col("service_from")))
        .sort(["line_id", "valid_from"], descending=[False, True])
        .group_by("line_id", maintain_order=True)
        .agg(pl.col("product_id").first())
    )
    out = lines.join(covered, on="line_id", how="left")
    terms = conform(ctx.terms, TERM_SCHEMA, "terms")
    term_of = (
        out.select("line_id", "product_id", "service_from")
        .join(terms, on="product_id", how="inner")
        .filter(in_force(pl.col("service_from")))
        .group_by("line_id")
        .agg(pl.col("term_id").max(), pl.col("timely_filing_days").max())
    )
    out = out.join(term_of, on="line_id", how="left")
    providers = conform(ctx.providers, PROVIDER_SCHEMA, "providers")
    billing = providers.select(
        pl.col("npi").alias("billing_npi"),
        pl.col("kind").alias("billing_kind"),
        pl.col("contracted").alias("billing_contracted"),
        pl.col("credentialed").alias("billing_credentialed"),
        pl.col("excluded").alias("billing_excluded"),
        pl.col("excluded_from").alias("billing_excluded_from"),
    )
    rendering = providers.select(
        pl.col("npi").alias("rendering_npi"),
        pl.col("kind").alias("rendering_kind"),
        pl.col("credentialed").alias("rendering_credentialed"),
        pl.col("excluded").alias("rendering_excluded"),
        pl.col("excluded_from").alias("rendering_excluded_from"),
    )
    out = out.join(billing, on="billing_npi", how="left").join(rendering, on="rendering_npi", how="left")
    out = out.with_columns(pl.coalesce("rendering_kind", "billing_kind").fill_null("").alias("provider_kind"))
    out = out.join(_categories(out, conform(ctx.category_rules, CATEGORY_RULE_SCHEMA, "category rules")),
                   on="line_id", how="left")  # fmt: skip
    if ctx.requirements is not None and ctx.requirements.height:
        listed = _listed_codes(out, conform(ctx.requirements, REQUIREMENT_SCHEMA, "requirements"))
        out = (
            out.join(listed, on="line_id", how="left")
            .with_columns(
                (pl.col("requires_authorization").fill_null(False) | pl.col("listed").fill_null(False)).alias(
                    "requires_authorization"
                )
            )
            .drop("listed")
        )
    dofr = conform(ctx.dofr, DOFR_SCHEMA, "dofr")
    return out.join(dofr, on=["term_id", "category"], how="left")


def _listed_codes(lines: pl.DataFrame, requirements: pl.DataFrame) -> pl.DataFrame:
    """line_id -> listed: the line's code falls in a code range that needs an authorization under the
    member's product on the date of service (ranges compare codes of the same length)."""
    keys = ["product_id", "code", "service_from"]
    distinct = lines.select(keys).drop_nulls().unique()
    matched = (
        distinct.join(requirements, on="product_id", how="inner")
        .filter(
            in_force(pl.col("service_from"))
            & (pl.col("code") >= pl.col("code_from")) & (pl.col("code") <= pl.col("code_to"))
            & (pl.col("code").str.len_chars() == pl.col("code_from").str.len_chars())
        )
        .select(keys).unique().with_columns(pl.lit(True).alias("listed"))
    )  # fmt: skip
    return lines.select("line_id", *keys).join(matched, on=keys, how="inner").select("line_id", "listed")


def _categories(lines: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """line_id -> category, requires_authorization, emergency: the first rule (by priority, then id) that
    matches the line's code or revenue code range, place of service and provider kind on the date of service.
    Matched once per distinct key, so a million lines cost a few thousand comparisons per rule."""
    keys = ["code", "revenue_code", "place_of_service", "provider_kind", "service_from"]
    distinct = lines.select(keys).unique()
    places = pl.col("places")
    matched = (
        distinct.join(rules, how="cross")
        .filter(
            in_force(pl.col("service_from"))
            & (
                ((pl.col("code_from") != "") & (pl.col("code") >= pl.col("code_from"))
                 & (pl.col("code") <= pl.col("code_to")) & (pl.col("code").str.len_chars() == pl.col("code_from").str.len_chars()))
                | ((pl.col("revenue_from") != "") & (pl.col("revenue_code") != "")
                   & (pl.col("revenue_code") >= pl.col("revenue_from")) & (pl.col("revenue_code") <= pl.col("revenue_to")))
                | ((pl.col("code_from") == "") & (pl.col("revenue_from") == ""))
            )
            & ((places == "") | places.str.split(",").list.contains(pl.col("place_of_service")))
            & ((pl.col("provider_kind_right") == "") | (pl.col("provider_kind_right") == pl.col("provider_kind")))
        )
        .sort([*keys, "priority", "category_rule_id"])
        .group_by(keys, maintain_order=True)
        .agg(pl.col("category").first(), pl.col("requires_authorization").first(), pl.col("emergency").first())
    ) if rules.height else distinct.with_columns(
        pl.lit(None, pl.String).alias("category"), pl.lit(None, pl.Boolean).alias("requires_authorization"),
        pl.lit(None, pl.Boolean).alias("emergency"),
    )  # fmt: skip
    return (
        lines.select("line_id", *keys)
        .join(matched, on=keys, how="left", nulls_equal=True)
        .select("line_id", "category", "requires_authorization", "emergency")
    )


# -- the rules ---------------------------------------------------------------------------------------------


def eligibility(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """The member is identified and covered on the date of service: CARC 31 (not identified), 26 (before
    coverage began) or 27 (after it ended)."""
    unknown = _findings(lines.filter(pl.col("member_id").is_null()), "eligibility", "deny", "31", "",
                        pl.lit("the patient cannot be identified as a member"))  # fmt: skip
    uncovered = lines.filter(pl.col("member_id").is_not_null() & pl.col("product_id").is_null())
    spans = conform(ctx.spans, SPAN_SCHEMA, "spans")
    ended = (
        uncovered.select("line_id", "member_id", "service_from")
        .join(spans, on="member_id", how="inner")
        .filter(pl.col("valid_from") <= pl.col("service_from"))
        .select("line_id")
        .unique()
    )
    after = uncovered.join(ended, on="line_id", how="semi")
    before = uncovered.join(ended, on="line_id", how="anti")
    return pl.concat([
        unknown,
        _findings(after, "eligibility", "deny", "27", "", pl.lit("not covered on the date of service: coverage ended")),
        _findings(before, "eligibility", "deny", "26", "",
                  pl.lit("not covered on the date of service: coverage had not begun")),
    ])  # fmt: skip


def provider_status(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Excluded providers are denied (CARC B7, RARC N570); non-contracted billing providers and providers
    known not to be credentialed are pended for review."""

    def excluded_on_the_day(side: str) -> pl.Expr:
        since = pl.col(f"{side}_excluded_from")
        return pl.col(f"{side}_excluded").fill_null(False) & (
            since.is_null() | (pl.col("service_from") >= since)
        )

    excluded = lines.filter(excluded_on_the_day("billing") | excluded_on_the_day("rendering"))
    uncontracted = lines.filter(~pl.col("billing_contracted").fill_null(False))
    uncredentialed = lines.filter(
        (pl.col("billing_credentialed") == False) | (pl.col("rendering_credentialed") == False)  # noqa: E712
    )
    return pl.concat([
        _findings(excluded, "provider", "deny", "B7", "N570",
                  pl.lit("the provider is excluded from federal health care programs on the date of service")),
        _findings(uncontracted, "provider", "pend", "", "",
                  pl.format("billing provider {} has no participation agreement in force", pl.col("billing_npi"))),
        _findings(uncredentialed, "provider", "pend", "", "", pl.lit("the provider is not credentialed")),
    ])  # fmt: skip


def dofr(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """The line's service category is the IPA's under the DOFR of the term in force; a line that is the
    plan's or the hospital's is denied CARC 109 (send it to the right payer) and listed for forwarding."""
    covered = lines.filter(pl.col("product_id").is_not_null())
    no_category = covered.filter(pl.col("category").is_null())
    no_term = covered.filter(pl.col("category").is_not_null() & pl.col("term_id").is_null())
    no_entry = covered.filter(
        pl.col("term_id").is_not_null() & pl.col("category").is_not_null() & pl.col("party").is_null()
    )
    others = covered.filter(pl.col("party").is_not_null() & (pl.col("party") != IPA))
    return pl.concat([
        _findings(no_category, "dofr", "pend", "", "",
                  pl.format("no service category matches code {} / revenue code {}", pl.col("code"), pl.col("revenue_code"))),
        _findings(no_term, "dofr", "pend", "", "", pl.lit("no contract term in force for the member's product")),
        _findings(no_entry, "dofr", "pend", "", "",
                  pl.format("the DOFR does not say who pays for {}", pl.col("category"))),
        _findings(others, "dofr", "deny", "109", "N418",
                  pl.format("{} is the {}'s responsibility under the DOFR: forward to them", pl.col("category"),
                            pl.col("party"))),
    ])  # fmt: skip


def authorization(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """A service that needs an authorization (its category does, or utilization management lists its code
    for the member's product) is matched to an approved one for the member, code, dates, units and servicing
    provider; emergency care never needs one. Missing: CARC 197."""
    needing = lines.filter(
        pl.col("requires_authorization").fill_null(False)
        & ~pl.col("emergency").fill_null(False)
        & ~pl.col("place_of_service").is_in(EMERGENCY_PLACES)
    )
    auths = conform(ctx.authorizations, AUTH_SCHEMA, "authorizations")
    matched = (
        needing.select("line_id", "member_id", "code", "service_from", "service_to", "units_milli", "billing_npi",
                       "rendering_npi")
        .join(auths.rename({"units_milli": "auth_units"}), on=["member_id", "code"], how="inner")
        .filter(
            (pl.col("valid_from") <= pl.col("service_from"))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("service_to")))
            & (pl.col("units_milli") <= pl.col("auth_units"))
            & ((pl.col("servicing_npi") == "") | (pl.col("servicing_npi") == pl.col("rendering_npi"))
               | (pl.col("servicing_npi") == pl.col("billing_npi")))
        )
        .select("line_id")
        .unique()
    )  # fmt: skip
    missing = needing.join(matched, on="line_id", how="anti")
    return _findings(missing, "authorization", "deny", "197", "N54",
                     pl.format("{} needs an authorization and none matches the member, code, dates, units and "
                               "provider", pl.coalesce(pl.col("category"), pl.col("code"))))  # fmt: skip


_DUP_KEY = ["member_id", "code", "modifiers", "service_from", "billing_npi", "units_milli", "charge_cents"]


def duplicates(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Exact duplicates (same member, code, modifiers, date, billing provider, units and charge as a line paid
    or pending earlier, or as an earlier line of this batch) are denied CARC 18; the same member, code and date
    from a different provider is a suspect duplicate and pends."""
    history = conform(ctx.history, HISTORY_SCHEMA, "history")
    known = lines.filter(pl.col("member_id").is_not_null())
    earlier = history.select(*_DUP_KEY, pl.col("line_id").alias("first_id"))
    exact_history = (
        known.join(earlier, on=_DUP_KEY, how="inner").group_by("line_id").agg(pl.col("first_id").min())
    )
    ranked = known.with_columns(pl.col("line_id").min().over(_DUP_KEY).alias("first_id"))
    exact_batch = ranked.filter(pl.col("line_id") != pl.col("first_id")).select("line_id", "first_id")
    exact = pl.concat([exact_history, exact_batch]).group_by("line_id").agg(pl.col("first_id").min())
    suspect_key = ["member_id", "code", "service_from"]
    others = pl.concat([
        history.select(*suspect_key, "billing_npi", pl.col("line_id").alias("other_id")),
        known.select(*suspect_key, "billing_npi", pl.col("line_id").alias("other_id")),
    ])  # fmt: skip
    suspect = (
        known.join(exact, on="line_id", how="anti")
        .select("line_id", *suspect_key, "billing_npi")
        .join(others, on=suspect_key, how="inner", suffix="_other")
        .filter(
            (pl.col("billing_npi") != pl.col("billing_npi_other")) & (pl.col("other_id") < pl.col("line_id"))
        )
        .group_by("line_id")
        .agg(pl.col("other_id").min())
    )
    return pl.concat([
        _findings(exact, "duplicate", "deny", "18", "", pl.format("exact duplicate of line {}", pl.col("first_id"))),
        _findings(suspect, "duplicate", "pend", "", "",
                  pl.format("suspect duplicate of line {} (same member, code and date, another provider)",
                            pl.col("other_id"))),
    ])  # fmt: skip


def timely_filing(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Received more than the contract's timely-filing days after the date of service: CARC 29."""
    late = lines.filter(
        pl.col("timely_filing_days").is_not_null()
        & ((pl.col("received_on") - pl.col("service_to")).dt.total_days() > pl.col("timely_filing_days"))
    )
    return _findings(late, "timely_filing", "deny", "29", "",
                     pl.format("received {} days after the service; the limit is {}",
                               (pl.col("received_on") - pl.col("service_to")).dt.total_days(),
                               pl.col("timely_filing_days")))  # fmt: skip


def code_edits(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Procedure-to-procedure and medically-unlikely-units findings, computed by the edits engine."""
    if ctx.edits is None:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    found = conform(ctx.edits, FINDING_SCHEMA, "edits").filter(pl.col("outcome").is_in(["deny", "pend"]))
    return found.join(lines.select("line_id"), on="line_id", how="semi")


def pricing(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """A line no fee schedule prices pends (an examiner prices it or adds the rate)."""
    unpriced = lines.filter(pl.col("allowed_cents").is_null())
    return _findings(unpriced, "pricing", "pend", "", "",
                     pl.format("no fee schedule prices {} on {}", pl.coalesce(pl.col("code"), pl.col("revenue_code")),
                               pl.col("service_from")))  # fmt: skip


Rule = Callable[[pl.DataFrame, Context], pl.DataFrame]
RULES: tuple[tuple[str, Rule], ...] = (
    ("eligibility", eligibility),
    ("provider", provider_status),
    ("dofr", dofr),
    ("authorization", authorization),
    ("code_edits", code_edits),
    ("duplicate", duplicates),
    ("timely_filing", timely_filing),
    ("pricing", pricing),
)
"""The rule pack, in the order a denial is chosen: the first rule that denies a line gives its reason."""


def _cost_share(lines: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """line_id -> cost_share_cents: the copay, then the coinsurance percent of what is left, never more than
    the allowed amount."""
    shares = conform(ctx.cost_shares, COST_SHARE_SCHEMA, "cost shares")
    found = (
        lines.select("line_id", "product_id", "category", "service_from", "allowed_cents")
        .join(shares, on=["product_id", "category"], how="inner")
        .filter(in_force(pl.col("service_from")))
        .group_by("line_id")
        .agg(pl.col("allowed_cents").first(), pl.col("copay_cents").max(), pl.col("coinsurance_milli").max())
    )
    copay = pl.min_horizontal(pl.col("copay_cents"), pl.col("allowed_cents"))
    rest = pl.col("allowed_cents") - copay
    coinsurance = pl.min_horizontal(half_up(rest, pl.col("coinsurance_milli"), 100_000), rest)
    return found.select(
        "line_id",
        (copay + coinsurance).alias("cost_share_cents"),
        copay.alias("copay_cents"),
        coinsurance.alias("coinsurance_cents"),
    )


def adjudicate(
    lines: pl.DataFrame, ctx: Context, *, rules: tuple[tuple[str, Rule], ...] = RULES
) -> Adjudication:
    """Decide every line (see the module's docstring)."""
    lines = conform(lines, LINE_SCHEMA, "lines")
    if lines["line_id"].n_unique() != lines.height:
        raise EngineInputError("lines: line_id is not unique")
    prices = conform(ctx.prices, PRICE_SCHEMA, "prices")
    enriched = enrich(lines, ctx).join(prices, on="line_id", how="left")
    order = {name: i for i, (name, _rule) in enumerate(rules)}
    found = [rule(enriched, ctx) for _name, rule in rules]
    findings = pl.concat([conform(f, FINDING_SCHEMA, "findings") for f in found]) if found else pl.DataFrame(
        schema=FINDING_SCHEMA
    )  # fmt: skip
    ranked = findings.with_columns(
        pl.col("rule").replace_strict(order, default=len(order), return_dtype=pl.Int32).alias("rank"),
        (pl.col("outcome") == "pend").cast(pl.Int32).alias("pend_rank"),
    )
    decided = (
        # ties (two code edits on one line, say) broken by code and text, so a run decides alike every time
        ranked.sort(["line_id", "pend_rank", "rank", "carc", "rarc", "message"], nulls_last=True)
        .group_by("line_id", maintain_order=True)
        .agg(pl.col("outcome").first().alias("finding"), pl.col("carc").first(), pl.col("rarc").first(),
             pl.col("message").first())
    )  # fmt: skip
    out = enriched.join(decided, on="line_id", how="left")
    payable = out.filter(pl.col("finding").is_null())
    shares = _cost_share(payable, ctx)
    out = out.join(shares, on="line_id", how="left").with_columns(
        pl.when(pl.col("finding") == "deny").then(pl.lit("denied"))
        .when(pl.col("finding") == "pend").then(pl.lit("pended"))
        .otherwise(pl.lit("paid")).alias("outcome"),
    )  # fmt: skip
    paid = pl.col("outcome") == "paid"
    out = out.with_columns(
        pl.when(paid).then(pl.col("cost_share_cents").fill_null(0)).otherwise(0).alias("cost_share_cents"),
        pl.when(paid).then(pl.col("copay_cents").fill_null(0)).otherwise(0).alias("copay_cents"),
        pl.when(paid).then(pl.col("coinsurance_cents").fill_null(0)).otherwise(0).alias("coinsurance_cents"),
        pl.when(pl.col("finding") == "pend")
        .then(pl.col("message"))
        .otherwise(pl.lit(""))
        .alias("pend_reason"),
        pl.when(pl.col("finding") == "deny").then(pl.col("carc")).otherwise(pl.lit("")).alias("carc"),
        pl.when(pl.col("finding") == "deny").then(pl.col("rarc")).otherwise(pl.lit("")).alias("rarc"),
    ).with_columns(
        pl.when(paid)
        .then(pl.col("allowed_cents") - pl.col("cost_share_cents"))
        .otherwise(0)
        .alias("paid_cents"),
    )
    return Adjudication(conform(out, RESULT_SCHEMA, "result"), findings.select(list(FINDING_SCHEMA)))


def empty(schema: Schema) -> pl.DataFrame:
    """An empty frame of ``schema`` (a context part with nothing in it)."""
    return pl.DataFrame(schema=schema)
