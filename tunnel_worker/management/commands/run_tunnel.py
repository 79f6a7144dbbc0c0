"""`manage.py run_tunnel`: the tunnel supervisor in the foreground (systemd, containers)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tunnel_worker import runner
from tunnel_worker.conf import tunnel_settings


class Command(BaseCommand):
    help = "Run the tunnel supervisor in the foreground until SIGTERM/SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-lease",
            action="store_true",
            help="Skip the Redis lease (single host, supervised by systemd/compose alone).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        overrides = {"LEASE": False} if options["no_lease"] else {}
        outcome = runner.tunnel_run(conf=tunnel_settings(**overrides), handle_signals=True)
        self.stdout.write(f"tunnel supervisor ended: {outcome}")
