"""docker-compose.yml passes `docker compose config`; the Procfile and compose file name every
process the service needs."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.support import ROOT

COMPOSE = ROOT / "docker-compose.yml"
PROCESSES = {"web", "mcp", "worker", "beat", "tunnel"}


def _compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (v1), whichever answers."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_docker_compose_config_accepts_the_file():
    command = _compose_command()
    if command is None:
        pytest.fail("no `docker compose` / `docker-compose` here: run `make test-deps` as root")
    for profile in ([], ["--profile", "tunnel"]):
        result = subprocess.run(
            [*command, "-f", str(COMPOSE), *profile, "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


def test_compose_file_has_every_service_and_the_tunnel_profile():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    assert {"postgres", "redis", "migrate", *PROCESSES} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert "ops.gunicorn_conf" in " ".join(services["web"]["command"])
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    for extra in ("cloudflared", "mcp-proxy"):
        assert services[extra]["profiles"] == ["tunnel"]
    # The proxy's route, documented for users, goes to the MCP-only listener, never to web.
    assert "http://mcp:8001" in COMPOSE.read_text() and "http://web:8000" not in COMPOSE.read_text()
    tunnel = " ".join(services["tunnel"]["command"])
    assert "-Q tunnel" in tunnel and "--pool solo" in tunnel
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ops.gunicorn_conf" in dockerfile


def test_procfile_runs_every_process_from_the_environment():
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = dict(
        m.groups() for line in lines if (m := re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line))
    )
    assert set(entries) == PROCESSES
    assert entries["web"].startswith("gunicorn -c python:ops.gunicorn_conf")
    assert "-Q tunnel" in entries["tunnel"] and "--pool solo" in entries["tunnel"]
    assert "-Q default" in entries["worker"]
