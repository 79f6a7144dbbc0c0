"""Connectors that supervise an external program: cloudflared, or any command."""

from __future__ import annotations

import abc
import asyncio
import json
import os
import re
import shlex
import shutil
import time

import httpx

from tunnel_worker.child_process import ConnectorProcess
from tunnel_worker.connectors.base import Connector, ConnectorError

# What any connector program may need from the supervisor's environment.
BASE_ENV = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "SSL_CERT_FILE"}
    | {"SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy"}
    | {"no_proxy"}
)


def connector_env(extra: tuple[str, ...]) -> dict[str, str]:
    """BASE_ENV, the locale (LC_*) and the `extra` names ("NAME" or "PREFIX_*") from os.environ."""
    names = BASE_ENV | {n for n in extra if not n.endswith("*")}
    prefixes = ("LC_", *(n[:-1] for n in extra if n.endswith("*") and len(n) > 1))
    return {k: v for k, v in os.environ.items() if k in names or k.startswith(prefixes)}


class ProgramConnector(Connector):
    """Runs argv in its own process group; ready per ready_check(), dead when it exits."""

    @abc.abstractmethod
    def argv(self) -> list[str]:
        """The connector's command line (cloudflared's, or the operator's TUNNEL_COMMAND)."""

    def child_env(self) -> dict[str, str]:
        """A minimal environment: what any program needs plus CONNECTOR_ENV, nothing else.

        Never the whole environment: it holds DJANGO_SECRET_KEY, DATABASE_URL, REDIS_URL and
        tokens, none of which a connector needs.
        """
        return connector_env(self.conf.CONNECTOR_ENV)

    async def ready_check(self, client: httpx.AsyncClient) -> str | None:
        """Default readiness: the process has stayed up for COMMAND_SETTLE seconds."""
        if time.monotonic() - self._started < self.conf.COMMAND_SETTLE:
            return "settling"
        return None

    def __init__(self, conf) -> None:  # type: ignore[no-untyped-def]
        super().__init__(conf)
        self.child: ConnectorProcess | None = None
        self._started = 0.0
        self._http = httpx.AsyncClient(
            trust_env=False, timeout=httpx.Timeout(conf.CHECK_TIMEOUT, connect=2.0)
        )

    async def start(self) -> None:
        argv = self.argv()
        if shutil.which(argv[0]) is None:
            raise ConnectorError(f"cannot run {argv[0]!r}: not found", operator_needed=True)
        child = ConnectorProcess(
            argv, env=self.child_env(), tag=self.conf.NAME, grace=self.conf.STOP_GRACE
        )
        self.child = child
        try:
            await child.start()
        except OSError as exc:
            raise ConnectorError(f"cannot run {argv[0]!r}: {exc}", operator_needed=True) from exc
        self._started = time.monotonic()
        while (reason := await self.check()) is not None:
            self.last_check = reason
            if self.child.exited():
                raise await self._exit_error()
            await asyncio.sleep(min(0.5, self.conf.CHECK_INTERVAL))
        self.url = self._find_url() or self.public_url()

    async def _exit_error(self) -> ConnectorError:
        assert self.child
        code = await self.child.wait()
        tail = self.child.tail()
        auth = bool(re.search(self.conf.AUTH_FAILURE_PATTERN, tail)) if tail else False
        what = "authentication failed" if auth else "connector exited"
        return ConnectorError(f"{what} (exit {code}): {tail or 'no output'}", operator_needed=auth)

    async def wait_down(self) -> str:
        assert self.child
        await self.child.wait()
        return (await self._exit_error()).reason

    async def check(self) -> str | None:
        if self.child is None or self.child.exited():
            return "connector process not running"
        try:
            return await asyncio.wait_for(self.ready_check(self._http), self.conf.CHECK_TIMEOUT)
        except (TimeoutError, httpx.HTTPError, OSError, ValueError) as exc:
            return f"readiness check failed: {type(exc).__name__}: {exc}"

    def kill_now(self) -> None:
        if self.child is not None:
            self.child.kill_now()

    async def stop(self, grace: float) -> None:
        if self.child is not None:
            await self.child.stop(grace)
        await self._http.aclose()

    def _find_url(self) -> str | None:
        if not (self.conf.URL_PATTERN and self.child):
            return None
        for line in reversed(self.child.output):
            if match := re.search(self.conf.URL_PATTERN, line):
                return match.group(0)
        return None


class CloudflaredConnector(ProgramConnector):
    """`cloudflared tunnel run` with TUNNEL_TOKEN; ready when /ready says readyConnections >= 1."""

    def argv(self) -> list[str]:
        if not self.conf.TOKEN:
            raise ConnectorError("TUNNEL_TOKEN is not set for cloudflared", operator_needed=True)
        grace = max(int(self.conf.STOP_GRACE) - 1, 1)
        return [
            self.conf.CLOUDFLARED_BIN,
            "tunnel",
            "--no-autoupdate",
            "--grace-period",
            f"{grace}s",
            "--metrics",
            self.conf.CLOUDFLARED_METRICS,
            "run",
            "--url",
            self.conf.UPSTREAM,
        ]

    def child_env(self) -> dict[str, str]:
        # The token goes through the environment, never argv (argv is world-readable in ps).
        return {**super().child_env(), "TUNNEL_TOKEN": self.conf.TOKEN}

    async def ready_check(self, client: httpx.AsyncClient) -> str | None:
        response = await client.get(f"http://{self.conf.CLOUDFLARED_METRICS}/ready")
        return cloudflared_ready_reason(response.status_code, response.text)


def cloudflared_ready_reason(status_code: int, body: str) -> str | None:
    """None when cloudflared's /ready reports a live edge connection, else why not."""

    try:
        payload = json.loads(body)
    except ValueError:
        return f"cloudflared /ready answered {status_code} with non-JSON body"
    connections = payload.get("readyConnections", 0) if isinstance(payload, dict) else 0
    if status_code == 200 and isinstance(connections, int) and connections >= 1:
        return None
    return f"cloudflared /ready: HTTP {status_code}, readyConnections={connections}"


class CommandConnector(ProgramConnector):
    """Any connector program (frpc, ngrok, a platform CLI) with an optional TUNNEL_READY_URL."""

    def argv(self) -> list[str]:
        argv = shlex.split(self.conf.COMMAND)
        if not argv:
            raise ConnectorError("TUNNEL_COMMAND is empty", operator_needed=True)
        return argv

    async def ready_check(self, client: httpx.AsyncClient) -> str | None:
        if not self.conf.READY_URL:
            return await super().ready_check(client)
        response = await client.get(self.conf.READY_URL)
        if 200 <= response.status_code < 300:
            return None
        return f"readiness URL answered HTTP {response.status_code}"
