"""Fixtures for the shell's page tests: `client_for` and the personas live in src/openipa/conftest.py."""
