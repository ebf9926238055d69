"""Claims: the 837 files received, their claims, lines and diagnoses, and what adjudication decided per line.

High-volume amounts are integer cents (`*_cents`), as in capitation (ADR 0007); units are exact decimals.
A claim is never edited after it is received: a replacement (frequency 7) or a void (8) is a new claim that
points at the original, and adjudication reverses the original's lines.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from openipa.core.models import EffectiveDated


class ClaimImport(models.Model):
    """One 837 file received: applied, rejected or a duplicate. Never changed once written."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"

    class Format(models.TextChoices):
        X12 = "x12", "X12 837"
        CSV = "csv", "CSV"

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=8, choices=Format.choices)
    stored_path = models.CharField(max_length=500, blank=True, help_text="The file as received, under var/.")
    status = models.CharField(max_length=16, choices=Status.choices)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField(help_text="The date the claims count as received (timely filing, clocks).")
    claims = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    charge_cents = models.BigIntegerField(default=0)
    unknown_members = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="segment, segment_id, element, message")
    error_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    warning_count = models.PositiveIntegerField(default=0)
    ack_999 = models.TextField(blank=True)
    ack_277ca = models.TextField(blank=True)
    imported_by_id = models.BigIntegerField(null=True, blank=True)
    imported_by = models.CharField(max_length=150)
    seconds = models.FloatField(default=0, help_text="Wall time of the import (a measurement, not money).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class Claim(models.Model):
    """One claim (an 837 CLM loop) as received."""

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", "Professional (837P)"
        INSTITUTIONAL = "institutional", "Institutional (837I)"

    class Frequency(models.TextChoices):
        ORIGINAL = "1", "Original"
        REPLACEMENT = "7", "Replacement"
        VOID = "8", "Void"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PENDED = "pended", "Pended"
        ADJUDICATED = "adjudicated", "Adjudicated"
        PAID = "paid", "Paid"
        REVERSED = "reversed", "Reversed (replaced or voided)"

    source = models.ForeignKey(ClaimImport, on_delete=models.PROTECT, related_name="claim_rows")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    patient_control_number = models.CharField(max_length=38, help_text="CLM01, the submitter's claim id.")
    frequency = models.CharField(max_length=1, choices=Frequency.choices, default=Frequency.ORIGINAL)
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections",
        help_text="For a replacement or void: the claim it corrects (REF*F8).",
    )  # fmt: skip
    original_reference = models.CharField(max_length=50, blank=True, help_text="REF*F8 as sent.")
    member = models.ForeignKey(
        "membership.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    member_key = models.CharField(max_length=80, help_text="The subscriber/patient id as sent (NM109).")
    patient_last_name = models.CharField(max_length=60, blank=True)
    patient_first_name = models.CharField(max_length=35, blank=True)
    patient_birth_date = models.DateField(null=True, blank=True)
    billing_npi = models.CharField(max_length=10)
    billing_tin = models.CharField(max_length=9, blank=True)
    billing_name = models.CharField(max_length=60, blank=True)
    billing_practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    rendering_npi = models.CharField(max_length=10, blank=True)
    referring_npi = models.CharField(max_length=10, blank=True)
    facility_npi = models.CharField(max_length=10, blank=True)
    place_of_service = models.CharField(max_length=2, blank=True)
    type_of_bill = models.CharField(max_length=4, blank=True)
    prior_authorization = models.CharField(max_length=50, blank=True)
    referral_number = models.CharField(max_length=50, blank=True)
    service_from = models.DateField()
    service_to = models.DateField()
    received_on = models.DateField()
    charge_cents = models.BigIntegerField()
    diagnoses = models.JSONField(default=list, help_text='[["ABK", "E119"], ["ABF", "I10"]] in order.')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    segment = models.PositiveIntegerField(default=0, help_text="The CLM's segment number in the file.")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["billing_npi", "patient_control_number"]),
            # only the claims still open (received, pended) are looked up by status; adjudication and
            # approval move a claim out of the index, and do not write an entry for it (ADR 0011)
            models.Index(
                fields=["status"], name="claim_open", condition=models.Q(status__in=["received", "pended"])
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} ({self.patient_control_number})"


