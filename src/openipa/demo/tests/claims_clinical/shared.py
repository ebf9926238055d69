"""The one demo IPA that this package's modules read: a year of claims (the noise adjudication must find, the
catastrophic members stop-loss must see) and the clinical feeds (five senders, patient matching, ADT), with the
quality measures computed on both; 2,500 members, enough for the measures' denominators and the planted cases.
No capitation year, UM or value-based stages (the value_based package's 500-member demo has those). Built once
for the package: the test runner hands the package to one worker whole (the root conftest's scheduler)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from openipa.core.months import Month
from openipa.demo.services import DemoSummary
from openipa.demo.tests.builds import Recorded, recorded_demo

AS_OF = Month(2026, 10)
SEED = 11
MEMBERS = 2500
RECORDED = Recorded()
PROGRESS = RECORDED.progress
"""(done, total) of each stage's progress reports, by stage name."""
demo_var_dir = RECORDED.files
"""Where the shared demo wrote its files: each test's own VAR_DIR is a folder of its own."""


@pytest.fixture(scope="package")
def claims_clinical_demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSummary]:
    with recorded_demo(
        django_db_blocker, tmp_path_factory, "claims-clinical-demo", RECORDED, seed=SEED, members=MEMBERS, as_of=AS_OF,
        capitation_year=False, claims_year=True, utilization=False, clinical=True,
    ) as summary:  # fmt: skip
        yield summary
