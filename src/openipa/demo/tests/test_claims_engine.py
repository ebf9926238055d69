"""The demo's claims and fee files, without a database: deterministic, realistic volume, balanced claims that
round-trip through write_837/read_837, the noise adjudication should find, and fee files the real CMS readers
read and price."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from openipa.claims.engine import adjudicate
from openipa.claims.engine.pricing import (
    CONTRACT_TERM_SCHEMA,
    CONVERSION_FACTOR_SCHEMA,
    LINE_SCHEMA,
    price_lines,
)
from openipa.contracts.engine.rbrvs import read_gpci_file, read_rvu_file
from openipa.core.months import Month
from openipa.demo.engine import DemoData, fees, generate
from openipa.demo.engine.claims import (
    ADVANCED_IMAGING,
    LATE_DAYS,
    NOISE_KINDS,
    STOP_LOSS_ATTACHMENT_CENTS,
    ClaimMember,
    ClaimMonth,
    ClaimProvider,
    claim_members,
    claim_providers,
    is_high_cost,
    plan_claims,
)
from openipa.edi.t837 import INSTITUTIONAL, PROFESSIONAL, Claim837, read_837, write_837

SEED = 7
AS_OF = Month(2026, 10)
MEMBERS = 6000


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=SEED, members=MEMBERS, as_of=AS_OF)


@pytest.fixture(scope="module")
def providers(data: DemoData) -> list[ClaimProvider]:
    return claim_providers(data, SEED)


@pytest.fixture(scope="module")
def year(data: DemoData, providers: list[ClaimProvider]) -> list[tuple[list[ClaimMember], ClaimMonth]]:
    """Twelve months, each month's claims on file (numbered as an import would) before the next."""
    earlier: list[tuple[str, Claim837]] = []
    out = []
    for month in Month.range(data.first_month, data.as_of):
        members = claim_members(data, month)
        plan = plan_claims(
            seed=SEED, month=month, members=members, providers=providers, payers=data.payers, earlier=earlier
        )
        base = 100_000 + len(earlier)
        earlier.extend((str(base + n), c) for n, c in enumerate(plan.claim837s))
        out.append((members, plan))
    return out


def _earlier(year: list[tuple[list[ClaimMember], ClaimMonth]]) -> dict[str, Claim837]:
    numbers: dict[str, Claim837] = {}
    for _members, plan in year:
        for c in plan.claim837s:
            numbers[str(100_000 + len(numbers))] = c
    return numbers


def test_deterministic_for_a_seed(data: DemoData, providers: list[ClaimProvider]) -> None:
    month = AS_OF
    members = claim_members(data, month)

    def run(seed: int) -> ClaimMonth:
        return plan_claims(seed=seed, month=month, members=members, providers=providers, payers=data.payers)

    a, b = run(SEED), run(SEED)
    assert a.claims == b.claims
    assert a.noise == b.noise
    assert a.authorizations == b.authorizations
    assert claim_providers(data, SEED) == providers
    other = run(SEED + 1)
    assert other.claim837s != a.claim837s


def test_volume_per_member_year(year: list[tuple[list[ClaimMember], ClaimMonth]]) -> None:
    member_months = sum(len(members) for members, _plan in year)
    lines = sum(plan.lines for _members, plan in year)
    per_year = lines / member_months * 12
    assert 6.5 <= per_year <= 9.5, per_year
    # specialist- and lab-heavy: more lines from specialists and the lab than from PCPs
    kinds: Counter[str] = Counter()
    for _members, plan in year:
        for p in plan.claims:
            kinds[p.claim.billing_provider.taxonomy] += len(p.claim.lines)
    pcp_taxonomies = {"207Q00000X", "207R00000X", "208000000X", "207QG0300X", "363LF0000X", "363LP0200X",
                      "363A00000X"}  # fmt: skip
    pcp_lines = sum(n for t, n in kinds.items() if t in pcp_taxonomies)
    assert pcp_lines < lines - pcp_lines
    assert kinds["291U00000X"] > 0.15 * lines  # the reference lab