class ClaimLine(models.Model):
    """One service line and what adjudication decided for it."""

    class Outcome(models.TextChoices):
        NEW = "new", "Not adjudicated yet"
        PAID = "paid", "Payable"
        DENIED = "denied", "Denied"
        PENDED = "pended", "Pended"
        REVERSED = "reversed", "Reversed"

    # no index of its own: the unique (claim, number) serves every lookup by claim
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines", db_index=False)
    number = models.PositiveSmallIntegerField(help_text="LX01.")
    code = models.CharField(max_length=10, blank=True, help_text="CPT/HCPCS (codes only; no descriptions).")
    modifiers = models.CharField(max_length=11, blank=True, help_text="Up to four, comma separated.")
    revenue_code = models.CharField(max_length=4, blank=True)
    units = models.DecimalField(max_digits=10, decimal_places=3)
    charge_cents = models.BigIntegerField()
    service_from = models.DateField()
    service_to = models.DateField()
    place_of_service = models.CharField(max_length=2, blank=True)
    diagnosis_codes = models.CharField(
        max_length=40, blank=True, help_text="The pointed diagnoses, in order."
    )
    rendering_npi = models.CharField(max_length=10, blank=True)
    line_control = models.CharField(max_length=50, blank=True, help_text="REF*6R.")
    segment = models.PositiveIntegerField(default=0)
    # adjudication
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.NEW)
    responsible = models.CharField(max_length=16, blank=True, help_text="DOFR party of the line.")
    service_category = models.CharField(
        max_length=100, blank=True, help_text="As ServiceCategoryRule.category."
    )
    allowed_cents = models.BigIntegerField(null=True, blank=True)
    cost_share_cents = models.BigIntegerField(default=0, help_text="Copay, coinsurance, deductible (PR).")
    paid_cents = models.BigIntegerField(default=0)
    carc = models.CharField(max_length=5, blank=True, help_text="Claim adjustment reason code of a denial.")
    rarc = models.CharField(max_length=5, blank=True)
    pend_reason = models.CharField(max_length=200, blank=True)
    findings = models.JSONField(default=list, blank=True, help_text="What each rule said (not the 'ok's).")
    pricing = models.JSONField(default=dict, blank=True, help_text="Method and inputs of the allowed amount.")
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    # Not indexed (ADR 0011): a run's lines are read by a scan, and marking a million lines paid then updates
    # them in place (PostgreSQL's HOT: no index changes, the new versions on the same pages).
    adjudication_run_id = models.BigIntegerField(null=True, blank=True)
    payment_run_id = models.BigIntegerField(null=True, blank=True)
    reversal_run_id = models.BigIntegerField(
        null=True, blank=True, help_text="The payment run that remitted the reversal of a paid line."
    )

    class Meta:
        ordering = ["claim_id", "number"]
        # only the lines still waiting (new, pended) are looked up by outcome, one outcome at a time: one
        # partial index each (SQLite uses a partial index only for a query naming its very condition); a decided
        # line leaves them (ADR 0011)
        indexes = [
            models.Index(fields=["outcome"], name="claimline_new", condition=models.Q(outcome="new")),
            models.Index(fields=["outcome"], name="claimline_pended", condition=models.Q(outcome="pended")),
        ]
        constraints = [models.UniqueConstraint(fields=["claim", "number"], name="claimline_unique_number")]

    def __str__(self) -> str:
        return f"claim {self.claim_id} line {self.number} {self.code or self.revenue_code}"


class AdjudicationRun(models.Model):
    """One adjudication of the lines waiting: what it decided, by whom, from which inputs."""

    created_at = models.DateTimeField(auto_now_add=True)
    run_by = models.CharField(max_length=150)
    lines = models.PositiveIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    denied = models.PositiveIntegerField(default=0)
    pended = models.PositiveIntegerField(default=0)
    reversed = models.PositiveIntegerField(default=0, help_text="Lines of originals replaced or voided.")
    paid_cents = models.BigIntegerField(default=0)
    seconds = models.FloatField(default=0, help_text="Wall time (a measurement, not money).")
    inputs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"adjudication {self.pk}: {self.lines} lines"

    @property
    def auto_adjudication_rate(self) -> float:
        """Share of the lines decided without a person (paid or denied, not pended); 0 with no lines."""
        return (self.paid + self.denied) / self.lines if self.lines else 0.0


