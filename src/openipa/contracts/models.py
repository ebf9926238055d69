"""Payers, their products, contracts with the IPA and the contract terms in force over time."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class Payer(models.Model):
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=16, unique=True, help_text="Short code used on the command line.")
    x12_payer_id = models.CharField("X12 payer id", max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LineOfBusiness(models.TextChoices):
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage HMO"
    MEDICAID = "medicaid", "Medicaid managed care"
    COMMERCIAL = "commercial", "Commercial HMO"


class Product(models.Model):
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="products")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    line_of_business = models.CharField(max_length=32, choices=LineOfBusiness.choices)

    class Meta:
        ordering = ["payer", "code"]
        unique_together = [("payer", "code")]

    def __str__(self) -> str:
        return f"{self.payer.code} {self.name}"


class Contract(EffectiveDated):
    class LegalBasis(models.TextChoices):
        CAPITATED_RISK = "capitated_risk", "Capitated risk"
        CLINICALLY_INTEGRATED = "clinically_integrated", "Clinically integrated"
        MESSENGER_FFS = "messenger_ffs", "Messenger fee-for-service"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        TERMINATED = "terminated", "Terminated"

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=32, choices=LegalBasis.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    products = models.ManyToManyField(Product, related_name="contracts", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["payer", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="contract_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class ContractTerm(EffectiveDated):
    """One version of a contract's money terms. Versions of a contract never overlap."""

    class CapitationBasis(models.TextChoices):
        PMPM_TABLE = "pmpm_table", "PMPM rate table"
        PERCENT_OF_PREMIUM = "percent_of_premium", "Percent of premium"
        RISK_ADJUSTED = "risk_adjusted", "Risk-adjusted base rate"

    class Proration(models.TextChoices):
        CUTOFF = "cutoff", "Full month by cut-off day"
        DAILY = "daily", "Daily"

    class ClaimsPricing(models.TextChoices):
        PERCENT_OF_MEDICARE = "percent_of_medicare", "Percent of Medicare (RBRVS)"
        CODE_RATE = "code_rate", "Flat code rates"
        PERCENT_OF_BILLED = "percent_of_billed", "Percent of billed charges"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="terms")
    capitation_basis = models.CharField(max_length=32, choices=CapitationBasis.choices)
    percent_of_premium = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    risk_base_rate = models.DecimalField(
        "risk-adjusted base PMPM", max_digits=10, decimal_places=2, null=True, blank=True
    )
    admin_fee_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    admin_fee_pmpm = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    reinsurance_pmpm = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    withhold_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    retro_window_months = models.PositiveSmallIntegerField(default=6)
    proration_rule = models.CharField(max_length=16, choices=Proration.choices, default=Proration.CUTOFF)
    cutoff_day = models.PositiveSmallIntegerField(
        default=15, help_text="With cut-off proration: effective on or before this day counts the month."
    )
    age_reference_month = models.PositiveSmallIntegerField(
        default=1, help_text="Age for rate bands is taken on the 1st of this month of the coverage year."
    )
    # claims the IPA pays under this version (issue 5)
    timely_filing_days = models.PositiveSmallIntegerField(
        default=90, help_text="Days from the date of service within which a claim must be received."
    )
    claims_pricing = models.CharField(
        max_length=24, choices=ClaimsPricing.choices, default=ClaimsPricing.PERCENT_OF_MEDICARE,
        help_text="How the IPA prices the claims it pays under this version.",
    )  # fmt: skip
    claims_percent_of_medicare = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("100.00"),
        help_text="With percent-of-Medicare pricing: the percent of the Medicare (RBRVS) fee paid.",
    )  # fmt: skip
    claims_locality = models.CharField(
        max_length=16, blank=True, help_text="Medicare locality (MAC + locality number) for RBRVS pricing."
    )
    claims_lesser_of_charge = models.BooleanField(
        default=True, help_text="Pay the lesser of the billed charge and the fee."
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["contract", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="term_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(cutoff_day__gte=1) & Q(cutoff_day__lte=31), name="term_cutoff_day"
            ),
        ]

    def __str__(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "open"
        return f"{self.contract.number} terms {self.valid_from.isoformat()}..{end}"


class RateCell(models.Model):
    """One PMPM rate: product x age band (inclusive years) x sex, within a term version."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        ANY = "U", "Any"

    term = models.ForeignKey(ContractTerm, on_delete=models.CASCADE, related_name="rate_cells")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    age_min = models.PositiveSmallIntegerField()
    age_max = models.PositiveSmallIntegerField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.ANY)
    pmpm = models.DecimalField("PMPM", max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["term", "product", "age_min", "sex"]
        constraints = [
            models.CheckConstraint(condition=Q(age_max__gte=F("age_min")), name="ratecell_age_band_ordered"),
            models.UniqueConstraint(
                fields=["term", "product", "age_min", "sex"], name="ratecell_unique_band"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code} {self.age_min}-{self.age_max} {self.sex}: {self.pmpm}"


class DofrEntry(models.Model):
    """Division of financial responsibility: who pays for a service category under a term version."""

    class Party(models.TextChoices):
        IPA = "ipa", "IPA"
        PLAN = "plan", "Health plan"
        HOSPITAL = "hospital", "Hospital"
        SHARED = "shared", "Shared risk"

    term = models.ForeignKey(ContractTerm, on_delete=models.CASCADE, related_name="dofr_entries")
    service_category = models.CharField(max_length=100)
    responsible_party = models.CharField(max_length=16, choices=Party.choices)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["term", "service_category"]
        unique_together = [("term", "service_category")]

    def __str__(self) -> str:
        return f"{self.service_category}: {self.responsible_party}"


class ServiceCategoryRule(EffectiveDated):
    """Maps a claim line to a service category by code range, revenue codes, place of service and provider
    type; the DOFR entries of a term then say who pays for each category. The first matching rule by
    priority (lowest first) wins."""

    category = models.CharField(max_length=100)
    priority = models.PositiveSmallIntegerField(default=100)
    code_from = models.CharField(max_length=5, blank=True, help_text="First CPT/HCPCS code of the range.")
    code_to = models.CharField(max_length=5, blank=True, help_text="Last code of the range (inclusive).")
    revenue_from = models.CharField(max_length=4, blank=True, help_text="First revenue code (837I).")
    revenue_to = models.CharField(max_length=4, blank=True)
    places_of_service = models.CharField(
        max_length=100, blank=True, help_text="Comma-separated POS codes; empty for any."
    )
    provider_kind = models.CharField(max_length=16, blank=True, help_text="Empty for any.")
    emergency = models.BooleanField(default=False, help_text="Emergency services never need authorization.")
    requires_authorization = models.BooleanField(default=False)

    class Meta:
        ordering = ["priority", "category", "code_from"]

    def __str__(self) -> str:
        return f"{self.category}: {self.code_from}-{self.code_to} {self.revenue_from}-{self.revenue_to}"


class CostShare(EffectiveDated):
    """What the member pays for a service category under a product: a copay and/or a coinsurance percent."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="cost_shares")
    service_category = models.CharField(max_length=100)
    copay = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    coinsurance_percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)

    class Meta:
        ordering = ["product", "service_category", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.product.code} {self.service_category}: {self.copay} + {self.coinsurance_percent}%"


