"""Build the demo IPA from what `openipa.demo.engine` generates, in one transaction.

The network, payers, products and contracts are seed data: they go in with `bulk_create` in batches (the
documented exception to "one service call per record"). Members, eligibility and PCP assignments do not:
`openipa.demo.engine.rosters` turns the generated truth into each payer's monthly 834 files, which are
written under `var/demo/rosters/` and imported in order through the roster import service, as real files
would be. One `demo.build` audit record (plus one `user.create` per login and one roster record per file)
says what was loaded, by whom (the system) and from which seed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from openipa.accounts.models import User
from openipa.accounts.services import user_create
from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core import audit
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo import capitation, engine
from openipa.demo import claims as demo_claims
from openipa.demo import clinical as demo_clinical
from openipa.demo import credentialing as demo_credentialing
from openipa.demo import measurement as demo_measurement
from openipa.demo import messenger as demo_messenger
from openipa.demo import utilization as demo_utilization
from openipa.demo.association import AssociationSummary, build_association
from openipa.demo.board import BoardSummary, build_board
from openipa.demo.engine import claims as claim_engine
from openipa.demo.engine import rosters
from openipa.demo.governance import GovernanceSummary, build_governance
from openipa.demo.incentives import IncentivesSummary, build_incentives
from openipa.demo.savings import SavingsSummary, build_savings
from openipa.demo.tuva_export import TuvaExportSummary, build_tuva_export
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment, RosterImport
from openipa.membership.services.roster import import_roster
from openipa.network.models import (
    Affiliation,
    ContractParticipation,
    Location,
    ParticipationAgreement,
    Practice,
    Provider,
    Region,
)

DEFAULT_SEED = 42
DEFAULT_PASSWORD = "demo"
BUILD_ACTION = "demo.build"
BATCH = 2000  # rows per bulk_create call (Django splits further to the database's parameter limit)

# The staff logins, one per role, in the order they are printed.
STAFF_LOGINS: tuple[tuple[str, Role], ...] = (
    ("admin", Role.IPA_ADMIN),
    ("operations", Role.OPERATIONS),
    ("finance", Role.FINANCE),
    (
        "finance-2",
        Role.FINANCE,
    ),  # a second finance login: runs are approved by someone who did not prepare them
    ("credentialing", Role.CREDENTIALING),
    ("um-nurse", Role.UM_NURSE),
    ("medical-director", Role.MEDICAL_DIRECTOR),
    # a second physician: an appeal is decided by a physician who did not make the decision appealed
    ("medical-director-2", Role.MEDICAL_DIRECTOR),
    ("quality", Role.QUALITY),
    ("messenger", Role.MESSENGER),
    ("auditor", Role.AUDITOR),
    ("board", Role.BOARD),
)
PRACTICE_LOGIN_PREFIX = "practice-"

ProgressFn = Callable[[str, int, int], None]
"""Called as `progress(stage, done, total)` while building; `done == total` ends a stage. A stage whose name
starts with two spaces is one step of the stage before it (one roster file): show it while it runs."""

M = TypeVar("M", bound=models.Model)


class DemoError(Exception):
    """The demo cannot be built here; the message says why."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    role_label: str
    practice: str  # the practice's legal name for a practice user, else ""


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    members: int
    """Members generated (the payers' truth)."""
    as_of: Month
    practices: int
    providers: int
    members_on_file: int
    """Members the roster files made known to the IPA by the as-of month."""
    eligibility_spans: int
    pcp_assignments: int
    roster_files: int
    roster_rejected: int
    logins: tuple[DemoLogin, ...]
    remittances: int = 0
    """Capitation 820s imported (one per payer and month)."""
    distribution_runs: int = 0
    adjustment_runs: int = 0
    payment_files: int = 0
    claim_files: int = 0
    """837 files imported (one per received day and kind)."""
    claims: int = 0
    claim_lines: int = 0
    claim_payment_runs: int = 0
    """Claims payment runs approved (one per month but the last)."""
    claim_payment_files: int = 0
    claim_noise: tuple[tuple[str, int], ...] = ()
    """What the claims generator put in (``demo.engine.claims.NOISE_KINDS``: count of claims)."""
    offers: int = 0
    """Fee-for-service offers conveyed under the messenger model (``demo.messenger``)."""
    offer_responses: int = 0
    credentialing_files: int = 0
    """Credentialing files in every state, and an LEIE-style file screened (``demo.credentialing``)."""
    um_requests: int = 0
    """Referrals, prior authorizations, admission notifications and post-stabilization requests of the last
    four months (``demo.utilization``), and of them:"""
    um_open: int = 0
    um_overdue: int = 0
    """Open and past their due time when the demo was built."""
    um_denied: int = 0
    um_appeals: int = 0
    um_low_referral_practices: tuple[str, ...] = ()
    """Practices the demo makes refer less and admit more (for the under-service watch)."""
    clinical: demo_clinical.ClinicalSummary = field(default_factory=demo_clinical.ClinicalSummary)
    """Clinical files imported, patients matched, pharmacy fills and ADT notifications (``demo.clinical``)."""
    measurement: demo_measurement.MeasurementSummary = field(
        default_factory=demo_measurement.MeasurementSummary
    )
    # value-based performance and running the association (``value_based``), on everything above
    incentives: IncentivesSummary | None = None
    """Incentive formulas and settlements: quality pool and withhold return paid, a draft risk-pool run."""
    savings: SavingsSummary | None = None
    """Shared-savings terms (payer and MSSP-style), a settled and paid year, this year's forecasts."""
    board: BoardSummary | None = None
    """The IPA's opening balances and the reserve estimates the board dashboard reads."""
    association: AssociationSummary | None = None
    """Membership-fee terms, invoices and payments, health-improvement programs."""
    governance: GovernanceSummary | None = None
    """The board, committees, meetings, motions, votes and minutes."""
    tuva_export: TuvaExportSummary | None = None
    """The data written out in the Tuva Project's input layer (var/demo/tuva/)."""
    """The quality run and the risk runs made on all of it (``demo.measurement``)."""


