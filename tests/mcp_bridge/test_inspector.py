"""A client nobody here wrote: the MCP Inspector CLI (npm, needs Node >= 22) against live /mcp.

`make test-deps` installs Node 22 and the pinned Inspector into .data/node (tests/deps.py).
"""

import json
import subprocess
from pathlib import Path

from tests.support import issue, node_tool, stock_item


def _inspector_env() -> tuple[Path, dict[str, str]]:
    return node_tool("mcp-inspector")


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
