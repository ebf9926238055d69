"""The demo IPA's claims: a month of 837 professional and institutional claims from the network's providers.

Pure: no Django, no clock, no I/O; deterministic from the seed and the month (one ``random.Random`` per
month, drawn while walking the given sequences in order). The claims are :class:`openipa.edi.t837.Claim837`
records, so the demo writes them with :func:`openipa.edi.t837.write_837` (one file per received day and kind,
:meth:`ClaimMonth.files`) and imports them through the claims intake service like any clearinghouse file.

Volume: about eight service lines per member-year (more for older members, fewer for children), most from
specialists and the reference lab; 1-6 lines per professional claim, each pointing at 1-4 of the claim's
ICD-10 diagnoses. Facility claims (837I, with revenue codes) come from hospitals: they are the hospital's
under the demo's DOFR (:data:`openipa.demo.engine.fees.DOFR`), so adjudication denies and forwards them.
Service dates fall in the month or a few weeks before it (never outside the member's coverage), each claim
is received in the month, 2-30 days after its last service date. Charges are integer cents marked up from
the demo's Medicare-style fees by a factor that is the provider's own.

Planted for the claims-based quality measures (:func:`_planted_year`; members chosen by a hash of the seed and
their key, each one's care drawn from a random stream of their own and added after the month's other claims, so
those are the same with or without them; claim ids start with ``P``): ischemic vascular disease office visits at
the window's start and twice later for 4% of those 45-75, a CABG for one in ten of them (SPC); emergency visits
for a mental illness (0.5% of adults) and psychiatric stays (0.5%), most followed by a behavioral health visit
(FUM, FUH).

Noise, so adjudication has something to find (counted in :attr:`ClaimMonth.noise`):

- ``exact_duplicate``: a claim sent again unchanged a few days later (CARC 18);
- ``suspect_duplicate``: the first line of a claim billed again, same member, code and day, by another
  provider of the same kind (pends);
- ``late``: received more than 90 days after the service (timely filing, CARC 29);
- ``ineligible``: a service before the member's coverage began or after it ended (CARC 26/27);
- ``unauthorized``: an advanced-imaging claim without a prior authorization (CARC 197); every other advanced
  imaging claim carries one in REF*G1 and is listed in :attr:`ClaimMonth.authorizations` for the demo to
  approve;
- ``replacement`` and ``void``: frequency 7 and 8 claims naming, in REF*F8, an earlier claim by the number
  the import gave it (the ``earlier`` argument: claim numbers are assigned on import);
- ``facility``: the hospitals' 837I claims (DOFR: the hospital's);
- ``high_cost``: claims of the few catastrophic members (:func:`is_high_cost`: one in :data:`HIGH_COST_ONE_IN`
  of those 30 or older): each month they are treated (weekly chemotherapy, daily radiation), and in one month of
  the year they have major surgery with an inpatient stay, so their professional *charges* pass a $150,000
  attachment point within about six covered months. What the IPA *pays* for them depends on the contract's
  pricing (at 100% of the demo's Medicare-style fees it is well under that: professional fees are small next to
  the facility's, which are the hospital's under the DOFR).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from openipa.core.identifiers import generate_npi, generate_tin
from openipa.core.months import Month, age_on
from openipa.demo.engine import COMMERCIAL, MA, MEDICAID, DemoData, PayerSpec, fees
from openipa.edi.t837 import (
    INSTITUTIONAL,
    PROFESSIONAL,
    VERSION_INSTITUTIONAL,
    VERSION_PROFESSIONAL,
    Address,
    Claim837,
    Diagnosis,
    Header837,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)

ONE_DAY = dt.timedelta(days=1)

LINES_PER_MEMBER_YEAR = 8.0
"""The target average (all ages and products); the encounter rates below are tuned to it."""
HIGH_COST_ONE_IN = 1000
"""One adult member in this many is a catastrophic case."""
STOP_LOSS_ATTACHMENT_CENTS = 15_000_000
"""$150,000: the attachment point the high-cost members' yearly professional charges pass."""

DUPLICATE_SHARE = 0.008
SUSPECT_SHARE = 0.004
LATE_SHARE = 0.008
INELIGIBLE_SHARE = 0.004
UNAUTHORIZED_SHARE = 0.15
"""Of the advanced imaging claims."""
REPLACEMENT_SHARE = 0.003
VOID_SHARE = 0.002
"""Of the month's claims; they replace or void claims received in the REPLACEABLE_DAYS before the month."""
REPLACEABLE_DAYS = 90
LATE_DAYS = (100, 200)
"""A late claim's service is this many days (inclusive range) before it is received."""

SUBMITTER_NAME = "OPENIPA DEMO CLEARINGHOUSE"
SUBMITTER_ID = "DEMOCH01"
RECEIVER_NAME = "OpenIPA Demo Medical Group"
RECEIVER_ID = "OPENIPA"

NOISE_KINDS = (
    "exact_duplicate", "suspect_duplicate", "late", "ineligible", "unauthorized", "replacement", "void",
    "facility", "high_cost",
)  # fmt: skip

# Kinds of provider a claim comes from (ClaimProvider.kind).
PCP, SPECIALIST, BEHAVIORAL, LAB, FACILITY = "pcp", "specialist", "behavioral", "lab", "facility"


@dataclass(frozen=True, slots=True)
class ClaimMember:
    """A member covered in the month, as the payer knows them."""

    key: str
    """The payer's member id (NM109 of NM1*IL)."""
    last_name: str
    first_name: str
    birth_date: dt.date
    sex: str
    payer_code: str
    product_code: str
    covered_from: dt.date
    """First day of the continuous coverage that includes the month (whatever the product)."""
    covered_to: dt.date | None
    """Its last day (None: open)."""
    pcp_npi: str = ""
    claims_from: dt.date = dt.date.min
    """The first day claims are made up for (the demo's window: coverage before it, the enrollment history,
    has no claims)."""


@dataclass(frozen=True, slots=True)
class ClaimProvider:
    """A provider that bills: an individual (``first_name`` set) or an organization."""

    npi: str
    tin: str
    name: str
    """Last name, or the organization's name."""
    first_name: str
    kind: str
    """pcp, specialist, behavioral, lab or facility (a hospital)."""
    specialty: str
    taxonomy: str
    practice_code: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class PlannedClaim:
    claim: Claim837
    received: dt.date
    noise: str = ""
    """The kind of noise this claim is (one of NOISE_KINDS), or empty."""


@dataclass(frozen=True, slots=True)
class AuthorizationSpec:
    """An approved prior authorization the demo should hold for a claim that names it in REF*G1."""

    member_key: str
    number: str
    code: str
    servicing_npi: str
    units: int
    valid_from: dt.date
    valid_to: dt.date


@dataclass
class ClaimMonth:
    """The claims received in a month and what went into them."""

    month: Month
    claims: list[PlannedClaim] = field(default_factory=list)
    noise: dict[str, int] = field(default_factory=dict)
    authorizations: list[AuthorizationSpec] = field(default_factory=list)
    high_cost_members: tuple[str, ...] = ()

    @property
    def claim837s(self) -> list[Claim837]:
        return [p.claim for p in self.claims]

    @property
    def lines(self) -> int:
        return sum(len(p.claim.lines) for p in self.claims)

    def files(self) -> list[tuple[dt.date, str, list[Claim837]]]:
        """The claims as the demo writes them: one file per received day and kind (write_837 takes one
        version per interchange), by day then professional before institutional."""
        groups: dict[tuple[dt.date, str], list[Claim837]] = {}
        for p in self.claims:
            groups.setdefault((p.received, p.claim.kind), []).append(p.claim)
        order = {PROFESSIONAL: 0, INSTITUTIONAL: 1}
        return [
            (day, kind, groups[(day, kind)])
            for day, kind in sorted(groups, key=lambda k: (k[0], order[k[1]]))
        ]