class ProcedurePairEdit(EffectiveDated):
    """A procedure-to-procedure (NCCI-style) edit: column 2 is not paid with column 1 on the same claim and date,
    unless the modifier indicator allows a bypass modifier (1) - 0 never, 9 not applicable."""

    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    modifier_indicator = models.SmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["column1", "column2"])]

    def __str__(self) -> str:
        return f"{self.column1}/{self.column2} ({self.modifier_indicator})"


class UnitLimit(EffectiveDated):
    """A medically unlikely edit: the most units of a code per day (MAI 1 per line, 2-3 per day)."""

    code = models.CharField(max_length=5, db_index=True)
    max_units = models.PositiveIntegerField()
    mai = models.SmallIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.code} <= {self.max_units} (MAI {self.mai})"


class InterestRule(EffectiveDated):
    """Interest owed on clean claims paid late, per line of business: e.g. California's 15% a year after 45
    working days from receipt. The version in force on the payment date applies."""

    line_of_business = models.CharField(max_length=32)
    limit_days = models.PositiveSmallIntegerField()
    working_days = models.BooleanField(
        default=True, help_text="The limit counts working days of the calendar."
    )
    calendar_code = models.CharField(max_length=16, default="US-CA")
    annual_rate_percent = models.DecimalField(max_digits=6, decimal_places=3)
    minimum_interest = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    count_from_next_day = models.BooleanField(default=True)

    class Meta:
        ordering = ["line_of_business", "-valid_from"]

    def __str__(self) -> str:
        unit = "working days" if self.working_days else "days"
        return f"{self.line_of_business}: {self.annual_rate_percent}% after {self.limit_days} {unit}"


class ClaimPaymentRun(models.Model):
    """One payment of adjudicated claims through a date: draft -> approved (by a second finance user) -> paid.
    Approved runs never change; a reversal is remitted by a later run."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    through = models.DateField(help_text="Lines adjudicated on or before this day are in the run.")
    payment_date = models.DateField(help_text="The day the money is meant to arrive (interest runs to it).")
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0)
    interest_cents = models.BigIntegerField(default=0)
    reversal_cents = models.BigIntegerField(default=0, help_text="Negative: earlier payments reversed.")
    net_cents = models.BigIntegerField(default=0)
    inputs = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-prepared_at", "-id"]

    def __str__(self) -> str:
        return f"claims payment run {self.pk} through {self.through} ({self.status})"


class ClaimPayment(models.Model):
    """What one payee (a billing provider) gets from a run: its claims, interest, reversals and the net."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        HELD = "held", "Held (no bank details)"
        CARRIED = "carried", "Carried (net not above zero)"

    run = models.ForeignKey(ClaimPaymentRun, on_delete=models.PROTECT, related_name="payments")
    payee_npi = models.CharField(max_length=10)
    payee_tin = models.CharField(max_length=9, blank=True)
    payee_name = models.CharField(max_length=60, blank=True)
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    claims = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    paid_cents = models.BigIntegerField(default=0)
    interest_cents = models.BigIntegerField(default=0)
    reversal_cents = models.BigIntegerField(default=0)
    net_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    trace_number = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["run", "payee_tin", "payee_npi"]
        constraints = [models.UniqueConstraint(fields=["run", "payee_npi"], name="claimpayment_unique_payee")]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.payee_npi}: {self.net_cents}"