def practice_username(position: int) -> str:
    """`practice-01` for the first practice; three digits once there are 100 or more practices."""
    return f"{PRACTICE_LOGIN_PREFIX}{position:02d}"


def demo_is_built() -> bool:
    """True when this database holds a demo build (its audit record and its practices)."""
    return AuditEvent.objects.filter(action=BUILD_ACTION).exists() and Practice.objects.exists()


def demo_logins() -> list[DemoLogin]:
    """The demo's logins that exist in this database: staff in role order, then `practice-NN` in order."""
    staff_names = [name for name, _ in STAFF_LOGINS]
    users = User.objects.select_related("practice").filter(
        models.Q(username__in=staff_names) | models.Q(username__startswith=PRACTICE_LOGIN_PREFIX)
    )
    by_name = {u.username: u for u in users}
    ordered = [by_name[name] for name in staff_names if name in by_name]
    ordered += sorted(
        (u for u in users if u.username.startswith(PRACTICE_LOGIN_PREFIX)),
        key=lambda u: (len(u.username), u.username),
    )
    return [_login(u) for u in ordered]


def _login(user: User) -> DemoLogin:
    return DemoLogin(
        username=user.username,
        role=user.role,
        role_label=user.role_label,
        practice=user.practice.legal_name if user.practice is not None else "",
    )


