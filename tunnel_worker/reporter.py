"""Async front for the status services: ordered writes on one thread, never fatal to the tunnel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from tunnel_worker import services
from tunnel_worker.models import TunnelState
from tunnel_worker.services import Holder, Transition

logger = logging.getLogger(__name__)


class Reporter:
    """Writes state for one tunnel; counts connects/disconnects only on real edges of ``up``."""

    def __init__(self, *, name: str, backend: str, holder: Holder) -> None:
        self.name = name
        self.backend = backend
        self.holder = holder
        self.state: str = TunnelState.STOPPED
        # One thread keeps writes ordered and gives the ORM a stable connection.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tunnel-status")

    async def _call(self, fn: Callable[..., object], **kwargs: object) -> None:
        def run() -> None:
            close_old_connections()
            fn(**kwargs)

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, run)
        except Exception as exc:  # a database outage must not take the tunnel down
            logger.warning(
                "tunnel %s: could not store status (%s): %s", self.name, fn.__name__, exc
            )

    async def started(self) -> None:
        self.state = TunnelState.STARTING
        await self._call(
            services.tunnel_status_start, name=self.name, backend=self.backend, holder=self.holder
        )

    async def transition(
        self,
        state: str,
        event: str,
        *,
        error: str = "",
        backoff: float | None = None,
        attempt: int | None = None,
        url: str | None = None,
    ) -> None:
        was_up = self.state == TunnelState.CONNECTED
        is_up = state == TunnelState.CONNECTED
        self.state = state
        change = Transition(
            state=state,
            event=event,
            error=error,
            backoff=backoff,
            attempt=attempt,
            url=url,
            counts_connect=is_up and not was_up,
            counts_disconnect=was_up and not is_up,
        )
        await self._call(
            services.tunnel_status_transition, name=self.name, change=change, holder=self.holder
        )

    async def event(self, kind: str, *, attempt: int = 0, detail: str = "") -> None:
        await self._call(
            services.tunnel_event_record,
            name=self.name,
            kind=kind,
            holder=self.holder,
            attempt=attempt,
            detail=detail,
        )

    async def heartbeat(self) -> None:
        await self._call(services.tunnel_heartbeat, name=self.name, holder=self.holder)

    def close(self) -> None:
        def done() -> None:
            from django.db import connection

            connection.close()

        self._pool.submit(done).result(timeout=5)
        self._pool.shutdown(wait=True)
