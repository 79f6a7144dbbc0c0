"""gunicorn settings for the web process: `gunicorn -c python:ops.gunicorn_conf
config.asgi:application`. Every value comes from the environment.

Multi-process metrics: when PROMETHEUS_MULTIPROC_DIR is set, the directory is emptied when the
server starts and a dead worker's files are marked, so /metrics sums the live workers'
counters (prometheus-client's multiprocess mode).
"""

import os
from pathlib import Path
from typing import Any

from ops.proxies import forwarded_allow_ips as _forwarded_allow_ips

# gunicorn binds the listening socket itself and sets TCP_NODELAY on it; Linux copies the option
# to every accepted connection, so a response written in two parts never waits for the client's
# delayed ACK (uvicorn's own `--workers N` binds without it: +40 ms per POST).
# tests/ops/test_workers.py reads the option on each worker's accepted socket.
bind = f"{os.environ.get('WEB_BIND', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "uvicorn.workers.UvicornWorker"
# Longer than the 2 s statement timeout and the readiness checks; an MCP call is short.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
accesslog = None  # ops.asgi writes one access line per request (with its request id)
# X-Forwarded-* only from TRUSTED_PROXIES (default: nobody); see ops/proxies.py.
forwarded_allow_ips = _forwarded_allow_ips()
# gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which two
# servers on one host would share; off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
