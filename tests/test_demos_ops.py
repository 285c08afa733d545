"""The demos' operational promises: two workers share the priority burst, a slow
subscriber is cut off at client-output-buffer-limit, the lock demo leaves no
temporary directories behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

from conftest import ServerProcess

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_demo(name: str, *args: str, env: dict[str, str] | None = None,
             timeout: float = 120) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_two_workers_share_the_burst(spawn: Callable[..., ServerProcess]) -> None:
    out = run_demo("priority_queue.py", "--port", str(spawn("respd").port))
    shares = re.search(r"shared: w1 took (\d+) jobs, w2 took (\d+)", out)
    assert shares is not None, out
    assert int(shares[1]) >= 1 and int(shares[2]) >= 1
    assert int(shares[1]) + int(shares[2]) == 6
    assert "most urgent first: True" in out


def test_slow_subscriber_is_cut_off(spawn: Callable[..., ServerProcess]) -> None:
    server = spawn("respd")
    out = run_demo("lossy_pubsub.py", "--port", str(server.port))
    assert re.search(r"PUBLISH slow <4 KB> x\d+ -> 1 receiver each, then 0", out), out
    assert "client_output_buffer_disconnections 0 -> 1" in out
    # The demo restores the limit it changed.
    assert server.client().config_get("client-output-buffer-limit") == {
        "client-output-buffer-limit":
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"}


def test_lock_demo_removes_its_directories(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run_demo("distributed_lock.py", env=env)
    assert not list(tmp_path.glob("respd-lock-demo-*"))
