"""`manage.py tunnel_status`: the tunnel state as JSON; exit 0 only when up, 3 when unknown."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tunnel_worker.selectors import UNKNOWN, tunnel_state

EXIT_DOWN, EXIT_UNKNOWN = 1, 3  # 3 = UNKNOWN, as monitoring plugins use it


class Command(BaseCommand):
    help = (
        "Print the tunnel status as JSON (with `url` when known); exit 0 only when up, "
        "1 when down, 3 when unknown (the holder's heartbeat is stale)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=None, help="Tunnel name (default TUNNEL_NAME).")

    def handle(self, *args: Any, **options: Any) -> None:
        state = tunnel_state(options["name"])
        self.stdout.write(json.dumps(state, indent=2))
        if state["state"] == UNKNOWN:
            sys.exit(EXIT_UNKNOWN)
        if not state["up"]:
            sys.exit(EXIT_DOWN)