class LineInterest(models.Model):
    """Interest a run pays on one late clean line (the interest engine's figures, kept to explain it)."""

    run = models.ForeignKey(ClaimPaymentRun, on_delete=models.PROTECT, related_name="interest_lines")
    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(InterestRule, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    days_late = models.PositiveIntegerField()
    interest_cents = models.BigIntegerField()

    def __str__(self) -> str:
        return f"line {self.line_id}: {self.interest_cents} for {self.days_late} days"


class PendOverride(models.Model):
    """An examiner's decision on a pended line: pay (with the allowed amount) or deny (with a CARC), and why."""

    class Decision(models.TextChoices):
        PAY = "pay", "Pay"
        DENY = "deny", "Deny"

    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="overrides")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=500)
    allowed_cents = models.BigIntegerField(null=True, blank=True)
    cost_share_cents = models.BigIntegerField(default=0)
    carc = models.CharField(max_length=5, blank=True)
    rarc = models.CharField(max_length=5, blank=True)
    pend_reason = models.CharField(max_length=200, help_text="What the line was pended for.")
    decided_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"line {self.line_id}: {self.decision} by {self.decided_by}"


class IbnrEstimate(models.Model):
    """A reserve estimate as of a month: the method and factors chosen, the results, who prepared and approved
    it. Approved estimates never change; a new estimate is a new row."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    as_of = models.DateField(
        help_text="The first day of the month the estimate is as of (payments to its end)."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    method = models.CharField(max_length=32, help_text="The averaging method of the development factors.")
    periods = models.PositiveSmallIntegerField(null=True, blank=True)
    months = models.PositiveSmallIntegerField(default=24, help_text="Incurred months in the triangle.")
    threshold = models.DecimalField(max_digits=4, decimal_places=3, default=Decimal("0.500"))
    pmpm_months = models.PositiveSmallIntegerField(default=12)
    group_by = models.JSONField(default=list, blank=True)
    factors = models.JSONField(default=list, help_text="The selected factors, with their source.")
    results = models.JSONField(default=list, help_text="Per group and incurred month: paid, ultimate, IBNR.")
    total_paid_cents = models.BigIntegerField(default=0)
    total_ibnr_cents = models.BigIntegerField(default=0)
    inputs = models.JSONField(default=dict, blank=True)
    prepared_by = models.CharField(max_length=150)
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.CharField(max_length=150, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"IBNR as of {self.as_of:%Y-%m} ({self.status})"


class StopLossPolicy(EffectiveDated):
    """Specific (per member) stop-loss: above the attachment point in a policy year (valid_from..valid_to),
    the reinsurer pays its coinsurance share of covered claims, up to the maximum."""

    name = models.CharField(max_length=200)
    carrier = models.CharField(max_length=200, blank=True)
    payer = models.ForeignKey(
        "contracts.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "contracts.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attachment = models.DecimalField(max_digits=12, decimal_places=2)
    coinsurance_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("90.000"))
    maximum = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    categories = models.CharField(
        max_length=500, blank=True, help_text="Covered service categories; empty: all."
    )

    class Meta:
        ordering = ["-valid_from", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.valid_from:%Y})"


class StopLossAccumulator(models.Model):
    """A member's covered paid claims in a policy year, what is recoverable, and the highest alert sent."""

    policy = models.ForeignKey(StopLossPolicy, on_delete=models.PROTECT, related_name="accumulators")
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="+")
    paid_cents = models.BigIntegerField(default=0)
    recoverable_cents = models.BigIntegerField(default=0)
    alerted = models.PositiveSmallIntegerField(default=0, help_text="0, 50, 75 or 100 (% of the attachment).")
    updated_by_run = models.ForeignKey(
        ClaimPaymentRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["policy", "member"], name="stoploss_one_accumulator")]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.member_id}: {self.paid_cents}"


class StopLossAlert(models.Model):
    """A member crossing 50%, 75% or 100% of a policy's attachment point, and the payment run that did it."""

    policy = models.ForeignKey(StopLossPolicy, on_delete=models.PROTECT, related_name="alerts")
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="+")
    threshold = models.PositiveSmallIntegerField()
    paid_cents = models.BigIntegerField()
    line = models.ForeignKey(ClaimLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(ClaimPaymentRun, on_delete=models.PROTECT, related_name="stoploss_alerts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"member {self.member_id} at {self.threshold}% of policy {self.policy_id}"
