"""One demo built for a whole test module: files under a temporary var directory, everything inside one
transaction rolled back at the end, so the module's tests read it and leave the database as they found it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from openipa.demo.services import DemoSummary, build_demo

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def module_demo(
    django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any
) -> Iterator[DemoSummary]:
    """``build_demo(**options)`` (password "pw" unless given) with ``settings.VAR_DIR`` under a temporary
    ``name`` folder.
    The value-based stages (settlements, fees, governance, the Tuva export) are left out unless
    ``value_based=True``: a module testing one of them builds it on top itself."""
    options.setdefault("value_based", False)
    options.setdefault("password", "pw")
    old = settings.VAR_DIR
    settings.VAR_DIR = str(tmp_path_factory.mktemp(name) / "var")
    try:
        # the fast hasher of the tests' autouse fixture (src/openipa/conftest.py), which a module-wide
        # fixture runs before: Argon2 is slow on purpose, and a build hashes one password per login
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=FAST_HASHERS),
            transaction.atomic(),
        ):
            yield build_demo(**options)
            transaction.set_rollback(True)
    finally:
        settings.VAR_DIR = old


@dataclass
class Recorded:
    """What a shared build reports besides its summary: each stage's progress reports, and where it wrote
    its files (each test's own VAR_DIR is a folder of its own: the autouse fixture of src/openipa/conftest.py)."""

    progress: defaultdict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    """(done, total) of each stage's progress reports, by stage name."""
    var_dir: Path | None = None

    def record(self, stage: str, done: int, total: int) -> None:
        self.progress[stage].append((done, total))

    def files(self) -> Path:
        """The build's var directory (var/demo/..., var/payments/...)."""
        assert self.var_dir is not None, "the shared demo is not built yet"
        return self.var_dir


@contextmanager
def recorded_demo(
    django_db_blocker: Any,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    recorded: Recorded,
    **options: Any,
) -> Iterator[DemoSummary]:
    """:func:`module_demo`, its progress and var directory kept in ``recorded`` (a package's shared demo)."""
    with module_demo(
        django_db_blocker, tmp_path_factory, name, progress=recorded.record, **options
    ) as summary:
        recorded.var_dir = Path(settings.VAR_DIR)
        yield summary