def test_claims_balance_and_point_at_their_diagnoses(
    year: list[tuple[list[ClaimMember], ClaimMonth]],
) -> None:
    counts: Counter[int] = Counter()
    for _members, plan in year:
        for p in plan.claims:
            c = p.claim
            assert c.total_charge_cents == sum(ln.charge_cents for ln in c.lines) > 0
            assert 1 <= len(c.diagnoses) <= 4
            assert [d.order for d in c.diagnoses] == list(range(1, len(c.diagnoses) + 1))
            assert c.diagnoses[0].qualifier == "ABK"
            assert all(ln.charge_cents > 0 and ln.units > 0 for ln in c.lines)
            if c.kind == PROFESSIONAL:
                counts[len(c.lines)] += 1
                assert 1 <= len(c.lines) <= 6
                for ln in c.lines:
                    assert ln.diagnosis_pointers
                    assert all(1 <= n <= len(c.diagnoses) for n in ln.diagnosis_pointers)
                    assert ln.diagnoses == tuple(c.diagnoses[n - 1] for n in ln.diagnosis_pointers)
                    assert ln.procedure_code in fees.CODES
            else:
                assert c.facility_type in ("11", "13")
                assert all(ln.revenue_code for ln in c.lines)
                assert c.statement_from is not None
                assert c.statement_to is not None
                assert c.statement_from <= c.statement_to
    assert set(counts) >= {1, 2, 3, 4}  # a spread of claim sizes


def test_received_in_the_month_and_services_within_coverage(
    year: list[tuple[list[ClaimMember], ClaimMonth]],
) -> None:
    for members, plan in year:
        by_key = {m.key: m for m in members}
        for p in plan.claims:
            assert plan.month.first_day <= p.received <= plan.month.last_day
            assert p.claim.transaction.created == p.received
            days = [ln.service_date for ln in p.claim.lines if ln.service_date is not None]
            assert max(days) <= p.received
            if p.noise in ("ineligible", "late", "replacement", "void"):
                continue
            m = by_key[p.claim.subscriber.person.member_id]
            assert all(m.covered_from <= d and (m.covered_to is None or d <= m.covered_to) for d in days)
            if not p.noise:
                last = max([*days, *([p.claim.statement_to] if p.claim.statement_to else [])])
                assert 2 <= (p.received - last).days <= 30


def test_noise_is_what_adjudication_should_find(year: list[tuple[list[ClaimMember], ClaimMonth]]) -> None:
    numbers = _earlier(year)
    totals: Counter[str] = Counter()
    for members, plan in year:
        by_key = {m.key: m for m in members}
        assert set(plan.noise) == set(NOISE_KINDS)
        assert Counter(p.noise for p in plan.claims if p.noise) == +Counter(plan.noise)
        totals.update(plan.noise)
        first_line = Counter(
            (
                p.claim.subscriber.person.member_id,
                p.claim.lines[0].procedure_code,
                p.claim.lines[0].service_date,
            )
            for p in plan.claims
        )
        claims = plan.claim837s
        for p in plan.claims:
            c = p.claim
            days = [ln.service_date for ln in c.lines if ln.service_date is not None]
            if p.noise == "exact_duplicate":
                same = [
                    o for o in claims if o is not c and dataclasses.replace(o, transaction=c.transaction) == c
                ]
                assert same
            elif p.noise == "suspect_duplicate":
                key = (c.subscriber.person.member_id, c.lines[0].procedure_code, c.lines[0].service_date)
                assert first_line[key] >= 2
            elif p.noise == "late":
                assert (p.received - max(days)).days >= LATE_DAYS[0] > 90
            elif p.noise == "ineligible":
                m = by_key[c.subscriber.person.member_id]
                assert all(
                    d < m.covered_from or (m.covered_to is not None and d > m.covered_to) for d in days
                )
            elif p.noise == "unauthorized":
                assert c.lines[0].procedure_code in ADVANCED_IMAGING
                assert not c.prior_authorization
            elif p.noise in ("replacement", "void"):
                assert c.frequency_code == ("7" if p.noise == "replacement" else "8")
                original = numbers[c.payer_claim_control_number]
                assert original.billing_provider == c.billing_provider
                assert original.transaction.created is not None
                assert original.transaction.created < plan.month.first_day
                if p.noise == "void":
                    assert c.lines == original.lines
                else:
                    assert c.lines != original.lines
            elif p.noise == "facility":
                assert c.kind == INSTITUTIONAL
        # every advanced imaging claim but the unauthorized ones names an authorization the demo approves
        approved = {(a.number, a.member_key, a.code) for a in plan.authorizations}
        for p in plan.claims:
            c = p.claim
            if (
                c.kind == PROFESSIONAL
                and c.lines[0].procedure_code in ADVANCED_IMAGING
                and p.noise != "unauthorized"
            ):
                if p.noise in ("replacement", "void", "exact_duplicate"):
                    continue
                assert (
                    c.prior_authorization,
                    c.subscriber.person.member_id,
                    c.lines[0].procedure_code,
                ) in approved
    for kind in NOISE_KINDS:
        assert totals[kind] > 0, kind
    # a replaced or voided claim is never named twice
    named = [
        p.claim.payer_claim_control_number
        for _m, plan in year
        for p in plan.claims
        if p.claim.frequency_code in "78"
    ]
    assert len(named) == len(set(named))


