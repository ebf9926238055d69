"""Utilization management: referrals, prior authorizations, admission notifications and post-stabilization
requests, decided on the clock the law sets for each line of business (ADR 0014).

A request (:class:`AuthRequest`) is received at a moment, gets a due time from the clock rule in force for
its line of business, jurisdiction, kind and urgency (:class:`ClockRule`, effective-dated data), goes
through nurse review and, where the nurse cannot approve, physician review, and ends approved, modified,
denied, deemed approved (a post-stabilization request nobody answered in time) or withdrawn. Its services
(:class:`AuthService`) are what claims adjudication matches lines against once the request is approved.
Each step is an :class:`AuthEvent`; appeals (:class:`Appeal`) have their own clocks; every notice sent is
an :class:`AuthNotice` whose PDF is kept as sent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class RequestKind(models.TextChoices):
    REFERRAL = "referral", "Referral"
    PRIOR_AUTHORIZATION = "prior_auth", "Prior authorization"
    ADMISSION_NOTIFICATION = "admission", "Inpatient admission notification"
    POST_STABILIZATION = "post_stabilization", "Post-stabilization care"


class Urgency(models.TextChoices):
    STANDARD = "standard", "Standard"
    EXPEDITED = "expedited", "Expedited"


class ClockUnit(models.TextChoices):
    CALENDAR_DAYS = "calendar_days", "calendar days"
    BUSINESS_DAYS = "business_days", "business days"
    HOURS = "hours", "hours"
    MINUTES = "minutes", "minutes"


class ClockRule(EffectiveDated):
    """How long the IPA has to decide: for a line of business (and a state, or any), a kind of request (or
    an appeal of one) and an urgency, from `valid_from` (requests received on or after it). Days are counted
    to the end of the last day in the IPA's time zone; hours and minutes are elapsed time."""

    class Applies(models.TextChoices):
        REQUEST = "request", "Initial request"
        APPEAL = "appeal", "Appeal (reconsideration)"

    line_of_business = models.CharField(max_length=32)
    jurisdiction = models.CharField(max_length=2, blank=True, help_text="A state code; empty for any state.")
    kind = models.CharField(
        max_length=24, choices=RequestKind.choices, blank=True, help_text="Empty: any kind."
    )
    applies_to = models.CharField(max_length=8, choices=Applies.choices, default=Applies.REQUEST)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    amount = models.PositiveIntegerField()
    unit = models.CharField(max_length=16, choices=ClockUnit.choices)
    calendar = models.CharField(
        max_length=16, blank=True, help_text="Business-day calendar (core calendars)."
    )
    extension_days = models.PositiveIntegerField(default=0, help_text="Calendar days an extension may add.")
    deemed_approved = models.BooleanField(
        default=False, help_text="Undecided at the due time means approved (post-stabilization)."
    )
    citation = models.CharField(max_length=200)

    class Meta:
        ordering = ["line_of_business", "jurisdiction", "applies_to", "kind", "urgency", "-valid_from"]

    def __str__(self) -> str:
        scope = f"{self.line_of_business}/{self.jurisdiction or 'any'}/{self.kind or 'any'}"
        return f"{scope} {self.applies_to} {self.urgency}: {self.amount} {self.unit} from {self.valid_from}"


class CriteriaReference(EffectiveDated):
    """A coverage criterion cited on decisions: a National or Local Coverage Determination, or an internal
    policy, with its version."""

    class Source(models.TextChoices):
        NCD = "ncd", "NCD"
        LCD = "lcd", "LCD"
        INTERNAL = "internal", "Internal policy"
        GUIDELINE = "guideline", "Clinical guideline"

    source = models.CharField(max_length=16, choices=Source.choices)
    code = models.CharField(max_length=40, help_text="NCD 220.2, L33530, UM-POL-014 ...")
    version = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=200)
    url = models.URLField(blank=True)

    class Meta:
        ordering = ["source", "code", "-valid_from"]
        unique_together = [("code", "version")]

    def __str__(self) -> str:
        version = f" v{self.version}" if self.version else ""
        return f"{self.get_source_display()} {self.code}{version}: {self.title}"