# ------------------------------------------------------------------------------------------ clinical tables

# ICD-10-CM codes (no dot), by what brings the member in.
_GENERAL_DX = ("I10", "E119", "E785", "M545", "J069", "R0789", "K219", "R109", "Z0000", "F411", "N390", "R51")
_CHILD_DX = ("Z00129", "J069", "H6690", "J029", "R509", "L209", "Z23")
_PREVENTIVE_DX = ("Z0000", "Z0001", "Z1231", "Z23", "E785")
_LAB_DX = ("E119", "E785", "I10", "Z0000", "N183", "D649", "E039", "R739")
_BEHAVIORAL_DX = ("F329", "F411", "F431", "F909", "F329")
_ER_DX = ("R0789", "R109", "S0990XA", "J189", "N390", "R55", "S6290XA", "I10")
_ONCOLOGY_DX = ("C3490", "C189", "C509", "D701", "Z5111")
_SURGERY_DX = ("I2510", "M170", "M4806", "I350", "K8020")
_IMAGING_DX = ("R51", "R42", "M545", "R0789", "M25561", "R1084", "G4489")

# Specialty keyword -> (diagnoses, procedures: (code, weight, units range, modifiers, place)).
_Proc = tuple[str, float, tuple[int, int], tuple[str, ...], str]
_SPECIALTY_MENUS: tuple[tuple[str, tuple[str, ...], tuple[_Proc, ...]], ...] = (
    ("cardio", ("I10", "I2510", "I480", "R0789", "I509"),
     (("93000", 0.5, (1, 1), (), "11"), ("93306", 0.3, (1, 1), (), "11"), ("78452", 0.1, (1, 1), (), "11"))),
    ("orthop", ("M170", "M1711", "M545", "M25561", "S8390XA"),
     (("20610", 0.5, (1, 1), (), "11"), ("73562", 0.4, (1, 1), (), "11"), ("73030", 0.2, (1, 1), (), "11"),
      ("29881", 0.06, (1, 1), (), "24"))),
    ("obstet", ("Z01419", "N920", "O0993", "Z3A20"), (("76830", 0.4, (1, 1), (), "11"),)),
    ("endocr", ("E119", "E1165", "E039", "E0500"), (("83036", 0.5, (1, 1), (), "11"),)),
    ("dermat", ("L570", "L821", "D485", "B079"),
     (("11102", 0.4, (1, 1), (), "11"), ("17000", 0.4, (1, 1), (), "11"), ("17110", 0.2, (1, 1), (), "11"))),
    ("gastro", ("K219", "K5730", "Z1211", "K635"),
     (("45378", 0.3, (1, 1), (), "24"), ("45385", 0.15, (1, 1), (), "24"), ("43239", 0.15, (1, 1), (), "24"))),
    ("pulmon", ("J449", "J45909", "G4733", "R0602"), (("71046", 0.4, (1, 1), (), "11"),)),
    ("ophthal", ("H2511", "H4011X0", "E113599", "H524"),
     (("92014", 0.7, (1, 1), (), "11"), ("66984", 0.05, (1, 1), (), "24"))),
    ("nephro", ("N183", "N184", "N185", "I129"), (("90960", 0.2, (1, 1), (), "11"),)),
    ("neuro", ("G4489", "G40909", "R42", "G629"), ()),
    ("otolar", ("H6690", "J329", "H6121", "J342"),
     (("69210", 0.4, (1, 1), (), "11"), ("31231", 0.3, (1, 1), (), "11"))),
    ("urolog", ("N400", "N390", "R319", "N202"), (("52000", 0.3, (1, 1), (), "11"), ("76700", 0.2, (1, 1), (), "11"))),
    ("rheumat", ("M069", "M0579", "M109", "M353"),
     (("20610", 0.3, (1, 1), (), "11"), ("96372", 0.4, (1, 1), (), "11"))),
    ("surgery", ("K8020", "K409", "L723", "D179"), (("47562", 0.1, (1, 1), (), "22"), ("11102", 0.2, (1, 1), (), "11"))),
)  # fmt: skip
_LAB_TESTS: tuple[tuple[str, float], ...] = (
    ("80053", 0.55), ("85025", 0.55), ("80061", 0.4), ("83036", 0.3), ("84443", 0.3), ("81001", 0.25),
    ("80048", 0.2), ("82306", 0.15), ("84153", 0.1), ("87086", 0.1), ("85610", 0.06), ("82947", 0.1),
    ("87880", 0.05),
)  # fmt: skip
_IMAGING: tuple[tuple[str, float], ...] = (
    ("71046", 0.3), ("72100", 0.12), ("73030", 0.08), ("73562", 0.08), ("76700", 0.08), ("77067", 0.14),
    ("74177", 0.06), ("71250", 0.04), ("72148", 0.04), ("73721", 0.03),
    ("70450", 0.04), ("70551", 0.04), ("70553", 0.02), ("70486", 0.015), ("70496", 0.01),
)  # fmt: skip
ADVANCED_IMAGING = frozenset(code for code, _ in _IMAGING if "70450" <= code <= "70559")

# Encounter mix: (kind, weight). Specialist- and lab-heavy.
_ENCOUNTERS: tuple[tuple[str, float], ...] = (
    ("pcp", 0.31), ("specialist", 0.25), ("lab", 0.22), ("imaging", 0.09), ("er", 0.035),
    ("behavioral", 0.05), ("inpatient", 0.01), ("outpatient_facility", 0.025), ("er_facility", 0.03),
)  # fmt: skip
_ENCOUNTER_CUM = tuple(
    sum(w for _, w in _ENCOUNTERS[: i + 1]) / sum(w for _, w in _ENCOUNTERS) for i in range(len(_ENCOUNTERS))
)


def _encounters_per_year(age: int, lob: str) -> float:
    """Expected encounters (claims) a year; tuned so lines per member-year average about eight."""
    base = 1.9 if age < 18 else 2.7 if age < 45 else 4.0 if age < 65 else 5.4
    return base * (1.1 if lob == MA else 1.0)


# ------------------------------------------------------------------------------------------- from DemoData


def claim_members(data: DemoData, month: Month) -> list[ClaimMember]:
    """The members covered in ``month`` (by the generated truth), with their continuous coverage around it
    and the PCP in force on the first covered day of the month, in DemoData member order."""
    spans: dict[int, list[tuple[str, dt.date, dt.date | None]]] = {}
    for e in data.eligibility:
        spans.setdefault(e.member, []).append((e.product_code, e.valid_from, e.valid_to))
    pcps: dict[int, list[tuple[str, dt.date, dt.date | None]]] = {}
    for a in data.pcp_assignments:
        pcps.setdefault(a.member, []).append((a.provider_npi, a.valid_from, a.valid_to))
    payer_of = {p.code: p.payer_code for p in data.products}
    first, last = month.first_day, month.last_day
    out: list[ClaimMember] = []
    for index, m in enumerate(data.members):
        own = sorted(spans.get(index, []), key=lambda s: s[1])
        hit = [s for s in own if s[1] <= last and (s[2] is None or s[2] >= first)]
        if not hit:
            continue
        product, start, _end = hit[0]
        day = max(start, first)
        lo, hi = _continuous(own, start)
        pcp = next((n for n, s, e in pcps.get(index, []) if s <= day and (e is None or e >= day)), "")
        out.append(ClaimMember(m.payer_member_id, m.last_name, m.first_name, m.date_of_birth, m.sex,
                               payer_of[product], product, lo, hi, pcp, data.first_month.first_day))  # fmt: skip
    return out


