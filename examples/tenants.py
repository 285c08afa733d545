"""Two services sharing one server, kept apart by ACL users: a narrated run.

    python examples/tenants.py              # starts its own respd on a free port
    python examples/tenants.py --port 6379  # or uses a running server (creates users)

1. The admin creates one user per service: its own password, key prefix and channel
   pattern, and only the commands it needs.
2. Each service works in its own space: orders append to their stream and announce on
   their channels; billing does the same in its own.
3. Billing tries to read the orders stream and to listen to the orders channels: both
   refused with NOPERM, the stream untouched.
4. The admin reads ACL LOG: who was refused what, how often, from which connection.
5. ACL DRYRUN answers "could billing do this?" without running anything; revoking a
   channel pattern disconnects a subscriber that used it.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import redis

from demo_support import respd_server, say

SERVICES = {
    # user: (password, key prefix, channel pattern)
    "orders": ("orders-secret", "orders:", "orders.*"),
    "billing": ("billing-secret", "billing:", "billing.*"),
}
# What a service may run: streams, publish/subscribe and a few basics.
COMMANDS = ["+@stream", "+publish", "+subscribe", "+psubscribe", "+unsubscribe",
            "+punsubscribe", "+ping", "+get", "+set", "+acl|whoami"]


def refused(action: Any) -> str:
    try:
        action()
    except redis.exceptions.NoPermissionError as err:
        return f"refused: NOPERM {err}"
    return "allowed (unexpected)"


def listen(client: Any, command: str, name: str) -> None:
    """(P)SUBSCRIBE and read the confirmation (or the refusal)."""
    pubsub = client.pubsub()
    try:
        getattr(pubsub, command)(name)
        pubsub.get_message(timeout=2)
    finally:
        pubsub.close()


def run(port: int) -> None:
    admin = redis.Redis(port=port, decode_responses=True)
    admin.acl_log_reset()

    say("1. The admin creates a user per service (ACL SETUSER).")
    for user, (password, prefix, channels) in SERVICES.items():
        admin.execute_command("ACL", "SETUSER", user, "reset", "on", f">{password}",
                              f"~{prefix}*", f"&{channels}", *COMMANDS)
        say(f"   user {user}: keys {prefix}*, channels {channels}, "
            f"{len(COMMANDS)} command rules")
    listing = [line for line in admin.acl_list() if line.split()[1] in SERVICES]
    for line in listing:
        words = ["#<sha256>" if w.startswith("#") else w for w in line.split()]
        say(f"   ACL LIST> {' '.join(words[:7])} ...")

    orders = redis.Redis(port=port, username="orders", password="orders-secret",
                         decode_responses=True)
    billing = redis.Redis(port=port, username="billing", password="billing-secret",
                          decode_responses=True)
    say(f"\n2. Each service connects as itself: ACL WHOAMI -> {orders.acl_whoami()}, "
        f"{billing.acl_whoami()}.")
    for n in range(1, 4):
        orders.xadd("orders:events", {"order": n, "total": 10 * n})
    announced = orders.publish("orders.created", "order 3")
    billing.xadd("billing:invoices", {"order": 1, "amount": 10})
    say(f"   orders: XLEN orders:events = {orders.xlen('orders:events')}, "
        f"PUBLISH orders.created reached {announced} subscriber(s)")
    say(f"   billing: XLEN billing:invoices = {billing.xlen('billing:invoices')}")

    say("\n3. Billing reaches into the orders space.")
    say(f"   XRANGE orders:events - +       -> {refused(lambda: billing.xrange('orders:events'))}")
    say(f"   XADD orders:events * fake 1    -> "
        f"{refused(lambda: billing.xadd('orders:events', {'fake': 1}))}")
    for command, name in (("subscribe", "orders.created"), ("psubscribe", "orders.*"),
                          ("psubscribe", "*")):
        label = f"{command.upper()} {name}"
        say(f"   {label:30} -> {refused(lambda: listen(billing, command, name))}")
    say(f"   FLUSHALL                       -> {refused(billing.flushall)}")
    say(f"   the orders stream still holds {admin.xlen('orders:events')} events")

    say("\n4. The admin watches ACL LOG (newest first).")
    for entry in admin.acl_log():
        info = entry["client-info"]  # redis-py parses it into a dict
        say(f"   ACL LOG> {entry['username']:8} {entry['reason']:8} {entry['object']:15} "
            f"x{entry['count']}  ({entry['context']}, cmd={info.get('cmd')}, "
            f"addr={info.get('addr')})")

    say("\n5. Asking before doing (ACL DRYRUN), and revoking a channel.")
    for args in (("XRANGE", "billing:invoices", "-", "+"), ("XRANGE", "orders:events", "-", "+"),
                 ("PUBLISH", "orders.created", "x"), ("CONFIG", "GET", "maxmemory")):
        answer = admin.execute_command("ACL", "DRYRUN", "billing", *args)
        say(f"   billing {' '.join(args):32} -> {answer}")
    listener = billing.pubsub()
    listener.subscribe("billing.paid")
    listener.get_message(timeout=2)
    say(f"   billing subscribes to billing.paid: "
        f"{admin.pubsub_numsub('billing.paid')[0][1]} subscriber")
    admin.execute_command("ACL", "SETUSER", "billing", "resetchannels", "&billing.refunds")
    deadline = time.monotonic() + 5
    while admin.pubsub_numsub("billing.paid")[0][1] and time.monotonic() < deadline:
        time.sleep(0.02)
    say(f"   after ACL SETUSER billing resetchannels &billing.refunds: "
        f"{admin.pubsub_numsub('billing.paid')[0][1]} subscribers (disconnected)")
    listener.close()
    for client in (orders, billing):
        client.close()
    admin.acl_deluser(*SERVICES)
    admin.delete("orders:events", "billing:invoices")
    admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Two tenants kept apart by ACL users.")
    parser.add_argument("--port", type=int, help="use a running server")
    args = parser.parse_args()
    with respd_server(port=args.port) as port:
        run(port)


if __name__ == "__main__":
    main()