def _batches(items: Sequence[M], size: int = BATCH) -> Iterator[Sequence[M]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert(model: type[M], rows: Sequence[M]) -> list[M]:
    """Insert rows in batches and return them with their primary keys set."""
    created: list[M] = []
    for batch in _batches(rows):
        created.extend(model._default_manager.bulk_create(batch))
    return created


def _dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _stage(progress: ProgressFn | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


@transaction.atomic
def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    members: int = engine.DEFAULT_MEMBERS,
    password: str = DEFAULT_PASSWORD,
    as_of: Month,
    progress: ProgressFn | None = None,
    capitation_year: bool = True,
    claims_year: bool | None = None,
    utilization: bool | None = None,
    clinical: bool | None = None,
    value_based: bool | None = None,
) -> DemoSummary:
    """Generate the demo IPA for `seed` and load it, with one login per role and one per practice.

    The network and contracts are loaded in bulk; members, eligibility and PCP assignments come from the
    payers' 834 files, written under `var/demo/rosters/` and imported one by one (one of them is rejected
    first and sent again corrected), then (unless ``capitation_year`` is off, as tests of the other parts do)
    the year's capitation of ``demo.capitation``, and (unless ``claims_year`` is off; None: as
    ``capitation_year``) the year's claims of ``demo.claims``, then (unless ``utilization`` is off; None: as the
    claims) the last four months of utilization management of ``demo.utilization``. All or nothing: one
    transaction (the files stay on disk). Then (unless ``value_based`` is off; None: when the measurement ran)
    incentive and shared-savings settlements, the board's opening balances and reserves, membership fees and
    programs, governance, and a Tuva export. Raise DemoError "demo already built" if the database has practices
    (the demo only goes into an empty database), or if one of the demo's user names is taken.
    """
    if Practice.objects.exists():
        raise DemoError("demo already built: the database already has practices (use an empty database)")
    if not password:
        raise DemoError("password: the demo logins need a password")
    _stage(progress, "Generating data", 0, 1)
    data = engine.generate(seed=seed, members=members, as_of=as_of)
    _stage(progress, "Generating data", 1, 1)

    usernames = [name for name, _ in STAFF_LOGINS] + [
        practice_username(i) for i in range(1, len(data.practices) + 1)
    ]
    taken = sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if taken:
        raise DemoError(f"user names already taken: {', '.join(taken)}")

    practices = _load_network(data, progress)
    _load_contracts(data, practices, progress)
    _stage(progress, "Writing 834 roster files", 0, 1)
    plan = rosters.plan_rosters(data)
    files = _write_rosters(plan)
    _stage(progress, "Writing 834 roster files", 1, 1)
    imports = _import_rosters(files, progress)
    _complete_members(data, plan, progress)
    _esrd_members(data, seed, as_of.last_day)
    logins = _create_users(data, practices, password, progress)
    _stage(progress, "Fee-for-service offers", 0, 1)
    offered = demo_messenger.build_offers(seed=seed, today=as_of.last_day)
    _stage(progress, "Fee-for-service offers", 1, 1)
    credentialed = demo_credentialing.build_credentialing(seed=seed, today=as_of.last_day, progress=progress)
    capitation.load_distribution_rules(data.first_month.first_day)
    paid = (
        capitation.build_capitation(seed=seed, first=data.first_month, last=as_of, progress=progress)
        if capitation_year
        else capitation.CapitationSummary()
    )
    claimed = (
        demo_claims.build_claims(data=data, seed=seed, first=data.first_month, last=as_of, progress=progress)
        if (capitation_year if claims_year is None else claims_year)
        else demo_claims.ClaimsSummary()
    )
    claims_built = capitation_year if claims_year is None else claims_year
    reviewed = (
        demo_utilization.build_utilization(seed=seed, today=as_of.last_day, progress=progress)
        if (claims_built if utilization is None else utilization)
        else demo_utilization.UtilizationSummary()
    )
    # clinical data from EHRs, a lab, an HIE and a PBM (None: as the claims)
    clinicals = (
        demo_clinical.build_clinical(seed=seed, today=as_of.last_day, progress=progress)
        if (claims_built if clinical is None else clinical)
        else demo_clinical.ClinicalSummary()
    )
    # the quality measures and the risk scores, on everything loaded (when there is clinical data)
    measured = (
        demo_measurement.build_measurement(today=as_of.last_day, progress=progress)
        if clinicals.files
        else demo_measurement.MeasurementSummary()
    )

    # value-based settlements, the board's figures, the association's running, and data out (None: as the
    # measurement, whose quality and risk runs they read)
    later: dict[str, Any] = {}
    if measured.quality_runs if value_based is None else value_based:
        today = as_of.last_day
        later["incentives"] = build_incentives(seed=seed, today=today, progress=progress)
        later["savings"] = build_savings(seed=seed, today=today, progress=progress)
        later["board"] = build_board(seed=seed, today=today, progress=progress)
        later["association"] = build_association(seed=seed, today=today, progress=progress)
        later["governance"] = build_governance(seed=seed, today=today, progress=progress)
        later["tuva_export"] = build_tuva_export(seed=seed, today=today, progress=progress)

    summary = DemoSummary(
        seed=seed,
        members=len(data.members),
        as_of=as_of,
        practices=len(data.practices),
        providers=len(data.providers),
        members_on_file=Member.objects.count(),
        eligibility_spans=EligibilitySpan.objects.count(),
        pcp_assignments=PcpAssignment.objects.count(),
        roster_files=len(imports),
        roster_rejected=sum(r.status == RosterImport.Status.REJECTED for r in imports),
        logins=tuple(logins),
        remittances=paid.remittances,
        distribution_runs=paid.runs,
        adjustment_runs=paid.adjustment_runs,
        payment_files=paid.payment_files,
        claim_files=claimed.files,
        claims=claimed.claims,
        claim_lines=claimed.lines,
        claim_payment_runs=claimed.payment_runs,
        claim_payment_files=claimed.payment_files,
        claim_noise=tuple(claimed.noise.items()),
        offers=offered.offers,
        offer_responses=offered.responses,
        credentialing_files=credentialed.files,
        um_requests=reviewed.requests,
        um_open=reviewed.open,
        um_overdue=reviewed.overdue,
        um_denied=reviewed.denied,
        um_appeals=reviewed.appeals,
        um_low_referral_practices=reviewed.low_referral_practices,
        clinical=clinicals,
        measurement=measured,
        **later,
    )
    audit.record_write(
        None,
        BUILD_ACTION,
        object_type="demo",
        object_id=f"seed-{seed}",
        after={
            "seed": seed,
            "members": summary.members,
            "as_of": str(as_of),
            "practices": summary.practices,
            "providers": summary.providers,
            "members_on_file": summary.members_on_file,
            "eligibility_spans": summary.eligibility_spans,
            "pcp_assignments": summary.pcp_assignments,
            "roster_files": summary.roster_files,
            "roster_rejected": summary.roster_rejected,
            "remittances": summary.remittances,
            "distribution_runs": summary.distribution_runs,
            "claims": summary.claims,
            "claim_lines": summary.claim_lines,
            "claim_payment_runs": summary.claim_payment_runs,
            "offers": summary.offers,
            "um_requests": summary.um_requests,
            "users": len(logins),
        },
        purpose="synthetic demo data",
    )
    return summary


def _load_network(data: engine.DemoData, progress: ProgressFn | None) -> dict[str, Practice]:
    stage = "Network"
    steps = 7
    _stage(progress, stage, 0, steps)
    regions = {r.code: r for r in _insert(Region, [Region(code=r.code, name=r.name) for r in data.regions])}
    practices = {
        p.code: p
        for p in _insert(
            Practice,
            [
                Practice(
                    code=p.code,
                    legal_name=p.legal_name,
                    dba_name=p.dba_name,
                    tin=p.tin,
                    address_line1=p.address_line1,
                    address_line2=p.address_line2,
                    city=p.city,
                    state=p.state,
                    zip_code=p.zip_code,
                    phone=p.phone,
                    region=regions[p.region_code],
                    status=Practice.Status.ACTIVE,
                    bank_name=p.bank_name,
                    bank_routing_number=p.bank_routing_number,
                    bank_account_number=p.bank_account_number,
                )
                for p in data.practices
            ],
        )
    }
    _stage(progress, stage, 2, steps)
    locations: dict[str, list[Location]] = {}
    for loc in _insert(
        Location,
        [
            Location(
                practice=practices[loc.practice_code],
                name=loc.name,
                address_line1=loc.address_line1,
                city=loc.city,
                state=loc.state,
                zip_code=loc.zip_code,
                phone=loc.phone,
                is_primary=loc.is_primary,
            )
            for loc in data.locations
        ],
    ):
        locations.setdefault(loc.practice.code, []).append(loc)
    _stage(progress, stage, 3, steps)
    providers = {
        p.npi: p
        for p in _insert(
            Provider,
            [
                Provider(
                    npi=p.npi,
                    first_name=p.first_name,
                    last_name=p.last_name,
                    degree=p.degree,
                    taxonomy_code=p.taxonomy_code,
                    specialty=p.specialty,
                    kind=p.kind,
                    accepting_new_patients=p.accepting_new_patients,
                    panel_limit=p.panel_limit,
                    date_of_birth=p.date_of_birth,
                    personal_phone=p.personal_phone,
                )
                for p in data.providers
            ],
        )
    }
    _stage(progress, stage, 4, steps)
    _insert(
        Affiliation,
        [
            Affiliation(
                provider=providers[a.provider_npi],
                practice=practices[a.practice_code],
                location=locations[a.practice_code][a.location_index],
                valid_from=a.valid_from,
                valid_to=a.valid_to,
            )
            for a in data.affiliations
        ],
    )
    _stage(progress, stage, 5, steps)
    _insert(
        ParticipationAgreement,
        [
            ParticipationAgreement(
                practice=practices[a.practice_code],
                status=a.status,
                admin_fee_percent=a.admin_fee_percent,
                admin_fee_pmpm=_dollars(a.admin_fee_pmpm_cents),
                signed_on=a.signed_on,
                valid_from=a.valid_from,
                valid_to=a.valid_to,
                notes=a.notes,
            )
            for a in data.agreements
        ],
    )
    _stage(progress, stage, steps, steps)
    return practices


def _load_contracts(
    data: engine.DemoData, practices: dict[str, Practice], progress: ProgressFn | None
) -> None:
    stage = "Payers and contracts"
    steps = 5
    _stage(progress, stage, 0, steps)
    payers = {
        p.code: p
        for p in _insert(
            Payer, [Payer(code=p.code, name=p.name, x12_payer_id=p.x12_payer_id) for p in data.payers]
        )
    }
    products = {
        p.code: p
        for p in _insert(
            Product,
            [
                Product(
                    payer=payers[p.payer_code], code=p.code, name=p.name, line_of_business=p.line_of_business
                )
                for p in data.products
            ],
        )
    }
    _stage(progress, stage, 1, steps)
    contracts = {
        c.number: c
        for c in _insert(
            Contract,
            [
                Contract(
                    payer=payers[c.payer_code],
                    number=c.number,
                    name=c.name,
                    legal_basis=c.legal_basis,
                    status=c.status,
                    valid_from=c.valid_from,
                    valid_to=c.valid_to,
                )
                for c in data.contracts
            ],
        )
    }
    through = Contract.products.through
    _insert(
        through,
        [
            through(contract_id=contracts[c.number].pk, product_id=products[code].pk)
            for c in data.contracts
            for code in c.product_codes
        ],
    )
    _stage(progress, stage, 2, steps)
    terms = _insert(
        ContractTerm,
        [
            ContractTerm(
                contract=contracts[t.contract_number],
                capitation_basis=t.capitation_basis,
                admin_fee_percent=t.admin_fee_percent,
                admin_fee_pmpm=_dollars(t.admin_fee_pmpm_cents),
                reinsurance_pmpm=_dollars(t.reinsurance_pmpm_cents),
                withhold_percent=t.withhold_percent,
                retro_window_months=t.retro_window_months,
                proration_rule=t.proration_rule,
                cutoff_day=t.cutoff_day,
                age_reference_month=t.age_reference_month,
                notes=t.notes,
                valid_from=t.valid_from,
                valid_to=t.valid_to,
            )
            for t in data.terms
        ],
    )
    _stage(progress, stage, 3, steps)
    cells: list[RateCell] = []
    dofr: list[DofrEntry] = []
    for term, spec in zip(terms, data.terms, strict=True):
        cells.extend(
            RateCell(
                term=term,
                product=products[c.product_code],
                age_min=c.age_min,
                age_max=c.age_max,
                sex=c.sex,
                pmpm=_dollars(c.pmpm_cents),
            )
            for c in spec.rate_cells
        )
        dofr.extend(
            DofrEntry(
                term=term,
                service_category=d.service_category,
                responsible_party=d.responsible_party,
                notes=d.notes,
            )
            for d in spec.dofr
        )
    _insert(RateCell, cells)
    _insert(DofrEntry, dofr)
    _stage(progress, stage, 4, steps)
    agreements = {a.practice.code: a for a in ParticipationAgreement.objects.select_related("practice")}
    _insert(
        ContractParticipation,
        [
            ContractParticipation(
                agreement=agreements[p.practice_code],
                contract=contracts[p.contract_number],
                valid_from=p.valid_from,
                valid_to=p.valid_to,
            )
            for p in data.participations
        ],
    )
    _stage(progress, stage, steps, steps)


def roster_dir() -> Path:
    """Where the demo's 834 files are written: ``var/demo/rosters/<payer code>/<YYYY-MM>[-rejected].834``."""
    return Path(settings.VAR_DIR) / "demo" / "rosters"


def _write_rosters(plan: rosters.RosterPlan) -> list[tuple[rosters.RosterFile, Path]]:
    """Write every file of the plan under :func:`roster_dir` (replacing what an earlier build left)."""
    root = roster_dir()
    if root.exists():
        shutil.rmtree(root)
    out: list[tuple[rosters.RosterFile, Path]] = []
    for roster in plan.files:
        path = root / roster.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as stream:
            plan.write(roster, stream)
        out.append((roster, path))
    return out


def _import_rosters(
    files: Sequence[tuple[rosters.RosterFile, Path]], progress: ProgressFn | None
) -> list[RosterImport]:
    """Import the files in order through the roster import service, as the payers' files would be."""
    stage = "Roster files (834)"
    _stage(progress, stage, 0, len(files))
    payers = {p.code: p for p in Payer.objects.all()}
    results: list[RosterImport] = []
    for done, (roster, path) in enumerate(files, start=1):
        label = f"  {roster.path}"
        total = 2 * roster.records or 1

        def on_progress(phase: str, n: int, _of: int | None, label: str = label, records: int = roster.records,
                        total: int = total) -> None:  # fmt: skip
            _stage(progress, label, min(n if phase == "validate" else records + n, total - 1), total)

        result = import_roster(
            actor=None,
            payer=payers[roster.payer_code],
            path=path,
            progress=on_progress if progress is not None else None,
            today=roster.month.first_day,
            imported_by="demo",
        )
        expected = RosterImport.Status.REJECTED if roster.rejected else RosterImport.Status.APPLIED
        if result.status != expected:
            raise DemoError(
                f"the demo roster {roster.path} was {result.status}, not {expected}: {result.errors[:3]}"
            )
        results.append(result)
        _stage(progress, label, total, total)
        _stage(progress, stage, done, len(files))
    return results


def _complete_members(data: engine.DemoData, plan: rosters.RosterPlan, progress: ProgressFn | None) -> None:
    """Fields the roster import does not read (yet) from the 834, set from the generated truth: the MBI
    (REF*F6), phone (PER*IP), language (LUI) and, once the payer has reported the death's termination, the
    date of death (INS12)."""
    stage = "Member details"
    ids = {
        (payer, member_id): pk
        for payer, member_id, pk in Member.objects.values_list("payer__code", "payer_member_id", "pk")
    }
    rows: list[tuple[Any, ...]] = []
    adapt = connection.ops.adapt_datefield_value
    for index, m in enumerate(data.members):
        pk = ids.get((m.payer_code, m.payer_member_id))
        if pk is None:
            continue  # never reported: the add was due after the as-of month
        death = m.date_of_death
        if death is not None:
            known = plan.known(index).coverage
            if not known or known[-1][2] is None:
                death = None  # the termination has not been reported yet
        if m.mbi or m.phone or m.language != "English" or death is not None:
            rows.append((m.mbi, m.phone, m.language, adapt(death), pk))
    _stage(progress, stage, 0, len(rows))
    # one UPDATE per row through the driver's executemany: bulk_update's CASE expressions cost ~1 ms a row
    quote = connection.ops.quote_name
    columns = [_column(Member, name) for name in ("mbi", "phone", "language", "date_of_death")]
    sql = (
        f"UPDATE {quote(Member._meta.db_table)} SET {', '.join(f'{quote(c)} = %s' for c in columns)} "
        f"WHERE {quote(_column(Member, 'id'))} = %s"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])
            _stage(progress, stage, min(start + BATCH, len(rows)), len(rows))
    _stage(progress, stage, len(rows), len(rows))


