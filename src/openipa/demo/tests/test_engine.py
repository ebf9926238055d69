"""The pure demo generator: deterministic, valid identifiers, plausible populations, panels respected."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections import Counter, defaultdict

import pytest

from openipa.core.identifiers import is_valid_mbi, is_valid_npi, is_valid_tin
from openipa.core.months import Month, age_on, member_months
from openipa.demo.engine import DemoData, generate

AS_OF = Month(2026, 3)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=11, members=6000, as_of=AS_OF)


def _ages(data: DemoData, payer: str) -> list[int]:
    on = AS_OF.first_day
    return [age_on(m.date_of_birth, on) for m in data.members if m.payer_code == payer]


def test_the_same_seed_gives_identical_data() -> None:
    first = generate(seed=7, members=1500, as_of=AS_OF)
    second = generate(seed=7, members=1500, as_of=AS_OF)
    assert first == second
    assert first.fingerprint() == second.fingerprint()


def test_different_seeds_give_different_data() -> None:
    first = generate(seed=7, members=500, as_of=AS_OF)
    second = generate(seed=8, members=500, as_of=AS_OF)
    assert first.fingerprint() != second.fingerprint()
    assert {p.tin for p in first.practices}.isdisjoint({p.tin for p in second.practices})


def test_it_leaves_the_global_random_generator_alone() -> None:
    random.seed(1234)
    state = random.getstate()
    generate(seed=3, members=300, as_of=AS_OF)
    assert random.getstate() == state


def test_the_default_network_has_40_practices_and_150_providers_in_the_planned_mix(data: DemoData) -> None:
    assert len(data.practices) == 40
    assert len(data.providers) == 150
    kinds = Counter(p.kind for p in data.providers)
    assert kinds["pcp"] == 90  # 60%
    assert 35 <= kinds["specialist"] <= 40  # ~25%
    assert kinds["behavioral"] == 15  # 10%
    assert 3 <= kinds["social"] <= 10
    assert kinds["facility"] == 1  # the FQHC
    assert {p.code for p in data.payers} == {"SUNMA", "GOLDMC", "PACHMO"}


def test_every_npi_tin_and_mbi_is_valid_and_unique(data: DemoData) -> None:
    npis = [p.npi for p in data.providers]
    tins = [p.tin for p in data.practices]
    mbis = [m.mbi for m in data.members if m.mbi]
    assert all(is_valid_npi(n) for n in npis)
    assert all(is_valid_tin(t) for t in tins)
    assert all(is_valid_mbi(m) for m in mbis)
    assert len(set(npis)) == len(npis)
    assert len(set(tins)) == len(tins)
    assert len(set(mbis)) == len(mbis)
    assert all(m.mbi for m in data.members if m.payer_code == "SUNMA")
    ids = [(m.payer_code, m.payer_member_id) for m in data.members]
    assert len(set(ids)) == len(ids)


def test_routing_numbers_pass_the_aba_checksum(data: DemoData) -> None:
    for practice in data.practices:
        digits = [int(d) for d in practice.bank_routing_number]
        assert len(digits) == 9
        assert sum(d * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


def test_practices_are_californian_with_unique_codes_and_names(data: DemoData) -> None:
    assert all(p.state == "CA" and p.zip_code[:1] == "9" for p in data.practices)
    assert len({p.code for p in data.practices}) == 40
    assert len({p.legal_name for p in data.practices}) == 40
    # Practices with a PCP panel come first, so `practice-01` has members to show.
    assert data.practices[0].category in {"primary_care", "multispecialty", "fqhc"}


def test_medicare_advantage_members_are_mostly_65_and_over(data: DemoData) -> None:
    ages = _ages(data, "SUNMA")
    share_65 = sum(a >= 65 for a in ages) / len(ages)
    assert 0.8 <= share_65 <= 0.97  # the rest are under-65 disabled
    assert min(ages) >= 18


def test_medicaid_has_many_children_and_commercial_stays_under_65(data: DemoData) -> None:
    medicaid = _ages(data, "GOLDMC")
    children = sum(a < 21 for a in medicaid) / len(medicaid)
    assert 0.35 <= children <= 0.6
    commercial = _ages(data, "PACHMO")
    assert max(commercial) <= 64
    assert 0.15 <= sum(a < 18 for a in commercial) / len(commercial) <= 0.4  # families


def test_each_payer_has_a_plausible_sex_mix(data: DemoData) -> None:
    for payer in ("SUNMA", "GOLDMC", "PACHMO"):
        members = [m for m in data.members if m.payer_code == payer]
        female = sum(m.sex == "F" for m in members) / len(members)
        assert 0.45 <= female <= 0.62, payer


def test_members_split_about_30_40_30_across_payers(data: DemoData) -> None:
    counts = Counter(m.payer_code for m in data.members)
    assert counts == {"SUNMA": 1800, "GOLDMC": 2400, "PACHMO": 1800}


def test_eligibility_changes_in_the_12_months_ending_with_the_as_of_month(data: DemoData) -> None:
    """Every start and end inside the window, except a member's first span, which may have begun up to six
    years before it (rounded back to a January 1st for annual enrollment): the payer's enrollment history."""
    start, end = (AS_OF - 11).first_day, AS_OF.last_day
    earliest = Month((AS_OF - 11 - 72).year, 1).first_day
    products = {p.code: p.payer_code for p in data.products}
    first_span: dict[int, dt.date] = {}
    for span in data.eligibility:
        first_span[span.member] = min(span.valid_from, first_span.get(span.member, span.valid_from))
    for span in data.eligibility:
        if span.valid_from < start:
            assert span.valid_from == first_span[span.member]
            assert earliest <= span.valid_from
            assert span.valid_from >= data.members[span.member].date_of_birth
        else:
            assert span.valid_from <= end
        assert span.valid_to is None or start <= span.valid_to <= end
        assert span.valid_to is None or span.valid_from <= span.valid_to
        assert products[span.product_code] == data.members[span.member].payer_code
    assert {s.member for s in data.eligibility} == set(range(len(data.members)))
    deaths = [m.date_of_death for m in data.members if m.date_of_death is not None]
    assert deaths
    assert all(start <= d <= end for d in deaths)


