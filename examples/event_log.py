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
7. Retention enforced by the server (respd's RESPD.XRETENTION): old orders go by age
   in the background, except those a group has not acknowledged (ACKED).
8. A consumer using XREADGROUP ... CLAIM (Redis 8.4) instead of a separate reaper, and a
   poison message dead-lettered after 3 deliveries (respd's RESPD.XDEADLETTER).
9. An idempotent producer (Redis 8.6's XADD IDMP) retries a send whose reply it lost:
   the retry gets the first entry's ID and the stream holds the order once; a consumer
   gives an entry back with XNACK (Redis 8.8), and XNACK FATAL dead-letters at once.
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

    retention_by_age(r)
    claim_and_dead_letter(r)
    idempotent_producer_and_nack(r)


def retention_by_age(r: Any) -> None:
    key = "orders:aged"
    r.delete(key)
    say("\n7. Server-enforced retention: keep 1 minute, never drop unacknowledged orders.")
    hour_ago = int(time.time() * 1000) - 3_600_000
    for n in range(10):  # ten orders from an hour ago, then a fresh one
        r.xadd(key, {"order": n}, id=f"{hour_ago + n}-0")
    r.xgroup_create(key, "fulfilment", "0")
    got = r.xreadgroup("fulfilment", "fay", {key: ">"}, count=6)[0][1]
    r.xack(key, "fulfilment", *ids(got[:4]))  # 2 of the 6 stay pending, 4 undelivered
    r.xadd(key, {"order": "fresh"})
    r.execute_command("RESPD.XRETENTION", key, "MAXAGE", "60000", "ACKED")
    deadline = time.monotonic() + 5
    while r.xlen(key) > 7 and time.monotonic() < deadline:
        time.sleep(0.05)  # the server trims in its background cycle
    say(f"   RESPD.XRETENTION {key} MAXAGE 60000 ACKED: 4 acknowledged old orders "
        f"trimmed, XLEN {r.xlen(KEY + ':aged')} (2 pending + 4 undelivered + 1 fresh)")


def claim_and_dead_letter(r: Any) -> None:
    key, dlq = "payments", "payments:dlq"
    r.delete(key, dlq)
    say("\n8. XREADGROUP ... CLAIM instead of a reaper; a poison message is dead-lettered.")
    r.xadd(key, {"payment": "poison"}, id="1-0")
    r.xgroup_create(key, "ledger", "0")
    r.execute_command("RESPD.XDEADLETTER", key, "ledger", "MAXDELIVERIES", "3", "TO", dlq)
    for attempt in range(1, 5):
        if attempt == 3:
            r.xadd(key, {"payment": "fine"}, id="2-0")
        # The consumer crashes on "poison" every time; the next read reclaims it.
        reply = r.xreadgroup("ledger", f"worker{attempt}", {key: ">"}, count=1,
                             claim_min_idle_time=0)
        entry = reply[0][1][0] if reply else None
        if entry is None:
            break
        sid, fields, idle, delivered = entry
        say(f"   read {attempt}: {sid.decode()} {fields[b'payment'].decode()} "
            f"(delivered {delivered} time(s) before)")
        if fields[b"payment"] == b"fine":
            r.xack(key, "ledger", sid)
    dead = r.xrange(dlq)
    say(f"   {dlq}: {len(dead)} entry, original ID {dead[0][1][b'id'].decode()}, "
        f"{dead[0][1][b'deliveries'].decode()} deliveries, last consumer "
        f"{dead[0][1][b'consumer'].decode()}; pending in ledger: "
        f"{r.xpending(key, 'ledger')['pending']}")


def idempotent_producer_and_nack(r: Any) -> None:
    key, dlq = "invoices", "invoices:dlq"
    r.delete(key, dlq)
    say("\n9. An idempotent producer retries; a consumer gives entries back with XNACK.")
    first = r.xadd(key, {"invoice": "A-17", "amount": "99"}, idmp=("shop-1", b"A-17"))
    # The reply was lost on the way (a timeout): the producer sends the same again.
    retry = r.xadd(key, {"invoice": "A-17", "amount": "99"}, idmp=("shop-1", b"A-17"))
    info = r.xinfo_stream(key)
    say(f"   XADD ... IDMP shop-1 A-17 twice: {first.decode()} then {retry.decode()}; "
        f"XLEN {r.xlen(key)}, iids-duplicates {info['iids-duplicates']}")
    r.xadd(key, {"invoice": "B-3", "amount": "12"}, idmp=("shop-1", b"B-3"))
    r.xgroup_create(key, "accounts", "0")
    r.execute_command("RESPD.XDEADLETTER", key, "accounts", "MAXDELIVERIES", "5", "TO", dlq)
    got = r.xreadgroup("accounts", "ann", {key: ">"})[0][1]
    # Ann is shutting down: A-17 goes back without counting the delivery (SILENT);
    # B-3 cannot ever be processed (FATAL): it goes straight to the dead-letter stream.
    r.xnack(key, "accounts", "SILENT", got[0][0])
    r.xnack(key, "accounts", "FATAL", got[1][0])
    reply = r.xreadgroup("accounts", "bob", {key: ">"}, claim_min_idle_time=60_000)
    sid, fields, _, delivered = reply[0][1][0]
    say(f"   after XNACK SILENT, bob claims {fields[b'invoice'].decode()} at once "
        f"(delivered {delivered} time(s) before); XNACK FATAL moved "
        f"{r.xrange(dlq)[0][1][b'invoice'].decode()} to {dlq}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Streams as an event log.")
    parser.add_argument("--port", type=int, help="use a running server")
    args = parser.parse_args()
    # Small stream nodes, so act 6 can show MAXLEN ~ trimming whole nodes only.
    with respd_server("--stream-node-max-entries", "10", port=args.port) as port:
        run(redis.Redis(port=port))


if __name__ == "__main__":
    main()
