"""The first screening policy, in force from 2000-01-01 with no end: a name and date-of-birth match needs a name
score of 85, a name-only match 95; last and first names weigh the same; a screening is due every 30 days."""

import datetime as dt
from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    ScreeningPolicy = apps.get_model("credentialing", "ScreeningPolicy")
    if not ScreeningPolicy.objects.exists():
        ScreeningPolicy.objects.create(
            valid_from=dt.date(2000, 1, 1),
            valid_to=None,
            threshold=Decimal("85.0"),
            name_only_threshold=Decimal("95.0"),
            last_name_weight=Decimal("0.50"),
            first_name_weight=Decimal("0.50"),
            sweep_interval_days=30,
            note="initial policy",
        )


def unseed(apps, schema_editor):
    apps.get_model("credentialing", "ScreeningPolicy").objects.filter(note="initial policy").delete()


class Migration(migrations.Migration):
    dependencies = [("credentialing", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
