"""The official MCP conformance suite's authorization-server scenarios (`conformance
authorization`: the RFC 8414 metadata endpoint and the authorization code grant) against a
tenant's authorization server. The suite prints the authorization URL and waits for its callback;
Chromium plays the keeper (login, consent) and follows the redirect to the suite's listener."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.mcp_bridge.oauth.flow import PASSWORD, Flow, keeper
from tests.support import free_port, node_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def _keeper_consents(url: str, username: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.goto(url)
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#tenant")
        page.click("button[name=allow]")
        page.wait_for_url("http://127.0.0.1:*/callback*")
        browser.close()


def test_authorization_server_scenarios(flow_a: Flow, tenant_a, tmp_path: Path) -> None:  # noqa: ANN001
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make test-deps` as root (Debian's chromium)")
    launcher, env = node_tool("conformance")
    port = free_port()
    client_id = flow_a.register(redirect_uri=f"http://127.0.0.1:{port}/callback")
    username = keeper(tenant_a)
    proc = subprocess.Popen(
        [
            str(launcher), "authorization",
            "--url", flow_a.issuer,
            "--client-id", client_id,
            "--resource", flow_a.resource,
            "--port", str(port),
            "--spec-version", "2025-11-25",
            "--output-dir", str(tmp_path),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    consent_error: list[BaseException] = []
    workers: list[threading.Thread] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.match(r"https?://\S+/authorize/\?", line.strip()):
                # Consent in another thread: the suite's output must keep being read meanwhile.
                def consent(url: str = line.strip()) -> None:
                    try:
                        _keeper_consents(url, username)
                    except BaseException as exc:  # noqa: BLE001 - reported by the test below
                        consent_error.append(exc)

                workers.append(threading.Thread(target=consent))
                workers[-1].start()
        proc.wait(timeout=600)
        for worker in workers:
            worker.join(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    report = "".join(lines)
    assert not consent_error, (consent_error, report[-3000:])
    assert proc.returncode == 0, report[-6000:]
    assert len(workers) == 1, report  # the suite asked for exactly one authorization
    statuses = {check["id"]: check["status"] for check in _checks(tmp_path)}
    assert statuses.get("authorization-server-metadata") == "SUCCESS", (statuses, report)
    assert statuses.get("authorization-server-metadata-cimd") == "SUCCESS", (statuses, report)
    assert statuses.get("authorization-code-grant") == "SUCCESS", (statuses, report)
    assert set(statuses.values()) == {"SUCCESS"}, (statuses, report)


def _checks(directory: Path) -> list[dict]:
    """Every check the suite wrote into its output directory."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "id" in node and "status" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in directory.rglob("*.json"):
        walk(json.loads(path.read_text()))
    return found
