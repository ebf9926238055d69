"""`openipa token create --user NAME [--name LABEL]`: issue an API bearer token; only the token is printed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openipa.accounts.models import User
from openipa.accounts.services import token_create


class Command(BaseCommand):
    help = (
        "Issue an API token acting as a user: `token create --user NAME [--name LABEL]`. Prints only the "
        "token (it is shown once; only its hash is kept), so scripts can capture it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create"], help="what to do (create)")
        parser.add_argument("--user", required=True, help="user name the token acts as")
        parser.add_argument("--name", default="", help="a label to recognise the token by")

    def handle(self, *args: Any, action: str, user: str, name: str, **options: Any) -> None:
        account = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"unknown user {user!r}")
        if not account.is_active:
            raise CommandError(f"user {user!r} is inactive; a token for it would not authenticate")
        # The system issues it (actor None): whoever can run this command already holds the database.
        issued = token_create(actor=None, user=account, name=name)
        self.stdout.write(issued.token)
