"""Schemathesis drives every operation of the published OpenAPI document: no input gives a server error.

The schema is loaded from the application itself (WSGI, no server), requests carry an administrator's
bearer token so they reach the endpoints' logic, and each generated request runs inside a savepoint that
is rolled back, so every example starts from the `small_ipa` data and a database error in one cannot
poison the next (PostgreSQL aborts the whole transaction after an error).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from openipa.conftest import SmallIpa


@pytest.fixture
def admin_token(small_ipa: SmallIpa) -> str:
    from openipa.accounts.services import token_create

    return token_create(actor=None, user=small_ipa.users["admin"], name="schemathesis").token


from openipa.config.wsgi import application  # noqa: E402

# Fetching the document touches no database, so it can happen at collection time.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_server_error(case: Any, admin_token: str) -> None:
    with transaction.atomic():
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {admin_token}"}, checks=[not_a_server_error]
        )
        assert response.status_code < 500
        transaction.set_rollback(True)
