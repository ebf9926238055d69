"""The demo's claims year, run through the real services after the rosters (and capitation) are in.

Setup (seed data of the claims world, as an IPA's configuration would be entered once):

- the demo's made-up PPRRVU and GPCI files (``demo.engine.fees``) written under ``var/demo/fees/`` and loaded
  with the real fee-schedule loaders (the conversion factor comes with the RVU file);
- every contract term prices claims at a percent of Medicare (:data:`PERCENT_OF_MEDICARE` by line of
  business) in the demo's Los Angeles locality, with 90 days of timely filing;
- the service-category rules of ``fees.SERVICE_CATEGORIES`` and, for every term, the DOFR of ``fees.DOFR``
  for those categories (replacing the rows of the network's DOFR that name the same services otherwise);
- cost shares (:data:`COST_SHARES`), late-payment interest rules (California's 15% a year after 45 working
  days for commercial and Medi-Cal; Medicare Advantage's 30 calendar days at a made-up Treasury rate);
- the organizations the claims come from that the network does not have (``claims.SUPPORT_ORGANIZATIONS``:
  a lab, imaging, ER, hospitalist and oncology groups, two hospitals) as contracted practices;
- one specific stop-loss policy for the year (:data:`STOP_LOSS_ATTACHMENT`).

Then, month by month: the approved authorizations the month's imaging claims name are recorded, the month's
837 files (one per week and kind, as a clearinghouse batches them) are written under ``var/demo/claims/<YYYY-MM>/`` and imported in
order with their received dates, and the waiting lines adjudicated. For every month but the last, finance
prepares the payment run through the month's end, the second finance login approves it, and it is paid by a
NACHA file under ``var/demo/claims-payments/``. The last month is adjudicated and left for a new user to pay.

The demo is history built today: adjudication stamps its lines with the current time, and a payment run
picks the lines adjudicated by its through date, so each month's decided lines are dated (``adjudicated_at``)
on the month's last day at noon, as if they had been adjudicated then.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from openipa.accounts.models import User
from openipa.claims.models import (
    AdjudicationRun,
    Claim,
    ClaimImport,
    ClaimLine,
    InterestRule,
    StopLossPolicy,
)
from openipa.claims.services.adjudication import adjudicate_waiting
from openipa.claims.services.intake import import_claims
from openipa.claims.services.payments import RunRefused, approve_run, pay_run, prepare_run
from openipa.contracts.models import (
    ContractTerm,
    CostShare,
    DofrEntry,
    LineOfBusiness,
    Product,
    ServiceCategoryRule,
)
from openipa.contracts.services.fees import load_gpci_file, load_rvu_file
from openipa.core.months import Month
from openipa.demo import engine
from openipa.demo.engine import claims as demo_claims
from openipa.demo.engine import fees
from openipa.edi.t837 import Claim837, write_837
from openipa.membership.models import Member
from openipa.network.models import (
    Affiliation,
    Location,
    ParticipationAgreement,
    Practice,
    Provider,
    Region,
)
from openipa.utilization.models import AuthEvent, AuthRequest, AuthService

ProgressFn = Callable[[str, int, int], None]

PERCENT_OF_MEDICARE: dict[str, Decimal] = {
    LineOfBusiness.MEDICARE_ADVANTAGE: Decimal("105.00"),
    LineOfBusiness.MEDICAID: Decimal("100.00"),
    LineOfBusiness.COMMERCIAL: Decimal("110.00"),
}
"""What each contract pays for the IPA's claims, by the contract's line of business."""
TIMELY_FILING_DAYS = 90

COST_SHARES: dict[str, tuple[tuple[str, Decimal, Decimal], ...]] = {
    # line of business -> (service category, copay dollars, coinsurance percent)
    LineOfBusiness.COMMERCIAL: (
        (fees.PRIMARY_CARE, Decimal("20.00"), Decimal("0")),
        (fees.SPECIALIST, Decimal("40.00"), Decimal("0")),
        (fees.ADVANCED_IMAGING, Decimal("0"), Decimal("10.000")),
    ),
    LineOfBusiness.MEDICARE_ADVANTAGE: (
        (fees.SPECIALIST, Decimal("15.00"), Decimal("0")),
        (fees.ADVANCED_IMAGING, Decimal("0"), Decimal("20.000")),
    ),
}
"""Member cost share by product line (Medi-Cal members pay none)."""

CA_INTEREST = (45, True, Decimal("15.000"))
"""Knox-Keene: 45 working days (US-CA calendar), then 15% a year (commercial and Medi-Cal)."""
MA_INTEREST = (30, False, Decimal("4.750"))
"""Medicare Advantage prompt pay: 30 calendar days, then the Treasury's Prompt Payment Act rate (a made-up
4.75% for the demo: enter one row per half year with the published rate in real use)."""

STOP_LOSS_ATTACHMENT = Decimal("25000.00")
"""The demo's specific attachment point, in paid dollars. The generator's catastrophic members pass $150,000
in *charges*, but the IPA pays them at a percent of Medicare-style fees and only for professional services
(their hospital stays are the hospital's under the DOFR): measured with seed 11 and 2,500 members, the three
catastrophic members were paid $60,000-$68,000 in the year and everyone else under $2,300. $150,000 cannot be
reached in paid dollars; $25,000 is crossed by the catastrophic members covered long enough, and no one else."""
STOP_LOSS_COINSURANCE = Decimal("90.000")

# Old names of the network DOFR's rows that fees' categories replace for claims.
_REPLACED_DOFR = ("Radiology and advanced imaging", "Outpatient surgery (facility)")
_NETWORK_KIND = {demo_claims.LAB: Provider.Kind.SPECIALIST}
"""The network has no lab kind: the reference lab is a specialist organization (its tests are categorized by
code, not by provider kind)."""


@dataclass
class ClaimsSummary:
    files: int = 0
    claims: int = 0
    lines: int = 0
    adjudication_runs: int = 0
    payment_runs: int = 0
    payment_files: int = 0
    authorizations: int = 0
    noise: dict[str, int] = field(default_factory=dict)


def claims_dir() -> Path:
    """Where the demo's 837 files are written: ``var/demo/claims/<YYYY-MM>/<YYYY-MM-DD>-<P|I>.837``."""
    return Path(settings.VAR_DIR) / "demo" / "claims"


def payments_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "claims-payments"


def fees_dir() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "fees"


def _stage(progress: ProgressFn | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


# ------------------------------------------------------------------------------------------------ setup


def load_fee_schedules(seed: int, valid_from: dt.date) -> None:
    """Write the demo's RVU and GPCI files and load them with the real loaders, in force from ``valid_from``."""
    folder = fees_dir()
    folder.mkdir(parents=True, exist_ok=True)
    rvu = fees.write_rvu_file(folder / f"PPRRVU_DEMO_{seed}.csv", seed)
    gpci = fees.write_gpci_file(folder / "GPCI_DEMO.csv")
    load_rvu_file(actor=None, path=rvu, valid_from=valid_from, who="demo")
    load_gpci_file(actor=None, path=gpci, valid_from=valid_from, who="demo")


def configure_contracts(valid_from: dt.date) -> None:
    """Claims settings of every term, the service categories, the DOFR of those categories, cost shares and
    interest rules."""
    for term in ContractTerm.objects.select_related("contract").prefetch_related("contract__products"):
        lines = {p.line_of_business for p in term.contract.products.all()}
        lob = min(lines) if lines else LineOfBusiness.COMMERCIAL
        term.claims_pricing = ContractTerm.ClaimsPricing.PERCENT_OF_MEDICARE
        term.claims_percent_of_medicare = PERCENT_OF_MEDICARE.get(lob, Decimal("100.00"))
        term.claims_locality = fees.DEFAULT_LOCALITY_ID
        term.timely_filing_days = TIMELY_FILING_DAYS
        term.save(update_fields=["claims_pricing", "claims_percent_of_medicare", "claims_locality",
                                 "timely_filing_days"])  # fmt: skip
        DofrEntry.objects.filter(term=term, service_category__in=[*_REPLACED_DOFR, *fees.DOFR]).delete()
        DofrEntry.objects.bulk_create(
            DofrEntry(term=term, service_category=category, responsible_party=party, notes="claims (demo)")
            for category, party in fees.DOFR.items()
        )
    ServiceCategoryRule.objects.bulk_create(
        ServiceCategoryRule(
            category=r.category, priority=r.priority, code_from=r.code_from, code_to=r.code_to,
            revenue_from=r.revenue_from, revenue_to=r.revenue_to, places_of_service=r.places,
            provider_kind=r.provider_kind, emergency=r.emergency, requires_authorization=r.requires_authorization,
            valid_from=valid_from,
        )
        for r in fees.SERVICE_CATEGORIES
    )  # fmt: skip
    CostShare.objects.bulk_create(
        CostShare(product=product, service_category=category, copay=copay, coinsurance_percent=coinsurance,
                  valid_from=valid_from)
        for product in Product.objects.order_by("pk")
        for category, copay, coinsurance in COST_SHARES.get(product.line_of_business, ())
    )  # fmt: skip
    for lob in (LineOfBusiness.COMMERCIAL, LineOfBusiness.MEDICAID, LineOfBusiness.MEDICARE_ADVANTAGE):
        days, working, rate = MA_INTEREST if lob == LineOfBusiness.MEDICARE_ADVANTAGE else CA_INTEREST
        InterestRule.objects.create(line_of_business=lob, limit_days=days, working_days=working,
                                    calendar_code="US-CA", annual_rate_percent=rate, valid_from=valid_from)  # fmt: skip


def add_support_organizations(
    providers: list[demo_claims.ClaimProvider], seed: int, valid_from: dt.date
) -> None:
    """The claims' organizations that the network lacks, as contracted practices with one provider each."""
    rng = random.Random(f"openipa-demo-support-banks-{seed}")
    region = Region.objects.order_by("pk").first()
    if region is None:
        raise RuntimeError("the demo network has no region: load it before the claims")
    for p in providers:
        if not p.practice_code.startswith("SUPPORT") or p.address is None:
            continue
        practice = Practice.objects.create(
            code=p.practice_code, legal_name=p.name, tin=p.tin, address_line1=p.address.line1, city=p.address.city,
            state=p.address.state, zip_code=p.address.zip[:5], region=region, status=Practice.Status.ACTIVE,
            bank_name="Demo Community Bank", bank_routing_number=engine.routing_number(rng),
            bank_account_number="".join(str(rng.randint(0, 9)) for _ in range(11)),
        )  # fmt: skip
        location = Location.objects.create(practice=practice, name=p.name[:100], address_line1=p.address.line1,
                                           city=p.address.city, state=p.address.state,
                                           zip_code=p.address.zip[:5], is_primary=True)  # fmt: skip
        provider = Provider.objects.create(npi=p.npi, last_name=p.name, taxonomy_code=p.taxonomy,
                                           specialty=p.specialty, kind=_NETWORK_KIND.get(p.kind, p.kind),
                                           accepting_new_patients=True)  # fmt: skip
        Affiliation.objects.create(
            provider=provider, practice=practice, location=location, valid_from=valid_from
        )
        ParticipationAgreement.objects.create(practice=practice, status=ParticipationAgreement.Status.ACTIVE,
                                              valid_from=valid_from, signed_on=valid_from,
                                              notes="claims-only agreement (demo)")  # fmt: skip


def _authorize(month: demo_claims.ClaimMonth, members: dict[str, int]) -> int:
    """The approved prior authorizations the month's imaging claims name (REF*G1): each a request received
    ten days before the service and approved by the nurse two days later, on the standard clock of the
    member's line of business (written in bulk: the demo's UM workload itself is built by `demo.utilization`)."""
    specs = [a for a in month.authorizations if a.member_key in members]
    if not specs:
        return 0
    from openipa.membership.models import EligibilitySpan
    from openipa.utilization import selectors as um
    from openipa.utilization.engine import clocks

    tz = um.ipa_zone()
    rules = um.clock_rules()
    lob_of = dict(
        EligibilitySpan.objects.filter(member_id__in={members[a.member_key] for a in specs})
        .order_by("member_id", "valid_from")
        .values_list("member_id", "product__line_of_business")
    )
    requests, services, events = [], [], []
    for a in specs:
        member_id = members[a.member_key]
        lob = lob_of.get(member_id, "commercial")
        received = dt.datetime.combine(a.valid_from - dt.timedelta(days=10), dt.time(9, 30), tzinfo=tz)
        rule = clocks.pick_rule(rules, line_of_business=lob, jurisdiction="CA", kind="prior_auth",
                                urgency="standard", applies_to="request", on=received.date())  # fmt: skip
        decided = received + dt.timedelta(days=2)
        request = AuthRequest(
            number=a.number, kind="prior_auth", urgency="standard", status=AuthRequest.Status.APPROVED,
            source=AuthRequest.Source.STAFF, member_id=member_id, line_of_business=lob, jurisdiction="CA",
            requesting_npi=a.servicing_npi, servicing_npi=a.servicing_npi, diagnoses="R6889",
            service_from=a.valid_from, service_to=a.valid_to, received_at=received,
            clock_rule_id=rule.rule_id, due_at=clocks.due_at(received, rule, tz, um.calendars_for([rule])),
            decided_at=decided, decision_reason="Meets the imaging criteria.",
        )  # fmt: skip
        requests.append(request)
    AuthRequest.objects.bulk_create(requests)
    ids = dict(AuthRequest.objects.filter(number__in=[a.number for a in specs]).values_list("number", "pk"))
    for a, request in zip(specs, requests, strict=True):
        pk = ids[a.number]
        decided_at = request.received_at + dt.timedelta(days=2)
        services.append(AuthService(request_id=pk, line_number=1, code=a.code, units=Decimal(a.units),
                                    units_approved=Decimal(a.units), service_from=a.valid_from,
                                    service_to=a.valid_to))  # fmt: skip
        events.append(AuthEvent(request_id=pk, at=request.received_at, action=AuthEvent.Action.RECEIVED))
        events.append(AuthEvent(request_id=pk, at=decided_at, action=AuthEvent.Action.APPROVED))
    AuthService.objects.bulk_create(services)
    AuthEvent.objects.bulk_create(events)
    return len(requests)


# ------------------------------------------------------------------------------------------------ months


def _weekly(files: list[tuple[dt.date, str, list[Claim837]]]) -> list[tuple[dt.date, str, list[Claim837]]]:
    """The day's files of a week (Monday to Sunday, within the month) as one file per kind, as a clearinghouse
    sends a weekly batch: received on its last day (its claims keep their own transaction sets and dates)."""
    weeks: dict[tuple[int, str], tuple[dt.date, list[Claim837]]] = {}
    for day, kind, claims in files:
        key = (day.isocalendar()[1], kind)
        last, batch = weeks.get(key, (day, []))
        weeks[key] = (max(last, day), [*batch, *claims])
    order = {"professional": 0, "institutional": 1}
    return sorted(((day, kind, claims) for (_week, kind), (day, claims) in weeks.items()),
                  key=lambda f: (f[0], order.get(f[1], 2)))  # fmt: skip


def _import_month(
    plan: demo_claims.ClaimMonth, month: Month, control: int, summary: ClaimsSummary
) -> tuple[list[tuple[str, Claim837]], int]:
    """Write and import the month's files in order; the claims with the numbers the import gave them."""
    folder = claims_dir() / str(month)
    folder.mkdir(parents=True, exist_ok=True)
    numbered: list[tuple[str, Claim837]] = []
    for day, kind, claims in _weekly(plan.files()):
        control += 1
        path = folder / f"{day.isoformat()}-{'P' if kind == 'professional' else 'I'}.837"
        with path.open("wb") as stream:
            write_837(stream, claims, sender=demo_claims.SUBMITTER_ID, receiver=demo_claims.RECEIVER_ID,
                      interchange_control_number=control, group_control_number=control,
                      when=dt.datetime.combine(day, dt.time(6, 0)))  # fmt: skip
        record = import_claims(actor=None, path=path, received_on=day, imported_by="demo")
        if record.status != ClaimImport.Status.APPLIED:
            raise RuntimeError(f"the demo claims file {path} was {record.status}: {record.errors[:3]}")
        ids = list(
            Claim.objects.filter(source=record).order_by("pk").values_list("pk", "patient_control_number")
        )
        if [c for _pk, c in ids] != [c.claim_id[:38] for c in claims]:
            raise RuntimeError(f"the demo claims file {path}: the claims on file are not the claims written")
        numbered.extend((str(pk), c) for (pk, _c), c in zip(ids, claims, strict=True))
        summary.files += 1
        summary.claims += record.claims
        summary.lines += record.lines
    return numbered, control


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=timezone.get_current_timezone())


def build_claims(
    *, data: engine.DemoData, seed: int, first: Month, last: Month, progress: ProgressFn | None = None
) -> ClaimsSummary:
    """The claims year from ``first`` to ``last`` (see the module docstring)."""
    stage = "Claims (837s, adjudication, payments)"
    summary = ClaimsSummary(noise=dict.fromkeys(demo_claims.NOISE_KINDS, 0))
    months = list(Month.range(first, last))
    _stage(progress, stage, 0, len(months))
    # fee schedules and category rules from a year before the window: late claims' services are priced too
    since = (first - 12).first_day
    load_fee_schedules(seed, since)
    configure_contracts(since)
    providers = demo_claims.claim_providers(data, seed)
    add_support_organizations(providers, seed, since)
    StopLossPolicy.objects.create(
        name="Demo specific stop-loss", carrier="Demo Reinsurance Company", attachment=STOP_LOSS_ATTACHMENT,
        coinsurance_percent=STOP_LOSS_COINSURANCE, valid_from=first.first_day, valid_to=last.last_day,
    )  # fmt: skip
    preparer = User.objects.get(username="finance")
    approver = User.objects.get(username="finance-2")
    earlier: list[tuple[str, Claim837]] = []
    control = 0
    members: dict[str, int] = {}
    for index, month in enumerate(months):
        members = dict(Member.objects.values_list("payer_member_id", "pk"))
        plan = demo_claims.plan_claims(seed=seed, month=month, members=demo_claims.claim_members(data, month),
                                       providers=providers, payers=data.payers, earlier=earlier)  # fmt: skip
        for kind, n in plan.noise.items():
            summary.noise[kind] = summary.noise.get(kind, 0) + n
        summary.authorizations += _authorize(plan, members)
        numbered, control = _import_month(plan, month, control, summary)
        earlier.extend(numbered)
        run = adjudicate_waiting(actor=None, who="demo", today=month.last_day)
        ClaimLine.objects.filter(adjudication_run_id=run.pk).update(adjudicated_at=_noon(month.last_day))
        AdjudicationRun.objects.filter(pk=run.pk).update(
            inputs={**run.inputs, "demo_dated": str(month.last_day)}
        )
        summary.adjudication_runs += 1
        if month < last:
            payment_day = month.last_day + dt.timedelta(days=10)
            try:
                payment = prepare_run(actor=preparer, through=month.last_day, payment_date=payment_day)
            except RunRefused:
                payment = None  # nothing decided in the month
            if payment is not None:
                # approved the day before the payment date, and dated so in the ledger
                approve_run(actor=approver, run=payment, posting_date=payment_day - dt.timedelta(days=1))
                summary.payment_runs += 1
                out = payments_dir() / f"{month}.ach"
                try:
                    pay_run(actor=preparer, run=payment, out=out, effective=payment_day)
                    summary.payment_files += 1
                except RunRefused:
                    pass  # nothing above zero to send: the run stays approved
        _stage(progress, stage, index + 1, len(months))
    return summary


def paid_by_member(policy: StopLossPolicy) -> Counter[int]:
    """Paid cents by member for services in the policy's year (what the stop-loss accumulators would add up),
    over the lines paid so far."""
    rows = (
        ClaimLine.objects.filter(outcome=ClaimLine.Outcome.PAID, service_from__gte=policy.valid_from,
                                 claim__member_id__isnull=False)
        .filter(service_from__lte=policy.valid_to or dt.date.max)
        .values_list("claim__member_id")
        .annotate(total=Sum("paid_cents"))
    )  # fmt: skip
    return Counter({member: int(total or 0) for member, total in rows})
