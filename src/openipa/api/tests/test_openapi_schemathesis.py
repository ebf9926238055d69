"""Schemathesis drives every operation of the published OpenAPI document: no input gives a server error.

The schema is loaded from the application itself (WSGI, no server), requests carry an administrator's
bearer token so they reach the endpoints' logic (finance's for the bank details, which are finance's alone), and each generated request runs inside a savepoint that
is rolled back, so every example starts from the `small_ipa` data and a database error in one cannot
poison the next (PostgreSQL aborts the whole transaction after an error).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from openipa.conftest import SmallIpa


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """A real WSGI request closes "old" database connections when it starts and ends; inside the test's
    transaction that would close the connection itself (PostgreSQL). Django's test client unhooks the same
    signal handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(small_ipa: SmallIpa) -> str:
    from openipa.accounts.services import token_create

    return token_create(actor=None, user=small_ipa.users["admin"], name="schemathesis").token


@pytest.fixture
def finance_token(small_ipa: SmallIpa) -> str:
    from openipa.accounts.services import token_create

    return token_create(actor=None, user=small_ipa.users["fin"], name="schemathesis").token


from openipa.config.wsgi import application  # noqa: E402

# Fetching the document touches no database, so it can happen at collection time.
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    config=SchemathesisConfig.from_dict(
        {
            # The coverage phase walks each parameter's boundaries (longest strings, largest ids, every
            # enum value), where server errors hide. Its negative half (ill-typed input) only exercises
            # pydantic's 422s and would take most of the time, so that half is left to the fuzzing phase.
            "phases": {"coverage": {"generation": {"mode": "positive"}}},
        }
    ),
)


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


# Bank details are finance's alone: the administrator gets 403 from their endpoint before its logic, so
# finance drives it too.
bank_schema = schema.include(path_regex=r"/bank$")


@bank_schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_bank_details_request_gets_a_server_error(case: Any, finance_token: str) -> None:
    with transaction.atomic():
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {finance_token}"}, checks=[not_a_server_error]
        )
        assert response.status_code < 500
        transaction.set_rollback(True)
