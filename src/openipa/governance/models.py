"""Governance tables (ADR 0024): the association's bodies (the board, its committees, the general membership),
their rules (quorum and the vote a motion needs: effective-dated data), seats and who holds them over which
dates, meetings with their agenda and attendance, motions and each voter's vote, and the minutes.

Nothing here refers to contracts, fee tables or the messenger: governance pages are read by the board, who must
never see fee-for-service rates or a practice's answer to an offer (ADR 0012). A motion about a payer contract is
its text only.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import F, Q

from openipa.core.models import EffectiveDated
from openipa.network.models import Practice, Provider


class Body(models.Model):
    """A governing body. Seated bodies (the board, a committee) vote by seat holder; the general membership votes
    one vote per member practice with an active participation agreement on the meeting's day."""

    class Kind(models.TextChoices):
        BOARD = "board", "Board of directors"
        COMMITTEE = "committee", "Committee"
        MEMBERSHIP = "membership", "General membership"

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="committees",
        help_text="For a committee: the body it reports to (the board).",
    )  # fmt: skip
    charter = models.TextField(blank=True, help_text="What the body is for and what it may decide.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "bodies"

    def __str__(self) -> str:
        return self.name

    @property
    def by_practice(self) -> bool:
        """True when each member practice has one vote (the general membership) instead of seats."""
        return self.kind == self.Kind.MEMBERSHIP


class QuorumKind(models.TextChoices):
    MAJORITY = "majority", "Majority (more than half) of the seats or member practices"
    COUNT = "count", "A fixed number present"
    PERCENT = "percent", "A percentage of the seats or member practices"


class VoteRule(models.TextChoices):
    SIMPLE_MAJORITY = "simple_majority", "Simple majority of the votes cast"
    TWO_THIRDS = "two_thirds", "Two-thirds of the votes cast"


class BodyRule(EffectiveDated):
    """A body's rules from a date: how many seats it has, what makes a quorum, and the vote a motion needs.
    Versions of one body must not overlap (services check)."""

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="rules")
    seat_count = models.PositiveIntegerField(
        default=0, help_text="Seats of a seated body (0 for the general membership: its electorate is the "
        "member practices on the meeting's day).",
    )  # fmt: skip
    quorum_kind = models.CharField(max_length=16, choices=QuorumKind.choices, default=QuorumKind.MAJORITY)
    quorum_value = models.DecimalField(
        max_digits=6, decimal_places=2, default=0,
        help_text="The number present (count) or the percentage (percent); unused for a majority.",
    )  # fmt: skip
    vote_rule = models.CharField(max_length=16, choices=VoteRule.choices, default=VoteRule.SIMPLE_MAJORITY)
    note = models.CharField(max_length=200, blank=True, help_text="e.g. Bylaws art. IV s. 6")

    class Meta:
        ordering = ["body", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="governance_rule_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.body} rules from {self.valid_from}"


class SeatTerm(EffectiveDated):
    """Someone holding one seat of a seated body over a term: a network provider or a named individual, the
    member practice they represent (if any), and their office on the body."""

    class Office(models.TextChoices):
        CHAIR = "chair", "Chair"
        VICE_CHAIR = "vice_chair", "Vice-chair"
        SECRETARY = "secretary", "Secretary"
        TREASURER = "treasurer", "Treasurer"
        MEMBER = "member", "Member"

    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="seat_terms")
    seat_number = models.PositiveIntegerField()
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="governance_seats"
    )
    person_name = models.CharField(max_length=150, blank=True, help_text="When the holder is not a provider.")
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="governance_seats",
        help_text="The member practice the holder represents (empty for an independent seat).",
    )  # fmt: skip
    office = models.CharField(max_length=16, choices=Office.choices, default=Office.MEMBER)

    class Meta:
        ordering = ["body", "seat_number", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="governance_seat_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(provider__isnull=False) | ~Q(person_name=""), name="governance_seat_has_holder"
            ),
        ]

    def __str__(self) -> str:
        return self.holder_name

    @property
    def holder_name(self) -> str:
        return str(self.provider) if self.provider_id is not None else self.person_name


