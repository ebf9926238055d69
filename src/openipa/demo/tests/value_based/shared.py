"""The one demo IPA that the value-based demo modules of this package read: the demo with its value-based
stages (incentive and shared-savings settlements, the board's balances and reserves, membership fees and
programs, governance, the Tuva export) on the whole pipeline `make demo` runs (UM included: the practice
portal's cards read it), built once for the whole package rather than once per module (each stage used to
build its own demo underneath: five builds of the same IPA). The capitation year, the measurement stage and
the scorecards are tested on it too. The test runner hands the package to one worker whole (the root
conftest's scheduler), so it is built once per run.

Tests that need more members than 500 (the claims noise, stop-loss, the clinical matching and the quality
denominators) share the 2,500-member demo of the claims_clinical package."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from openipa.core.months import Month
from openipa.demo.services import DemoSummary
from openipa.demo.tests.builds import Recorded, recorded_demo

AS_OF = Month(2026, 10)
TODAY = AS_OF.last_day
SEED = 7
MEMBERS = 500
RECORDED = Recorded()
PROGRESS = RECORDED.progress
"""(done, total) of each stage's progress reports, by stage name."""
demo_var_dir = RECORDED.files
"""Where the shared demo wrote its files: each test's own VAR_DIR is a folder of its own."""


@pytest.fixture(scope="package")
def value_based_demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSummary]:
    with recorded_demo(
        django_db_blocker, tmp_path_factory, "value-based-demo", RECORDED, seed=SEED, members=MEMBERS, as_of=AS_OF,
        clinical=True, value_based=True,
    ) as summary:  # fmt: skip
        yield summary
