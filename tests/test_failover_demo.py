"""The narrated failover demo (examples/failover.py): a lock taken on a primary that dies
before its replica has it is lost when real redis-sentinel promotes the replica; with
WAIT 1 and fencing tokens it is not.  The demo checks its own claims; here it has to
finish cleanly, say what it found, and leave no directories behind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import missing

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parent.parent / "examples" / "failover.py"


def test_failover_demo(tmp_path: Path) -> None:
    if shutil.which("redis-sentinel") is None:
        missing("redis-sentinel")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True,
                          timeout=180, env=env)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    # Act 1: the replica never had the lock; after the failover B takes it too, and the
    # lost INCR hands out the same fencing token again.
    assert "GET on the replica: (nil)" in out
    assert re.search(r"two clients hold 'report:lock', with tokens (\d+) and \1\b", out), out
    # Act 2: WAIT says 0 with the link cut, 1 with it back; B gets a newer token after
    # A's lease, and A's stale write is refused.
    assert re.search(r"WAIT 1 \d+ -> 0: no replica has it", out), out
    assert re.search(r"WAIT 1 \d+ -> 1: a replica has the lock", out), out
    assert "A wakes up and writes with token 2: rejected" in out
    assert "with token 3" in out
    assert not list(tmp_path.glob("respd-failover-demo-*"))
