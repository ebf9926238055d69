"""Every model change has its migration."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_have_no_changes_without_migrations() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out, no_color=True)
    except SystemExit:
        pytest.fail(
            "models have changes that no migration records; run `openipa makemigrations`:\n" + out.getvalue(),
            pytrace=False,
        )
