"""Seed the accounts value-based settlements and the association's invoicing post to (shared savings, practice
receivables, incentives payable, shared losses, membership fees). A frozen copy of what
`openipa.ledger.accounts.CHART` added for them (a test keeps the migrations' copies, together, equal to the
module's chart)."""

from django.db import migrations

CHART = (
    ('1200', 'Shared savings receivable', 'asset', 'Shared savings a payer (or CMS) owes the IPA under a settled value-based contract, not yet received.'),
    ('1300', 'Practice receivables', 'asset', 'What member practices owe the IPA: invoiced membership fees and risk-pool deficit shares.'),
    ('2650', 'Incentives payable', 'liability', 'Withhold returns, quality incentives, risk-pool surplus and shared savings owed to practices, not yet paid.'),
    ('2900', 'Shared losses payable', 'liability', 'Shared losses the IPA owes a payer under a settled two-sided contract, not yet paid.'),
    ('4200', 'Shared savings revenue', 'revenue', "The IPA's share of savings earned under value-based contracts."),
    ('4300', 'Membership fee revenue', 'revenue', 'Fees invoiced to member practices under their participation agreements.'),
    ('5200', 'Shared loss expense', 'expense', 'Losses the IPA bears under two-sided value-based contracts.'),
    ('5300', 'Shared savings distributed to practices', 'expense', "The practices' part of shared savings, by the distribution formula."),
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
    Account = apps.get_model("ledger", "Account")
    JournalLine = apps.get_model("ledger", "JournalLine")
    used = set(JournalLine.objects.using(schema_editor.connection.alias).values_list("account__code", flat=True))
    Account.objects.using(schema_editor.connection.alias).filter(
        code__in=[code for code, *_ in CHART if code not in used]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_claims_accounts")]

    operations = [migrations.RunPython(seed, unseed)]
