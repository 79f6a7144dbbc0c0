"""Fixtures for the tunnel tests: an OpenSSH edge, an HTTP upstream, a clean tunnel queue."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.support import SSHD, Sshd, Upstream


@pytest.fixture(scope="session", autouse=True)
def _needs_openssh() -> None:
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        pytest.fail("needs Debian's OpenSSH (sshd, ssh-keygen): run `make test-deps` as root")
    if os.geteuid() != 0:
        pytest.fail("the OpenSSH edge in these tests runs sshd as root: run the tests as root")


@pytest.fixture(autouse=True)
def _clean_tunnel_queue() -> None:
    """No tunnel_run left over from another test may reach this test's workers."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("tunnel")
    client.close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as server:
        yield server


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    edge = Sshd(tmp_path).start()
    yield edge
    edge.kill()
