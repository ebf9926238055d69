"""Credentialing tables. This first part is ongoing monitoring: exclusion lists received (OIG LEIE, SAM.gov),
screening runs over the network's providers, the alerts (hits) they raise with their review, and the
exclusions a confirmed hit records. The matching policy (thresholds, weights, the sweep interval) is
effective-dated data.

The second part is the credentialing files (ADR 0013): the elements a file must verify at the primary source
and the rules (which elements initial and recredentialing files need, the verification window, the
recredentialing cycle, the letter deadline) are effective-dated data seeded by a migration; files, their
verifications (each with its document) and committee decisions with their letters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated


class ExclusionSource(models.TextChoices):
    LEIE = "leie", "OIG LEIE"
    SAM = "sam", "SAM.gov exclusions"


class ScreeningPolicy(EffectiveDated):
    """How exclusion screening matches and how often it must run, from a date. Versions must not overlap."""

    threshold = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        help_text="Name score (0-100) a name and date-of-birth match must reach.",
    )
    name_only_threshold = models.DecimalField(
        max_digits=5, decimal_places=1,
        help_text="Name score a match on the name alone must reach (SAM, or no date of birth on either side).",
    )  # fmt: skip
    last_name_weight = models.DecimalField(max_digits=5, decimal_places=2)
    first_name_weight = models.DecimalField(max_digits=5, decimal_places=2)
    sweep_interval_days = models.PositiveIntegerField(
        help_text="Days from one screening to the next one due (monthly monitoring)."
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="screening_policy_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"screening policy from {self.valid_from}"


class ExclusionListImport(models.Model):
    """One exclusion list file received for a screening: kept as received, with its rejected rows."""

    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    stored_path = models.CharField(max_length=500, blank=True, help_text="The file as received, under var/.")
    rows = models.PositiveIntegerField(default=0, help_text="Data rows in the file.")
    entries = models.PositiveIntegerField(default=0, help_text="Rows read as exclusions in force.")
    not_in_force = models.PositiveIntegerField(default=0, help_text="Reinstated or terminated rows.")
    rejected_rows = models.JSONField(default=list, blank=True, help_text="[{row, message}], the first 1,000")
    rejected_count = models.PositiveIntegerField(default=0)
    imported_by_id = models.BigIntegerField(null=True, blank=True)
    imported_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.file_name}"


class ScreeningRun(models.Model):
    """One screening of every provider against the lists received with it. Never changed once written."""

    screened_on = models.DateField(help_text="The day the lists were read as of (reinstatements before it).")
    leie_import = models.ForeignKey(
        ExclusionListImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sam_import = models.ForeignKey(
        ExclusionListImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lists = models.JSONField(default=list, help_text="The sources screened against: leie, sam.")
    policy = models.ForeignKey(ScreeningPolicy, on_delete=models.PROTECT, related_name="runs")
    threshold = models.DecimalField(max_digits=5, decimal_places=1)
    name_only_threshold = models.DecimalField(max_digits=5, decimal_places=1)
    providers_screened = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0, help_text="Matches found (known alerts included).")
    new_alerts = models.PositiveIntegerField(default=0)
    rejected_rows = models.PositiveIntegerField(default=0)
    found = models.JSONField(
        default=list,
        blank=True,
        help_text="Every match of the run: npi, provider_id, score, source, kind, hit.",
    )
    run_by_id = models.BigIntegerField(null=True, blank=True)
    run_by = models.CharField(max_length=150)
    seconds = models.FloatField(default=0, help_text="Wall time of the run (a measurement).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"screening {self.pk} of {self.screened_on}"


class ScreeningHit(models.Model):
    """An alert: a provider matched an exclusion list entry. It is also the review task: open until a
    reviewer confirms it (the provider is excluded) or dismisses it (not the same person), with a note.
    One alert per provider and list entry: later screenings finding the same match do not raise it again."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed"
        DISMISSED = "dismissed", "Dismissed"

    class Kind(models.TextChoices):
        NPI = "npi", "NPI"
        NAME_DOB = "name_dob", "Name and date of birth"
        NAME = "name", "Name alone"

    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="hits")
    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="screening_hits")
    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    row_key = models.CharField(max_length=64, help_text="SHA-256 of the list entry's identifying fields.")
    row_number = models.PositiveIntegerField(help_text="Line of the entry in the list file.")
    matched = models.JSONField(default=dict, help_text="The list entry's fields as received.")
    matched_name = models.CharField(max_length=300, blank=True)
    match_kind = models.CharField(max_length=10, choices=Kind.choices)
    score = models.DecimalField(max_digits=5, decimal_places=1)
    exclusion_date = models.DateField()
    exclusion_type = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reviewer_id = models.BigIntegerField(null=True, blank=True)
    reviewer = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-score", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "source", "row_key"], name="screening_hit_once"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="screening_hit_queue")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} hit {self.pk} ({self.score})"


