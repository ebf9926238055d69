"""The decision clocks in `openipa/utilization/data/clocks.json` and the first under-service watch thresholds.

`seed` adds the rows that are not there yet (a rule is known by its line of business, state, kind, appeal or
request, urgency and first day), so it also serves the post_migrate hook that puts them back after a flush."""

import datetime as dt
from typing import Any

from django.db import migrations

from openipa.utilization.engine.clocks import packaged_rules

FIELDS = ("line_of_business", "jurisdiction", "kind", "applies_to", "urgency", "valid_from")


def seed(apps: Any, schema_editor: Any) -> None:
    ClockRule = apps.get_model("utilization", "ClockRule")
    WatchThreshold = apps.get_model("utilization", "WatchThreshold")
    have = set(ClockRule.objects.values_list(*FIELDS))
    ClockRule.objects.bulk_create(
        [ClockRule(**rule) for rule in packaged_rules() if tuple(rule[f] for f in FIELDS) not in have]
    )
    if not WatchThreshold.objects.exists():
        WatchThreshold.objects.create(valid_from=dt.date(2000, 1, 1))


class Migration(migrations.Migration):
    dependencies = [("utilization", "0002_requests")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