class AuthRequirement(EffectiveDated):
    """Services that need an authorization before they are given: a CPT/HCPCS code range, for one contract
    or every contract, and one line of business or every one."""

    contract = models.ForeignKey(
        "contracts.Contract",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="auth_requirements",
    )
    line_of_business = models.CharField(max_length=32, blank=True, help_text="Empty: every line of business.")
    kind = models.CharField(
        max_length=24, choices=RequestKind.choices, default=RequestKind.PRIOR_AUTHORIZATION
    )
    code_from = models.CharField(max_length=5)
    code_to = models.CharField(max_length=5)
    description = models.CharField(max_length=200)
    criteria = models.ForeignKey(CriteriaReference, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["code_from", "line_of_business"]
        constraints = [
            models.CheckConstraint(condition=Q(code_to__gte=F("code_from")), name="auth_req_codes")
        ]

    def __str__(self) -> str:
        return f"{self.code_from}-{self.code_to} {self.description}"


class AutoApprovalRule(EffectiveDated):
    """Requests approved on receipt, without review: for example an in-network referral to a listed
    specialty. A rule never denies; what it does not approve goes to the nurse queue."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=24, choices=RequestKind.choices, default=RequestKind.REFERRAL)
    line_of_business = models.CharField(max_length=32, blank=True)
    specialties = models.CharField(max_length=400, blank=True, help_text="Comma-separated; empty for any.")
    in_network_only = models.BooleanField(default=True)
    code_from = models.CharField(max_length=5, blank=True)
    code_to = models.CharField(max_length=5, blank=True)
    max_units = models.PositiveIntegerField(null=True, blank=True)
    criteria = models.ForeignKey(CriteriaReference, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuthRequest(models.Model):
    """One request for a decision, from receipt to its final answer."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        NURSE_REVIEW = "nurse_review", "Nurse review"
        PHYSICIAN_REVIEW = "physician_review", "Physician review"
        APPROVED = "approved", "Approved"
        MODIFIED = "modified", "Modified"
        DENIED = "denied", "Denied"
        DEEMED_APPROVED = "deemed_approved", "Deemed approved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Source(models.TextChoices):
        PORTAL = "portal", "Practice portal"
        API = "api", "API"
        X12 = "x12_278", "X12 278"
        STAFF = "staff", "IPA staff"

    OPEN = (Status.RECEIVED, Status.NURSE_REVIEW, Status.PHYSICIAN_REVIEW)
    APPROVING = (Status.APPROVED, Status.MODIFIED, Status.DEEMED_APPROVED)

    number = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=24, choices=RequestKind.choices)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.STANDARD)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    member = models.ForeignKey("membership.Member", on_delete=models.PROTECT, related_name="auth_requests")
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="auth_requests",
        help_text="The requesting practice (whose users see the request).",
    )  # fmt: skip
    contract = models.ForeignKey("contracts.Contract", null=True, blank=True, on_delete=models.PROTECT)
    line_of_business = models.CharField(max_length=32)
    jurisdiction = models.CharField(max_length=2, blank=True)
    requesting_provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requesting_npi = models.CharField(max_length=10)
    servicing_provider = models.ForeignKey(
        "network.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    servicing_npi = models.CharField(max_length=10, blank=True)
    servicing_name = models.CharField(max_length=200, blank=True)
    servicing_in_network = models.BooleanField(default=False)
    diagnoses = models.CharField(
        max_length=200, help_text="ICD-10-CM codes, comma-separated, principal first."
    )
    service_from = models.DateField()
    service_to = models.DateField()
    clinical_notes = models.TextField(blank=True)
    received_at = models.DateTimeField(db_index=True)
    clock_rule = models.ForeignKey(ClockRule, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(db_index=True)
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=300, blank=True)
    original_due_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    criteria_text = models.CharField(max_length=300, blank=True)
    criteria = models.ForeignKey(CriteriaReference, null=True, blank=True, on_delete=models.PROTECT)
    auto_rule = models.ForeignKey(AutoApprovalRule, null=True, blank=True, on_delete=models.PROTECT)
    trace_number = models.CharField(max_length=50, blank=True, help_text="The submitter's (278 TRN02).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(service_to__gte=F("service_from")), name="auth_request_dates"),
            models.CheckConstraint(condition=Q(due_at__gte=F("received_at")), name="auth_request_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.services.all()]


class AuthService(models.Model):
    """One service asked for: a code, units and dates. `units_approved` is set by the decision (all units
    for an approval, fewer for a modification, none for a denial)."""

    request = models.ForeignKey(AuthRequest, on_delete=models.CASCADE, related_name="services")
    line_number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    modifiers = models.CharField(max_length=11, blank=True)
    units = models.DecimalField(max_digits=9, decimal_places=2)
    units_approved = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    service_from = models.DateField()
    service_to = models.DateField()
    approved_to = models.DateField(null=True, blank=True, help_text="A modification may shorten the span.")

    class Meta:
        ordering = ["request", "line_number"]
        unique_together = [("request", "line_number")]
        constraints = [
            models.CheckConstraint(condition=Q(service_to__gte=F("service_from")), name="auth_service_dates"),
            models.CheckConstraint(condition=Q(units__gt=0), name="auth_service_units"),
        ]

    def __str__(self) -> str:
        return f"{self.code} x{self.units}"


class AuthEvent(models.Model):
    """One step of a request's history, in order: who did what and when."""

    class Action(models.TextChoices):
        RECEIVED = "received", "Received"
        AUTO_APPROVED = "auto_approved", "Approved by rule"
        NURSE_REVIEW = "nurse_review", "Taken for nurse review"
        ESCALATED = "escalated", "Escalated to physician review"
        APPROVED = "approved", "Approved"
        MODIFIED = "modified", "Modified"
        DENIED = "denied", "Denied"
        DEEMED_APPROVED = "deemed_approved", "Deemed approved (no answer in time)"
        EXTENDED = "extended", "Extended with notice"
        WITHDRAWN = "withdrawn", "Withdrawn"
        NOTE = "note", "Note"
        ATTACHMENT = "attachment", "Attachment added"
        PEER_TO_PEER = "peer_to_peer", "Peer-to-peer discussion"
        APPEAL_RECEIVED = "appeal_received", "Appeal received"
        APPEAL_DECIDED = "appeal_decided", "Appeal decided"
        NOTICE = "notice", "Notice sent"

    request = models.ForeignKey(AuthRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "at", "id"]

    def __str__(self) -> str:
        return f"{self.request.number} {self.action} {self.at:%Y-%m-%d %H:%M}"


class AuthAttachment(models.Model):
    """A document sent with a request (clinical notes, imaging reports), kept as received."""

    request = models.ForeignKey(AuthRequest, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["request", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class PeerToPeer(models.Model):
    """A discussion between the reviewing physician and the requesting provider about a decision."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Decision upheld"
        REVERSED = "reversed", "Decision reversed"
        NO_SHOW = "no_show", "Requesting provider did not attend"

    request = models.ForeignKey(AuthRequest, on_delete=models.CASCADE, related_name="peer_to_peers")
    held_at = models.DateTimeField()
    physician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider_name = models.CharField(max_length=200)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    notes = models.TextField()

    class Meta:
        ordering = ["request", "held_at"]

    def __str__(self) -> str:
        return f"{self.request.number} peer-to-peer {self.held_at:%Y-%m-%d}"


class Appeal(models.Model):
    """A reconsideration of an adverse decision (denial or modification), on its own clock. Decided by a
    physician other than the one who made the decision appealed."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld (denial stands)"
        OVERTURNED = "overturned", "Overturned (approved)"
        PARTIAL = "partial", "Partly overturned"
        WITHDRAWN = "withdrawn", "Withdrawn"

    request = models.ForeignKey(AuthRequest, on_delete=models.PROTECT, related_name="appeals")
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.STANDARD)
    received_at = models.DateTimeField()
    clock_rule = models.ForeignKey(ClockRule, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    appellant = models.CharField(max_length=200, help_text="The member, or the provider on their behalf.")
    grounds = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"Appeal of {self.request.number} ({self.status})"


class AuthNotice(models.Model):
    """A notice sent about a request (a decision, an extension, an appeal decision), kept exactly as sent."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision notice"
        EXTENSION = "extension", "Extension notice"
        APPEAL = "appeal", "Appeal decision notice"

    request = models.ForeignKey(AuthRequest, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField()
    pdf = models.BinaryField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["request", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.request.number}"


class WatchThreshold(EffectiveDated):
    """When the under-service watch flags a practice: a referral rate under `referral_ratio` of the peer
    median while an outcome rate is over `outcome_ratio` of the peer median (or its own last year's), for
    practices with at least `min_member_months` in the period."""

    referral_ratio = models.DecimalField(max_digits=5, decimal_places=3, default="0.500")
    outcome_ratio = models.DecimalField(max_digits=5, decimal_places=3, default="1.200")
    denial_ratio = models.DecimalField(max_digits=5, decimal_places=3, default="2.000")
    min_member_months = models.PositiveIntegerField(default=600)

    class Meta:
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"under-service thresholds from {self.valid_from}"