class Exclusion(EffectiveDated):
    """A provider excluded, from the list's exclusion date: written when a reviewer confirms a hit. Claims
    read them through `credentialing.selectors.excluded_npis`."""

    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="exclusions")
    source = models.CharField(max_length=8, choices=ExclusionSource.choices)
    hit = models.OneToOneField(ScreeningHit, on_delete=models.PROTECT, related_name="exclusion")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="exclusion_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} excluded ({self.get_source_display()}) from {self.valid_from}"


# -- credentialing files (ADR 0013) ------------------------------------------------------------------------


class ElementKind(models.Model):
    """An element a credentialing file verifies at the primary source (state license, DEA, NPDB query...)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="What to verify and where (the primary sources).")
    expires = models.BooleanField(
        default=False, help_text="The credential itself expires (license, DEA, insurance): an expirable."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the checklist.")

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class CredentialingRule(EffectiveDated):
    """The credentialing rules in force from a date: the verification window before the committee decision,
    the recredentialing cycle and the decision letter deadline. Versions must not overlap; the window that
    judges a file is the one in force on its decision date."""

    window_days = models.PositiveIntegerField(
        help_text="A verification counts when made at most this many days before the committee decision."
    )
    recredential_months = models.PositiveSmallIntegerField(
        help_text="Calendar months from a decision to the next recredentialing decision (no grace)."
    )
    letter_days = models.PositiveSmallIntegerField(help_text="Days from the decision to send its letter.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="credentialing_rule_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"credentialing rules from {self.valid_from}"


class Condition(models.TextChoices):
    ALWAYS = "always", "Always"
    IF_BOARD_CLAIMED = "board_claimed", "If board certification is claimed"
    IF_PRESCRIBES = "prescribes", "If the practitioner prescribes controlled substances"


class RuleElement(models.Model):
    """An element a rule version requires, for initial and/or recredentialing files, maybe on a condition."""

    rule = models.ForeignKey(CredentialingRule, on_delete=models.CASCADE, related_name="elements")
    element = models.ForeignKey(ElementKind, on_delete=models.PROTECT, related_name="+")
    initial = models.BooleanField(default=True)
    recredentialing = models.BooleanField(default=True)
    condition = models.CharField(max_length=16, choices=Condition.choices, default=Condition.ALWAYS)

    class Meta:
        ordering = ["element__position"]
        constraints = [models.UniqueConstraint(fields=["rule", "element"], name="rule_element_once")]

    def __str__(self) -> str:
        return f"{self.element} ({self.rule})"


class CredentialingFile(models.Model):
    """One credentialing (initial) or recredentialing file of a provider. Open (in progress; complete is
    computed from its verifications on a committee date) until a final committee decision (approve, approve
    with conditions, deny) closes it; a deferral leaves it open."""

    class Kind(models.TextChoices):
        INITIAL = "initial", "Initial credentialing"
        RECREDENTIALING = "recredentialing", "Recredentialing"

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DECIDED = "decided", "Decided"

    provider = models.ForeignKey(
        "network.Provider", on_delete=models.PROTECT, related_name="credentialing_files"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    board_certification_claimed = models.BooleanField(
        default=False, help_text="The application claims board certification: it must then be verified."
    )
    prescribes = models.BooleanField(
        default=True, help_text="Prescribes controlled substances: DEA or state CDS registration required."
    )
    opened_on = models.DateField()
    opened_by = models.CharField(max_length=150)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        indexes = [models.Index(fields=["status", "provider"], name="cred_file_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider"], condition=Q(status="in_progress"), name="cred_file_one_open_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} file {self.pk} ({self.provider})"


class Verification(models.Model):
    """One primary-source verification of an element of a file, with the document that proves it."""

    class Method(models.TextChoices):
        ONLINE = "online", "Online (source's website)"
        QUERY = "query", "Query service (NPDB, CAQH, FSMB...)"
        WRITTEN = "written", "Written (letter, fax, email)"
        PHONE = "phone", "Phone (verbal, documented)"
        ATTESTATION = "attestation", "Signed attestation"

    class Result(models.TextChoices):
        VERIFIED = "verified", "Verified"
        FINDINGS = "findings", "Verified, with findings for the committee"
        UNABLE = "unable", "Could not verify"

    file = models.ForeignKey(CredentialingFile, on_delete=models.PROTECT, related_name="verifications")
    element = models.ForeignKey(ElementKind, on_delete=models.PROTECT, related_name="verifications")
    source = models.CharField(
        max_length=200, help_text="The primary source (e.g. Medical Board of California)."
    )
    method = models.CharField(max_length=12, choices=Method.choices)
    verified_on = models.DateField()
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verifier_name = models.CharField(max_length=150)
    result = models.CharField(max_length=10, choices=Result.choices)
    expires_on = models.DateField(null=True, blank=True, help_text="When the credential itself expires.")
    reference = models.CharField(max_length=100, blank=True, help_text="License or registration number.")
    note = models.TextField(blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    document_path = models.CharField(
        max_length=500, blank=True, help_text="The document as uploaded, under var/."
    )
    document_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["element__position", "-verified_on", "-id"]
        indexes = [models.Index(fields=["element", "expires_on"], name="cred_verification_expiry")]

    def __str__(self) -> str:
        return f"{self.element} verified {self.verified_on}"

    @property
    def counts(self) -> bool:
        return self.result in (self.Result.VERIFIED, self.Result.FINDINGS)


class CommitteeDecision(models.Model):
    """The committee's decision on a file. Approve, approve with conditions and deny close the file and need a
    letter within the rule's deadline; a deferral leaves the file open and sends no letter."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "Approve"
        APPROVE_CONDITIONS = "approve_conditions", "Approve with conditions"
        DENY = "deny", "Deny"
        DEFER = "defer", "Defer"

    file = models.ForeignKey(CredentialingFile, on_delete=models.PROTECT, related_name="decisions")
    provider = models.ForeignKey("network.Provider", on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(CredentialingRule, on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField()
    decision = models.CharField(max_length=20, choices=Decision.choices)
    conditions = models.TextField(blank=True)
    minutes = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150)
    checklist = models.JSONField(
        default=list, help_text="Each required element's state on the decision date."
    )
    recredential_due = models.DateField(null=True, blank=True)
    letter_due = models.DateField(null=True, blank=True)
    letter_sent_on = models.DateField(null=True, blank=True)
    letter_sent_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        indexes = [models.Index(fields=["provider", "decided_on"], name="cred_decision_provider")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.decided_on} (file {self.file_id})"

    @property
    def approved(self) -> bool:
        return self.decision in (self.Decision.APPROVE, self.Decision.APPROVE_CONDITIONS)

    @property
    def final(self) -> bool:
        return self.decision != self.Decision.DEFER