def _continuous(
    spans: Sequence[tuple[str, dt.date, dt.date | None]], start: dt.date
) -> tuple[dt.date, dt.date | None]:
    """The continuous coverage (spans ordered by first day, touching or overlapping) holding the span that
    starts on ``start``."""
    blocks: list[tuple[dt.date, dt.date | None]] = []
    for _product, s, t in spans:
        if blocks:
            lo, hi = blocks[-1]
            if hi is None or s <= hi + ONE_DAY:
                blocks[-1] = (lo, None if hi is None or t is None else max(hi, t))
                continue
        blocks.append((s, t))
    return next(b for b in blocks if b[0] <= start and (b[1] is None or b[1] >= start))


# Organizations the claims need that the demo network does not generate: (name, kind, specialty, taxonomy).
SUPPORT_ORGANIZATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("Golden State Reference Laboratory, Inc.", LAB, "Clinical Medical Laboratory", "291U00000X"),
    ("Coastal Imaging Medical Group, Inc.", SPECIALIST, "Diagnostic Radiology", "2085R0202X"),
    ("Southland Emergency Physicians, Inc.", SPECIALIST, "Emergency Medicine", "207P00000X"),
    ("Valley Hospitalist Medical Group, Inc.", SPECIALIST, "Hospitalist", "208M00000X"),
    ("Pacific Oncology & Hematology Medical Group", SPECIALIST, "Hematology & Oncology", "207RX0202X"),
    ("St. Vincent Regional Medical Center", FACILITY, "General Acute Care Hospital", "282N00000X"),
    ("Mission Community Hospital", FACILITY, "General Acute Care Hospital", "282N00000X"),
)
"""The demo's services must add these to the network (kind ``lab`` as the network's closest kind) so that
their claims find a provider."""


def _zip9(zip_code: str, street: str) -> str:
    """ZIP+4, which the 837 requires for a billing provider: the ZIP as given, its +4 made up from the
    street (stable)."""
    return zip_code if len(zip_code) == 9 else f"{zip_code[:5]}{1000 + _stable('zip4', street) % 9000:04d}"


def claim_providers(data: DemoData, seed: int) -> list[ClaimProvider]:
    """The network's billing providers (PCPs, specialists, behavioral health; individuals billing under their
    practice's TIN at its primary location), then :data:`SUPPORT_ORGANIZATIONS` with NPIs and TINs drawn
    from the seed (distinct from the network's)."""
    practices = {p.code: p for p in data.practices}
    primary = {loc.practice_code: loc for loc in data.locations if loc.is_primary}
    practice_of: dict[str, str] = {}
    for a in data.affiliations:
        practice_of.setdefault(a.provider_npi, a.practice_code)
    out: list[ClaimProvider] = []
    for p in data.providers:
        if p.kind not in (PCP, SPECIALIST, BEHAVIORAL) or p.npi not in practice_of:
            continue
        practice = practices[practice_of[p.npi]]
        loc = primary.get(practice.code)
        address = (
            Address(loc.address_line1, "", loc.city, loc.state, _zip9(loc.zip_code, loc.address_line1))
            if loc
            else None
        )
        out.append(ClaimProvider(p.npi, practice.tin, p.last_name, p.first_name, p.kind, p.specialty,
                                 p.taxonomy_code, practice.code, address))  # fmt: skip
    rng = random.Random(f"openipa-demo-837-providers-{seed}")
    used_npis = {p.npi for p in data.providers}
    used_tins = {p.tin for p in data.practices}
    cities = (
        ("1200 W Olympic Blvd", "Los Angeles", "900152203"),
        ("2100 E Katella Ave", "Anaheim", "928061918"),
    )
    for n, (name, kind, specialty, taxonomy) in enumerate(SUPPORT_ORGANIZATIONS):
        npi = generate_npi(rng)
        while npi in used_npis or not npi.startswith("2"):  # organizations' NPIs start with 2
            npi = generate_npi(rng)
        tin = generate_tin(rng)
        while tin in used_tins:
            tin = generate_tin(rng)
        used_npis.add(npi)
        used_tins.add(tin)
        line1, city, zip_code = cities[n % 2]
        out.append(ClaimProvider(npi, tin, name, "", kind, specialty, taxonomy, f"SUPPORT{n + 1}",
                                 Address(line1, "", city, "CA", zip_code)))  # fmt: skip
    return out


# ------------------------------------------------------------------------------------------------ planning


