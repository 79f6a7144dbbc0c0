"""Celery tasks (thin): run the tunnel on the `tunnel` queue, and the beat watchdog."""

from __future__ import annotations

import logging
from typing import Any

from billiard.process import current_process
from celery import shared_task
from celery.signals import worker_ready, worker_shutting_down

from tunnel_worker import runner
from tunnel_worker.conf import Backend, tunnel_settings
from tunnel_worker.watchdog import tunnel_watchdog_check

logger = logging.getLogger(__name__)

TUNNEL_QUEUE = "tunnel"


@shared_task(
    name="tunnel_worker.tasks.tunnel_run",
    queue=TUNNEL_QUEUE,
    acks_late=False,  # acked on receipt: a long run must never be redelivered by visibility_timeout
    ignore_result=True,
)
def tunnel_run(name: str) -> str:
    """Hold the lease for `name` (standing by if taken) and supervise its connector until shutdown."""
    conf = tunnel_settings()
    if name != conf.NAME:
        return f"ignored: this worker is configured for tunnel {conf.NAME!r}, not {name!r}"
    if current_process().name != "MainProcess":
        logger.warning(
            "tunnel_run is running in a pool child: start the tunnel worker with --pool solo, "
            "or a SIGKILLed worker may leave this supervisor running and SIGTERM won't drain it"
        )
    return runner.tunnel_run(conf=conf, should_stop=_worker_stopping)


@shared_task(name="tunnel_worker.tasks.tunnel_watchdog", ignore_result=True)
def tunnel_watchdog() -> str:
    """Beat, every 15 s: re-queue tunnel_run when the lease heartbeat is stale or missing."""
    return tunnel_watchdog_check(enqueue=tunnel_enqueue)


def tunnel_enqueue(name: str) -> None:
    """Send one tunnel_run to the tunnel queue; it expires so stale requests don't pile up."""
    expires = max(tunnel_settings().WATCHDOG_INTERVAL * 2, 30.0)
    tunnel_run.apply_async(args=[name], queue=TUNNEL_QUEUE, expires=expires)


def _worker_stopping() -> bool:
    from celery.worker import state

    return bool(state.should_stop is not None or state.should_terminate is not None)


@worker_shutting_down.connect
def _drain_on_shutdown(**_: Any) -> None:
    """SIGTERM/SIGINT to the worker: stop the connector gracefully and release the lease."""
    runner.request_stop()


@worker_ready.connect
def _kick_on_start(sender: Any = None, **_: Any) -> None:
    """A worker that serves the tunnel queue starts (or stands by for) the tunnel at once."""
    try:
        queues = set(sender.app.amqp.queues.consume_from or {})
    except AttributeError:
        return
    conf = tunnel_settings()
    if TUNNEL_QUEUE in queues and conf.BACKEND != Backend.OFF:
        tunnel_enqueue(conf.NAME)
