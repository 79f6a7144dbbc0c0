"""The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned in
tests/deps.py) against the live /mcp endpoint, at protocol versions 2025-11-25 and 2026-07-28.

Scenarios that need the suite's own fixture tools, prompts or resources (which this server does
not have and must not grow) are named, check by check with the reason, in
conformance-expected-failures-<version>.yml;
the suite fails the run on any other failure and on an entry that starts passing.
The suite cannot send a bearer token, so it reaches the server through a proxy that adds one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support import HeaderProxy, issue, node_tool

HERE = Path(__file__).parent


@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
def test_conformance_suite(server, tenant_a, version: str, tmp_path: Path) -> None:  # noqa: ANN001
    launcher, env = node_tool("conformance")
    mark = server.log_mark()
    proxy = HeaderProxy(server.url, {"Authorization": f"Bearer {issue(tenant_a)}"})
    try:
        result = subprocess.run(
            [
                str(launcher), "server",
                "--url", f"http://127.0.0.1:{proxy.port}/mcp",
                "--spec-version", version,
                "--expected-failures", str(HERE / f"conformance-expected-failures-{version}.yml"),
                "--output-dir", str(tmp_path),
            ],
            capture_output=True, text=True, env=env, timeout=600, check=False,
        )  # fmt: skip
    finally:
        proxy.close()
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    assert "passed" in report.lower(), report[-2000:]
    assert "Traceback" not in server.log(
        since=mark
    )  # protocol errors are answered, not server errors
