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

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from openipa.core.months import Month
from openipa.demo.services import DemoSummary
from openipa.demo.tests.builds import module_demo

AS_OF = Month(2026, 10)
TODAY = AS_OF.last_day
SEED = 7
MEMBERS = 500
PROGRESS: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
"""(done, total) of each stage's progress reports, by stage name."""
_VAR_DIR: list[Path] = []


def demo_var_dir() -> Path:
    """Where the shared demo wrote its files (var/demo/..., var/payments/...): each test's own VAR_DIR is a
    folder of its own (the autouse fixture of src/openipa/conftest.py)."""
    return _VAR_DIR[-1]


@pytest.fixture(scope="package")
def value_based_demo(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSummary]:
    def progress(stage: str, done: int, total: int) -> None:
        PROGRESS[stage].append((done, total))

    with module_demo(
        django_db_blocker, tmp_path_factory, "value-based-demo", seed=SEED, members=MEMBERS, as_of=AS_OF,
        clinical=True, value_based=True, progress=progress,
    ) as summary:  # fmt: skip
        _VAR_DIR.append(Path(settings.VAR_DIR))
        yield summary