def test_high_cost_members_cross_the_attachment_point(
    data: DemoData, year: list[tuple[list[ClaimMember], ClaimMonth]]
) -> None:
    charges: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for members, plan in year:
        for m in members:
            if is_high_cost(SEED, m):
                months[m.key] += 1
        assert set(plan.high_cost_members) <= {m.key for m in members if is_high_cost(SEED, m)}
        for p in plan.claims:
            if p.noise == "high_cost" and p.claim.kind == PROFESSIONAL:
                charges[p.claim.subscriber.person.member_id] += p.claim.total_charge_cents
    long_cases = [k for k, n in months.items() if n >= 8]  # covered eight months of the year or more
    assert long_cases
    for key in long_cases:
        assert charges[key] > STOP_LOSS_ATTACHMENT_CENTS, (key, charges[key])
    ordinary = Counter[str]()
    for _members, plan in year:
        for p in plan.claims:
            if not p.noise:
                ordinary[p.claim.subscriber.person.member_id] += p.claim.total_charge_cents
    assert max(ordinary.values()) < STOP_LOSS_ATTACHMENT_CENTS  # only the catastrophic cases cross it


def test_write_837_then_read_837_round_trips_a_month(
    year: list[tuple[list[ClaimMember], ClaimMonth]],
) -> None:
    _members, plan = year[-1]
    written = 0
    for day, kind, claims in plan.files():
        out = io.BytesIO()
        assert write_837(
            out, claims, sender="DEMOCH01", receiver="OPENIPA", when=dt.datetime(2026, 11, 1)
        ) == len(claims)
        back = list(read_837(out.getvalue()))
        assert back == claims, (day, kind)
        assert all(c.transaction.created == day and c.kind == kind for c in claims)
        written += len(claims)
    assert written == len(plan.claims)
    assert {kind for _day, kind, _c in plan.files()} == {PROFESSIONAL, INSTITUTIONAL}


def test_needs_a_lab_and_a_facility(data: DemoData, providers: list[ClaimProvider]) -> None:
    members = claim_members(data, AS_OF)
    with pytest.raises(ValueError, match="'lab'"):
        plan_claims(seed=SEED, month=AS_OF, members=members, payers=data.payers,
                    providers=[p for p in providers if p.kind != "lab"])  # fmt: skip
    with pytest.raises(ValueError, match="payer"):
        plan_claims(seed=SEED, month=AS_OF, members=members, providers=providers, payers=data.payers[:1])


def test_support_organizations_have_their_own_identifiers(
    data: DemoData, providers: list[ClaimProvider]
) -> None:
    network = {p.npi for p in data.providers}
    support = [p for p in providers if p.practice_code.startswith("SUPPORT")]
    assert len(support) == len(fees_support := {p.npi for p in support}) == 7
    assert not fees_support & network
    assert {p.kind for p in support} == {"lab", "specialist", "facility"}


