"""What claims adjudication reads from utilization management: the approved services (approved, modified,
deemed approved; never denied, open or withdrawn) and the requirements expanded to products."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openipa.conftest import SmallIpa
from openipa.contracts.models import Product
from openipa.utilization import selectors, services
from openipa.utilization.engine.intake import ServiceInput
from openipa.utilization.models import AuthRequest, AuthRequirement
from openipa.utilization.tests.conftest import at, request_input

pytestmark = pytest.mark.django_db


def test_only_approving_decisions_reach_claims(um: SmallIpa) -> None:
    def submit(code: str) -> AuthRequest:
        data = request_input(services=[ServiceInput(code, 4, dt.date(2026, 3, 10), dt.date(2026, 3, 31))])
        return services.submit_request(
            actor=um.users["ops"], data=data, source="staff", received_at=at("2026-03-02 09:00")
        )

    approved, modified, denied, _open, withdrawn = (
        submit(c) for c in ("93306", "97110", "70553", "72148", "73721")
    )
    md = um.users["md"]
    services.decide(actor=md, request=approved, decision="approve")
    services.decide(actor=md, request=modified, decision="modify", reason="Two visits, then reassess the progress.",
                    criteria="LCD L33631", approved_units={1: Decimal(2)}, approved_to={1: dt.date(2026, 3, 20)})  # fmt: skip
    services.decide(actor=md, request=denied, decision="deny", reason="Conservative treatment not yet tried.",
                    criteria="NCD 220.2")  # fmt: skip
    services.withdraw(actor=um.users["ops"], request=withdrawn, reason="duplicate")
    frame = selectors.approved_authorizations_frame([um.member_a.pk])
    assert sorted(frame.select("code", "units_milli", "valid_to").rows()) == [
        ("93306", 4000, dt.date(2026, 3, 31)),
        ("97110", 2000, dt.date(2026, 3, 20)),
    ]
    assert set(frame["servicing_npi"]) == {"1003000126"}


def test_requirements_expand_to_products(um: SmallIpa) -> None:
    other = Product.objects.create(
        payer=um.payer, code="COMM", name="Sunrise HMO", line_of_business="commercial"
    )
    start = dt.date(2026, 1, 1)
    AuthRequirement.objects.create(
        code_from="70010", code_to="79999", description="imaging", valid_from=start
    )
    AuthRequirement.objects.create(code_from="97110", code_to="97164", description="PT", line_of_business="commercial",
                                   valid_from=start)  # fmt: skip
    AuthRequirement.objects.create(code_from="E0100", code_to="E8002", description="DME", contract=um.contract,
                                   valid_from=start)  # fmt: skip
    rows = sorted(selectors.requirements_frame().select("product_id", "code_from").rows())
    assert rows == sorted([
        (um.product.pk, "70010"), (other.pk, "70010"), (other.pk, "97110"), (um.product.pk, "E0100"),
    ])  # fmt: skip
