"""The one demo IPA that the value-based demo modules of this package read: the demo with its value-based
stages (incentive and shared-savings settlements, the board's balances and reserves, membership fees and
programs, governance, the Tuva export) on the whole pipeline `make demo` runs (UM included: the practice
portal's cards read it), built once per worker for the whole package rather than once per
module (each stage used to build its own demo underneath: five builds of the same IPA)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from openipa.core.months import Month
from openipa.demo.services import DemoSummary
from openipa.demo.tests.builds import module_demo

AS_OF = Month(2026, 10)
TODAY = AS_OF.last_day
SEED = 7
PROGRESS: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
"""(done, total) of each stage's progress reports, by stage name."""


@pytest.fixture(scope="package")
def value_based_demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSummary]:
    def progress(stage: str, done: int, total: int) -> None:
        PROGRESS[stage].append((done, total))

    with module_demo(
        django_db_blocker, tmp_path_factory, "value-based-demo", seed=SEED, members=500, as_of=AS_OF,
        clinical=True, value_based=True, progress=progress,
    ) as summary:  # fmt: skip
        yield summary
