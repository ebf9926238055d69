"""Build the demo IPA: load what `openipa.demo.engine` generates, in one transaction.

Seed loading is the documented exception to "one service call per record": the rows go in with
`bulk_create` in batches, and one `demo.build` audit record (plus one `user.create` per login) says what was
loaded, by whom (the system) and from which seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models, transaction

from openipa.accounts.models import User
from openipa.accounts.services import user_create
from openipa.contracts.models import Contract, ContractTerm, DofrEntry, Payer, Product, RateCell
from openipa.core import audit
from openipa.core.models import AuditEvent
from openipa.core.months import Month
from openipa.core.roles import Role
from openipa.demo import engine
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
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
MEMBER_CHUNK = 5000  # members loaded, with their spans, per step: memory stays flat for a million

# The staff logins, one per role, in the order they are printed.
STAFF_LOGINS: tuple[tuple[str, Role], ...] = (
    ("admin", Role.IPA_ADMIN),
    ("operations", Role.OPERATIONS),
    ("finance", Role.FINANCE),
    ("credentialing", Role.CREDENTIALING),
    ("um-nurse", Role.UM_NURSE),
    ("medical-director", Role.MEDICAL_DIRECTOR),
    ("quality", Role.QUALITY),
    ("messenger", Role.MESSENGER),
    ("auditor", Role.AUDITOR),
)
PRACTICE_LOGIN_PREFIX = "practice-"

ProgressFn = Callable[[str, int, int], None]
"""Called as `progress(stage, done, total)` while building; `done == total` ends a stage."""

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
    as_of: Month
    practices: int
    providers: int
    eligibility_spans: int
    pcp_assignments: int
    logins: tuple[DemoLogin, ...]


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
) -> DemoSummary:
    """Generate the demo IPA for `seed` and load it, with one login per role and one per practice.

    All or nothing: one transaction. Raise DemoError "demo already built" if the database has practices
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
    _load_members(data, practices, progress)
    logins = _create_users(data, practices, password, progress)

    summary = DemoSummary(
        seed=seed,
        members=len(data.members),
        as_of=as_of,
        practices=len(data.practices),
        providers=len(data.providers),
        eligibility_spans=len(data.eligibility),
        pcp_assignments=len(data.pcp_assignments),
        logins=tuple(logins),
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
            "eligibility_spans": summary.eligibility_spans,
            "pcp_assignments": summary.pcp_assignments,
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


def _load_members(data: engine.DemoData, practices: dict[str, Practice], progress: ProgressFn | None) -> None:
    """Members with their eligibility spans and PCP assignments, a chunk of members at a time."""
    stage = "Members, eligibility and PCPs"
    total = len(data.members)
    _stage(progress, stage, 0, total)
    payer_ids = dict(Payer.objects.values_list("code", "id"))
    product_ids = dict(Product.objects.values_list("code", "id"))
    provider_ids = dict(Provider.objects.values_list("npi", "id"))
    practice_ids = {code: p.pk for code, p in practices.items()}
    spans, assignments = data.eligibility, data.pcp_assignments
    span_at = assignment_at = 0  # both lists are ordered by member index
    for start in range(0, total, MEMBER_CHUNK):
        chunk = data.members[start : start + MEMBER_CHUNK]
        created = _insert(
            Member,
            [
                Member(
                    payer_id=payer_ids[m.payer_code],
                    payer_member_id=m.payer_member_id,
                    mbi=m.mbi,
                    first_name=m.first_name,
                    last_name=m.last_name,
                    date_of_birth=m.date_of_birth,
                    date_of_death=m.date_of_death,
                    sex=m.sex,
                    address_line1=m.address_line1,
                    city=m.city,
                    state=m.state,
                    zip_code=m.zip_code,
                    phone=m.phone,
                    language=m.language,
                )
                for m in chunk
            ],
        )
        member_ids = [m.pk for m in created]
        end = start + len(chunk)
        rows: list[EligibilitySpan] = []
        while span_at < len(spans) and spans[span_at].member < end:
            s = spans[span_at]
            rows.append(
                EligibilitySpan(
                    member_id=member_ids[s.member - start],
                    product_id=product_ids[s.product_code],
                    valid_from=s.valid_from,
                    valid_to=s.valid_to,
                )
            )
            span_at += 1
        _insert(EligibilitySpan, rows)
        pcp_rows: list[PcpAssignment] = []
        while assignment_at < len(assignments) and assignments[assignment_at].member < end:
            a = assignments[assignment_at]
            pcp_rows.append(
                PcpAssignment(
                    member_id=member_ids[a.member - start],
                    provider_id=provider_ids[a.provider_npi],
                    practice_id=practice_ids[a.practice_code],
                    valid_from=a.valid_from,
                    valid_to=a.valid_to,
                )
            )
            assignment_at += 1
        _insert(PcpAssignment, pcp_rows)
        _stage(progress, stage, end, total)
    _stage(progress, stage, total, total)


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
        "eligibility_spans": summary.eligibility_spans,
        "pcp_assignments": summary.pcp_assignments,
        "logins": len(summary.logins),
    }
