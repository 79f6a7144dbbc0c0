"""`manage.py tunnel_edge`: a development-only SSH edge on loopback for the tunnel demo."""

from __future__ import annotations

import asyncio
import shlex
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tunnel_worker.conf import tunnel_settings
from tunnel_worker.edge import edge_client_env, edge_prepare, edge_serve


class Command(BaseCommand):
    help = "Serve a demo SSH edge on 127.0.0.1 (development only) and print the worker settings."

    def add_arguments(self, parser: CommandParser) -> None:
        conf = tunnel_settings()
        parser.add_argument("--port", type=int, default=conf.EDGE_PORT)
        parser.add_argument("--remote-port", type=int, default=conf.EDGE_REMOTE_PORT)
        parser.add_argument("--dir", default=conf.EDGE_DIR, help="Where keys are kept.")
        parser.add_argument(
            "--print-env",
            action="store_true",
            help="Only create the keys and print `export TUNNEL_...` lines, then exit.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["print_env"]:
            raise CommandError(
                "tunnel_edge is a development tool; it refuses to run with DEBUG off"
            )
        host, port = "127.0.0.1", options["port"]
        files = edge_prepare(Path(options["dir"]), host=host, port=port)
        env = edge_client_env(files, host=host, port=port, remote_port=options["remote_port"])
        exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
        url = f"http://{host}:{options['remote_port']}{tunnel_settings().MCP_PATH}"
        if options["print_env"]:
            self.stdout.write(exports)
            return
        self.stdout.write(f"demo SSH edge on {host}:{port}; set these for the tunnel worker:\n")
        self.stdout.write(exports + "\n")
        self.stdout.write(f"agent-side URL once the tunnel is up: {url}")
        self.stdout.flush()
        asyncio.run(self._serve(files, host, port))

    async def _serve(self, files: Any, host: str, port: int) -> None:
        acceptor = await edge_serve(files, host=host, port=port)
        try:
            await acceptor.wait_closed()
        finally:
            acceptor.close()
