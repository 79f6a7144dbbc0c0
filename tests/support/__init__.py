"""Helpers for tests (and the bench) that drive the service through its real interfaces.

One module per kind of thing, each importable on its own:
- processes: the exact environment of a child, `run`/`python`/`manage` for commands that finish,
  `Proc` for ones that keep running, the end-of-session sweep;
- waiting: bounded polling (`wait_until`, a port, an HTTP answer);
- servers: the service under uvicorn (`LiveServer`), a webhook receiver, a tunnel upstream;
- proxies: a TCP proxy to cut or freeze (the database), an HTTP proxy that adds headers;
- edges: an OpenSSH edge for the tunnel;
- clients: an admin login, HTTP with a Host header, the MCP SDK client, JSON-RPC bodies;
- data: tokens and stock set up through the services, a table lock;
- parse: JSON log lines and Prometheus samples;
- asgi: one request through an ASGI app in process (the fast tier).

The names below are re-exported so that tests can write `from tests.support import LiveServer`.
"""

from tests.support.clients import (
    MCP_HEADERS,
    Seen,
    admin_session,
    connect_fails,
    get,
    mcp_check_stock,
    mcp_client,
    rpc,
    tool_call,
)
from tests.support.data import (
    Stock,
    issue,
    stock_item,
    stock_on_hand,
    table_locked,
    unique_name,
)
from tests.support.edges import SSHD, Sshd, keygen, openssh_available, ssh_env
from tests.support.parse import json_lines, metric_value
from tests.support.processes import (
    ROOT,
    Proc,
    leftover_children,
    manage,
    node_tool,
    pid_alive,
    python,
    run,
    running,
    subprocess_env,
)
from tests.support.proxies import HeaderProxy, TcpProxy, database_proxy, database_url_via
from tests.support.servers import LiveServer, Upstream, WebhookReceiver, free_port, live_server
from tests.support.waiting import listening, wait_for_http, wait_for_port, wait_until

__all__ = [
    "MCP_HEADERS",
    "ROOT",
    "SSHD",
    "HeaderProxy",
    "LiveServer",
    "Proc",
    "Seen",
    "Sshd",
    "Stock",
    "TcpProxy",
    "Upstream",
    "WebhookReceiver",
    "admin_session",
    "connect_fails",
    "database_proxy",
    "database_url_via",
    "free_port",
    "get",
    "issue",
    "json_lines",
    "keygen",
    "leftover_children",
    "listening",
    "live_server",
    "manage",
    "mcp_check_stock",
    "mcp_client",
    "metric_value",
    "node_tool",
    "openssh_available",
    "pid_alive",
    "python",
    "rpc",
    "run",
    "running",
    "ssh_env",
    "stock_item",
    "stock_on_hand",
    "subprocess_env",
    "table_locked",
    "tool_call",
    "unique_name",
    "wait_for_http",
    "wait_for_port",
    "wait_until",
]
