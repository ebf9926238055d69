"""Seed the accounts claims payment posts to. A frozen copy of what `openipa.ledger.accounts.CHART` added for
claims (a test keeps 0002's and this copy, together, equal to the module's chart)."""

from django.db import migrations

CHART = (
    (
        "2800",
        "Claims payable",
        "liability",
        "Claims (and their late-payment interest) the IPA has approved for payment and not yet paid.",
    ),
    (
        "5000",
        "Medical claims expense",
        "expense",
        "Fee-for-service claims the IPA pays for services it is responsible for under the DOFR.",
    ),
    ("5100", "Claims interest expense", "expense", "Interest paid on clean claims paid late (prompt-payment rules)."),
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
    dependencies = [("ledger", "0002_chart_of_accounts")]

    operations = [migrations.RunPython(seed, unseed)]