def test_most_members_covered_at_the_start_were_covered_for_years(data: DemoData) -> None:
    start = (AS_OF - 11).first_day
    first_span: dict[int, dt.date] = {}
    for span in data.eligibility:
        first_span[span.member] = min(span.valid_from, first_span.get(span.member, span.valid_from))
    at_start = [d for d in first_span.values() if d <= start]
    before = [d for d in at_start if d < start]
    assert 0.95 <= len(before) / len(at_start) < 1  # the rest began on the window's first day
    two_years = sum(d <= dt.date(start.year - 2, start.month, 1) for d in at_start) / len(at_start)
    assert 0.35 <= two_years <= 0.75
    assert sum(d.month == 1 and d.day == 1 for d in before) / len(before) >= 0.25  # annual enrollment
    assert len(at_start) < len(first_span)  # and some members are new in the window


def test_a_pcp_span_before_the_window_starts_once_the_pcp_takes_the_ipa_members(data: DemoData) -> None:
    start = (AS_OF - 11).first_day
    contract_start = min(c.valid_from for c in data.contracts)
    affiliated = {(a.provider_npi, a.practice_code): a.valid_from for a in data.affiliations}
    first_cov: dict[int, dt.date] = {}
    for span in data.eligibility:
        first_cov[span.member] = min(span.valid_from, first_cov.get(span.member, span.valid_from))
    early = [a for a in data.pcp_assignments if a.valid_from < start]
    assert len(early) > 0.5 * len(data.members)
    for a in early:
        assert a.valid_from >= max(first_cov[a.member], contract_start)
        assert a.valid_from >= affiliated[(a.provider_npi, a.practice_code)]


def test_member_months_vary_from_month_to_month(data: DemoData) -> None:
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for span in data.eligibility:
        spans[span.member].append((span.valid_from, span.valid_to))
    totals: Counter[Month] = Counter()
    for member_spans in spans.values():
        totals.update(member_months(member_spans, AS_OF - 11, AS_OF))
    values = [totals[m] for m in Month.range(AS_OF - 11, AS_OF)]
    assert len(set(values)) > 6
    assert min(values) > 0.75 * len(data.members)
    assert max(values) < len(data.members)
    gaps = sum(1 for s in spans.values() if len(s) > 1)
    assert gaps > 0


