"""API test helpers: clients acting as the `small_ipa` personas, and a reader for the error format."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from openipa.conftest import SmallIpa


class ApiClient(Client):
    """A test client that sends JSON bodies and decodes JSON answers."""

    def post_json(self, path: str, data: Any) -> Any:
        return self.post(path, data=json.dumps(data), content_type="application/json")

    def patch_json(self, path: str, data: Any) -> Any:
        return self.patch(path, data=json.dumps(data), content_type="application/json")

    def put_json(self, path: str, data: Any) -> Any:
        return self.put(path, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def api_as(small_ipa: SmallIpa) -> Callable[[str], ApiClient]:
    """`api_as("alice")`: a client sending a fresh bearer token of that persona."""
    from openipa.accounts.services import token_create

    def make(name: str) -> ApiClient:
        issued = token_create(actor=None, user=small_ipa.users[name], name="test")
        return ApiClient(headers={"Authorization": f"Bearer {issued.token}"})

    return make


def error_of(response: Any) -> dict[str, Any]:
    """The `error` object of an error response, after checking the format's shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["status"] == response.status_code
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)
