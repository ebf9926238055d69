"""Accounts, journal entries and their lines.

A posted entry is never changed and never deleted: a mistake is undone by a reversing entry
(`services.reverse_entry`). The models refuse `save()` of an existing row and `delete()`, and their querysets
refuse `update()` and `delete()`, so only `services.post_entry` and `services.reverse_entry` write them.
Balance (the debits of an entry equal its credits) spans rows, which a check constraint cannot see: the
service checks it before writing anything.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from openipa.ledger.accounts import Kind

AMOUNT_DIGITS = 14
"""Digits of a line amount: up to $999,999,999,999.99."""


class ImmutableError(TypeError):
    """A posted journal entry or line was about to be changed or deleted."""


_M = TypeVar("_M", bound=models.Model)


class _AppendOnlyQuerySet(models.QuerySet[_M]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableError(f"{self.model._meta.label} rows are never changed; post a reversing entry")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableError(f"{self.model._meta.label} rows are never deleted; post a reversing entry")


class Account(models.Model):
    """One account of the chart. Its kind fixes its normal balance: debit for assets and expenses."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=[(k.value, k.label) for k in Kind])
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True, help_text="Only active accounts take new postings.")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in Kind]), name="ledger_account_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def kind_enum(self) -> Kind:
        return Kind(self.kind)

    @property
    def debit_normal(self) -> bool:
        return self.kind_enum.debit_normal

    @property
    def normal_balance(self) -> str:
        """The side that increases this account: "debit" or "credit"."""
        return "debit" if self.debit_normal else "credit"


class EntryCounter(models.Model):
    """The last journal entry number handed out: one row, locked while an entry is posted.

    Numbers come from this row rather than from the table's id sequence so they have no gaps: a posting
    that rolls back (with the capitation run around it) rolls its number back too, and an auditor who
    finds entry 41 and 43 knows 42 exists.
    """

    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"last journal entry {self.last_number}"


class JournalEntry(models.Model):
    """A balanced set of lines posted together, numbered in posting order."""

    number = models.PositiveBigIntegerField(unique=True)
    date = models.DateField(help_text="The accounting date: the trial balance as of a date includes it.")
    memo = models.CharField(max_length=500)
    source_type = models.CharField(max_length=40, help_text="What posted it, e.g. capitation_run.")
    source_id = models.CharField(max_length=64, help_text="The id of the record that posted it.")
    posted_at = models.DateTimeField()
    posted_by = models.CharField(max_length=150, help_text="User name, or 'system'.")
    posted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text="The entry this one reverses; an entry is reversed at most once.",
    )

    objects = _AppendOnlyQuerySet["JournalEntry"].as_manager()

    class Meta:
        ordering = ["-date", "-number"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.CheckConstraint(condition=Q(number__gt=0), name="ledger_entry_number_positive"),
            models.CheckConstraint(condition=~Q(source_type=""), name="ledger_entry_source_type"),
            models.CheckConstraint(condition=~Q(source_id=""), name="ledger_entry_source_id"),
            models.CheckConstraint(condition=~Q(posted_by=""), name="ledger_entry_posted_by"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | ~Q(reverses=F("id")),
                name="ledger_entry_not_self_reversal",
            ),
        ]
        indexes = [
            models.Index(fields=["date", "number"], name="ledger_entry_date_number"),
            models.Index(fields=["source_type", "source_id"], name="ledger_entry_source"),
        ]

    def __str__(self) -> str:
        return f"entry {self.number} ({self.date.isoformat()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError(f"journal entry {self.number} is posted; post a reversing entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError(f"journal entry {self.number} is posted; post a reversing entry instead")

    @property
    def reversal(self) -> JournalEntry | None:
        """The entry that reversed this one, or None."""
        try:
            return self.reversed_by
        except JournalEntry.DoesNotExist:
            return None


class JournalLine(models.Model):
    """One side of one amount: exactly one of debit and credit is positive, the other zero."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=2, default=0)
    credit = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=2, default=0)
    practice = models.ForeignKey(
        "network.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer = models.ForeignKey(
        "contracts.Payer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=200, blank=True)

    objects = _AppendOnlyQuerySet["JournalLine"].as_manager()

    class Meta:
        ordering = ["entry", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(debit__gte=0), name="ledger_line_debit_not_negative"),
            models.CheckConstraint(condition=Q(credit__gte=0), name="ledger_line_credit_not_negative"),
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="ledger_line_one_side",
            ),
        ]

    def __str__(self) -> str:
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"line {self.pk} of entry {self.entry_id}: {self.account_id} {side}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A line saved on its own, even a new one, would unbalance an entry already posted: lines are
        # written only with their entry, in bulk, by the posting service.
        raise ImmutableError("journal lines are written only by the posting service, with their entry")

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError("journal lines are never deleted; post a reversing entry")
