"""The demo's ESRD members (ADR 0018): about 0.5% of the adult members, most on dialysis, a few with a
functioning graft, one or two with a kidney transplant 1-3 months before February 1; their claims carry the ESRD
or transplant diagnoses. Without a database."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
import pytest

from openipa.core.months import Month
from openipa.demo.engine import DemoData, generate
from openipa.demo.engine.claims import (
    claim_members,
    claim_providers,
    esrd_kind,
    esrd_member_fields,
    plan_claims,
)
from openipa.risk.services import graft_months

SEED = 42
AS_OF = Month(2026, 11)
TODAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(seed=SEED, members=25_000, as_of=AS_OF)


def _ma(data: DemoData) -> set[int]:
    ma_products = {p.code for p in data.products if p.line_of_business == "medicare_advantage"}
    return {e.member for e in data.eligibility if e.product_code in ma_products}


def test_a_realistic_handful_of_ma_members_have_esrd(data: DemoData) -> None:
    start = data.first_month.first_day
    ma = _ma(data)
    found = {i: esrd_member_fields(SEED, m.payer_member_id, m.date_of_birth, start, TODAY)
             for i, m in enumerate(data.members) if i in ma}  # fmt: skip
    esrd = {i: f for i, f in found.items() if f is not None}
    assert 0.003 * len(ma) <= len(esrd) <= 0.009 * len(ma)
    kinds = Counter(esrd_kind(SEED, data.members[i].payer_member_id, data.members[i].date_of_birth, start)
                    for i in esrd)  # fmt: skip
    assert kinds["dialysis"] > 10 * (kinds["graft"] + kinds["transplant"]) / 2
    assert 1 <= kinds["graft"] <= 5
    assert 1 <= kinds["transplant"] <= 3
    # everyone ESRD by the original or current reason for entitlement
    assert all(f[1] == "2" for f in esrd.values())
    assert {f[0] for f in esrd.values()} == {"0", "2"}
    # the recent transplants are months 2-3 for payment year 2026 (before February 1, never after today)
    dates = pl.DataFrame({"d": [f[2] for f in esrd.values() if f[2] is not None]}, schema={"d": pl.Date})
    months = dates.select(graft_months(pl.col("d"), 2026).alias("m"))["m"].to_list()
    recent = [m for m in months if m <= 3]
    assert len(recent) == kinds["transplant"]
    assert all(m in (2, 3) for m in recent)
    assert all(m >= 5 for m in months if m > 3)  # the grafts: a year or more before today
    assert all(d <= TODAY for d in dates["d"])
    # deterministic: the same seed gives the same members, another seed others
    assert esrd == {i: esrd_member_fields(SEED, data.members[i].payer_member_id, data.members[i].date_of_birth,
                                          start, TODAY) for i in esrd}  # fmt: skip
    other = {i for i in ma if esrd_member_fields(SEED + 1, data.members[i].payer_member_id,
                                                 data.members[i].date_of_birth, start, TODAY)}  # fmt: skip
    assert other != set(esrd)


def test_children_are_never_esrd_members_here() -> None:
    keys = [f"K{i:05d}" for i in range(5000)]
    assert not any(esrd_kind(SEED, k, dt.date(2015, 1, 1), dt.date(2025, 12, 1)) for k in keys)
    assert any(esrd_kind(SEED, k, dt.date(1950, 1, 1), dt.date(2025, 12, 1)) for k in keys)


def test_the_esrd_members_claims_carry_the_esrd_diagnoses(data: DemoData) -> None:
    start = data.first_month.first_day
    providers = claim_providers(data, SEED)
    codes: dict[str, set[str]] = {}
    for month in Month.range(data.first_month, Month(2026, 4)):
        members = claim_members(data, month)
        plan = plan_claims(seed=SEED, month=month, members=members, providers=providers, payers=data.payers)
        for c in plan.claim837s:
            key = c.subscriber.person.member_id
            codes.setdefault(key, set()).update(d.code for d in c.diagnoses)
    by_key = {m.payer_member_id: m for m in data.members}
    dialysis = [k for k, m in by_key.items() if esrd_kind(SEED, k, m.date_of_birth, start) == "dialysis"]
    graft = [k for k, m in by_key.items() if esrd_kind(SEED, k, m.date_of_birth, start) == "graft"]
    covered = [k for k in dialysis if k in codes]
    assert covered
    assert all({"N186", "Z992"} <= codes[k] for k in covered)
    assert all("Z940" in codes[k] for k in graft if k in codes)
