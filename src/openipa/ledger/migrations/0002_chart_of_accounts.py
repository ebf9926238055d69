"""Seed the chart of accounts. A frozen copy of `openipa.ledger.accounts.CHART` as first released: the codes
are what the capitation app posts to. Existing codes are left alone, so the migration is safe to re-run."""

from django.db import migrations

CHART = (
    ("1000", "Cash - operating", "asset", "The IPA's operating bank account."),
    ("1100", "Capitation receivable", "asset", "Capitation a payer owes the IPA and has not yet paid."),
    (
        "2000",
        "Capitation received, undistributed",
        "liability",
        "Capitation received from payers and not yet allocated by a distribution run.",
    ),
    (
        "2100",
        "Provider capitation payable",
        "liability",
        "Capitation owed to practices by approved distribution runs and not yet paid.",
    ),
    (
        "2200",
        "Reinsurance premium payable",
        "liability",
        "Stop-loss premiums set aside from capitation and owed to the reinsurer.",
    ),
    ("2300", "Withhold liability", "liability", "Capitation withheld from practices, returned or kept at settlement."),
    ("2400", "Risk pool liability", "liability", "Capitation funded into risk pools, settled against their targets."),
    (
        "2500",
        "Specialist pool payable",
        "liability",
        "Capitation set aside for specialist sub-capitation and fee-for-service.",
    ),
    (
        "2600",
        "Quality incentive pool liability",
        "liability",
        "Capitation funded into the quality incentive pool, paid out by scores.",
    ),
    (
        "2700",
        "Payer recoupments payable",
        "liability",
        "Amounts a payer has taken back (retro terminations, overpayments) not yet recovered from practices.",
    ),
    ("3000", "Retained surplus (deficit)", "equity", "The IPA's accumulated surplus, or deficit when negative."),
    ("4000", "Capitation revenue", "revenue", "Capitation the IPA earns and keeps for itself."),
    (
        "4100",
        "Administrative fee revenue",
        "revenue",
        "The administrative fee taken from capitation under the contract's terms.",
    ),
)


def seed(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    manager = Account.objects.using(schema_editor.connection.alias)
    existing = set(manager.values_list("code", flat=True))
    manager.bulk_create(
        [
            Account(code=code, name=name, kind=kind, description=description)
            for code, name, kind, description in CHART
            if code not in existing
        ]
    )


def unseed(apps, schema_editor):
    """Remove the seeded accounts that nothing was posted to (an account with lines is protected)."""
    Account = apps.get_model("ledger", "Account")
    JournalLine = apps.get_model("ledger", "JournalLine")
    used = set(JournalLine.objects.using(schema_editor.connection.alias).values_list("account__code", flat=True))
    Account.objects.using(schema_editor.connection.alias).filter(
        code__in=[code for code, *_ in CHART if code not in used]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
