"""FAKE cloudflared for tests (cloudflared can't be downloaded here). NOT the real connector.

It imitates only what the tunnel worker relies on:
  argv     `tunnel [--no-autoupdate] [--grace-period D] --metrics ADDR run --url URL`
  token    TUNNEL_TOKEN from the environment; "bad" exits 1 with cloudflared's auth error text
  /ready   on --metrics: 200 {"status":200,"readyConnections":4,"connectorId":...} once "connected",
           503 with readyConnections 0 otherwise (the shape cloudflared's metrics server returns)
  edge     a loopback TCP relay on $FAKE_CF_PUBLIC_PORT to --url, standing in for Cloudflare's edge
  control  SIGUSR1 drops all edge connections (503), SIGUSR2 restores them; SIGTERM drains
  family   $FAKE_CF_GRANDCHILD=1 forks a helper process, to test process-group clean-up
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

state = {"connections": 0}


def parse(argv: list[str]) -> dict[str, str]:
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        if argv[i] in ("--metrics", "--url", "--grace-period"):
            opts[argv[i][2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return opts


class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        n = state["connections"]
        code = 200 if n else 503
        body = json.dumps({"status": code, "readyConnections": n, "connectorId": CONNECTOR})
        self.send_response(code if self.path == "/ready" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


def relay(listen_port: int, target: tuple[str, int]) -> None:
    server = socket.create_server(("127.0.0.1", listen_port), reuse_port=False)
    while True:
        client, _ = server.accept()
        if not state["connections"]:
            client.close()
            continue
        upstream = socket.create_connection(target)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def main() -> None:
    opts = parse(sys.argv[1:])
    token = os.environ.get("TUNNEL_TOKEN", "")
    print(f"INF Starting tunnel (FAKE cloudflared) url={opts.get('url')}", flush=True)
    if token == "bad":
        time.sleep(0.3)
        print(
            'ERR Register tunnel error from server side error="Unauthorized: Invalid tunnel secret"',
            flush=True,
        )
        sys.exit(1)
    host, port = opts["metrics"].rsplit(":", 1)
    metrics = http.server.ThreadingHTTPServer((host, int(port)), Ready)
    threading.Thread(target=metrics.serve_forever, daemon=True).start()
    up = urlsplit(opts["url"])
    if public := os.environ.get("FAKE_CF_PUBLIC_PORT"):
        target = (up.hostname or "127.0.0.1", up.port or 80)
        threading.Thread(target=relay, args=(int(public), target), daemon=True).start()
    if os.environ.get("FAKE_CF_GRANDCHILD") == "1":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    signal.signal(signal.SIGUSR1, lambda *_: state.update(connections=0))
    signal.signal(signal.SIGUSR2, lambda *_: state.update(connections=4))
    signal.signal(signal.SIGTERM, lambda *_: shutdown())
    time.sleep(0.5)
    state["connections"] = 4
    print("INF Registered tunnel connection connIndex=0 (FAKE)", flush=True)
    while True:
        time.sleep(1)


def shutdown() -> None:
    print("INF Initiated graceful shutdown (FAKE)", flush=True)
    state["connections"] = 0
    sys.exit(0)


CONNECTOR = str(uuid.uuid4())

if __name__ == "__main__":
    main()
