"""Machine instructions per request of the hot-path cases, counted by valgrind's
callgrind: steadier than wall time on a busy machine (the count does not depend on the
load, nor much on caches), so a change of 1-2% shows.

    python -m benchmarks.instructions [CASE ...]

Each case runs twice under callgrind (``SMALL`` and ``LARGE`` pipelines of 16 through
``benchmarks.hotpath``'s in-process connection); the difference divided by the extra
requests is the per-request count, free of start-up and set-up.  Needs ``valgrind``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from benchmarks.hotpath import CASES, PIPELINE

SMALL, LARGE = 200, 1200
_COLLECTED = re.compile(rb"Collected : (\d+)")

# Run inside valgrind: the same set-up as hotpath.per_request_us, then ``batches``
# pipelines, untimed.
_CHILD = """
import sys
from benchmarks import hotpath
from respd.server import Server, tune_collector
tune_collector()
case, batches = sys.argv[1], int(sys.argv[2])
server = Server()
conn = hotpath.connect(server)
hotpath.prepare(conn, case, {large})
pipelines = [hotpath.pipeline(case) for _ in range(64)]
for i in range(200):  # warm-up: the interpreter's specialisation settles
    conn.data_received(pipelines[i % 64])
for i in range(batches):
    conn.data_received(pipelines[i % 64])
""".format(large=LARGE + 200)


def instructions(case: str, batches: int) -> int:
    """Instructions of a whole child run of ``batches`` pipelines."""
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", _CHILD, case, str(batches)],
        capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True)
    found = _COLLECTED.search(proc.stderr)
    if found is None:
        raise RuntimeError(proc.stderr.decode(errors="replace")[-2000:])
    return int(found.group(1))


def per_request(case: str) -> float:
    return (instructions(case, LARGE) - instructions(case, SMALL)) / ((LARGE - SMALL) * PIPELINE)


def main(argv: list[str]) -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    for case in argv or list(CASES):
        print(f"{case:12s} {per_request(case):8.0f} instructions/request", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