def _esrd_members(data: engine.DemoData, seed: int, today: dt.date) -> None:
    """About 0.5% of the adult members get ESRD status (:func:`claim_engine.esrd_member_fields`: dialysis, a functioning
    graft, or a recent kidney transplant), as the payer reports it; their claims carry the ESRD diagnoses."""
    fields = {
        (m.payer_code, m.payer_member_id): found
        for m in data.members
        if (
            found := claim_engine.esrd_member_fields(
                seed, m.payer_member_id, m.date_of_birth, data.first_month.first_day, today
            )
        )
        is not None
    }
    members = Member.objects.filter(payer_member_id__in=[key for _payer, key in fields]).select_related(
        "payer"
    )
    changed = []
    for member in members:
        found = fields.get((member.payer.code, member.payer_member_id))
        if found is not None:
            member.orec, member.crec, member.kidney_transplant_date = found
            changed.append(member)
    Member.objects.bulk_update(changed, ["orec", "crec", "kidney_transplant_date"], batch_size=BATCH)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.column


def _create_users(
    data: engine.DemoData, practices: dict[str, Practice], password: str, progress: ProgressFn | None
) -> list[DemoLogin]:
    """One login per staff role and one per practice (`practice-01` is bound to the first practice).

    All demo logins share one password, so it is hashed once (Argon2 costs about 0.2 s a hash) and the
    encoded hash goes to `user_create` for every user: each hash carries its own salt and parameters, so
    Django verifies it for any of them; sharing the salt only matters when passwords differ.
    """
    stage = "Logins"
    plan: list[tuple[str, Role, Practice | None]] = [(name, role, None) for name, role in STAFF_LOGINS]
    plan += [
        (practice_username(i), Role.PRACTICE_USER, practices[p.code])
        for i, p in enumerate(data.practices, start=1)
    ]
    _stage(progress, stage, 0, len(plan))
    encoded = make_password(password)
    users = [
        user_create(
            actor=None,
            username=username,
            encoded_password=encoded,
            role=role.value,
            practice_id=practice.pk if practice is not None else None,
            first_name=username.replace("-", " ").title() if practice is None else "",
        )
        for username, role, practice in plan
    ]
    _stage(progress, stage, len(plan), len(plan))
    return [_login(u) for u in users]


