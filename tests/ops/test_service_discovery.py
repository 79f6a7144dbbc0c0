"""Commands find the services `make run` started (.data/services.json), and say in one line what
to do when there is no database to reach: `manage.py` subprocesses with DATABASE_URL unset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.embedded import recording
from tests.support import ROOT, free_port, run, stock_on_hand, subprocess_env

HINT = "start `make run` or set DATABASE_URL"


def _manage_unset(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`manage.py <args>` with DATABASE_URL / REDIS_URL unset and .data/ at `data_dir`."""
    environ = subprocess_env(EMBEDDED_DATA_DIR=str(data_dir), **env)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in env:
            environ.pop(name, None)
    return run([sys.executable, str(ROOT / "manage.py"), *args], env=environ, timeout=60)


def _one_line_exit_2(result: subprocess.CompletedProcess[str], command: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert lines[0].startswith(f"{command}: ") and HINT in lines[0]
    return lines[0]


def test_commands_use_the_services_make_run_recorded(tmp_path, tenant_a, unique_sku):  # noqa: ANN001
    stock_on_hand(tenant_a.schema_name, unique_sku, on_hand=5)
    live = {"DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
    with recording(live, tmp_path / "services.json"):
        assert (tmp_path / "services.json").stat().st_mode & 0o077 == 0  # may hold a password
        result = _manage_unset(
            tmp_path, "check_stock", "--tenant", tenant_a.schema_name, unique_sku
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["quantity"] == 5
    assert not (tmp_path / "services.json").exists()  # removed when the launcher stops


@pytest.mark.parametrize(
    "command", [["check_stock", "--tenant", "alpha", "ABC123"], ["tunnel_status"]]
)
def test_no_make_run_and_no_database_url_is_one_line(tmp_path, command):  # noqa: ANN001
    line = _one_line_exit_2(_manage_unset(tmp_path, *command), command[0])
    assert "no database" in line


def test_a_stale_record_of_a_stopped_make_run_is_ignored(tmp_path):  # noqa: ANN001
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    record = {"DATABASE_URL": os.environ["DATABASE_URL"], "pid": int(dead.stdout)}
    (tmp_path / "services.json").write_text(json.dumps(record))
    line = _one_line_exit_2(
        _manage_unset(tmp_path, "list_tokens", "--tenant", "alpha"), "list_tokens"
    )
    assert "no database" in line


def test_an_unreachable_database_url_is_one_line(tmp_path):  # noqa: ANN001
    url = f"postgres://postgres@127.0.0.1:{free_port()}/inventory"
    result = _manage_unset(
        tmp_path,
        "issue_token",
        "--tenant",
        "alpha",
        "--name",
        "x",
        "--scope",
        "mcp",
        DATABASE_URL=url,
    )
    assert "cannot reach the database" in _one_line_exit_2(result, "issue_token")
