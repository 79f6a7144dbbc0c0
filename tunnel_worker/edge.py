"""Development-only SSH edge (asyncssh on loopback) so `make run` needs no outside bastion."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh

logger = logging.getLogger(__name__)

LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class EdgeFiles:
    """Keys and trust files of the demo edge, all under one directory (see `under`)."""

    directory: Path
    host_key: Path
    client_key: Path
    authorized_keys: Path
    known_hosts: Path

    @classmethod
    def under(cls, directory: Path) -> EdgeFiles:
        return cls(
            directory=directory,
            host_key=directory / "ssh_host_ed25519_key",
            client_key=directory / "client_ed25519_key",
            authorized_keys=directory / "authorized_keys",
            known_hosts=directory / "known_hosts",
        )


def edge_prepare(directory: Path, *, host: str, port: int) -> EdgeFiles:
    """Create (once) the edge host key, a client key it authorizes, and a matching known_hosts."""
    files = EdgeFiles.under(Path(directory))
    files.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in (files.host_key, files.client_key):
        if not path.exists():
            key = asyncssh.generate_private_key("ssh-ed25519", comment=f"tunnel-edge {path.name}")
            key.write_private_key(str(path))
            os.chmod(path, 0o600)
    client_pub = asyncssh.read_private_key(str(files.client_key)).export_public_key().decode()
    files.authorized_keys.write_text(client_pub)
    host_pub = asyncssh.read_private_key(str(files.host_key)).export_public_key().decode().strip()
    files.known_hosts.write_text(f"[{host}]:{port} {host_pub}\n")
    return files


def edge_client_env(files: EdgeFiles, *, host: str, port: int, remote_port: int) -> dict[str, str]:
    """The TUNNEL_* settings a worker needs to dial this edge."""
    return {
        "TUNNEL_BACKEND": "ssh",
        "TUNNEL_SSH_HOST": host,
        "TUNNEL_SSH_PORT": str(port),
        "TUNNEL_SSH_USER": "tunnel",
        "TUNNEL_SSH_KEY_FILE": str(files.client_key),
        "TUNNEL_SSH_KNOWN_HOSTS": str(files.known_hosts),
        "TUNNEL_SSH_REMOTE_BIND": "127.0.0.1",
        "TUNNEL_SSH_REMOTE_PORT": str(remote_port),
    }


class _EdgeServer(asyncssh.SSHServer):
    """Accepts only public-key auth and only remote forwards bound to loopback; no shells."""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._peer = conn.get_extra_info("peername")
        logger.info("edge: connection from %s", self._peer)

    def connection_lost(self, exc: Exception | None) -> None:
        logger.info("edge: connection from %s closed: %s", self._peer, exc or "normally")

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        allowed = listen_host in LOOPBACK_BINDS
        logger.info(
            "edge: remote forward %s:%s %s",
            listen_host,
            listen_port,
            "ok" if allowed else "refused",
        )
        return allowed


async def edge_serve(files: EdgeFiles, *, host: str, port: int) -> asyncssh.SSHAcceptor:
    """Start the demo edge listener; returns the acceptor (close() to stop)."""
    return await asyncssh.listen(
        host,
        port,
        server_factory=_EdgeServer,
        server_host_keys=[str(files.host_key)],
        authorized_client_keys=str(files.authorized_keys),
        password_auth=False,
        kbdint_auth=False,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        keepalive_interval=15,
        keepalive_count_max=3,
    )
