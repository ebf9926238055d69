"""`openipa serve`: apply migrations, then serve the site with waitress (static files through WhiteNoise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve OpenIPA with waitress on HOST:PORT (migrations are applied first, quietly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")

    def handle(self, *args: Any, host: str, port: int, threads: int, **options: Any) -> None:
        from waitress import serve  # type: ignore[import-untyped]

        call_command("migrate", interactive=False, verbosity=0)
        # WhiteNoise finds the static files through the finders; it only warns when STATIC_ROOT is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        from openipa.config.wsgi import application

        self.stdout.write(f"OpenIPA is serving at http://{host}:{port}/  (Ctrl+C stops it)")
        self.stdout.flush()
        serve(application, host=host, port=port, threads=threads, ident="OpenIPA")
