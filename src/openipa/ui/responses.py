"""Small helpers for the pages' responses, shared by the apps' views."""

from __future__ import annotations

from django.http import HttpResponse


def attachment(response: HttpResponse, name: str) -> HttpResponse:
    """``response`` as a download named ``name`` (a statement's PDF or CSV), never cached: it holds a practice's
    money or members."""
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