def describe(summary: DemoSummary) -> dict[str, Any]:
    """The summary as plain values (for printing or JSON)."""
    return {
        "seed": summary.seed,
        "members": summary.members,
        "as_of": str(summary.as_of),
        "practices": summary.practices,
        "providers": summary.providers,
        "members_on_file": summary.members_on_file,
        "eligibility_spans": summary.eligibility_spans,
        "pcp_assignments": summary.pcp_assignments,
        "roster_files": summary.roster_files,
        "roster_rejected": summary.roster_rejected,
        "remittances": summary.remittances,
        "distribution_runs": summary.distribution_runs,
        "adjustment_runs": summary.adjustment_runs,
        "payment_files": summary.payment_files,
        "claim_files": summary.claim_files,
        "claims": summary.claims,
        "claim_lines": summary.claim_lines,
        "claim_payment_runs": summary.claim_payment_runs,
        "claim_payment_files": summary.claim_payment_files,
        "offers": summary.offers,
        "offer_responses": summary.offer_responses,
        "um_requests": summary.um_requests,
        "um_open": summary.um_open,
        "um_overdue": summary.um_overdue,
        "um_denied": summary.um_denied,
        "um_appeals": summary.um_appeals,
        "quality_run": summary.measurement.quality_run,
        "open_care_gaps": summary.measurement.open_gaps,
        "risk_runs": list(summary.measurement.risk_runs),
        "coding_gaps": summary.measurement.coding_gaps,
        "incentive_runs_paid": len(summary.incentives.paid_runs) if summary.incentives else 0,
        "shared_savings_run": summary.savings.settled_run if summary.savings else None,
        "fee_invoices": summary.association.invoices if summary.association else 0,
        "programs": len(summary.association.programs) if summary.association else 0,
        "governance_meetings": summary.governance.meetings if summary.governance else 0,
        "tuva_rows": sum(summary.tuva_export.counts.values()) if summary.tuva_export else 0,
        "logins": len(summary.logins),
    }
