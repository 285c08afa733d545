"""Streams as an event log (Kafka-like): a narrated run.

    python examples/event_log.py              # starts its own respd on a free port
    python examples/event_log.py --port 6379  # or uses a running server

1. A producer appends orders; events keep their order and are never lost.
2. Group "billing" with two consumers shares them: no duplicates, no gaps.
3. One consumer dies without acknowledging: XPENDING shows its entries, the other
   reclaims them with XAUTOCLAIM.
4. Group "analytics" replays the whole history from 0, independently: consuming does
   not delete.
5. XINFO GROUPS shows each group's lag falling to 0.
6. Retention: MAXLEN ~ (whole nodes) and MINID trim the oldest events.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import redis

from demo_support import respd_server, say

KEY = "orders"


def read(r: Any, group: str, consumer: str, count: int, start: str = ">") -> list[Any]:
    reply = r.xreadgroup(group, consumer, {KEY: start}, count=count)
    return reply[0][1] if reply else []


def ids(entries: list[Any]) -> list[str]:
    return [entry_id.decode() for entry_id, _ in entries]


def lag_line(r: Any) -> str:
    return ", ".join(f"{g['name'].decode()}: lag {g['lag']} pending {g['pending']}"
                     for g in r.xinfo_groups(KEY))


def run(r: Any) -> None:
    r.delete(KEY)
    say("1. The producer appends 30 orders (XADD, IDs chosen by the server).")
    produced = [r.xadd(KEY, {"order": n, "amount": 10 + n}).decode() for n in range(1, 31)]
    say(f"   first {produced[0]}, last {produced[-1]}, XLEN {r.xlen(KEY)}")

    say("\n2. Group 'billing' (from the start) with two consumers, 5 orders per read.")
    r.xgroup_create(KEY, "billing", "0")
    seen: dict[str, list[str]] = {"ann": [], "bob": []}
    while True:
        got = {name: ids(read(r, "billing", name, 5)) for name in seen}
        if not any(got.values()):
            break
        for name, batch in got.items():
            seen[name] += batch
            if name == "ann":  # ann acknowledges; bob will die holding his
                r.xack(KEY, "billing", *batch) if batch else None
    together = seen["ann"] + seen["bob"]
    say(f"   ann got {len(seen['ann'])}, bob got {len(seen['bob'])}: "
        f"{len(set(together))} distinct of {len(together)}, "
        f"gaps: {sorted(set(produced) - set(together)) or 'none'}")

    say("\n3. bob dies without acknowledging. XPENDING:")
    summary = r.xpending(KEY, "billing")
    say(f"   {summary['pending']} pending, {summary['min'].decode()} .. "
        f"{summary['max'].decode()}, held by "
        + ", ".join(f"{c['name'].decode()} ({c['pending']})" for c in summary["consumers"]))
    time.sleep(0.05)
    cursor, claimed, deleted = r.xautoclaim(KEY, "billing", "ann", 50, "0", count=100)
    r.xack(KEY, "billing", *ids(claimed))
    say(f"   ann XAUTOCLAIMs entries idle >= 50 ms: {len(claimed)} reclaimed and "
        f"acknowledged (next cursor {cursor.decode()}, deleted {deleted})")
    say(f"   pending now: {r.xpending(KEY, 'billing')['pending']}")

    say("\n4. Group 'analytics' replays the whole history from 0, on its own offset.")
    r.xgroup_create(KEY, "analytics", "0")
    say(f"   {lag_line(r)}")
    replayed: list[str] = []
    while batch := ids(read(r, "analytics", "replayer", 12)):
        replayed += batch
        r.xack(KEY, "analytics", *batch)
        say(f"   read {len(batch):2} -> {lag_line(r)}")
    say(f"   replayed {len(replayed)} events, same order as produced: "
        f"{replayed == produced}; the log still holds {r.xlen(KEY)}")

    say("\n5. New events: both groups fall behind, then catch up.")
    for n in range(31, 36):
        r.xadd(KEY, {"order": n, "amount": 10 + n})
    say(f"   {lag_line(r)}")
    for group in ("billing", "analytics"):
        r.xack(KEY, group, *ids(read(r, group, "ann" if group == "billing" else "replayer",
                                     100)))
    say(f"   {lag_line(r)}")

    say("\n6. Retention.")
    trimmed = r.xtrim(KEY, maxlen=12, approximate=True)
    say(f"   XTRIM MAXLEN ~ 12 removed {trimmed} (whole nodes of 10 only): "
        f"XLEN {r.xlen(KEY)}")
    cutoff = r.xrange(KEY, count=3)[2][0].decode()
    trimmed = r.xtrim(KEY, minid=cutoff, approximate=False)
    say(f"   XTRIM MINID = {cutoff} removed {trimmed}: the log now starts at "
        f"{r.xrange(KEY, count=1)[0][0].decode()}, XLEN {r.xlen(KEY)}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Streams as an event log.")
    parser.add_argument("--port", type=int, help="use a running server")
    args = parser.parse_args()
    # Small stream nodes, so act 6 can show MAXLEN ~ trimming whole nodes only.
    with respd_server("--stream-node-max-entries", "10", port=args.port) as port:
        run(redis.Redis(port=port))


if __name__ == "__main__":
    main()