def _filing_indicator(lob: str) -> str:
    return {MA: "16", MEDICAID: "MC", COMMERCIAL: "HM"}.get(lob, "CI")


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _weighted(rng: random.Random, items: Sequence[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    draw = rng.random() * total
    for code, w in items:
        draw -= w
        if draw < 0:
            return code
    return items[-1][0]


def _stable(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _markup_percent(npi: str) -> int:
    """The provider's charge master: 180-320% of the Medicare-style fee."""
    return 180 + _stable("markup", npi) % 141


def _charge(code: str, npi: str, units: int = 1) -> int:
    """Charge in cents, rounded up to whole dollars as charge masters are."""
    cents = fees.base_fee_cents(code) * _markup_percent(npi) * units // 100
    return max(100, -(-cents // 100) * 100)


def is_high_cost(seed: int, member: ClaimMember) -> bool:
    """Whether the member is one of the catastrophic cases (stable over the months of a seed)."""
    return (
        _stable("high-cost", seed, member.key) % HIGH_COST_ONE_IN == 0
        and age_on(member.birth_date, max(member.covered_from, member.claims_from)) >= 30
    )


@dataclass
class _Line:
    code: str
    charge: int
    units: int = 1
    modifiers: tuple[str, ...] = ()
    day: dt.date | None = None
    revenue: str = ""
    basis: str = "UN"
    pointers: int = 1
    """How many of the claim's diagnoses it points at (from the first)."""
    place: str = ""
    """SV105: the line's place of service when it differs from the claim's (empty: the claim's)."""


@dataclass
class _Encounter:
    member: ClaimMember
    provider: ClaimProvider
    place: str
    day: dt.date
    diagnoses: tuple[str, ...]
    lines: list[_Line]
    institutional: bool = False
    facility_type: str = ""
    admitted: dt.date | None = None
    discharged: dt.date | None = None
    attending: ClaimProvider | None = None
    auth: str = ""
    referral: str = ""
    """REF*9F (none of the demo's claims carries one yet)."""


class _Planner:
    def __init__(
        self,
        seed: int,
        month: Month,
        members: Sequence[ClaimMember],
        providers: Sequence[ClaimProvider],
        payers: Sequence[PayerSpec],
    ) -> None:
        self.seed = seed
        self.month = month
        self.rng = random.Random(f"openipa-demo-837-{seed}-{month}")
        self.members = members
        self.by_npi = {p.npi: p for p in providers}
        self.pool: dict[str, list[ClaimProvider]] = {}
        for p in providers:
            self.pool.setdefault(p.kind, []).append(p)
            self.pool.setdefault(f"specialty:{p.specialty}", []).append(p)
        self.specialists = [
            p for p in self.pool.get(SPECIALIST, []) if p.practice_code[:7] != "SUPPORT" and p.first_name
        ]
        self.payers = {p.code: p for p in payers}
        self.lob = {p.code: p.line_of_business for p in payers}
        self.headers: dict[tuple[dt.date, str], Header837] = {}
        self.serial = 0
        self.auth_serial = 0
        for kind in (PCP, LAB, FACILITY):
            if not self.pool.get(kind):
                raise ValueError(f"providers: no provider of kind {kind!r} (claims need one)")

    # -- helpers

    def pick(self, kind: str) -> ClaimProvider:
        return self.rng.choice(self.pool[kind])

    def specialty(self, name: str) -> ClaimProvider | None:
        found = self.pool.get(f"specialty:{name}")
        return self.rng.choice(found) if found else None

    def day_in(self, m: ClaimMember, lo: dt.date, hi: dt.date) -> dt.date | None:
        """A day in [lo, hi] within the member's coverage, or None."""
        lo = max(lo, m.covered_from, m.claims_from)
        if m.covered_to is not None:
            hi = min(hi, m.covered_to)
        if hi < lo:
            return None
        return lo + dt.timedelta(days=self.rng.randint(0, (hi - lo).days))

    def diagnoses(self, pool: Sequence[str], most: int = 4) -> tuple[str, ...]:
        n = min(len(set(pool)), self.rng.choice((1, 1, 2, 2, 2, 3, 4)[: 3 + most]))
        picked: list[str] = []
        while len(picked) < n:
            code = self.rng.choice(pool)
            if code not in picked:
                picked.append(code)
        return tuple(picked)

    def header(self, received: dt.date, kind: str) -> Header837:
        key = (received, kind)
        if key not in self.headers:
            version = VERSION_PROFESSIONAL if kind == PROFESSIONAL else VERSION_INSTITUTIONAL
            self.headers[key] = Header837(
                "0001", version, kind, f"DEMO{received:%Y%m%d}{'P' if kind == PROFESSIONAL else 'I'}",
                received, SUBMITTER_NAME, SUBMITTER_ID, RECEIVER_NAME, RECEIVER_ID,
            )  # fmt: skip
        return self.headers[key]

    def claim_id(self) -> str:
        self.serial += 1
        return f"D{self.seed % 1000:03d}{self.month.year % 100:02d}{self.month.month:02d}{self.serial:06d}"

    # -- encounters

    def office(self, m: ClaimMember, day: dt.date) -> _Encounter:
        provider = self.by_npi.get(m.pcp_npi) or self.pick(PCP)
        age = age_on(m.birth_date, max(day, m.birth_date))
        rng = self.rng
        if rng.random() < 0.12:
            code = (
                ("99392" if age < 5 else "99395" if age < 40 else "99396" if age < 65 else "99397")
                if rng.random() < 0.6
                else ("99385" if age < 40 else "99386" if age < 65 else "99387")
            )
            dx = self.diagnoses(_PREVENTIVE_DX if age >= 18 else _CHILD_DX, 2)
        else:
            code = _weighted(rng, (("99212", 0.1), ("99213", 0.45), ("99214", 0.35), ("99215", 0.07),
                                   ("99203", 0.02), ("99204", 0.01)))  # fmt: skip
            dx = self.diagnoses(_CHILD_DX if age < 18 else _GENERAL_DX)
        lines = [_Line(code, _charge(code, provider.npi), pointers=len(dx))]
        for extra, share in (("36415", 0.15), ("81002", 0.08), ("93000", 0.06 if age >= 40 else 0.0),
                             ("87880", 0.08 if age < 18 else 0.0), ("90471", 0.12), ("96372", 0.05)):  # fmt: skip
            if rng.random() < share and len(lines) < 6:
                lines.append(_Line(extra, _charge(extra, provider.npi)))
        if any(ln.code == "90471" for ln in lines) and "Z23" not in dx and len(dx) < 4:
            dx = (*dx, "Z23")
        return _Encounter(m, provider, "11", day, dx, lines)

    def specialist(self, m: ClaimMember, day: dt.date) -> _Encounter:
        rng = self.rng
        provider = rng.choice(self.specialists) if self.specialists else self.pick(PCP)
        menu = next((x for x in _SPECIALTY_MENUS if x[0] in provider.specialty.lower()), None)
        dx = self.diagnoses(menu[1] if menu else _GENERAL_DX)
        new = rng.random() < 0.3
        code = (
            _weighted(rng, (("99242", 0.2), ("99243", 0.4), ("99244", 0.3), ("99245", 0.1)))
            if new and rng.random() < 0.3
            else _weighted(rng, (("99203", 0.4), ("99204", 0.45), ("99205", 0.15)))
            if new
            else _weighted(rng, (("99212", 0.1), ("99213", 0.4), ("99214", 0.4), ("99215", 0.1)))
        )
        lines = [_Line(code, _charge(code, provider.npi), pointers=len(dx))]
        for proc, share, (lo, hi), mods, pos in menu[2] if menu else ():
            if rng.random() >= share:
                continue
            units = rng.randint(lo, hi)
            modifiers = ("50",) if proc == "20610" and rng.random() < 0.2 else mods
            charge = _charge(proc, provider.npi, units) * (150 if "50" in modifiers else 100) // 100
            procedure = _Line(proc, charge, units, modifiers, pointers=rng.randint(1, len(dx)))
            if pos != "11":  # a procedure day at a surgery center or hospital: the procedure alone
                return _Encounter(m, provider, pos, day, dx, [procedure])
            if len(lines) < 6:
                if len(lines) == 1 and proc[:2] not in ("93", "73", "76", "71", "78", "83"):
                    lines[0].modifiers = ("25",)  # a separately identifiable visit on a procedure day
                lines.append(procedure)
        return _Encounter(m, provider, "11", day, dx, lines)

    def lab(self, m: ClaimMember, day: dt.date) -> _Encounter:
        provider = self.pick(LAB)
        dx = self.diagnoses(_LAB_DX)
        tests: list[_Line] = []
        for code, share in _LAB_TESTS:
            if self.rng.random() < share and len(tests) < 5:
                tests.append(_Line(code, _charge(code, provider.npi), pointers=self.rng.randint(1, len(dx))))
        if not tests:
            tests.append(_Line("80053", _charge("80053", provider.npi), pointers=len(dx)))
        tests.append(_Line("36415", _charge("36415", provider.npi)))
        return _Encounter(m, provider, "81", day, dx, tests)

    def imaging(self, m: ClaimMember, day: dt.date) -> _Encounter:
        provider = self.specialty("Diagnostic Radiology") or self.pick(SPECIALIST)
        code = _weighted(self.rng, _IMAGING)
        dx = self.diagnoses(_IMAGING_DX, 2)
        bilateral = code in ("73030", "73562") and self.rng.random() < 0.15
        mods = ("RT",) if code in ("73030", "73562", "73721") and not bilateral else ()
        lines = [
            _Line(code, _charge(code, provider.npi), 1, ("50",) if bilateral else mods, pointers=len(dx))
        ]
        if bilateral:
            lines[0].charge = lines[0].charge * 2
        e = _Encounter(m, provider, "11", day, dx, lines)
        if code in ADVANCED_IMAGING:
            self.auth_serial += 1
            e.auth = f"PA{self.month.year % 100:02d}{self.month.month:02d}{self.auth_serial:05d}"
        return e

    def emergency(self, m: ClaimMember, day: dt.date) -> _Encounter:
        provider = self.specialty("Emergency Medicine") or self.pick(SPECIALIST)
        dx = self.diagnoses(_ER_DX, 3)
        code = _weighted(self.rng, (("99282", 0.1), ("99283", 0.35), ("99284", 0.35), ("99285", 0.2)))
        lines = [_Line(code, _charge(code, provider.npi), pointers=len(dx))]
        if self.rng.random() < 0.25:
            lines.append(_Line("93000", _charge("93000", provider.npi)))
        return _Encounter(m, provider, "23", day, dx, lines)

    def behavioral(self, m: ClaimMember, day: dt.date) -> _Encounter:
        provider = self.pick(BEHAVIORAL) if self.pool.get(BEHAVIORAL) else self.pick(PCP)
        code = _weighted(self.rng, (("90791", 0.2), ("90834", 0.5), ("90837", 0.3)))
        dx = self.diagnoses(_BEHAVIORAL_DX, 2)
        place = "02" if self.rng.random() < 0.3 else "11"
        return _Encounter(
            m, provider, place, day, dx, [_Line(code, _charge(code, provider.npi), pointers=len(dx))]
        )

    def facility(self, m: ClaimMember, day: dt.date, kind: str) -> _Encounter:
        """A hospital's 837I: an emergency visit, an outpatient visit or an inpatient stay (days from day)."""
        rng = self.rng
        hospital = self.pick(FACILITY)
        attending = rng.choice(self.specialists) if self.specialists else None
        if kind == "inpatient":
            days = rng.randint(2, 6)
            dx = self.diagnoses((*_ER_DX, *_SURGERY_DX))
            lines = [
                _Line("", rng.randint(3200, 5200) * 100 * days, days, revenue="0120", basis="DA"),
                _Line("", rng.randint(400, 6000) * 100, 1, revenue="0250"),
                _Line("80053", rng.randint(180, 400) * 100, 1, revenue="0300"),
            ]
            if rng.random() < 0.4:
                lines.append(_Line("", rng.randint(8000, 30000) * 100, 1, revenue="0360"))
            e = _Encounter(m, hospital, "", day, dx, lines, True, "11", day, day + dt.timedelta(days=days),
                           attending)  # fmt: skip
            return e
        dx = self.diagnoses(_ER_DX if kind == "er_facility" else _IMAGING_DX, 3)
        if kind == "er_facility":
            code = _weighted(rng, (("99283", 0.4), ("99284", 0.4), ("99285", 0.2)))
            lines = [_Line(code, rng.randint(900, 4200) * 100, 1, revenue="0450")]
        else:
            lines = [_Line("", rng.randint(300, 2500) * 100, 1, revenue="0510")]
        if rng.random() < 0.6:
            lines.append(_Line("85025", rng.randint(60, 150) * 100, 1, revenue="0300"))
        if rng.random() < 0.4:
            lines.append(_Line("71046", rng.randint(250, 600) * 100, 1, revenue="0320"))
        return _Encounter(m, hospital, "", day, dx, lines, True, "13", attending=attending)

    def high_cost(self, m: ClaimMember, lo: dt.date, hi: dt.date) -> list[_Encounter]:
        """A catastrophic member's month: chemotherapy and radiation (the oncology group) every month; major
        surgery with an inpatient stay in one month of the year (the surgeon, the hospitalist, the hospital)."""
        out: list[_Encounter] = []
        rng = self.rng
        oncology = self.specialty("Hematology & Oncology")
        start = self.day_in(m, lo, hi)
        if start is None:
            return out
        if oncology is not None:
            dx = (rng.choice(_ONCOLOGY_DX[:3]), "Z5111")
            # weekly chemotherapy and a week of daily radiation, Monday to Friday, within the month; the
            # group's charge master is hospital-based (twice the usual markup)
            monday = self.month.first_day + dt.timedelta(days=-self.month.first_day.weekday() % 7)
            while monday + dt.timedelta(days=6) <= self.month.last_day:
                friday = monday + dt.timedelta(days=4)
                if monday >= m.covered_from and (m.covered_to is None or friday <= m.covered_to):
                    chemo = [_Line("96413", 2 * _charge("96413", oncology.npi), pointers=2),
                             _Line("96415", 2 * _charge("96415", oncology.npi, 3), 3, pointers=2)]  # fmt: skip
                    out.append(_Encounter(m, oncology, "11", monday, dx, chemo))
                    radiation = [
                        _Line("77385", 2 * _charge("77385", oncology.npi), modifiers=("TC",),
                              day=monday + dt.timedelta(days=k), pointers=1)
                        for k in range(5)
                    ]  # fmt: skip
                    out.append(_Encounter(m, oncology, "11", monday, dx, radiation))
                monday += dt.timedelta(days=7)
        if _stable("surgery-month", self.seed, m.key) % 12 == self.month.month % 12:
            code = rng.choice(("33533", "33405", "22612", "63047", "27447"))
            wanted = "orthop" if code in ("22612", "63047", "27447") else "surg"
            surgeons = [p for p in self.specialists if wanted in p.specialty.lower()] or self.specialists
            surgeon = rng.choice(surgeons) if surgeons else self.pick(PCP)
            dx = (rng.choice(_SURGERY_DX), "I10")
            out.append(_Encounter(m, surgeon, "21", start, dx, [_Line(code, _charge(code, surgeon.npi) * 12,
                                                                       pointers=2)]))  # fmt: skip
            icu = self.specialty("Hospitalist") or surgeon
            days = [start + dt.timedelta(days=k) for k in range(1, 6)]
            lines = [_Line("99291", _charge("99291", icu.npi) * 3, day=d) for d in days[:2]]
            lines += [_Line("99292", _charge("99292", icu.npi, 2) * 3, 2, day=d) for d in days[:2]]
            lines += [_Line("99233", _charge("99233", icu.npi) * 3, day=d) for d in days[2:4]]
            out.append(_Encounter(m, icu, "21", start, dx, lines))
            hospital = self.pick(FACILITY)
            stay = [
                _Line("", rng.randint(9000, 14000) * 100 * 6, 6, revenue="0200", basis="DA"),
                _Line("", rng.randint(40000, 90000) * 100, 1, revenue="0360"),
                _Line("", rng.randint(5000, 20000) * 100, 1, revenue="0250"),
            ]
            out.append(_Encounter(m, hospital, "", start, dx, stay, True, "11", start, start + dt.timedelta(days=6),
                                  surgeon))  # fmt: skip
        return out

    # -- to 837 records

    def to_claim(self, e: _Encounter, received: dt.date, claim_id: str) -> Claim837:
        m = e.member
        payer = self.payers[m.payer_code]
        kind = INSTITUTIONAL if e.institutional else PROFESSIONAL
        diagnoses = tuple(
            Diagnosis("ABK" if n == 1 else "ABF", code, n) for n, code in enumerate(e.diagnoses, 1)
        )
        p = e.provider
        billing = Provider("1" if p.first_name else "2", p.name, p.first_name, "", "XX", p.npi, p.tin, p.taxonomy,
                           p.address)  # fmt: skip
        lines: list[ServiceLine] = []
        for n, ln in enumerate(e.lines, 1):
            pointers = tuple(range(1, min(ln.pointers, len(diagnoses)) + 1)) if kind == PROFESSIONAL else ()
            lines.append(ServiceLine(
                number=n, procedure_qualifier="HC" if ln.code else "", procedure_code=ln.code, modifiers=ln.modifiers,
                revenue_code=ln.revenue, charge_cents=ln.charge, unit_basis=ln.basis, units=Decimal(ln.units),
                place_of_service=ln.place, diagnosis_pointers=pointers,
                diagnoses=tuple(diagnoses[i - 1] for i in pointers),
                service_date=ln.day or e.day, service_date_end=None, control_number="", rendering=None,
                segment_number=0,
            ))  # fmt: skip
        attending = None
        if e.attending is not None and e.attending.first_name:
            a = e.attending
            attending = Provider("1", a.name, a.first_name, "", "XX", a.npi, "", a.taxonomy)
        subscriber = Subscriber("P", "18", m.product_code, "", _filing_indicator(self.lob.get(m.payer_code, "")),
                                Person(m.last_name, m.first_name, "", "MI", m.key, m.birth_date, m.sex))  # fmt: skip
        last_day = max(ln.service_date for ln in lines if ln.service_date is not None)
        return Claim837(
            transaction=self.header(received, kind),
            billing_provider=billing,
            pay_to=None,
            subscriber=subscriber,
            patient=None,
            payer=Payer(payer.name, "PI", payer.x12_payer_id),
            claim_id=claim_id,
            total_charge_cents=sum(ln.charge_cents for ln in lines),
            place_of_service=e.place if kind == PROFESSIONAL else "",
            facility_type=e.facility_type if kind == INSTITUTIONAL else "",
            frequency_code="1",
            payer_claim_control_number="",
            prior_authorization=e.auth,
            referral_number=e.referral,
            onset_date=None,
            statement_from=e.day if kind == INSTITUTIONAL else None,
            statement_to=(e.discharged or last_day) if kind == INSTITUTIONAL else None,
            admission_date=e.admitted,
            diagnoses=diagnoses,
            rendering=None,
            attending=attending if kind == INSTITUTIONAL else None,
            operating=None,
            referring=None,
            service_facility=None,
            lines=tuple(lines),
            segment_number=0,
            admission_type=("1" if e.facility_type == "13" else "3") if kind == INSTITUTIONAL else "",
            admission_source=("7" if e.facility_type == "13" else "1") if kind == INSTITUTIONAL else "",
            patient_status=("01" if kind == INSTITUTIONAL else ""),
        )


# Planted for the quality measures that need a history the random encounters do not make (SPC, FUM, FUH):
# members chosen by a hash of the seed and their key, their year of care drawn from their own random stream,
# so the month's other claims and noise are the same with or without them.
CARDIOVASCULAR_PER_MILLE = 40
"""Of the members 45-75: ischemic vascular disease, seen for it at the window's start and again later."""
REVASCULARIZATION_ONE_IN = 10
"""Of those: a CABG at the window's start."""
MENTAL_ED_PER_MILLE = 5
"""Of the adults: an emergency visit for a mental illness."""
MENTAL_STAY_PER_MILLE = 5
"""Of the adults: a psychiatric inpatient stay."""
_MENTAL_DX = ("F329", "F322", "F331", "F332", "F411", "F419", "F200", "F319", "F4310", "F250")
_PLANTED_PREFIX = "P"


ESRD_PER_MILLE = 5
"""Of the adult members: end-stage renal disease (risk runs score them with CMS's ESRD model, ADR 0018)."""
_ESRD_DX = {"dialysis": ("N186", "Z992"), "transplant": ("N186", "Z992"), "graft": ("Z940",)}


def esrd_kind(seed: int, key: str, birth_date: dt.date, on: dt.date) -> str | None:
    """The ESRD status of the member with payer key ``key`` (None for most): "dialysis" (17 in 20),
    "graft" (a functioning kidney transplant of years ago, 2 in 20) or "transplant" (a kidney transplant 1-3
    months before February 1 of the current year, 1 in 20), for members 18 or over on ``on``."""
    if age_on(birth_date, max(birth_date, on)) < 18 or _stable("esrd", seed, key) % 1000 >= ESRD_PER_MILLE:
        return None
    kind = _stable("esrd-kind", seed, key) % 20
    return "transplant" if kind == 0 else "graft" if kind <= 2 else "dialysis"


def esrd_member_fields(
    seed: int, key: str, birth_date: dt.date, claims_from: dt.date, today: dt.date
) -> tuple[str, str, dt.date | None] | None:
    """(orec, crec, kidney transplant date) of an ESRD member (:func:`esrd_kind` on ``claims_from``, the first
    day of the demo's claims, as the claims plant the ESRD visits), else None:
    dialysis under 65 or one in three of those 65 and over entitled by ESRD originally (orec 2), the others
    currently (crec 2, orec 0); a graft since one to six years; a recent transplant between December 3 and
    January 22 before February 1 of ``today``'s year (graft months 2-3 for that payment year), never after
    ``today``."""
    kind = esrd_kind(seed, key, birth_date, claims_from)
    if kind is None:
        return None
    age = age_on(birth_date, today)
    original = age < 65 or _stable("esrd-orec", seed, key) % 3 == 0
    orec = "2" if original else "0"
    if kind == "dialysis":
        return orec, "2", None
    if kind == "graft":
        return orec, "2", today - dt.timedelta(days=400 + _stable("esrd-graft", seed, key) % 1800)
    february_1 = dt.date(today.year, 2, 1)
    transplant = february_1 - dt.timedelta(days=10 + _stable("esrd-transplant", seed, key) % 51)
    return orec, "2", min(transplant, today)


def cardiovascular(seed: int, key: str) -> bool:
    """Whether the member with payer key ``key`` is one of the planted ischemic vascular disease patients (the
    claims plant their visits for those 45-75; the clinical demo's pharmacy gives most of them a statin)."""
    return _stable("cardiovascular", seed, key) % 1000 < CARDIOVASCULAR_PER_MILLE


def _planted_year(plan: _Planner, m: ClaimMember) -> list[_Encounter]:
    """The member's planted encounters over the whole window (the same every month): IVD office visits at the
    window's start and twice later (some with a CABG at the start); an ED visit for a mental illness
    followed (40% within 7 days, 60% within 30) by a behavioral health visit; a psychiatric stay with a
    follow-up (45% within 7 days, 70% within 30)."""
    seed, key = plan.seed, m.key
    start = m.claims_from
    age = age_on(m.birth_date, max(m.birth_date, start + dt.timedelta(days=425)))
    cvd = 45 <= age <= 75 and cardiovascular(seed, key)
    ed = age >= 18 and _stable("mental-ed", seed, key) % 1000 < MENTAL_ED_PER_MILLE
    stay = age >= 18 and _stable("mental-stay", seed, key) % 1000 < MENTAL_STAY_PER_MILLE
    esrd = esrd_kind(seed, key, m.birth_date, start)
    if not (cvd or ed or stay or esrd):
        return []
    r = random.Random(f"openipa-demo-837-planted-{seed}-{key}")
    out: list[_Encounter] = []

    def day(lo: int, hi: int) -> dt.date:
        return start + dt.timedelta(days=r.randint(lo, hi))

    def one(kind: str) -> ClaimProvider:
        found = plan.pool.get(kind) or plan.pool[PCP]
        return r.choice(found)

    def visit(
        provider: ClaimProvider, on: dt.date, code: str, dx: tuple[str, ...], place: str = "11"
    ) -> None:
        out.append(
            _Encounter(
                m, provider, place, on, dx, [_Line(code, _charge(code, provider.npi), pointers=len(dx))]
            )
        )

    def follow_up(dx: tuple[str, ...], after: dt.date, within7: float, within30: float) -> None:
        u = r.random()
        if u >= within30 + 0.15:
            return
        gap = r.randint(1, 7) if u < within7 else r.randint(8, 30) if u < within30 else r.randint(31, 60)
        code = "90791" if r.random() < 0.5 else "90834"
        visit(one(BEHAVIORAL), after + dt.timedelta(days=gap), code, dx, "02" if r.random() < 0.3 else "11")

    if cvd:
        cardiologists = [p for p in plan.specialists if "cardio" in p.specialty.lower()]
        doctor = r.choice(cardiologists) if cardiologists else plan.by_npi.get(m.pcp_npi) or one(PCP)
        dx = ("I2510", "I10", "E785")[: r.randint(1, 3)]
        if _stable("revascularization", seed, key) % REVASCULARIZATION_ONE_IN == 0:
            # a CABG (the demo's fee file prices no PCI code) by a surgeon, in hospital
            surgeons = [p for p in plan.specialists if "surg" in p.specialty.lower()] or [doctor]
            visit(r.choice(surgeons), day(3, 30), "33533", ("I2510", "I10"), "21")
        for lo, hi in ((35, 58), (80, 160), (200, 320)):
            visit(doctor, day(lo, hi), r.choice(("99213", "99214", "99214")), dx)
    if ed:
        dx = (r.choice(_MENTAL_DX),)
        on = day(70, 320)
        visit(one("specialty:Emergency Medicine"), on, r.choice(("99283", "99284", "99285")), dx, "23")
        follow_up(dx, on, 0.4, 0.6)
    if stay:
        dx = (r.choice(_MENTAL_DX[:8]),)
        admitted = day(70, 300)
        days = r.randint(3, 9)
        discharged = admitted + dt.timedelta(days=days)
        doctor = one("specialty:Hospitalist")
        lines = [_Line("99223", _charge("99223", doctor.npi), day=admitted)]
        lines += [_Line("99232", _charge("99232", doctor.npi), day=admitted + dt.timedelta(days=k))
                  for k in range(1, min(days, 5))]  # fmt: skip
        lines.append(_Line("99238", _charge("99238", doctor.npi), day=discharged))
        out.append(_Encounter(m, doctor, "21", admitted, dx, lines))
        hospital = one(FACILITY)
        room = [_Line("", r.randint(1800, 2600) * 100 * days, days, revenue="0124", basis="DA"),
                _Line("", r.randint(300, 1500) * 100, 1, revenue="0250")]  # fmt: skip
        out.append(_Encounter(m, hospital, "", admitted, dx, room, True, "11", admitted, discharged, doctor))
        follow_up(dx, discharged, 0.45, 0.7)
    if esrd:
        # the nephrologist's ESRD visits (90960, monthly dialysis services) or a transplant follow-up, four
        # times over the window, with the ESRD (N18.6, Z99.2) or transplant status (Z94.0) diagnoses
        nephrologists = [p for p in plan.specialists if "nephro" in p.specialty.lower()]
        doctor = r.choice(nephrologists) if nephrologists else plan.by_npi.get(m.pcp_npi) or one(PCP)
        code = "99214" if esrd == "graft" else "90960"
        for lo, hi in ((20, 60), (110, 160), (210, 260), (300, 350)):
            visit(doctor, day(lo, hi), code, _ESRD_DX[esrd])
    return out


def _plant(plan: _Planner, members: Sequence[ClaimMember]) -> list[PlannedClaim]:
    """The month's planted claims: the planted encounters (:func:`_planted_year`) within the member's coverage
    whose last day is two days before the month or later in it, received 2-11 days after that day."""
    first, last = plan.month.first_day, plan.month.last_day
    out: list[PlannedClaim] = []
    serial = 0
    for m in members:
        lo = max(m.covered_from, m.claims_from)
        for e in _planted_year(plan, m):
            end = max([e.discharged or e.day, *(ln.day or e.day for ln in e.lines)])
            if not first <= end + ONE_DAY * 2 <= last or e.day < lo or (m.covered_to and end > m.covered_to):
                continue
            received = min(last, end + dt.timedelta(days=2 + _stable("received", plan.seed, m.key, end) % 10))
            serial += 1
            claim_id = f"{_PLANTED_PREFIX}{plan.seed % 1000:03d}{plan.month.year % 100:02d}{plan.month.month:02d}{serial:06d}"
            out.append(PlannedClaim(plan.to_claim(e, received, claim_id), received))
    return out


def _last_service(c: Claim837) -> dt.date:
    days = [d for ln in c.lines for d in (ln.service_date_end or ln.service_date,) if d is not None]
    if c.statement_to is not None:
        days.append(c.statement_to)
    return max(days)


def plan_claims(
    *,
    seed: int,
    month: Month,
    members: Sequence[ClaimMember],
    providers: Sequence[ClaimProvider],
    payers: Sequence[PayerSpec],
    earlier: Sequence[tuple[str, Claim837]] = (),
) -> ClaimMonth:
    """The claims received in ``month`` for ``members`` (those covered in the month) from ``providers``.

    ``earlier`` lists claims on file before this month with the number the import gave each (what a
    replacement or void names in REF*F8). Raise ValueError if no provider is a PCP, a lab or a facility, or a
    member's payer is not in ``payers``.
    """
    plan = _Planner(seed, month, members, providers, payers)
    rng = plan.rng
    out = ClaimMonth(month=month, noise=dict.fromkeys(NOISE_KINDS, 0))
    first, last = month.first_day, month.last_day
    encounters: list[tuple[_Encounter, str]] = []
    high_cost: list[str] = []
    for m in members:
        if m.payer_code not in plan.payers:
            raise ValueError(f"member {m.key}: payer {m.payer_code!r} is not in payers")
        age = age_on(m.birth_date, max(first, m.birth_date))
        rate = _encounters_per_year(age, plan.lob[m.payer_code]) / 12
        for _ in range(_poisson(rng, rate)):
            day = plan.day_in(m, first - dt.timedelta(days=20), last - ONE_DAY * 2)
            if day is None:
                continue
            draw = rng.random()
            kind = next(k for (k, _w), cum in zip(_ENCOUNTERS, _ENCOUNTER_CUM, strict=True) if draw <= cum)
            if kind == "pcp":
                e = plan.office(m, day)
            elif kind == "specialist":
                e = plan.specialist(m, day)
            elif kind == "lab":
                e = plan.lab(m, day)
            elif kind == "imaging":
                e = plan.imaging(m, day)
            elif kind == "er":
                e = plan.emergency(m, day)
            elif kind == "behavioral":
                e = plan.behavioral(m, day)
            else:
                e = plan.facility(m, day, kind)
            encounters.append((e, "facility" if e.institutional else ""))
        if is_high_cost(seed, m):
            heavy = plan.high_cost(m, first - dt.timedelta(days=10), last - ONE_DAY * 5)
            if heavy:
                high_cost.append(m.key)
                encounters.extend((e, "high_cost") for e in heavy)
    out.high_cost_members = tuple(high_cost)

    def receive(c_last: dt.date) -> dt.date:
        lo = max(first, c_last + ONE_DAY * 2)
        hi = min(last, c_last + dt.timedelta(days=30))
        return lo if hi <= lo else lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))

    planned: list[PlannedClaim] = []
    for e, noise in encounters:
        end = max([e.discharged or e.day, *(ln.day or e.day for ln in e.lines)])
        if end > last - ONE_DAY * 2:  # a stay or a series ending too late to be billed this month: dropped
            continue
        received = receive(end)
        claim = plan.to_claim(e, received, plan.claim_id())
        planned.append(PlannedClaim(claim, received, noise))
        if noise:
            out.noise[noise] += 1
        if e.auth:
            ln = e.lines[0]
            out.authorizations.append(AuthorizationSpec(e.member.key, e.auth, ln.code, e.provider.npi, ln.units,
                                                        e.day - dt.timedelta(days=3), e.day + dt.timedelta(days=57)))  # fmt: skip

    def count(share: float, of: int) -> int:
        return max(1, round(share * of)) if of else 0

    professional = [i for i, p in enumerate(planned) if p.claim.kind == PROFESSIONAL and not p.noise]
    # unauthorized advanced imaging: drop the authorization of some
    imaging = [i for i in professional if planned[i].claim.prior_authorization]
    for i in sorted(rng.sample(imaging, min(len(imaging), count(UNAUTHORIZED_SHARE, len(imaging))))):
        p = planned[i]
        out.authorizations = [a for a in out.authorizations if a.number != p.claim.prior_authorization]
        planned[i] = PlannedClaim(
            dataclasses.replace(p.claim, prior_authorization=""), p.received, "unauthorized"
        )
        out.noise["unauthorized"] += 1
    extra: list[PlannedClaim] = []
    # exact duplicates: sent again a few days later
    plain = [i for i in professional if not planned[i].noise]
    for i in sorted(rng.sample(plain, min(len(plain), count(DUPLICATE_SHARE, len(plain))))):
        p = planned[i]
        again = min(last, p.received + dt.timedelta(days=rng.randint(3, 12)))
        extra.append(PlannedClaim(dataclasses.replace(p.claim, transaction=plan.header(again, PROFESSIONAL)),
                                  again, "exact_duplicate"))  # fmt: skip
        out.noise["exact_duplicate"] += 1
    # suspect duplicates: the first line again, from another provider of the same kind
    by_key = {m.key: m for m in members}
    unauthorized = [i for i in plain if not planned[i].claim.prior_authorization]
    for i in sorted(rng.sample(unauthorized, min(len(unauthorized), count(SUSPECT_SHARE, len(plain))))):
        p = planned[i]
        source = plan.by_npi[p.claim.billing_provider.identifier]
        others = [q for q in plan.pool[source.kind] if q.npi != source.npi]
        if not others:
            continue
        other = rng.choice(others)
        line = dataclasses.replace(p.claim.lines[0], number=1)
        e = _Encounter(by_key[p.claim.subscriber.person.member_id], other, p.claim.place_of_service,
                       line.service_date or first, tuple(d.code for d in p.claim.diagnoses),
                       [_Line(line.procedure_code, _charge(line.procedure_code, other.npi), int(line.units),
                              line.modifiers, pointers=len(line.diagnoses))])  # fmt: skip
        extra.append(
            PlannedClaim(plan.to_claim(e, p.received, plan.claim_id()), p.received, "suspect_duplicate")
        )
        out.noise["suspect_duplicate"] += 1
    # late: services long before the month, received now
    n_late = count(LATE_SHARE, len(planned))
    late_members = [
        m
        for m in members
        if max(m.covered_from, m.claims_from) <= first - dt.timedelta(days=LATE_DAYS[1] + 1)
    ]
    for m in rng.sample(late_members, min(len(late_members), n_late)) if late_members else ():
        received = first + dt.timedelta(days=rng.randint(0, (last - first).days))
        day = received - dt.timedelta(days=rng.randint(*LATE_DAYS))
        e = plan.office(m, day) if rng.random() < 0.5 else plan.specialist(m, day)
        extra.append(PlannedClaim(plan.to_claim(e, received, plan.claim_id()), received, "late"))
        out.noise["late"] += 1
    # ineligible: just before coverage began or just after it ended
    n_inel = count(INELIGIBLE_SHARE, len(planned))
    candidates = [
        m for m in members
        if (m.claims_from <= m.covered_from and m.covered_from > first - dt.timedelta(days=60)) or (m.covered_to is not None and m.covered_to < last - dt.timedelta(days=10))
    ]  # fmt: skip
    for m in rng.sample(candidates, min(len(candidates), n_inel)) if candidates else ():
        if m.covered_to is not None and m.covered_to < last - dt.timedelta(days=10):
            day = m.covered_to + dt.timedelta(days=rng.randint(1, 5))
        else:
            day = m.covered_from - dt.timedelta(days=rng.randint(3, 20))
        received = max(first, min(last, day + dt.timedelta(days=rng.randint(5, 20))))
        if received < day or day < m.birth_date:
            continue
        e = plan.office(m, day)
        extra.append(PlannedClaim(plan.to_claim(e, received, plan.claim_id()), received, "ineligible"))
        out.noise["ineligible"] += 1
    # replacements and voids of earlier claims
    # (claims received in the last REPLACEABLE_DAYS, not replaced or voided yet, not themselves corrections)
    named = {c.payer_claim_control_number for _n, c in earlier if c.frequency_code in ("7", "8")}
    since = first - dt.timedelta(days=REPLACEABLE_DAYS)
    usable = [
        (number, c) for number, c in earlier
        if c.frequency_code not in ("7", "8") and number not in named
        and not c.claim_id.startswith(_PLANTED_PREFIX)
        and c.transaction.created is not None and since <= c.transaction.created < first
    ]  # fmt: skip
    n_rep = count(REPLACEMENT_SHARE, len(planned)) if usable else 0
    n_void = count(VOID_SHARE, len(planned)) if usable else 0
    chosen = rng.sample(range(len(usable)), min(len(usable), n_rep + n_void))
    for k, index in enumerate(chosen):
        number, original = usable[index]
        received = first + dt.timedelta(days=rng.randint(0, (last - first).days))
        header = plan.header(received, original.kind)
        if k < n_rep:
            first_line = original.lines[0]
            units = first_line.units + 1
            charge = first_line.charge_cents * int(units) // max(1, int(first_line.units))
            lines = (dataclasses.replace(first_line, units=units, charge_cents=charge), *original.lines[1:])
            claim = dataclasses.replace(original, transaction=header, frequency_code="7",
                                        payer_claim_control_number=number, lines=lines,
                                        total_charge_cents=sum(ln.charge_cents for ln in lines))  # fmt: skip
            kind = "replacement"
        else:
            claim = dataclasses.replace(original, transaction=header, frequency_code="8",
                                        payer_claim_control_number=number)  # fmt: skip
            kind = "void"
        extra.append(PlannedClaim(claim, received, kind))
        out.noise[kind] += 1
    planned.extend(extra)
    planned.extend(_plant(plan, members))  # last: the claims above and their noise are as without them
    planned.sort(key=lambda p: (p.received, p.claim.kind, p.claim.claim_id, p.claim.frequency_code))
    out.claims = planned
    return out