def test_pcp_assignments_go_to_pcps_at_their_practice_within_eligibility(data: DemoData) -> None:
    providers = {p.npi: p for p in data.providers}
    affiliated = {(a.provider_npi, a.practice_code) for a in data.affiliations}
    contracts = {c.number: c.payer_code for c in data.contracts}
    joined = {(p.practice_code, contracts[p.contract_number]) for p in data.participations}
    spans: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for span in data.eligibility:  # in date order per member; a product switch leaves no gap: merge
        end = span.valid_to or dt.date.max
        merged = spans[span.member]
        if merged and merged[-1][1] + dt.timedelta(days=1) == span.valid_from:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((span.valid_from, end))
    for a in data.pcp_assignments:
        assert providers[a.provider_npi].kind == "pcp"
        assert (a.provider_npi, a.practice_code) in affiliated
        assert (a.practice_code, data.members[a.member].payer_code) in joined
        end = a.valid_to or dt.date.max
        assert any(s <= a.valid_from and end <= e for s, e in spans[a.member])
    assigned = {a.member for a in data.pcp_assignments}
    assert len(assigned) >= 0.99 * len(data.members)


def test_some_members_change_pcp_and_spans_of_one_member_do_not_overlap(data: DemoData) -> None:
    by_member: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for a in data.pcp_assignments:
        by_member[a.member].append((a.valid_from, a.valid_to or dt.date.max))
    changed = 0
    for spans in by_member.values():
        spans.sort()
        changed += len(spans) > 1
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end < start
    assert changed > 0.03 * len(by_member)


def test_panel_limits_hold_at_every_moment(data: DemoData) -> None:
    limits = {p.npi: p.panel_limit for p in data.providers if p.kind == "pcp"}
    assert all(limit is not None and limit > 0 for limit in limits.values())
    members: dict[str, set[int]] = defaultdict(set)
    for a in data.pcp_assignments:
        members[a.provider_npi].add(a.member)
    # Every member ever assigned counts against the limit, which bounds the panel on any day.
    for npi, panel in members.items():
        limit = limits[npi]
        assert limit is not None
        assert len(panel) <= limit


def test_full_size_panels_are_realistic_and_some_are_closed() -> None:
    data = generate(seed=5, members=25_000, as_of=AS_OF)
    members: dict[str, set[int]] = defaultdict(set)
    for a in data.pcp_assignments:
        members[a.provider_npi].add(a.member)
    pcps = [p for p in data.providers if p.kind == "pcp"]
    sizes = sorted(len(members[p.npi]) for p in pcps)
    assert 150 <= sizes[len(sizes) // 2] <= 450  # median capitated panel
    assert all(len(members[p.npi]) <= (p.panel_limit or 0) for p in pcps)
    assert any(not p.accepting_new_patients for p in pcps)


def test_every_product_rate_table_prices_every_age_and_sex_exactly_once(data: DemoData) -> None:
    assert len(data.terms) == 6  # two yearly versions per contract
    for term in data.terms:
        products = {c.product_code for c in term.rate_cells}
        for product in products:
            cells = [c for c in term.rate_cells if c.product_code == product]
            for age in range(0, 121):
                for sex in ("F", "M"):
                    matches = [c for c in cells if c.age_min <= age <= c.age_max and c.sex in (sex, "U")]
                    assert len(matches) == 1, (term.contract_number, product, age, sex)
        assert 12 <= len(term.dofr) <= 16


def test_pmpm_rates_are_in_realistic_ranges(data: DemoData) -> None:
    current = [t for t in data.terms if t.valid_to is None]
    lob = {p.code: p.line_of_business for p in data.products}
    for term in current:
        for cell in term.rate_cells:
            dollars = cell.pmpm_cents / 100
            if lob[cell.product_code] == "medicare_advantage":
                assert 180 <= dollars <= 420
            elif lob[cell.product_code] == "medicaid":
                assert 12 <= dollars <= 60
            else:
                assert 30 <= dollars <= 70


def test_term_versions_of_a_contract_do_not_overlap(data: DemoData) -> None:
    by_contract: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for term in data.terms:
        by_contract[term.contract_number].append((term.valid_from, term.valid_to or dt.date.max))
    for versions in by_contract.values():
        versions.sort()
        assert versions[0][1] < versions[1][0]
        assert versions[1][0] == dt.date(AS_OF.year, 1, 1)


def test_the_records_are_frozen(data: DemoData) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.members[0].first_name = "Changed"  # type: ignore[misc]


def test_a_negative_member_count_is_refused() -> None:
    with pytest.raises(ValueError, match="members"):
        generate(seed=1, members=-1, as_of=AS_OF)
