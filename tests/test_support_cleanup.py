"""The session-end check that fails a run leaving processes behind (tests/conftest.py)."""

import subprocess
import sys

import psutil

from tests.support import leftover_children


def test_a_leftover_child_is_named_and_killed() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    # Only this test's child: the session's own servers are alive now, and must stay so.
    left = leftover_children(grace=0.2, children=[psutil.Process(child.pid)])
    assert any(f"pid {child.pid}:" in line and "time.sleep(300)" in line for line in left)
    assert child.wait(5) is not None
    assert not psutil.pid_exists(child.pid) or psutil.Process(child.pid).status() == "zombie"


def test_children_that_finish_in_time_are_not_reported() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
    left = leftover_children(grace=10, children=[psutil.Process(child.pid)])
    assert left == []