# ------------------------------------------------------------------------------------------------- fees


def test_fee_files_read_and_price_the_demos_codes(
    tmp_path: Path, year: list[tuple[list[ClaimMember], ClaimMonth]]
) -> None:
    rvu_path = fees.write_rvu_file(tmp_path / "PPRRVU_DEMO.csv", SEED)
    gpci_path = fees.write_gpci_file(tmp_path / "GPCI_DEMO.csv")
    jan = dt.date(2025, 1, 1)
    rvus = read_rvu_file(rvu_path, valid_from=jan)
    gpcis = read_gpci_file(gpci_path, valid_from=jan)
    assert 60 <= len(fees.CODES) <= 120
    assert rvus.filter(pl.col("modifier") == "").height == len(fees.CODES)
    assert set(rvus["conversion_factor_e4"].to_list()) == {334009}
    assert gpcis["locality_id"].to_list() == ["0118218", "0118226"]
    assert set(gpcis["state"]) == {"CA"}
    assert fees.DEFAULT_LOCALITY_ID in gpcis["locality_id"].to_list()
    text = rvu_path.read_text()
    assert all(row.split(",")[2] == "" for row in text.splitlines()[4:])  # no descriptions
    # 26 + TC = global, component by component; some bilateral and multiple-procedure indicators
    by = {(r["code"], r["modifier"]): r for r in rvus.iter_rows(named=True)}
    components = [c for c, mod in by if mod == "26"]
    assert len(components) >= 10
    for code in components:
        for column in ("work_rvu_centi", "pe_nonfacility_rvu_centi", "pe_facility_rvu_centi", "mp_rvu_centi"):
            assert by[(code, "26")][column] + by[(code, "TC")][column] == by[(code, "")][column]
    assert rvus.filter(pl.col("bilat_surg") == 1).height >= 3
    assert rvus.filter(pl.col("mult_proc") == 2).height >= 10
    assert fees.rvu_rows(SEED) == fees.rvu_rows(SEED) != fees.rvu_rows(SEED + 1)

    # every professional line of the last month prices at 100% of the demo's Medicare
    _members, plan = year[-1]
    rows = [
        {
            "line_id": n,
            "claim_id": k,
            "contract_id": 1,
            "service_date": ln.service_date,
            "code": ln.procedure_code,
            "modifiers": list(ln.modifiers),
            "place_of_service": ln.place_of_service or p.claim.place_of_service,
            "locality_id": fees.DEFAULT_LOCALITY_ID,
            "units": int(ln.units),
            "billed_cents": ln.charge_cents,
        }
        for k, p in enumerate(plan.claims)
        if p.claim.kind == PROFESSIONAL
        for n, ln in enumerate(p.claim.lines, k * 10)
    ]
    priced = price_lines(
        pl.DataFrame(rows, schema=LINE_SCHEMA),
        pl.DataFrame(
            [
                {
                    "term_id": 1,
                    "contract_id": 1,
                    "valid_from": jan,
                    "valid_to": None,
                    "method": "medicare_rbrvs",
                    "percent_milli": None,
                    "cap_at_billed": False,
                }
            ],
            schema=CONTRACT_TERM_SCHEMA,
        ),
        rvus,
        gpcis,
        pl.DataFrame(
            {"valid_from": [jan], "valid_to": [None], "conversion_factor_e4": [334009]},
            schema=CONVERSION_FACTOR_SCHEMA,
        ),
    )
    unpriced = priced.filter(pl.col("allowed_cents").is_null())
    assert unpriced.height == 0, unpriced.select("line_id", "reason").head()
    assert (priced["allowed_cents"] > 0).all()
    # charges are marked up from the fee (1.8x-3.2x): billed is above allowed
    joined = priced.join(
        pl.DataFrame(rows, schema=LINE_SCHEMA).select("line_id", "billed_cents"), on="line_id"
    )
    assert (joined["billed_cents"] >= joined["allowed_cents"]).mean() > 0.95  # type: ignore[operator]


