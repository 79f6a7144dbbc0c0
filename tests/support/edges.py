"""Tunnel edges: Debian's OpenSSH sshd on a loopback port with a throw-away config and keys, as
the tunnel tests and the bench dial it."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psutil

from tests.support.servers import free_port
from tests.support.waiting import listening, wait_until

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def openssh_available() -> bool:
    """sshd and ssh-keygen are installed, and we are root (sshd's privilege separation)."""
    return Path(SSHD).exists() and bool(shutil.which("ssh-keygen")) and os.geteuid() == 0


def keygen(path: Path) -> str:
    """An ed25519 key pair at path (and path.pub); returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
    )
    return Path(f"{path}.pub").read_text().strip()


class Sshd:
    """Debian's OpenSSH sshd on a loopback high port with a temporary config (the edge)."""

    def __init__(self, tmp: Path, *, allow_forwarding: bool = True) -> None:
        self.dir = tmp / f"sshd-{uuid.uuid4().hex[:6]}"
        self.dir.mkdir()
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = self.dir / "ssh_host_ed25519_key"
        self.host_pub = keygen(self.host_key)
        self.client_key = self.dir / "client_key"
        self.authorized = self.dir / "authorized_keys"
        self.authorized.write_text(keygen(self.client_key) + "\n")
        self.known_hosts = self.dir / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        self.log_path = self.dir / "sshd.log"
        self.config = self.dir / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"AuthorizedKeysFile {self.authorized}",
                    f"AllowUsers {self.user}",
                    "PermitRootLogin prohibit-password",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitTTY no",
                    f"AllowTcpForwarding {'remote' if allow_forwarding else 'no'}",
                    "GatewayPorts no",
                    "PidFile none",
                    "LogLevel VERBOSE",
                    "MaxStartups 100",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory

    def start(self) -> Sshd:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until(lambda: listening(self.port), 10, f"sshd listening on {self.port}")
        except BaseException:
            self.kill()  # never leave an sshd that did not come up
            raise
        return self

    def sessions(self) -> list[psutil.Process]:
        """The per-connection sshd processes (forked from the listener)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.proc.pid).children(recursive=True)
        return []

    def kill(self) -> None:
        """The edge dies: the listener and every session, at once."""
        victims = self.sessions()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for proc in victims:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(victims, timeout=5)

    stop = kill  # what the bench calls on everything it started

    def freeze(self) -> list[psutil.Process]:
        """SIGSTOP the session processes: the TCP link stays up, nothing answers (half-open)."""
        frozen = self.sessions()
        for proc in frozen:
            proc.send_signal(signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[psutil.Process]) -> None:
        for proc in frozen:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGCONT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client_connections(self) -> list[Any]:
        """Established TCP connections from clients (connectors) to this edge."""
        return [
            c
            for c in psutil.net_connections(kind="tcp4")
            if c.raddr and c.raddr.port == self.port and c.status == psutil.CONN_ESTABLISHED
        ]


def ssh_env(sshd: Sshd, remote_port: int) -> dict[str, str]:
    """The tunnel worker's settings for dialling `sshd`, its far side on `remote_port`."""
    return {
        "TUNNEL_BACKEND": "ssh",
        "TUNNEL_SSH_HOST": "127.0.0.1",
        "TUNNEL_SSH_PORT": str(sshd.port),
        "TUNNEL_SSH_USER": sshd.user,
        "TUNNEL_SSH_KEY_FILE": str(sshd.client_key),
        "TUNNEL_SSH_KNOWN_HOSTS": str(sshd.known_hosts),
        "TUNNEL_SSH_REMOTE_PORT": str(remote_port),
    }