class Meeting(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    body = models.ForeignKey(Body, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    video_link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="governance_agenda_position_unique")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Attendance(models.Model):
    """One voter's attendance at a meeting: a seat holder (seated bodies) or a member practice (the general
    membership, with the name of who came for it)."""

    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        ABSENT = "absent", "Absent"
        EXCUSED = "excused", "Excused"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    seat_term = models.ForeignKey(SeatTerm, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="governance_attendance",
        help_text="The practice represented: the seat holder's, or the member practice itself.",
    )  # fmt: skip
    representative = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)

    class Meta:
        ordering = ["meeting", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "seat_term"],
                condition=Q(seat_term__isnull=False),
                name="governance_attendance_seat_once",
            ),
            models.UniqueConstraint(
                fields=["meeting", "practice"],
                condition=Q(seat_term__isnull=True),
                name="governance_attendance_practice_once",
            ),
        ]

    def __str__(self) -> str:
        return self.voter_name

    @property
    def voter_name(self) -> str:
        if self.seat_term is not None:
            return self.seat_term.holder_name
        return self.practice.legal_name if self.practice is not None else self.representative


class Motion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CARRIED = "carried", "Carried"
        FAILED = "failed", "Failed"
        TABLED = "tabled", "Tabled"
        WITHDRAWN = "withdrawn", "Withdrawn"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="motions")
    agenda_item = models.ForeignKey(
        AgendaItem, null=True, blank=True, on_delete=models.PROTECT, related_name="motions"
    )
    number = models.PositiveIntegerField(help_text="1, 2, ... within the meeting.")
    text = models.TextField()
    moved_by = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="+")
    seconded_by = models.ForeignKey(
        Attendance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    vote_rule = models.CharField(
        max_length=16, choices=VoteRule.choices, blank=True,
        help_text="Empty: the body's rule in force on the meeting's day (a bylaws change may need two-thirds).",
    )  # fmt: skip
    approves_minutes = models.ForeignKey(
        "Minutes", null=True, blank=True, on_delete=models.PROTECT, related_name="approval_motions",
        help_text="A motion to approve an earlier meeting's minutes: carried, they are approved.",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # the decision as recorded: the tally, the rule applied and the quorum on which it stood
    rule_applied = models.CharField(max_length=16, blank=True)
    yes = models.PositiveIntegerField(default=0)
    no = models.PositiveIntegerField(default=0)
    abstain = models.PositiveIntegerField(default=0)
    recused = models.PositiveIntegerField(default=0)
    present = models.PositiveIntegerField(default=0)
    quorum_required = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["meeting", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="governance_motion_number_unique")
        ]

    def __str__(self) -> str:
        return f"Motion {self.number} ({self.meeting})"

    @property
    def decided(self) -> bool:
        return self.status in (self.Status.CARRIED, self.Status.FAILED)


class Vote(models.Model):
    class Choice(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        ABSTAIN = "abstain", "Abstain"
        RECUSED = "recused", "Recused"

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="votes")
    attendance = models.ForeignKey(Attendance, on_delete=models.PROTECT, related_name="votes")
    choice = models.CharField(max_length=8, choices=Choice.choices)

    class Meta:
        ordering = ["motion", "attendance"]
        constraints = [models.UniqueConstraint(fields=["motion", "attendance"], name="governance_vote_once")]

    def __str__(self) -> str:
        return f"{self.attendance}: {self.choice}"


class ApprovedMinutesError(TypeError):
    """Approved minutes are the record: they are never changed."""


class Minutes(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="minutes")
    text = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    drafted_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting"]
        verbose_name_plural = "minutes"

    def __str__(self) -> str:
        return f"Minutes of {self.meeting}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse any change to minutes already approved in the database (the service refuses first; this
        keeps any other path honest)."""
        if self.pk is not None:
            stored = Minutes.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.APPROVED:
                raise ApprovedMinutesError("approved minutes are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status == self.Status.APPROVED:
            raise ApprovedMinutesError("approved minutes are never deleted")
        return super().delete(*args, **kwargs)