def test_every_generated_line_has_a_category_and_a_payer(
    year: list[tuple[list[ClaimMember], ClaimMonth]],
) -> None:
    rules = pl.DataFrame(
        [{**dataclasses.asdict(r), "category_rule_id": n, "valid_from": None, "valid_to": None}
         for n, r in enumerate(fees.SERVICE_CATEGORIES, 1)],
        schema=adjudicate.CATEGORY_RULE_SCHEMA,
    )  # fmt: skip
    assert set(fees.DOFR) == {r.category for r in fees.SERVICE_CATEGORIES}
    assert set(fees.DOFR.values()) <= {"ipa", "plan", "hospital"}
    _members, plan = year[-1]
    kind_of = {"291U00000X": "lab", "282N00000X": "facility"}
    rows = []
    for k, p in enumerate(plan.claims):
        c = p.claim
        for n, ln in enumerate(c.lines):
            rows.append({
                "line_id": k * 10 + n, "code": ln.procedure_code, "revenue_code": ln.revenue_code,
                "place_of_service": ln.place_of_service or c.place_of_service,
                "provider_kind": kind_of.get(c.billing_provider.taxonomy, "pcp" if c.billing_provider.taxonomy in (
                    "207Q00000X", "207R00000X", "208000000X", "207QG0300X", "363LF0000X", "363LP0200X", "363A00000X",
                ) else "specialist"),
                "service_from": ln.service_date, "institutional": c.kind == INSTITUTIONAL,
            })  # fmt: skip
    lines = pl.DataFrame(rows)
    matched = adjudicate._categories(lines, rules).join(lines, on="line_id")
    assert matched["category"].null_count() == 0
    parties = matched.with_columns(pl.col("category").replace_strict(fees.DOFR).alias("party"))
    # facility claims are the hospital's (denied and forwarded), professional lines the IPA's
    assert set(parties.filter(pl.col("institutional"))["party"]) == {"hospital"}
    assert set(parties.filter(~pl.col("institutional"))["party"]) == {"ipa"}
    imaging = parties.filter(pl.col("code").is_in(sorted(ADVANCED_IMAGING)) & ~pl.col("institutional"))
    assert imaging.height
    assert imaging["requires_authorization"].all()
    er = parties.filter(
        (pl.col("place_of_service") == "23") & pl.col("code").is_between(pl.lit("99281"), pl.lit("99285"))
    )
    assert er.height
    assert er["emergency"].all()
    assert not parties.filter(~pl.col("code").is_in(sorted(ADVANCED_IMAGING)))["requires_authorization"].any()


def test_written_files_validate_with_pyx12(
    year: list[tuple[list[ClaimMember], ClaimMonth]], caplog: pytest.LogCaptureFixture
) -> None:
    """pyx12 (an independent 837 validator) accepts the files of the last month that hold institutional claims,
    replacements or voids, and the first professional ones."""
    document = pytest.importorskip("pyx12.x12n_document")
    params = pytest.importorskip("pyx12.params")
    _members, plan = year[-1]
    files = plan.files()
    special = {
        (p.received, p.claim.kind) for p in plan.claims if p.noise in ("replacement", "void", "facility")
    }
    chosen = [f for f in files if (f[0], f[1]) in special][:6] + [f for f in files if f[1] == PROFESSIONAL][
        :2
    ]
    assert {kind for _day, kind, _claims in chosen} == {PROFESSIONAL, INSTITUTIONAL}
    for day, kind, claims in chosen:
        out = io.BytesIO()
        write_837(out, claims, sender="DEMOCH01", receiver="OPENIPA")
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="pyx12"):
            valid = document.x12n_document(
                params.params(), io.StringIO(out.getvalue().decode("latin-1")), None, None
            )
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert valid, (day, kind, errors[:5])
        assert errors == [], (day, kind)
    # the harness can fail: a broken copy is flagged
    broken = io.StringIO(out.getvalue().decode("latin-1").replace("SBR*P*18", "SBR*Q*18", 1))
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pyx12"):
        document.x12n_document(params.params(), broken, None, None)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR]
