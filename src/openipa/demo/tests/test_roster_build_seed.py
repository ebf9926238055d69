"""The same seed builds the same roster files and eligibility; another seed does not. Builds of its own (three),
so not in test_roster_build.py, whose tests share one build for the module."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from openipa.demo.services import build_demo
from openipa.demo.tests.test_roster_build import AS_OF, SEED, _db_timelines
from openipa.membership.models import RosterImport

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _var_dir(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for member in sorted(_db_timelines().items()):
        digest.update(repr(member).encode())
    for row in RosterImport.objects.order_by("pk").values_list(
        "payer__code",
        "file_name",
        "sha256",
        "status",
        "added",
        "changed",
        "termed",
        "retro",
        "outside_window",
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_the_same_seed_builds_the_same_files_and_eligibility() -> None:
    prints = []
    for seed in (SEED, SEED, SEED + 1):
        with transaction.atomic():
            build_demo(seed=seed, members=400, password="pw", as_of=AS_OF, capitation_year=False)
            prints.append(_fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]
