"""Fixtures for the shell's page tests, on top of the small IPA's personas."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client


@pytest.fixture
def client_for(small_ipa) -> Callable[[str], Client]:
    """`client_for("alice")`: a fresh client with that persona's session (no password round trip)."""

    def make(name: str) -> Client:
        client = Client()
        client.force_login(small_ipa.users[name])
        return client

    return make