class FeeScheduleFile(models.Model):
    """A fee schedule file loaded (CMS RVU or GPCI file, or a contract's code rates): what, when, by whom."""

    class Kind(models.TextChoices):
        RVU = "rvu", "Medicare RVU file (PPRRVU)"
        GPCI = "gpci", "Medicare GPCI / locality file"
        CODE_RATES = "code_rates", "Contract code rates (CSV)"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    stored_path = models.CharField(max_length=500, blank=True)
    rows = models.PositiveIntegerField(default=0)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    loaded_by = models.CharField(max_length=150)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-loaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} from {self.valid_from}"


class RvuEntry(EffectiveDated):
    """One code and modifier of a Medicare RVU file, as exact scaled integers (RVUs in hundredths). Codes only:
    CPT descriptions are the AMA's and are not kept."""

    source = models.ForeignKey(FeeScheduleFile, on_delete=models.CASCADE, related_name="rvus")
    code = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=1)
    work_rvu_centi = models.IntegerField()
    pe_nonfacility_rvu_centi = models.IntegerField()
    pe_facility_rvu_centi = models.IntegerField()
    mp_rvu_centi = models.IntegerField()
    pctc = models.SmallIntegerField(default=0)
    global_days = models.CharField(max_length=3, blank=True)
    mult_proc = models.SmallIntegerField(default=0)
    bilat_surg = models.SmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["code", "modifier"])]

    def __str__(self) -> str:
        return f"{self.code}{('-' + self.modifier) if self.modifier else ''} from {self.valid_from}"


class GpciEntry(EffectiveDated):
    """One Medicare payment locality's geographic practice cost indices (thousandths)."""

    source = models.ForeignKey(FeeScheduleFile, on_delete=models.CASCADE, related_name="gpcis")
    locality_id = models.CharField(max_length=16, help_text="MAC number + locality number, e.g. 0118218.")
    state = models.CharField(max_length=2, blank=True)
    name = models.CharField(max_length=100, blank=True)
    pw_gpci_milli = models.IntegerField()
    pe_gpci_milli = models.IntegerField()
    mp_gpci_milli = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.locality_id} {self.name}"


class ConversionFactor(EffectiveDated):
    """The Medicare physician fee schedule conversion factor in force (dollars per RVU)."""

    amount = models.DecimalField(max_digits=8, decimal_places=4)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"CF {self.amount} from {self.valid_from}"


class CodeRate(EffectiveDated):
    """A contract's flat rate for a code (and modifier, or any when empty)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="code_rates")
    code = models.CharField(max_length=5)
    modifier = models.CharField(max_length=2, blank=True)
    rate = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["contract", "code", "modifier", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.code} {self.rate}"
