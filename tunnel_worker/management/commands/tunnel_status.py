"""`manage.py tunnel_status`: the stored tunnel state as JSON; exit 0 only when connected."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tunnel_worker.selectors import tunnel_state


class Command(BaseCommand):
    help = "Print the tunnel status as JSON (with `url` when known); exit 0 only when up."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help="Tunnel name (default TUNNEL_NAME).")

    def handle(self, *args: Any, **options: Any) -> None:
        state = tunnel_state(options["name"])
        self.stdout.write(json.dumps(state, indent=2))
        if not state["up"]:
            sys.exit(1)
